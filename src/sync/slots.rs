//! Per-thread slots in which readers publish the ranges they view.
//!
//! Each thread that reads a mapping gets a slot of its own in that mapping's lock. Only the
//! owning thread claims an entry (so claiming needs no read-modify-write); whichever thread
//! drops the view frees it (a single store, so a view may be dropped on any thread).

use super::AtomicUsize;
#[cfg(not(mmap_io_loom))]
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

/// An unused entry.
pub(crate) const FREE: usize = 0;
/// A zero-copy view: conflicts with writers and with atomic views of the same bytes.
pub(crate) const PLAIN: usize = 1;
/// A copy made inside the crate: conflicts with writers only.
pub(crate) const COPY: usize = 2;
/// An atomic view of `u32` values: conflicts with plain views, writes and `u64` views.
pub(crate) const ATOMIC_U32: usize = 3;
/// An atomic view of `u64` values: conflicts with plain views, writes and `u32` views.
pub(crate) const ATOMIC_U64: usize = 4;

/// Entries per slot for zero-copy views and copies. A thread that holds more views at
/// once counts the rest in [`Slot::wide`], with bounds that cover them all.
const ENTRIES: usize = 5;

/// Entries per slot for atomic views; a thread's further atomic views go to the lock's
/// registry. (One in the model, so that its tests reach the registry.)
const ATOMIC_ENTRIES: usize = if cfg!(mmap_io_loom) { 1 } else { 3 };

/// One published view: its kind and the byte range it covers.
pub(crate) struct Entry {
    kind: AtomicUsize,
    start: AtomicUsize,
    end: AtomicUsize,
}

impl Entry {
    fn new() -> Self {
        Self {
            kind: AtomicUsize::new(FREE),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
        }
    }

    /// Fills a free entry; only the slot's owner calls this.
    #[inline]
    pub(crate) fn publish(&self, kind: usize, start: usize, end: usize) {
        self.start.store(start, Relaxed);
        self.end.store(end, Relaxed);
        self.kind.store(kind, Release);
    }

    /// Frees the entry: the view it published is gone. Any thread may call this, once.
    #[inline]
    pub(crate) fn free(&self) {
        self.kind.store(FREE, Release);
    }

    /// The entry's kind and range, if it is in use. A range read while the entry is being
    /// reused may mix two publications; see `ViewLock` for why that is harmless.
    #[inline]
    pub(crate) fn get(&self) -> Option<(usize, usize, usize)> {
        match self.kind.load(Acquire) {
            FREE => None,
            kind => Some((kind, self.start.load(Relaxed), self.end.load(Relaxed))),
        }
    }
}

/// The kinds and ranges of the entries of `entries` in use, other than `except`.
#[inline]
fn in_use<'a>(
    entries: &'a [Entry],
    except: Option<&Entry>,
) -> impl Iterator<Item = (usize, usize, usize)> + 'a {
    let except = except.map_or(std::ptr::null(), |e| e as *const Entry);
    entries
        .iter()
        .filter(move |e| !std::ptr::eq(*e, except))
        .filter_map(Entry::get)
}

/// One thread's entries, alone on its cache lines (aligned to 128 bytes, which covers
/// adjacent-line prefetch).
#[repr(align(128))]
pub(crate) struct Slot {
    entries: [Entry; ENTRIES],
    /// Atomic views, by width ([`ATOMIC_U32`] or [`ATOMIC_U64`]).
    atomics: [Entry; ATOMIC_ENTRIES],
    /// Live views this thread published beyond its entries, counted with read-modify-writes
    /// (a view may be dropped on another thread).
    wide: AtomicUsize,
    /// A range that covers every view counted in `wide` (written by the owning thread only,
    /// before it counts a view).
    wide_start: AtomicUsize,
    wide_end: AtomicUsize,
    /// The next slot of the lock's list of slots.
    #[cfg(not(mmap_io_loom))]
    next: std::sync::atomic::AtomicPtr<Slot>,
    /// The [`token`](crate::thread_exit::token) of the thread that owns the slot, with
    /// [`ORPHAN`] set in a slot given to an exiting thread (a slot outlives its thread, and
    /// a later thread given the same thread id finds it again).
    #[cfg(not(mmap_io_loom))]
    owner: std::sync::atomic::AtomicU64,
}

