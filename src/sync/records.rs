//! Entries and the per-thread records that hold them (docs/CONCURRENCY.md, "The state" and
//! "Thread exit").
//!
//! Only a record's owner fills its entries, with plain stores; any thread frees one, with
//! one store. Records are never freed: a record whose thread has exited is reused once its
//! entries are free, so the list is as long as the most threads that held entries at once.

use super::{fence, AtomicPtr, AtomicU64, AtomicUsize};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

/// An unused entry.
pub(crate) const FREE: usize = 0;
/// A zero-copy view.
pub(crate) const READ: usize = 1;
/// A copy the crate makes, or (with an empty range) a pin that keeps a mapping in place.
pub(crate) const COPY: usize = 2;
/// Bytes lent by `as_slice_bytes` until the handle drops.
pub(crate) const LENT: usize = 3;
/// A write or a writable view.
pub(crate) const WRITE: usize = 4;
/// A resize of one mapping (every byte of it).
pub(crate) const RESIZE: usize = 5;
/// An atomic view of `u32` values.
pub(crate) const ATOMIC32: usize = 6;
/// An atomic view of `u64` values.
pub(crate) const ATOMIC64: usize = 7;
const KIND: usize = 0b111;

/// States of an exclusive entry (shared entries are always `PENDING`, which means nothing
/// for them).
pub(crate) const PENDING: usize = 0;
pub(crate) const WAITING: usize = 1 << 3;
pub(crate) const GO: usize = 2 << 3;
const STATE: usize = 0b11 << 3;
/// One generation: every publication's tag differs from the entry's earlier ones.
const GENERATION: usize = 1 << 5;

/// The kind in a tag.
#[inline]
pub(crate) fn kind(tag: usize) -> usize {
    tag & KIND
}

/// The state in a tag.
#[inline]
pub(crate) fn state(tag: usize) -> usize {
    tag & STATE
}

/// Whether entries of `kind` are exclusive (conflict with every overlapping entry but the
/// exceptions of docs/CONCURRENCY.md).
#[inline]
pub(crate) fn is_exclusive(kind: usize) -> bool {
    kind >= WRITE
}

/// Whether `kind` is an atomic view's.
#[inline]
pub(crate) fn is_atomic(kind: usize) -> bool {
    kind >= ATOMIC32
}

/// The bits of an owner word that name the owning token.
const TOKEN: u64 = (1 << 46) - 1;
/// Set in the owner word of a record whose thread has exited: no entry is published in it
/// any more, and it is taken over once its entries are free.
const ORPHAN: u64 = 1 << 46;
/// Set in the owner word of a record taken for one publication (by code that has no record
/// of its own at that point): released by whoever frees that entry.
const EPHEMERAL: u64 = 1 << 47;
/// Counts the takings of a record, so that a stale compare-and-swap of its owner word fails.
const EPOCH: u64 = 1 << 48;

/// Write counts a record keeps, each for one mapping its thread wrote through.
const COUNTS: usize = 4;

/// Bytes and writes a record's thread counted for one mapping (see [`count`]).
struct Count {
    /// The mapping's flush-state id, 0 if the slot is free.
    of: AtomicU64,
    bytes: AtomicU64,
    writes: AtomicU64,
}

impl Count {
    fn new() -> Self {
        Self {
            of: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            writes: AtomicU64::new(0),
        }
    }
}

/// Entries per record, and per chunk added to it.
const ENTRIES: usize = if cfg!(mmap_io_loom) { 2 } else { 8 };

/// One published operation.
pub(crate) struct Entry {
    tag: AtomicUsize,
    file: AtomicUsize,
    map: AtomicUsize,
    start: AtomicUsize,
    end: AtomicUsize,
    /// The record this entry belongs to (set before the record is listed, never changed).
    record: AtomicPtr<Record>,
}

