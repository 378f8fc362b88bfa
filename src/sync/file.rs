//! [`FileLock`]: the protocol of docs/CONCURRENCY.md, for one file.

// Atomic views are made only with the `atomic` feature; the protocol is whole without it.
#![cfg_attr(not(feature = "atomic"), allow(dead_code))]

mod scan;

use super::records::{
    is_atomic, is_exclusive, kind, state, Entry, Record, Records, Seen, ATOMIC32, ATOMIC64, COPY,
    GO, LENT, PENDING, READ, RESIZE, WAITING, WRITE,
};
use super::{backoff, bias_available, fence, heavy_fence, light_fence, AtomicUsize};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

/// Bias states (see docs/CONCURRENCY.md).
const BIASED: usize = 0;
const REVOKING: usize = 1;
const UNBIASED: usize = 2;
const RESTORING: usize = 3;

/// Slow reads without an exclusive party after which a reader restores the bias: about what
/// one revocation costs (a `membarrier`, 0.2-0.5 µs here) over what a slow read adds.
const RESTORE_AFTER: usize = if cfg!(mmap_io_loom) { 1 } else { 32 };

/// Why a request was refused; the text names the conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Conflict(pub(crate) &'static str);

const HOLDS_WRITE: Conflict = Conflict(
    "this thread holds a writable view of these bytes (MappedSliceMut or chunks_mut) that \
     this call would wait for; drop it first",
);
const HOLDS_VIEW: Conflict = Conflict(
    "this thread holds a view of these bytes that this write would wait for; drop it first",
);
const HOLDS_VIEW_RESIZE: Conflict = Conflict(
    "this thread holds a view of this mapping (a slice, iterator item or atomic view) that \
     resize would wait for; drop it first",
);
/// A `try_` request would have waited.
pub(crate) const WOULD_BLOCK: Conflict = Conflict("the bytes are locked; the call would wait");
const OVERLAPS_ATOMIC: Conflict = Conflict("the range overlaps a live atomic view");
const OVERLAPS_PLAIN: Conflict = Conflict("the range overlaps a live slice view or write");
const OVERLAPS_WIDTH: Conflict = Conflict("the range overlaps a live atomic view of another width");
const OVERLAPS_LENT: Conflict = Conflict(
    "the range overlaps bytes lent by as_slice_bytes to a read-only handle of this file, \
     which stay unchanged until that handle drops",
);

/// The width of an atomic view's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Width {
    U32,
    U64,
}

impl Width {
    fn kind(self) -> usize {
        match self {
            Width::U32 => ATOMIC32,
            Width::U64 => ATOMIC64,
        }
    }
}

/// The live atomic views a copy overlaps: their ranges and widths.
pub(crate) type AtomicSpans = Vec<(usize, usize, Width)>;

/// The mapping id of a write made without a mapping (a create or a copy onto the file).
pub(crate) const NO_MAP: usize = PRIVATE - 1;

/// Set in the id of a private (copy-on-write) mapping, whose writes reach no other mapping.
pub(crate) const PRIVATE: usize = 1 << (usize::BITS - 1);

/// The coordination state of one file; see docs/CONCURRENCY.md.
pub(crate) struct FileLock {
    /// Names the file in entries: never given to another lock (an entry may outlive its
    /// lock, if its guard was leaked).
    id: usize,
    bias: AtomicUsize,
    /// Slow reads since the last exclusive party (a hint: updates may be lost).
    quiet: AtomicUsize,
    #[cfg(mmap_io_loom)]
    records: Records,
}

/// A published entry; dropping it frees the entry, on any thread.
#[must_use]
pub(crate) struct Ticket<'a> {
    entry: &'a Entry,
}

impl Ticket<'_> {
    /// The same ticket, no longer tied to a borrow of the lock.
    ///
    /// # Safety
    ///
    /// The lock outlives the ticket. (Outside the model that always holds: entries live in
    /// the process-wide records, which are never freed.)
    pub(crate) unsafe fn detach(self) -> Ticket<'static> {
        let entry: *const Entry = self.entry;
        std::mem::forget(self);
        Ticket {
            // SAFETY: the entry lives as long as the lock's records (the caller's contract).
            entry: unsafe { &*entry },
        }
    }

    /// The id of the mapping the ticket was published for.
    #[cfg_attr(not(feature = "bytes"), allow(dead_code))]
    pub(crate) fn map(&self) -> usize {
        self.entry.map()
    }
}

impl std::fmt::Debug for Ticket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ticket")
    }
}

impl Drop for Ticket<'_> {
    #[inline]
    fn drop(&mut self) {
        self.entry.free();
    }
}

/// What a scan found that the caller must act on.
enum Found<'a> {
    Nothing,
    Refuse(Conflict),
    /// Wait until this entry's tag is no longer the one given.
    Wait(&'a Entry, usize),
}

/// Whether two half-open ranges share a byte (an empty range shares none, wherever it is).
#[inline]
fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < a.1 && b.0 < b.1 && a.0 < b.1 && b.0 < a.1
}