impl Default for Slot {
    fn default() -> Self {
        Self {
            entries: std::array::from_fn(|_| Entry::new()),
            atomics: std::array::from_fn(|_| Entry::new()),
            wide: AtomicUsize::new(0),
            wide_start: AtomicUsize::new(0),
            wide_end: AtomicUsize::new(0),
            #[cfg(not(mmap_io_loom))]
            next: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
            #[cfg(not(mmap_io_loom))]
            owner: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl Slot {
    /// A free entry of this slot; only the owning thread calls this.
    #[inline]
    pub(crate) fn claim(&self) -> Option<&Entry> {
        self.entries.iter().find(|e| e.kind.load(Acquire) == FREE)
    }

    /// A free entry for an atomic view; only the owning thread calls this.
    #[inline]
    pub(crate) fn claim_atomic(&self) -> Option<&Entry> {
        self.atomics.iter().find(|e| e.kind.load(Acquire) == FREE)
    }

    /// The atomic views in use in this slot, other than `except`: kind and range.
    #[inline]
    pub(crate) fn atomic_views(
        &self,
        except: Option<&Entry>,
    ) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        in_use(&self.atomics, except)
    }

    /// The counter of views published beyond the entries.
    pub(crate) fn wide(&self) -> &AtomicUsize {
        &self.wide
    }

    /// Counts a view of `start..end` that found no free entry, widening the bounds of the
    /// counted views to cover it first. Only the thread that owns the slot calls this.
    pub(crate) fn publish_wide(&self, start: usize, end: usize) {
        if self.wide.load(Acquire) == 0 {
            // None counted is alive (their drops are seen): the bounds start afresh.
            self.wide_start.store(start, Relaxed);
            self.wide_end.store(end, Relaxed);
        } else {
            let (lo, hi) = (self.wide_start.load(Relaxed), self.wide_end.load(Relaxed));
            self.wide_start.store(lo.min(start), Relaxed);
            self.wide_end.store(hi.max(end), Relaxed);
        }
        // Publishes the bounds with the count.
        self.wide.fetch_add(1, Release);
    }

    /// A range covering every counted view, while one is alive.
    pub(crate) fn wide_span(&self) -> Option<(usize, usize)> {
        (self.wide.load(Acquire) > 0)
            .then(|| (self.wide_start.load(Relaxed), self.wide_end.load(Relaxed)))
    }

    /// The views in use in this slot, other than `except`.
    #[inline]
    pub(crate) fn views(
        &self,
        except: Option<&Entry>,
    ) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        in_use(&self.entries, except)
    }

    /// Whether this slot publishes any view (other than `except`).
    #[inline]
    pub(crate) fn busy(&self, except: Option<&Entry>) -> bool {
        self.wide.load(Acquire) > 0 || self.views(except).next().is_some()
    }

    /// Makes the thread with token `me` the owner of this slot, an exited thread's, unless an
    /// exiting thread has claimed it (see `Slots::orphan`).
    #[cfg(not(mmap_io_loom))]
    fn take_over(&self, me: u64) -> bool {
        let old = self.owner.load(Relaxed);
        old & ORPHAN == 0
            && self
                .owner
                .compare_exchange(old, me, Relaxed, Relaxed)
                .is_ok()
    }

    /// Whether this slot publishes no view at all, atomic ones included.
    pub(crate) fn idle(&self) -> bool {
        !self.busy(None) && self.atomic_views(None).next().is_none()
    }
}

/// Every thread's slot of one lock: found by thread id in a `ThreadLocal`, and listed in a
/// linked list (slots are freed only with the lock) so that a writer visits just the slots
/// in use.
#[cfg(not(mmap_io_loom))]
pub(crate) struct Slots {
    /// The slot of the thread with each id: the thread's own, or that of an exited thread
    /// given the same id before.
    local: thread_local::ThreadLocal<std::sync::atomic::AtomicPtr<Slot>>,
    head: std::sync::atomic::AtomicPtr<Slot>,
    /// This set of slots, among every one the process ever made (never reused).
    id: u64,
}

#[cfg(not(mmap_io_loom))]
thread_local! {
    /// The set of slots this thread used last, and its slot there: a thread that keeps
    /// reading one mapping finds its slot with one thread-local load and a compare.
    static LAST: std::cell::Cell<(u64, *const Slot)> =
        const { std::cell::Cell::new((u64::MAX, std::ptr::null())) };
}

/// Marks the owner of a slot given to an exiting thread (tokens are far below it).
#[cfg(not(mmap_io_loom))]
const ORPHAN: u64 = 1 << 63;

/// Forgets this thread's cached slot: its thread id (by which `local` finds the slot) is
/// about to be released, and another thread may be given it.
#[cfg(not(mmap_io_loom))]
pub(crate) fn forget_cached_slot() {
    LAST.with(|last| last.set((u64::MAX, std::ptr::null())));
}

/// Nothing is cached in the model.
#[cfg(mmap_io_loom)]
pub(crate) fn forget_cached_slot() {}

#[cfg(not(mmap_io_loom))]
impl Slots {
    pub(crate) fn new() -> Self {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Self {
            local: thread_local::ThreadLocal::new(),
            head: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
            id: NEXT_ID.fetch_add(1, Relaxed),
        }
    }

