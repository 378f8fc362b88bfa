//! [`ViewLock`]: which views of a writable mapping may live together.
//!
//! # The protocol
//!
//! *Readers* (zero-copy views and the crate's own copies) publish the range they view in an
//! entry of their thread's slot, with plain stores. While the lock is *biased* that is all
//! they do: a compiler fence, a load of the bias flag, done; no read-modify-write, no
//! shared cache line. A *writer* (or an atomic view, or `resize`) first revokes the bias:
//! it marks it revoking, issues one process-wide fence (`membarrier`) and marks it off,
//! after which every reader either saw the flag cleared or is visible in its slot (the
//! asymmetric form of Dekker's protocol that Linux's percpu-rwsem and folly's SharedMutex
//! use). Then the writer waits for the published readers to leave.
//!
//! While the bias is off, readers queue on a task-fair lock ([`Fair`]) just long enough to
//! publish themselves, so a waiting writer holds new readers back and is never starved. A
//! writer that takes `fair` and finds no view is in at once: the read-modify-write that
//! took `fair` orders its look at the slots (so a write costs two locked instructions, as
//! with a plain lock). One that finds views marks itself `waiting` while it waits for them.
//! A reader that already holds a view joins without queuing while the writer is waiting
//! (the writer waits for that view anyway). If it sees a writer in, that writer is either
//! about to see the new view and wait (the reader waits a moment and looks again), or the
//! view the reader held was dropped on another thread meanwhile (then it queues). After
//! enough reads without a write ([`RESTORE_AFTER`]) and with no atomic view alive, a reader
//! restores the bias, so write-heavy phases pay an ordinary lock and never a process-wide
//! fence per write.
//!
//! *Atomic views* never block writers: they publish their range and width in an atomic
//! entry of their thread's slot (or, past a few per thread, in a registry under a mutex),
//! and a write, a plain view or an atomic view of another width that overlaps a live one is
//! refused (`Conflict`), as is an atomic view over a live plain view. Each side publishes
//! itself, fences, then looks for the other, so at least one of two racing parties sees the
//! other. An atomic view is made only while the bias is off (it revokes it first), and the
//! bias is restored only when none is found (see [`BIASED`]), so biased readers never
//! need to look for them. Making one costs a fence and a look at the slots, dropping it a
//! store.
//! An entry read while it is being reused may mix two publications; the publication in
//! progress is covered by its publisher's own check, so such a read can only add a
//! spurious conflict, never hide one.
//!
//! A call that would wait for a view its own thread holds is refused with the conflict
//! named, instead of deadlocking. Views count as held by the thread that made them, even
//! after they are sent to another thread; so that a thread that was sent a view and asks
//! for another one does not queue forever behind a writer waiting for the view it holds, a
//! writer that has waited long lets the queued readers in and queues again.

// Atomic views are made only with the `atomic` feature; the protocol is whole without it.
#![cfg_attr(not(feature = "atomic"), allow(dead_code))]

use super::fair::Fair;
use super::slots::{Entry, Slot, Slots, ATOMIC_U32, ATOMIC_U64, COPY, PLAIN};
use super::{
    backoff, bias_available, fence, heavy_fence, light_fence, lock_fence, AtomicBool, AtomicPtr,
    AtomicUsize,
};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

mod atomics;
mod tickets;

/// The bias states: readers skip the fair lock only while `BIASED`. A revoker stores
/// `REVOKING`, fences every thread, then stores `UNBIASED`: only then are all biased
/// readers' entries visible, which is what an atomic view waits for. A reader that restores
/// the bias stores `RESTORING`, fences, and looks for atomic views: only if it finds none
/// does it store `BIASED` (an atomic view published before that fence is found; one
/// published after it sees `RESTORING` and waits for the outcome).
const BIASED: usize = 0;
const REVOKING: usize = 1;
const UNBIASED: usize = 2;
const RESTORING: usize = 3;

/// Rounds of waiting for views (about 40 ms, then about 130 ms each) after which a writer
/// lets the readers queued behind it in.
const LET_READERS_IN: u32 = if cfg!(mmap_io_loom) { 2 } else { 128 };

/// Slow reads without a write after which a reader restores the bias: about what one
/// revocation costs (a `membarrier`, 0.2-0.5 µs here) over what a slow read adds (15-20 ns).
const RESTORE_AFTER: usize = if cfg!(mmap_io_loom) { 1 } else { 32 };

/// Why a request was refused; the text names the conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Conflict(pub(crate) &'static str);