/// An operation being decided: the caller's entry and what it publishes.
#[derive(Clone, Copy)]
struct Op<'a> {
    entry: &'a Entry,
    kind: usize,
    map: usize,
    range: (usize, usize),
    /// The token of the calling code.
    me: u64,
}

impl Op<'_> {
    /// Whether a live entry of the same file conflicts with this operation at all (before
    /// the exceptions by kind): same mapping for a resize, overlapping ranges otherwise.
    #[inline]
    fn meets(&self, other: &Seen) -> bool {
        let theirs = kind(other.tag);
        if self.kind == RESIZE || theirs == RESIZE {
            return self.map == other.map;
        }
        // What an exclusive party does to a private mapping reaches no other mapping (while
        // what one does to the file reaches a private mapping's pages not yet copied): the
        // pair meets across mappings unless every exclusive party in it is private.
        let private = |kind: usize, map: usize| !is_exclusive(kind) || map & PRIVATE != 0;
        let apart = private(self.kind, self.map) && private(theirs, other.map);
        (!apart || self.map == other.map) && overlaps(self.range, (other.start, other.end))
    }
}

impl Default for FileLock {
    fn default() -> Self {
        Self::new()
    }
}

impl FileLock {
    pub(crate) fn new() -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        Self {
            id: NEXT.fetch_add(1, Relaxed),
            bias: AtomicUsize::new(if bias_available() { BIASED } else { UNBIASED }),
            quiet: AtomicUsize::new(0),
            #[cfg(mmap_io_loom)]
            records: Records::new(),
        }
    }

    #[cfg(not(mmap_io_loom))]
    #[inline(always)]
    fn records(&self) -> &Records {
        super::records::records()
    }

    #[cfg(mmap_io_loom)]
    fn records(&self) -> &Records {
        &self.records
    }

    /// The calling thread's record and the token it runs under.
    #[cfg(not(mmap_io_loom))]
    #[inline(always)]
    fn mine(&self) -> &Record {
        super::records::mine()
    }

    #[cfg(mmap_io_loom)]
    fn mine(&self) -> &Record {
        self.records.mine().0
    }

    /// The model thread exits (see `Records::exits`).
    #[cfg(mmap_io_loom)]
    pub(crate) fn thread_exits(&self) {
        self.records.exits();
    }

    #[inline(always)]
    fn id(&self) -> usize {
        self.id
    }

    /// A zero-copy view of `start..end` of mapping `map`: refused over a live atomic view.
    #[inline(always)]
    pub(crate) fn read(
        &self,
        map: usize,
        start: usize,
        end: usize,
    ) -> Result<Ticket<'_>, Conflict> {
        self.shared::<false>(READ, map, start, end).map(|(t, _)| t)
    }

    /// Like [`read`](Self::read), but [`WOULD_BLOCK`] where it would wait.
    #[inline]
    pub(crate) fn try_read(
        &self,
        map: usize,
        start: usize,
        end: usize,
    ) -> Result<Ticket<'_>, Conflict> {
        self.shared::<true>(READ, map, start, end).map(|(t, _)| t)
    }

    /// A copy of `start..end` made inside the crate (or, with an empty range, a pin that
    /// keeps mapping `map` in place): never refused for atomic views; returns those it
    /// overlaps, whose bytes the copy must load atomically, at their width.
    #[inline]
    pub(crate) fn copy(
        &self,
        map: usize,
        start: usize,
        end: usize,
    ) -> Result<(Ticket<'_>, AtomicSpans), Conflict> {
        self.shared::<false>(COPY, map, start, end)
    }

    /// Like [`copy`](Self::copy), but [`WOULD_BLOCK`] where it would wait.
    pub(crate) fn try_copy(
        &self,
        map: usize,
        start: usize,
        end: usize,
    ) -> Result<(Ticket<'_>, AtomicSpans), Conflict> {
        self.shared::<true>(COPY, map, start, end)
    }

    /// Lends `start..end` of mapping `map` until the ticket drops: writes to those bytes
    /// are refused meanwhile.
    pub(crate) fn lend(
        &self,
        map: usize,
        start: usize,
        end: usize,
    ) -> Result<Ticket<'_>, Conflict> {
        self.shared::<false>(LENT, map, start, end).map(|(t, _)| t)
    }

    /// Exclusive access to `start..end` for a write through mapping `map`.
    #[inline(always)]
    pub(crate) fn write(
        &self,
        map: usize,
        start: usize,
        end: usize,
    ) -> Result<Ticket<'_>, Conflict> {
        self.exclusive::<false>(WRITE, map, start, end)
    }

    /// Like [`write`](Self::write), but [`WOULD_BLOCK`] where it would wait.
    pub(crate) fn try_write(
        &self,
        map: usize,
        start: usize,
        end: usize,
    ) -> Result<Ticket<'_>, Conflict> {
        self.exclusive::<true>(WRITE, map, start, end)
    }

    /// An atomic view of `start..end` of values of `width`.
    pub(crate) fn atomic(
        &self,
        map: usize,
        start: usize,
        end: usize,
        width: Width,
    ) -> Result<Ticket<'_>, Conflict> {
        self.exclusive::<false>(width.kind(), map, start, end)
    }

    /// Mapping `map` to itself: no entry of it is live while the ticket lives, so it may
    /// move.
    pub(crate) fn resize(&self, map: usize) -> Result<Ticket<'_>, Conflict> {
        self.exclusive::<false>(RESIZE, map, 0, usize::MAX)
    }

    /// Whether an entry of mapping `map` whose kind passes `which` is live.
    pub(crate) fn any_live(&self, map: usize, which: impl Fn(usize) -> bool) -> bool {
        // Orders what the caller did before this look (a flush before checking for views).
        fence(SeqCst);
        self.records()
            .find_live(self.id(), std::ptr::null(), |_, _, seen| {
                (seen.map == map && which(kind(seen.tag))).then_some(())
            })
            .is_some()
    }

    /// The refusal a write of `start..end` would meet from the calling thread's own
    /// entries (a view, a writable view, an atomic view of those bytes), if any: for work
    /// the crate is about to hand to another thread while this one waits for it.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) fn own_conflict(&self, start: usize, end: usize) -> Option<Conflict> {
        let me = self.mine().token();
        self.records()
            .find_live(self.id(), std::ptr::null(), |token, _, seen| {
                let mine = token == me && overlaps((start, end), (seen.start, seen.end));
                mine.then(|| match kind(seen.tag) {
                    READ | COPY => HOLDS_VIEW,
                    LENT => OVERLAPS_LENT,
                    ATOMIC32 | ATOMIC64 => OVERLAPS_ATOMIC,
                    _ => HOLDS_WRITE,
                })
            })
    }

    /// Whether an atomic view of mapping `map` is alive.
    pub(crate) fn has_atomic_views(&self, map: usize) -> bool {
        self.any_live(map, is_atomic)
    }

    /// Whether a write (a writable view) of mapping `map` is alive or being made.
    pub(crate) fn has_writes(&self, map: usize) -> bool {
        self.any_live(map, |kind| kind == WRITE)
    }

    /// Publishes a shared entry; `TRY`: fail with [`WOULD_BLOCK`] instead of waiting.
    #[inline(always)]
    fn shared<const TRY: bool>(
        &self,
        kind: usize,
        map: usize,
        start: usize,
        end: usize,
    ) -> Result<(Ticket<'_>, AtomicSpans), Conflict> {
        let entry = self.mine().claim();
        entry.fill(self.id(), map, start, end, kind);
        light_fence();
        if self.bias.load(Acquire) == BIASED {
            return Ok((Ticket { entry }, Vec::new()));
        }
        self.shared_slow::<TRY>(entry, kind, map, (start, end))
    }

    #[cold]
    #[inline(never)]
    fn shared_slow<'a, const TRY: bool>(
        &'a self,
        mut entry: &'a Entry,
        kind: usize,
        map: usize,
        range: (usize, usize),
    ) -> Result<(Ticket<'a>, AtomicSpans), Conflict> {
        let me = entry.record().token();
        loop {
            fence(SeqCst);
            let op = Op {
                entry,
                kind,
                map,
                range,
                me,
            };
            let mut spans = AtomicSpans::new();
            match self.scan_shared(&op, &mut spans) {
                Found::Nothing => {
                    self.note_slow_read();
                    return Ok((Ticket { entry }, spans));
                }
                Found::Refuse(conflict) => {
                    entry.free();
                    return Err(refusal::<TRY>(conflict));
                }
                Found::Wait(other, tag) => {
                    entry.free();
                    if TRY {
                        return Err(WOULD_BLOCK);
                    }
                    wait_change(other, tag);
                    entry = self.mine().claim();
                    entry.fill(self.id(), map, range.0, range.1, kind);
                }
            }
        }
    }

    /// Turns the bias off (the caller has published an exclusive entry and fenced).
    #[cold]
    #[inline(never)]
    fn unbias(&self) {
        let mut round = 0;
        loop {
            match self.bias.load(Acquire) {
                UNBIASED => return,
                BIASED => {
                    if self
                        .bias
                        .compare_exchange(BIASED, REVOKING, Relaxed, Relaxed)
                        .is_ok()
                    {
                        fence(SeqCst);
                        heavy_fence();
                        self.bias.store(UNBIASED, Release);
                        return;
                    }
                }
                // Another party revokes, or a reader restores (and sees this entry).
                _ => backoff(&mut round),
            }
        }
    }
}

/// What an exclusive operation does about an entry it meets.
enum Judged {
    Refuse(Conflict),
    Wait,
    Ignore,
}

/// What a request that met `conflict` returns: a `try_` one would block where the blocking
/// one is refused for waiting on the caller's own guard.
fn refusal<const TRY: bool>(conflict: Conflict) -> Conflict {
    match conflict {
        HOLDS_WRITE | HOLDS_VIEW | HOLDS_VIEW_RESIZE if TRY => WOULD_BLOCK,
        other => other,
    }
}

/// Waits until `entry`'s tag is no longer `tag`.
fn wait_change(entry: &Entry, tag: usize) {
    let mut round = 0;
    while entry.tag() == tag {
        backoff(&mut round);
    }
}