    /// The calling thread's slot. `released(slot)`: whether the lock keeps no other claim
    /// of `slot`'s (a write it holds, views registered under it); asked of an exited
    /// thread's slot before this thread takes it over.
    #[inline(always)]
    pub(crate) fn mine(&self, released: impl Fn(&Slot) -> bool) -> &Slot {
        let (id, slot) = LAST.with(std::cell::Cell::get);
        if id == self.id {
            // SAFETY: `LAST` holds this thread's slot of the set with this id; ids are never
            // reused, so the set is `self`, which owns the slot for as long as it lives.
            return unsafe { &*slot };
        }
        self.mine_slow(&released)
    }

    #[cold]
    #[inline(never)]
    fn mine_slow(&self, released: &dyn Fn(&Slot) -> bool) -> &Slot {
        let me = crate::thread_exit::token();
        let slot = if crate::thread_exit::exiting() {
            self.orphan(me, released)
        } else {
            let cell = self.local.get_or_default();
            crate::thread_exit::arm();
            // SAFETY: the cell holds null or a slot of this set's list, freed only when the
            // set drops, which cannot happen while `&self` is borrowed.
            match unsafe { cell.load(Relaxed).as_ref() } {
                Some(slot) if slot.owner.load(Relaxed) == me => slot,
                // An exited thread's (its id has been given to this thread), with no view
                // or claim left: no thread publishes in it now, nor ever will but this one.
                // (Unless that thread, still exiting, claims it first: see `orphan`.)
                Some(slot) if slot.idle() && released(slot) && slot.take_over(me) => slot,
                // None, or an exited thread's with views or a write still alive (moved to
                // other threads): those stay in it, so this thread needs a slot of its own.
                _ => {
                    let slot = self.add(me);
                    cell.store(slot as *const Slot as *mut Slot, Relaxed);
                    slot
                }
            }
        };
        LAST.with(|last| last.set((self.id, slot)));
        slot
    }

    /// A slot for a thread that is exiting (it may have lost its thread id already, and a
    /// new thread may have been given it), marked as such: one it took here earlier on its
    /// way out; else its own slot while it still holds something there (so that its checks
    /// see what it holds), unless a new thread took that over first (then it held nothing
    /// there); else a new one. Such slots stay listed, unused once the thread is gone, until
    /// the set drops: a new thread never takes one over.
    #[cold]
    #[inline(never)]
    fn orphan(&self, me: u64, released: &dyn Fn(&Slot) -> bool) -> &Slot {
        let owner = me | ORPHAN;
        if let Some(slot) = self.iter().find(|slot| slot.owner.load(Relaxed) == owner) {
            return slot;
        }
        let own = self.iter().find(|slot| slot.owner.load(Relaxed) == me);
        if let Some(slot) = own.filter(|slot| !slot.idle() || !released(slot)) {
            // Nothing is added to the slot now (this thread publishes elsewhere until this
            // succeeds), so a new thread that saw it idle and took it over cannot have.
            if slot
                .owner
                .compare_exchange(me, owner, Relaxed, Relaxed)
                .is_ok()
            {
                return slot;
            }
        }
        self.add(owner)
    }

    /// A new slot with owner `owner`, listed.
    fn add(&self, owner: u64) -> &Slot {
        let slot = Box::<Slot>::default();
        slot.owner.store(owner, Relaxed);
        let slot = Box::into_raw(slot);
        // SAFETY: just allocated; freed only when the set drops (see `Drop`).
        let slot = unsafe { &*slot };
        self.list(slot);
        slot
    }