const HOLDS_WRITE: Conflict = Conflict(
    "this thread holds a writable view of this mapping (MappedSliceMut or chunks_mut) \
     that this call would wait for; drop it first",
);
const HOLDS_VIEW: Conflict = Conflict(
    "this thread holds a view of this mapping that this write would wait for; drop it first",
);
const HOLDS_VIEW_RESIZE: Conflict = Conflict(
    "this thread holds a view of this mapping (a slice, iterator item or atomic view) that \
     resize would wait for; drop it first",
);
/// A `try_` request found the lock held (by another thread, or by this one).
pub(crate) const WOULD_BLOCK: Conflict = Conflict("the mapping is locked; the call would wait");
const OVERLAPS_ATOMIC: Conflict = Conflict("the range overlaps a live atomic view");
const OVERLAPS_PLAIN: Conflict = Conflict("the range overlaps a live slice view");
const OVERLAPS_WIDTH: Conflict = Conflict("the range overlaps a live atomic view of another width");

/// The live atomic views a copy overlaps: their ranges and widths.
pub(crate) type AtomicSpans = Vec<(usize, usize, Width)>;

/// The width of an atomic view's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Width {
    U32,
    U64,
}

/// A live atomic view in the registry.
struct AtomicRecord {
    id: u64,
    start: usize,
    end: usize,
    width: Width,
    /// The slot of the thread that made it (compared, never dereferenced).
    owner: usize,
}

#[derive(Default)]
struct Registry {
    views: Vec<AtomicRecord>,
    next_id: u64,
}

#[cfg(not(mmap_io_loom))]
type Mutex<T> = parking_lot::Mutex<T>;
#[cfg(mmap_io_loom)]
type Mutex<T> = loom::sync::Mutex<T>;

/// The lock of one writable mapping; see the module documentation for the protocol.
pub(crate) struct ViewLock {
    fair: Fair,
    /// Readers may publish themselves without queuing on `fair`.
    bias: AtomicUsize,
    /// The writer that holds `fair` waits for published views: a thread that holds one may
    /// publish another without queuing. A writer holds `fair` with this clear only once it
    /// has seen no view after taking `fair` (see [`writer_in`](Self::writer_in)).
    waiting: AtomicBool,
    /// The slot of the thread that holds `fair` exclusively (compared, never dereferenced).
    exclusive_owner: AtomicPtr<Slot>,
    /// Live atomic views in the registry (its length, readable without its mutex): those a
    /// thread made beyond its slot's atomic entries.
    atomics: AtomicUsize,
    /// Slow reads since the last write or atomic view (a hint: updates may be lost).
    quiet: AtomicUsize,
    slots: Slots,
    registry: Mutex<Registry>,
}

/// A published shared view; dropping it unpublishes it, on any thread.
#[must_use]
pub(crate) struct ReadTicket<'a> {
    held: Held<'a>,
}

enum Held<'a> {
    Entry(&'a Entry),
    Wide(&'a AtomicUsize),
}

/// Exclusive access to the mapping's bytes (or, from [`ViewLock::resize`], to the mapping).
#[must_use]
pub(crate) struct WriteTicket<'a> {
    lock: &'a ViewLock,
}

/// A published atomic view; dropping it unpublishes it, on any thread. (Plain fields, not
/// an enum, so that the compiler keeps it in registers.)
#[must_use]
pub(crate) struct AtomicTicket<'a> {
    lock: &'a ViewLock,
    /// The entry of its thread's slot that publishes it, or `None` if the registry does.
    entry: Option<&'a Entry>,
    /// Its id in the registry, if it is there.
    id: u64,
}

/// Whether two half-open ranges share a byte.
#[inline]
fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

impl ViewLock {
    pub(crate) fn new() -> Self {
        Self {
            fair: Fair::new(),
            bias: AtomicUsize::new(if bias_available() { BIASED } else { UNBIASED }),
            waiting: AtomicBool::new(false),
            exclusive_owner: AtomicPtr::new(std::ptr::null_mut()),
            atomics: AtomicUsize::new(0),
            quiet: AtomicUsize::new(0),
            slots: Slots::new(),
            registry: Mutex::new(Registry::default()),
        }
    }