/// A live entry's publication, read consistently.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen {
    pub(crate) tag: usize,
    pub(crate) map: usize,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Entry {
    fn new() -> Self {
        Self {
            tag: AtomicUsize::new(FREE),
            file: AtomicUsize::new(0),
            map: AtomicUsize::new(0),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            record: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    #[inline]
    fn is_free(&self) -> bool {
        self.tag.load(Acquire) & KIND == FREE
    }

    /// Publishes an operation in this entry, found free by its record's owner (the only
    /// caller).
    #[inline(always)]
    pub(crate) fn fill(&self, file: usize, map: usize, start: usize, end: usize, kind: usize) {
        let tag = self.prepare(file, map, start, end, kind);
        self.tag.store(tag, Release);
    }

    /// [`fill`](Self::fill), then a full fence: the loads that follow see every entry
    /// published before a fence that comes later, or this one is seen by them. On x86-64
    /// the tag's store is an exchange, itself a full barrier (cheaper than `mfence`).
    #[inline(always)]
    pub(crate) fn fill_fenced(
        &self,
        file: usize,
        map: usize,
        start: usize,
        end: usize,
        kind: usize,
    ) {
        let tag = self.prepare(file, map, start, end, kind);
        #[cfg(all(target_arch = "x86_64", not(mmap_io_loom)))]
        {
            self.tag.swap(tag, std::sync::atomic::Ordering::SeqCst);
            std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        }
        #[cfg(not(all(target_arch = "x86_64", not(mmap_io_loom))))]
        {
            self.tag.store(tag, Release);
            fence(std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Stores the fields of a publication; returns the tag that publishes them.
    #[inline(always)]
    fn prepare(&self, file: usize, map: usize, start: usize, end: usize, kind: usize) -> usize {
        let free = self.tag.load(Relaxed);
        // With the `Acquire` load that found the entry free, orders that free before these
        // stores for a reader that sees one of them (see `seen`).
        fence(Release);
        self.file.store(file, Relaxed);
        self.map.store(map, Relaxed);
        self.start.store(start, Relaxed);
        self.end.store(end, Relaxed);
        (free & !(KIND | STATE)).wrapping_add(GENERATION) | kind
    }

    /// Changes the state of this exclusive entry; only the thread that made it calls this.
    #[inline]
    pub(crate) fn set_state(&self, state: usize) {
        let tag = self.tag.load(Relaxed);
        self.tag.store(tag & !STATE | state, Release);
    }

    /// The entry's tag now.
    #[inline]
    pub(crate) fn tag(&self) -> usize {
        self.tag.load(Acquire)
    }

    /// The entry's publication if it is live and of `file`. Reads the tag before and after
    /// the fields and retries if it changed: a reused entry is never read torn.
    #[inline]
    pub(crate) fn seen(&self, file: usize) -> Option<Seen> {
        loop {
            let tag = self.tag.load(Acquire);
            if tag & KIND == FREE {
                return None;
            }
            let seen = Seen {
                tag,
                map: self.map.load(Relaxed),
                start: self.start.load(Relaxed),
                end: self.end.load(Relaxed),
            };
            let of = self.file.load(Relaxed);
            // A field written by a later publication makes the second load see that
            // publication's free or tag (see `fill`).
            fence(Acquire);
            if self.tag.load(Relaxed) == tag {
                return (of == file).then_some(seen);
            }
        }
    }

    /// The mapping a live entry was published for (read by its ticket's holder).
    #[cfg_attr(not(feature = "bytes"), allow(dead_code))]
    pub(crate) fn map(&self) -> usize {
        self.map.load(Relaxed)
    }

    /// Frees the entry: the operation it published is over. Any thread may call this,
    /// once per publication.
    #[inline]
    pub(crate) fn free(&self) {
        let tag = self.tag.load(Relaxed);
        self.tag.store(tag & !(KIND | STATE), Release);
        // A record orphaned meanwhile, if this load misses it, is taken over once idle by
        // the next thread that needs one (see `Records::acquire`).
        super::light_fence();
        let record = self.record();
        if record.owner.load(Relaxed) & (ORPHAN | EPHEMERAL) != 0 {
            record.release_if_orphaned();
        }
    }

    /// Where this entry stands in the order that decides between two `PENDING` parties:
    /// its record's place in the list.
    #[inline]
    pub(crate) fn rank(&self) -> usize {
        self.record().rank
    }

    /// The record of this entry.
    #[inline]
    pub(crate) fn record(&self) -> &Record {
        // SAFETY: set to the entry's record before the record was listed; records are
        // never freed while an entry of theirs can be reached.
        unsafe { &*self.record.load(Relaxed) }
    }
}

/// The entries of a record: its own, then those of its chunks.
pub(crate) struct Entries<'a> {
    now: std::slice::Iter<'a, Entry>,
    next: &'a AtomicPtr<Chunk>,
}

impl<'a> Iterator for Entries<'a> {
    type Item = &'a Entry;

    #[inline]
    fn next(&mut self) -> Option<&'a Entry> {
        loop {
            if let Some(entry) = self.now.next() {
                return Some(entry);
            }
            // SAFETY: chunks are only ever added, and never freed while the record lives.
            let chunk = unsafe { self.next.load(Acquire).as_ref() }?;
            self.now = chunk.entries.iter();
            self.next = &chunk.next;
        }
    }
}

/// Entries added to a record that needed more than [`ENTRIES`] at once.
struct Chunk {
    entries: [Entry; ENTRIES],
    next: AtomicPtr<Chunk>,
}

/// One thread's entries, on cache lines of their own.
#[repr(align(128))]
pub(crate) struct Record {
    /// The owning token, [`ORPHAN`], and the epoch; token 0: free to take.
    owner: AtomicU64,
    /// How many of `entries` have ever been claimed (only the owner writes it).
    used: AtomicUsize,
    entries: [Entry; ENTRIES],
    more: AtomicPtr<Chunk>,
    next: AtomicPtr<Record>,
    /// Its place in the list, from 1 (set before it is listed).
    rank: usize,
    /// Written by the owner only, with plain loads and stores; see [`count`].
    #[cfg_attr(mmap_io_loom, allow(dead_code))]
    counts: [Count; COUNTS],
}

// SAFETY: every field is an atomic; the raw pointers in entries and chunks point to
// records and chunks that live as long as the list.
unsafe impl Send for Record {}
// SAFETY: as above.
unsafe impl Sync for Record {}

impl Record {
    fn new(rank: usize) -> Box<Self> {
        let record = Box::new(Self {
            rank,
            counts: std::array::from_fn(|_| Count::new()),
            owner: AtomicU64::new(0),
            used: AtomicUsize::new(0),
            entries: std::array::from_fn(|_| Entry::new()),
            more: AtomicPtr::new(std::ptr::null_mut()),
            next: AtomicPtr::new(std::ptr::null_mut()),
        });
        let at = &*record as *const Record as *mut Record;
        record
            .entries
            .iter()
            .for_each(|e| e.record.store(at, Relaxed));
        record
    }

    /// The token that owns this record (0 if none).
    #[inline]
    pub(crate) fn token(&self) -> u64 {
        self.owner.load(Relaxed) & TOKEN
    }

    /// A free entry; only the owner calls this.
    #[inline(always)]
    pub(crate) fn claim(&self) -> &Entry {
        for (i, entry) in self.entries.iter().enumerate() {
            if entry.is_free() {
                // Published with the entry (before the fence that follows its fill).
                if i >= self.used.load(Relaxed) {
                    self.used.store(i + 1, Relaxed);
                }
                return entry;
            }
        }
        self.claim_more()
    }

    #[cold]
    #[inline(never)]
    fn claim_more(&self) -> &Entry {
        let mut link = &self.more;
        loop {
            // SAFETY: chunks are only ever added, and freed with the record (never).
            match unsafe { link.load(Acquire).as_ref() } {
                Some(chunk) => {
                    if let Some(entry) = chunk.entries.iter().find(|e| e.is_free()) {
                        return entry;
                    }
                    link = &chunk.next;
                }
                None => {
                    let at = self as *const Record as *mut Record;
                    let chunk = Box::leak(Box::new(Chunk {
                        entries: std::array::from_fn(|_| Entry::new()),
                        next: AtomicPtr::new(std::ptr::null_mut()),
                    }));
                    chunk
                        .entries
                        .iter()
                        .for_each(|e| e.record.store(at, Relaxed));
                    link.store(chunk, Release);
                    return &chunk.entries[0];
                }
            }
        }
    }

    /// Every entry of the record.
    #[inline]
    pub(crate) fn entries(&self) -> Entries<'_> {
        Entries {
            now: self.entries.iter(),
            next: &self.more,
        }
    }

    fn idle(&self) -> bool {
        self.entries().all(Entry::is_free)
    }

    /// Takes this record for `token` if it is free, or orphaned and idle.
    fn take(&self, token: u64, ephemeral: bool) -> bool {
        let owner = self.owner.load(Relaxed);
        let free = owner & (TOKEN | ORPHAN | EPHEMERAL) == 0;
        // No entry is published in an orphaned record any more: once idle, it stays idle.
        if !free && (owner & ORPHAN == 0 || !self.idle()) {
            return false;
        }
        let new = (owner & !(TOKEN | ORPHAN | EPHEMERAL)).wrapping_add(EPOCH)
            | token
            | if ephemeral { EPHEMERAL } else { 0 };
        self.owner
            .compare_exchange(owner, new, Acquire, Relaxed)
            .is_ok()
    }

    /// Counts a write of `bytes` for the mapping with flush-state id `of`; only the owner
    /// calls this. False if every slot counts for another mapping.
    #[cfg_attr(mmap_io_loom, allow(dead_code))]
    #[inline]
    fn count(&self, of: u64, bytes: u64) -> bool {
        let slot = match self.counts.iter().find(|c| c.of.load(Relaxed) == of) {
            Some(slot) => slot,
            None => match self.counts.iter().find(|c| c.of.load(Relaxed) == 0) {
                Some(slot) => {
                    slot.bytes.store(0, Relaxed);
                    slot.writes.store(0, Relaxed);
                    // With the counts, for a reader that sees the slot taken.
                    slot.of.store(of, Release);
                    slot
                }
                None => return false,
            },
        };
        slot.bytes
            .store(slot.bytes.load(Relaxed).wrapping_add(bytes), Relaxed);
        slot.writes
            .store(slot.writes.load(Relaxed).wrapping_add(1), Relaxed);
        true
    }

    /// Marks the record as no thread's (its thread exits), and releases it if it is idle.
    #[cfg_attr(mmap_io_loom, allow(dead_code))]
    fn orphan(&self) {
        let owner = self.owner.load(Relaxed);
        self.owner.store(owner | ORPHAN, Relaxed);
        self.release_if_orphaned();
    }

    /// Releases an orphaned or ephemeral record whose entries are all free.
    #[cold]
    fn release_if_orphaned(&self) {
        fence(std::sync::atomic::Ordering::SeqCst);
        let owner = self.owner.load(Relaxed);
        if owner & (ORPHAN | EPHEMERAL) != 0 && self.idle() {
            let free = owner & !(TOKEN | ORPHAN | EPHEMERAL);
            let _ = self.owner.compare_exchange(owner, free, Release, Relaxed);
        }
    }
}

/// Calls `f` with each live entry of `file` among `entries` but `skip`, until it returns
/// `Some` (see [`Records::find_live`]).
#[inline(always)]
fn visit<R>(
    token: u64,
    entries: &[Entry],
    file: usize,
    skip: *const Entry,
    f: &mut impl FnMut(u64, &Entry, Seen) -> Option<R>,
) -> Option<R> {
    for entry in entries {
        if std::ptr::eq(entry, skip) {
            continue;
        }
        if let Some(seen) = entry.seen(file) {
            if let Some(found) = f(token, entry, seen) {
                return Some(found);
            }
        }
    }
    None
}

/// The list of every record, and (in the model) which thread owns which.
pub(crate) struct Records {
    head: AtomicPtr<Record>,
    #[cfg(mmap_io_loom)]
    threads: std::sync::Mutex<Vec<(loom::thread::ThreadId, usize)>>,
}

impl Records {
    #[cfg(not(mmap_io_loom))]
    pub(crate) const fn new() -> Self {
        Self {
            head: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    #[cfg(mmap_io_loom)]
    pub(crate) fn new() -> Self {
        Self {
            head: AtomicPtr::new(std::ptr::null_mut()),
            threads: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Every record ever listed.
    #[inline]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Record> {
        // SAFETY: listed records are never freed (in the model: not before the list).
        let first = unsafe { self.head.load(Acquire).as_ref() };
        std::iter::successors(first, |r| {
            // SAFETY: as above.
            unsafe { r.next.load(Acquire).as_ref() }
        })
    }

    /// Calls `f` with each live entry of `file` but `skip` (with the token of its record and
    /// its publication) until `f` returns `Some`, and returns that.
    #[inline(always)]
    pub(crate) fn find_live<R>(
        &self,
        file: usize,
        skip: *const Entry,
        mut f: impl FnMut(u64, &Entry, Seen) -> Option<R>,
    ) -> Option<R> {
        let mut next = self.head.load(Acquire);
        // SAFETY: listed records are never freed (in the model: not before the list).
        while let Some(record) = unsafe { next.as_ref() } {
            let token = record.token();
            if token == 0 {
                // A free record holds no live entry. One taken after this load publishes
                // after the compare-and-swap that took it, then fences and looks: of the
                // two, at least one sees the other, as for any entry.
                next = record.next.load(Acquire);
                continue;
            }
            let used = record.used.load(Relaxed).min(ENTRIES);
            if let Some(found) = visit(token, &record.entries[..used], file, skip, &mut f) {
                return Some(found);
            }
            let mut chunk = record.more.load(Acquire);
            // SAFETY: chunks are only ever added, and never freed while the record lives.
            while let Some(c) = unsafe { chunk.as_ref() } {
                if let Some(found) = visit(token, &c.entries, file, skip, &mut f) {
                    return Some(found);
                }
                chunk = c.next.load(Acquire);
            }
            next = record.next.load(Acquire);
        }
        None
    }

    /// A record for `token`: a free one taken over, or a new one listed.
    fn acquire(&self, token: u64, ephemeral: bool) -> &Record {
        if let Some(record) = self.iter().find(|r| r.take(token, ephemeral)) {
            return record;
        }
        let mut head = self.head.load(Relaxed);
        loop {
            // SAFETY: as in `iter`.
            let rank = unsafe { head.as_ref() }.map_or(1, |h| h.rank + 1);
            let record = Box::leak(Record::new(rank));
            record.take(token, ephemeral);
            record.next.store(head, Relaxed);
            match self
                .head
                .compare_exchange_weak(head, record, Release, Relaxed)
            {
                Ok(_) => return record,
                Err(now) => {
                    // SAFETY: never listed, so only this thread knows it.
                    drop(unsafe { Box::from_raw(record) });
                    head = now;
                }
            }
        }
    }
}

#[cfg(mmap_io_loom)]
impl Drop for Records {
    fn drop(&mut self) {
        let mut next = self.head.load(Relaxed);
        while !next.is_null() {
            // SAFETY: every listed record was leaked from a box in `acquire`, once.
            let record = unsafe { Box::from_raw(next) };
            let mut chunk = record.more.load(Relaxed);
            while !chunk.is_null() {
                // SAFETY: chunks were leaked from boxes in `claim_more`, once.
                let c = unsafe { Box::from_raw(chunk) };
                chunk = c.next.load(Relaxed);
            }
            next = record.next.load(Relaxed);
        }
    }
}

#[cfg_attr(mmap_io_loom, path = "records/model.rs")]
mod thread;

#[cfg(not(mmap_io_loom))]
pub(crate) use thread::*;

#[cfg(all(test, mmap_io_loom))]
mod tests;