    /// Puts `slot` at the head of the list.
    fn list(&self, slot: &Slot) {
        let new = slot as *const Slot as *mut Slot;
        let mut head = self.head.load(Relaxed);
        loop {
            slot.next.store(head, Relaxed);
            match self.head.compare_exchange_weak(head, new, Release, Relaxed) {
                Ok(_) => {
                    // Orders the listing before every view this thread publishes, as
                    // [`only`](Self::only) needs.
                    super::fence(SeqCst);
                    return;
                }
                Err(now) => head = now,
            }
        }
    }

    /// Whether `me` is the only slot: no other thread has used the lock. The caller has
    /// fenced after a store that a thread about to publish its first view must see: such
    /// a thread lists its slot and fences before it publishes anything, so it either shows
    /// here or sees that store.
    #[inline]
    pub(crate) fn only(&self, me: &Slot) -> bool {
        std::ptr::eq(self.head.load(Acquire), me) && me.next.load(Relaxed).is_null()
    }

    /// Every slot that any thread has used.
    #[inline]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Slot> {
        // SAFETY: every pointer in the list is a slot made by `add`, freed only when the set
        // drops, which cannot happen while `&self` is borrowed.
        let first = unsafe { self.head.load(Acquire).as_ref() };
        std::iter::successors(first, |slot| {
            // SAFETY: as above.
            unsafe { slot.next.load(Acquire).as_ref() }
        })
    }
}

#[cfg(not(mmap_io_loom))]
impl Drop for Slots {
    fn drop(&mut self) {
        let mut next = *self.head.get_mut();
        while !next.is_null() {
            // SAFETY: every slot in the list came from `Box::into_raw` in `add` and is in
            // the list once; the set is being dropped, so no borrow of a slot is left (views
            // and `LAST` entries of this set are never used again: its id is never reused).
            let slot = unsafe { Box::from_raw(next) };
            next = slot.next.load(Relaxed);
        }
    }
}

/// The same for `loom`: a slot per model thread, found by thread id.
#[cfg(mmap_io_loom)]
pub(crate) struct Slots {
    slots: Vec<Slot>,
    owners: std::sync::Mutex<Vec<loom::thread::ThreadId>>,
}

#[cfg(mmap_io_loom)]
impl Slots {
    pub(crate) fn new() -> Self {
        Self {
            slots: (0..4).map(|_| Slot::default()).collect(),
            owners: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn mine(&self, _released: impl Fn(&Slot) -> bool) -> &Slot {
        let me = loom::thread::current().id();
        let mut owners = self.owners.lock().unwrap();
        let index = match owners.iter().position(|t| *t == me) {
            Some(i) => i,
            None => {
                owners.push(me);
                owners.len() - 1
            }
        };
        &self.slots[index]
    }

    /// Never in the model: its slots are not listed with a read-modify-write, and it
    /// checks the revocation with the process-wide fence.
    pub(crate) fn only(&self, _me: &Slot) -> bool {
        false
    }

    #[inline]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter()
    }
}

#[cfg(all(test, not(mmap_io_loom)))]
mod tests {
    use super::*;

    #[test]
    fn threads_that_come_and_go_reuse_the_slots_of_exited_ones() {
        let slots = Slots::new();
        for _ in 0..200 {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let entry = slots.mine(|_| true).claim().unwrap();
                    entry.publish(PLAIN, 0, 8);
                    entry.free();
                });
            });
        }
        // One per thread id in use at once in this test process, not one per thread.
        let listed = slots.iter().count();
        assert!(listed < 50, "{listed} slots listed for 200 threads");
    }

    #[test]
    fn a_slot_with_a_live_view_is_not_taken_over() {
        let slots = Slots::new();
        let kept: Vec<&Entry> = (0..20)
            .map(|_| {
                std::thread::scope(|s| {
                    s.spawn(|| {
                        let entry = slots.mine(|_| true).claim().unwrap();
                        entry.publish(PLAIN, 0, 8);
                        entry
                    })
                    .join()
                    .unwrap()
                })
            })
            .collect();
        // Each view is in a slot of its own: no thread published into another's.
        assert_eq!(slots.iter().count(), 20);
        assert!(slots.iter().all(|slot| slot.busy(None)));
        kept.iter().for_each(|entry| entry.free());
    }
}