    #[cfg(not(mmap_io_loom))]
    fn registry(&self) -> parking_lot::MutexGuard<'_, Registry> {
        self.registry.lock()
    }

    #[cfg(mmap_io_loom)]
    fn registry(&self) -> loom::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap()
    }

    /// The calling thread's slot.
    #[inline(always)]
    fn my_slot(&self) -> &Slot {
        self.slots
            .mine(|slot| !self.is_exclusive_owner(slot) && !self.registered_by(slot))
    }

    /// Whether the registry holds an atomic view made on the thread of `slot`.
    fn registered_by(&self, slot: &Slot) -> bool {
        let owner = slot as *const Slot as usize;
        self.registry().views.iter().any(|v| v.owner == owner)
    }

    /// Whether a write ticket is alive (a writer is in, or is waiting for views).
    pub(crate) fn write_held(&self) -> bool {
        !self.exclusive_owner.load(Relaxed).is_null()
    }

    #[inline]
    fn is_exclusive_owner(&self, slot: &Slot) -> bool {
        std::ptr::eq(self.exclusive_owner.load(Relaxed), slot)
    }

    /// Whether a writer may be past its wait for views, so that a new view must not join
    /// without queuing. The caller has fenced after publishing its view: a writer that took
    /// `fair` after that fence sees the view and waits (its locking read-modify-write is
    /// ordered before its look at the views, see [`lock_fence`]); one that took it before
    /// shows here. While `fair` is held with `waiting` clear the writer is in, or about to
    /// see a view and set `waiting`; callers look again until it is one or the other.
    #[inline]
    fn writer_in(&self) -> bool {
        if !self.fair.is_locked_exclusive() {
            // The lock's state is read relaxed: this orders what the last writer did before
            // it released `fair` before what the caller does next.
            fence(Acquire);
            return false;
        }
        !self.waiting.load(Acquire)
    }

    /// A zero-copy view of `start..end`: refused if it overlaps a live atomic view.
    #[inline(always)]
    pub(crate) fn read(&self, start: usize, end: usize) -> Result<ReadTicket<'_>, Conflict> {
        self.publish::<false>(PLAIN, start, end)
    }

    /// Like [`read`](Self::read), but [`WOULD_BLOCK`] where it would wait.
    #[inline(always)]
    pub(crate) fn try_read(&self, start: usize, end: usize) -> Result<ReadTicket<'_>, Conflict> {
        self.publish::<true>(PLAIN, start, end)
    }

    /// A copy of `start..end` made inside the crate: never refused for atomic views. Returns
    /// the atomic views it overlaps, whose values the copy must load atomically, at their
    /// width (empty in the common case, without allocating).
    pub(crate) fn read_copy(
        &self,
        start: usize,
        end: usize,
    ) -> Result<(ReadTicket<'_>, AtomicSpans), Conflict> {
        let ticket = self.publish::<false>(COPY, start, end)?;
        // Published on the biased path: an atomic view being made revokes the bias before
        // it looks for views, and then waits for this copy; one seen here is copied
        // atomically all the same. Unbiased: the publication was fenced before this look.
        let spans = if self.atomic_over((start, end)) {
            self.atomics_over((start, end)).collect()
        } else {
            Vec::new()
        };
        Ok((ticket, spans))
    }

    /// Publishes a view; `TRY`: fail with [`WOULD_BLOCK`] instead of queuing.
    #[inline(always)]
    fn publish<const TRY: bool>(
        &self,
        kind: usize,
        start: usize,
        end: usize,
    ) -> Result<ReadTicket<'_>, Conflict> {
        let slot = self.my_slot();
        let ticket = ReadTicket::publish(slot, kind, start, end);
        light_fence();
        if self.bias.load(Acquire) == BIASED {
            return Ok(ticket);
        }
        self.publish_slow::<TRY>(slot, ticket, kind, start, end)
    }

    #[cold]
    #[inline(never)]
    fn publish_slow<'a, const TRY: bool>(
        &'a self,
        slot: &'a Slot,
        ticket: ReadTicket<'a>,
        kind: usize,
        start: usize,
        end: usize,
    ) -> Result<ReadTicket<'a>, Conflict> {
        fence(SeqCst);
        if !self.fair.is_locked_exclusive() {
            // No writer holds `fair` or waits for it, and one that takes it from now on sees
            // this entry (its locking read-modify-write orders its look at the slots): the
            // view is in without queuing. This orders the last writer's release before it.
            fence(Acquire);
            let result = self.check_atomics(ticket, kind, (start, end));
            self.note_slow_read();
            return result;
        }
        // A writer that sees `writer_in` and then this entry steps back out; one that is in
        // cannot be while this thread really holds another view. So wait while both hold.
        let mut round = 0;
        while ticket.holds_other(slot) {
            fence(SeqCst);
            if !self.writer_in() {
                return self.check_atomics(ticket, kind, (start, end));
            }
            backoff(&mut round);
        }
        drop(ticket);
        if self.is_exclusive_owner(slot) {
            return Err(if TRY { WOULD_BLOCK } else { HOLDS_WRITE });
        }
        if !TRY {
            self.fair.lock_shared();
        } else if !self.fair.try_lock_shared() {
            return Err(WOULD_BLOCK);
        }
        let ticket = ReadTicket::publish(slot, kind, start, end);
        fence(SeqCst);
        let result = self.check_atomics(ticket, kind, (start, end));
        // SAFETY: locked shared above, on this thread.
        unsafe { self.fair.unlock_shared() };
        self.note_slow_read();
        result
    }

    /// Refuses a plain view that overlaps a live atomic view; the caller has fenced after
    /// publishing it.
    fn check_atomics<'a>(
        &'a self,
        ticket: ReadTicket<'a>,
        kind: usize,
        range: (usize, usize),
    ) -> Result<ReadTicket<'a>, Conflict> {
        if kind == PLAIN && self.atomic_over(range) {
            return Err(OVERLAPS_ATOMIC);
        }
        Ok(ticket)
    }

    /// Counts a slow read, and restores the bias after enough of them without a write.
    fn note_slow_read(&self) {
        if !bias_available() {
            return;
        }
        let quiet = self.quiet.load(Relaxed).saturating_add(1);
        self.quiet.store(quiet, Relaxed);
        if quiet < RESTORE_AFTER || self.has_atomic_views() || !self.fair.try_lock_exclusive() {
            return;
        }
        {
            // Atomic views in the registry are made under its mutex, after checking the
            // bias; those in slots publish themselves, fence and check it (see `BIASED`).
            let _registry = self.registry();
            self.bias.store(RESTORING, Relaxed);
            fence(SeqCst);
            let restore = !self.has_atomic_views();
            self.bias
                .store(if restore { BIASED } else { UNBIASED }, Release);
        }
        self.quiet.store(0, Relaxed);
        // SAFETY: locked exclusively above, on this thread.
        unsafe { self.fair.unlock_exclusive() };
    }

    /// Exclusive access to the bytes: waits for every zero-copy view and copy, but not for
    /// atomic views (check those with [`check_write`](Self::check_write)).
    #[inline(always)]
    pub(crate) fn write(&self) -> Result<WriteTicket<'_>, Conflict> {
        self.acquire::<false>()
    }

    /// Like [`write`](Self::write), but [`WOULD_BLOCK`] where it would wait.
    pub(crate) fn try_write(&self) -> Result<WriteTicket<'_>, Conflict> {
        self.acquire::<true>()
    }

    /// Takes exclusive access; `TRY`: fail with [`WOULD_BLOCK`] instead of waiting.
    ///
    /// The common case (unbiased, no view published) is inline: the read-modify-write that
    /// locks `fair` (on x86-64 also the fence, see [`lock_fence`]), a look at the slots, and
    /// the one that unlocks it when the ticket drops.
    #[inline(always)]
    fn acquire<const TRY: bool>(&self) -> Result<WriteTicket<'_>, Conflict> {
        let me = self.my_slot();
        if self.is_exclusive_owner(me) {
            return Err(if TRY { WOULD_BLOCK } else { HOLDS_WRITE });
        }
        if me.busy(None) {
            return Err(if TRY { WOULD_BLOCK } else { HOLDS_VIEW });
        }
        if TRY {
            // A view seen already fails the try before it revokes the bias (a try that keeps
            // failing must not keep readers off their fast path). A view missed here is
            // seen below.
            if self.readers_live() || !self.fair.try_lock_exclusive() {
                return Err(WOULD_BLOCK);
            }
        } else if !self.fair.try_lock_exclusive() {
            self.fair.lock_exclusive();
            // After a wait `fair` may have been handed over by the thread that released it,
            // without a read-modify-write on this one.
            fence(SeqCst);
        }
        // The views published before `fair` was taken are visible from here on, and a view
        // published after it sees `fair` held.
        lock_fence();
        self.exclusive_owner
            .store(me as *const Slot as *mut Slot, Relaxed);
        // A write (or a writer that will get in): the quiet period starts again now, so
        // readers it lets in while it waits do not bring the bias back meanwhile. A try
        // counts only once it wins.
        if !TRY {
            self.quiet.store(0, Relaxed);
        }
        if self.bias.load(Relaxed) != BIASED && !self.readers_live() {
            if TRY {
                self.quiet.store(0, Relaxed);
            }
            return Ok(WriteTicket { lock: self });
        }
        self.acquire_slow::<TRY>(me)
    }

    /// The rest of [`acquire`](Self::acquire), with `fair` held exclusively: revokes the
    /// bias, then waits for the published views.
    #[cold]
    #[inline(never)]
    fn acquire_slow<const TRY: bool>(&self, me: &Slot) -> Result<WriteTicket<'_>, Conflict> {
        if self.bias.load(Relaxed) == BIASED {
            self.revoke_locked(me);
        }
        loop {
            if self.readers_live() {
                if TRY {
                    // Releases `fair` and clears the ownership set above.
                    drop(WriteTicket { lock: self });
                    return Err(WOULD_BLOCK);
                }
                // Views that this wait is for may be joined by views of the same threads.
                self.waiting.store(true, Release);
                let mut round = 0;
                while self.readers_live() {
                    backoff(&mut round);
                    if round % LET_READERS_IN == 0 {
                        self.let_readers_in(me);
                    }
                }
            }
            self.waiting.store(false, Relaxed);
            fence(SeqCst);
            if !self.readers_live() {
                self.quiet.store(0, Relaxed);
                return Ok(WriteTicket { lock: self });
            }
        }
    }

    /// After a long wait for views, lets the readers queued on `fair` in and queues again.
    ///
    /// A thread that was sent a view by another thread is not known to hold it: if it asks
    /// for another view while this writer waits, it queues on `fair` behind the writer, which
    /// waits for the view it holds. Letting the queue in resolves that (and only delays the
    /// writer otherwise: it queues first among new readers again).
    #[cold]
    fn let_readers_in(&self, me: &Slot) {
        // Another writer may take `fair` meanwhile, and get in at once.
        self.waiting.store(false, Relaxed);
        self.exclusive_owner.store(std::ptr::null_mut(), Relaxed);
        // SAFETY: `write` locked `fair` exclusively on this thread.
        unsafe { self.fair.unlock_exclusive() };
        self.fair.lock_exclusive();
        self.exclusive_owner
            .store(me as *const Slot as *mut Slot, Relaxed);
        self.waiting.store(true, Release);
        // A reader let in may have restored the bias meanwhile.
        if self.bias.load(Relaxed) == BIASED {
            self.revoke_locked(me);
        }
    }

    /// Like [`write`](Self::write), and also waits until no atomic view is alive: the
    /// mapping may then move.
    pub(crate) fn resize(&self) -> Result<WriteTicket<'_>, Conflict> {
        let slot = self.my_slot();
        loop {
            // Checked before waiting for atomic views: one being made waits for a writer
            // this thread may be.
            if self.is_exclusive_owner(slot) {
                return Err(HOLDS_WRITE);
            }
            if !slot.idle() || self.registered_by(slot) {
                return Err(HOLDS_VIEW_RESIZE);
            }
            let mut round = 0;
            while self.has_atomic_views() {
                backoff(&mut round);
            }
            let ticket = self.write().map_err(|c| match c {
                HOLDS_VIEW => HOLDS_VIEW_RESIZE,
                other => other,
            })?;
            // Ordered in `write` after `fair` was taken: an atomic view made since either
            // shows here or waits for this ticket.
            if !self.has_atomic_views() {
                return Ok(ticket);
            }
        }
    }

    #[inline]
    fn readers_live(&self) -> bool {
        self.slots.iter().any(|slot| slot.busy(None))
    }

    /// Revokes the bias; the caller holds `fair` exclusively, and `me` is its slot.
    fn revoke_locked(&self, me: &Slot) {
        self.bias.store(REVOKING, Relaxed);
        fence(SeqCst);
        // Alone, the caller has no biased reader to wait for; a thread that starts reading
        // now lists its slot first, and then sees `REVOKING` (see `Slots::only`).
        if !self.slots.only(me) {
            heavy_fence();
        }
        self.bias.store(UNBIASED, Release);
    }

    /// Clears the bias, without ever blocking on `fair` (the caller may hold views a
    /// writer that holds it waits for).
    #[cold]
    fn revoke_bias(&self) {
        let me = self.my_slot();
        let mut round = 0;
        while self.bias.load(Acquire) != UNBIASED {
            // A revoker holds `fair` until it stores `UNBIASED`.
            if self.fair.try_lock_exclusive() {
                if self.bias.load(Relaxed) == BIASED {
                    self.revoke_locked(me);
                }
                // SAFETY: locked exclusively just above, on this thread.
                unsafe { self.fair.unlock_exclusive() };
            } else {
                backoff(&mut round);
            }
        }
    }
}
