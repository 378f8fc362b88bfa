//! [`MapLock`]: a writable mapping behind its file's [`FileLock`], and the guards that
//! reach it.

use super::file::{AtomicSpans, Conflict, FileLock, Ticket, Width};
use crate::os::{Growth, Region};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::Relaxed, Ordering::Release};
use std::sync::Arc;

/// A writable mapping and the lock of its file.
pub(crate) struct MapLock {
    lock: Arc<FileLock>,
    /// This mapping among those of the file (what a resize of it waits for).
    id: usize,
    /// Where in the file the mapping starts: entries name file offsets.
    window: u64,
    map: UnsafeCell<Region>,
    /// The mapping's address, readable without a guard (it changes only under a resize
    /// guard).
    base: AtomicPtr<u8>,
    /// The mapping's length, readable without a guard, as `base`.
    len: AtomicUsize,
}

// SAFETY: the mapping is only reached through guards: shared access under a read ticket,
// exclusive access under a write ticket, and `Region` is `Send + Sync`.
unsafe impl Sync for MapLock {}
// SAFETY: as above; moving the lock moves the `Region`, which is `Send`.
unsafe impl Send for MapLock {}

/// Shared access to the mapping for the published range (and its length for bounds
/// checks); released on drop, on any thread.
pub(crate) struct ReadGuard<'a> {
    map: &'a MapLock,
    _ticket: Ticket<'a>,
}

/// Exclusive access to the bytes it was taken for (or, from [`MapLock::resize`], to the
/// mapping); released on drop, on any thread.
pub(crate) struct WriteGuard<'a> {
    map: &'a MapLock,
    _ticket: Ticket<'a>,
    /// Made by `resize`: no entry of the mapping is alive.
    #[cfg(debug_assertions)]
    resize: bool,
}

/// A published atomic view: keeps the mapping in place; released on drop.
#[cfg_attr(not(feature = "atomic"), allow(dead_code))]
pub(crate) struct AtomicGuard<'a> {
    /// The mapping's base address while the guard lives.
    pub(crate) base: *mut u8,
    _ticket: Ticket<'a>,
}

impl MapLock {
    /// `map`, mapping `id` of the file that `lock` guards, from byte `window` of the file.
    pub(crate) fn new(map: Region, lock: Arc<FileLock>, id: usize, window: u64) -> Self {
        Self {
            lock,
            id,
            window,
            base: AtomicPtr::new(map.as_ptr()),
            len: AtomicUsize::new(map.len()),
            map: UnsafeCell::new(map),
        }
    }

    /// Where in the file the mapping starts.
    #[cfg_attr(not(feature = "advise"), allow(dead_code))]
    pub(crate) fn window(&self) -> u64 {
        self.window
    }

    /// `start..end` of the mapping as the file's lock names it. Every caller's range comes
    /// from a bounds check or from `guarded::span` (within
    /// [`SPAN_MAX`](crate::range::SPAN_MAX), give or take a page), so adding the window's
    /// start cannot overflow.
    #[inline(always)]
    fn at(&self, start: usize, end: usize) -> (usize, usize) {
        // (On 32-bit targets the addition saturates instead: see `in_file`.)
        #[cfg(target_pointer_width = "64")]
        debug_assert!((self.window as usize).checked_add(end.max(start)).is_some());
        crate::range::in_file_checked(self.window, start, end)
    }

    /// The refusal a write of `start..end` would meet from the calling thread's own views.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) fn own_conflict(&self, start: usize, end: usize) -> Option<Conflict> {
        let (start, end) = crate::range::in_file(self.window, start, end);
        self.lock.own_conflict(start, end)
    }

    /// The mapping's length as it was last seen; `resize` may change it.
    #[inline]
    pub(crate) fn last_len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// The mapping's base address as it is now; `resize` may move it.
    #[inline]
    pub(crate) fn write_base(&self) -> *mut u8 {
        self.base.load(Relaxed)
    }

    /// Starts loading the first and last cache lines of `len` bytes at `offset` for a write
    /// about to be made: the write then need not wait for them under the lock (whose
    /// release waits for every store before it). A hint: out-of-bounds addresses are
    /// ignored by the processor, and other targets do nothing.
    #[inline(always)]
    pub(crate) fn prefetch(&self, offset: u64, len: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let first = self.write_base().wrapping_add(offset as usize);
            let last = first.wrapping_add((len as usize).saturating_sub(1));
            // SAFETY: a prefetch only hints the cache; it never faults, whatever the address.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(first.cast::<i8>());
                _mm_prefetch::<_MM_HINT_T0>(last.cast::<i8>());
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (offset, len);
    }

    /// Whether an atomic view of the mapping is alive.
    pub(crate) fn has_atomic_views(&self) -> bool {
        self.lock.has_atomic_views(self.id)
    }

    /// Whether a writable view or a write of the mapping is alive or waiting.
    pub(crate) fn write_held(&self) -> bool {
        self.lock.has_writes(self.id)
    }

    /// # Safety
    ///
    /// A ticket of `self.lock` that excludes `resize` is held for as long as the borrow.
    unsafe fn map(&self) -> &Region {
        // SAFETY: the caller holds a ticket that keeps resizes (the only mutation of the
        // `Region` through `&mut`) out; growth in place changes it through `&`.
        unsafe { &*self.map.get() }
    }

    /// Shared access for a zero-copy view of `start..end` (clamped by the caller's bounds
    /// check, which runs under the returned guard).
    #[inline(always)]
    pub(crate) fn read(&self, start: usize, end: usize) -> Result<ReadGuard<'_>, Conflict> {
        let (start, end) = self.at(start, end);
        let ticket = self.lock.read(self.id, start, end)?;
        Ok(ReadGuard {
            map: self,
            _ticket: ticket,
        })
    }

    /// Like [`read`](Self::read), but [`WOULD_BLOCK`](super::WOULD_BLOCK) where it would
    /// wait.
    #[inline]
    pub(crate) fn try_read(&self, start: usize, end: usize) -> Result<ReadGuard<'_>, Conflict> {
        let (start, end) = self.at(start, end);
        let ticket = self.lock.try_read(self.id, start, end)?;
        Ok(ReadGuard {
            map: self,
            _ticket: ticket,
        })
    }

    /// Shared access for a copy of `start..end`, with the atomic views it overlaps.
    pub(crate) fn read_copy(
        &self,
        start: usize,
        end: usize,
    ) -> Result<(ReadGuard<'_>, AtomicSpans), Conflict> {
        let (start, end) = self.at(start, end);
        let (ticket, mut spans) = self.lock.copy(self.id, start, end)?;
        crate::range::spans_in_map(self.window, &mut spans);
        let guard = ReadGuard {
            map: self,
            _ticket: ticket,
        };
        Ok((guard, spans))
    }

    /// Keeps the mapping in place (no resize of it) while the ticket lives; waits for no
    /// view or write.
    pub(crate) fn pin(&self) -> Result<Ticket<'_>, Conflict> {
        self.lock.copy(self.id, 0, 0).map(|(ticket, _)| ticket)
    }

    /// Like [`read_copy`](Self::read_copy), but [`WOULD_BLOCK`](super::WOULD_BLOCK) where
    /// it would wait.
    pub(crate) fn try_read_copy(
        &self,
        start: usize,
        end: usize,
    ) -> Result<(ReadGuard<'_>, AtomicSpans), Conflict> {
        let (start, end) = self.at(start, end);
        let (ticket, mut spans) = self.lock.try_copy(self.id, start, end)?;
        crate::range::spans_in_map(self.window, &mut spans);
        let guard = ReadGuard {
            map: self,
            _ticket: ticket,
        };
        Ok((guard, spans))
    }

    /// Exclusive access to `start..end` (clamped by the caller's bounds check, which runs
    /// under the returned guard).
    #[inline(always)]
    pub(crate) fn write(&self, start: usize, end: usize) -> Result<WriteGuard<'_>, Conflict> {
        let (start, end) = self.at(start, end);
        let ticket = self.lock.write(self.id, start, end)?;
        Ok(self.guard(ticket, false))
    }

    /// Like [`write`](Self::write), but [`WOULD_BLOCK`](super::WOULD_BLOCK) where it would
    /// wait.
    pub(crate) fn try_write(&self, start: usize, end: usize) -> Result<WriteGuard<'_>, Conflict> {
        let (start, end) = self.at(start, end);
        let ticket = self.lock.try_write(self.id, start, end)?;
        Ok(self.guard(ticket, false))
    }

    /// Grows the mapping in place to `new_len` bytes (see [`Region::grow`]) under a pin,
    /// which keeps resizes out (no shrink runs until `published`, the length the handle
    /// reports, is raised too) and waits for no view or write.
    pub(crate) fn grow(
        &self,
        file: &std::fs::File,
        new_len: usize,
        size: impl FnOnce(usize) -> std::io::Result<()>,
        undo: impl FnOnce(usize),
        published: &AtomicUsize,
    ) -> Result<std::io::Result<Growth>, Conflict> {
        let _pin = self.pin()?;
        // SAFETY: the pin keeps resizes out; growth in place needs only `&`.
        let growth = unsafe { self.map() }.grow(file, new_len, size, undo);
        if let Ok(Growth::Grown | Growth::Same) = growth {
            // Growers may finish in any order; the longest is what is mapped. (`Same`: a
            // grower that got there first may not have raised them yet.)
            self.len.fetch_max(new_len, Relaxed);
            published.fetch_max(new_len, Release);
        }
        Ok(growth)
    }

    /// Exclusive access to the mapping itself, with no entry of it alive: it may move.
    pub(crate) fn resize(&self) -> Result<WriteGuard<'_>, Conflict> {
        let ticket = self.lock.resize(self.id)?;
        Ok(self.guard(ticket, true))
    }

    #[inline(always)]
    fn guard<'a>(&'a self, ticket: Ticket<'a>, resize: bool) -> WriteGuard<'a> {
        let _ = resize;
        WriteGuard {
            map: self,
            _ticket: ticket,
            #[cfg(debug_assertions)]
            resize,
        }
    }

    #[cfg_attr(not(feature = "atomic"), allow(dead_code))]
    /// Publishes an atomic view of `start..end`; the guard gives the mapping's base
    /// address as it is while it lives, and its length then comes with it.
    #[inline]
    pub(crate) fn atomic(
        &self,
        start: usize,
        end: usize,
        width: Width,
    ) -> Result<(AtomicGuard<'_>, usize), Conflict> {
        let (start, end) = self.at(start, end);
        let ticket = self.lock.atomic(self.id, start, end, width)?;
        // SAFETY: an atomic ticket keeps resizes out while the borrow lives.
        let map = unsafe { self.map() };
        let guard = AtomicGuard {
            base: map.as_ptr(),
            _ticket: ticket,
        };
        Ok((guard, map.len()))
    }
}

impl<'a> ReadGuard<'a> {
    /// The mapping's base address and the ticket that keeps it valid.
    #[inline]
    pub(crate) fn into_parts(self) -> (*const u8, Ticket<'a>) {
        (self.base(), self._ticket)
    }

    /// The mapping's length while the guard lives: at most what is mapped (growth in place
    /// raises it after mapping; nothing lowers it while a guard lives).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.map.len.load(Relaxed)
    }

    /// The region itself, for the flushes.
    fn region(&self) -> &Region {
        // SAFETY: the guard's ticket keeps resizes out while the borrow lives.
        unsafe { self.map.map() }
    }

    /// Writes the mapping's dirty pages back and waits for them (`msync(MS_SYNC)`).
    pub(crate) fn flush(&self) -> std::io::Result<()> {
        self.region().flush()
    }

    /// Writes the dirty pages of `len` bytes at `offset` back and waits for them.
    pub(crate) fn flush_range(&self, offset: usize, len: usize) -> std::io::Result<()> {
        self.region().flush_range(offset, len)
    }

    /// Starts writing back the dirty pages of `len` bytes at `offset` (`msync(MS_ASYNC)`).
    pub(crate) fn flush_async_range(&self, offset: usize, len: usize) -> std::io::Result<()> {
        self.region().flush_async_range(offset, len)
    }

    /// The mapping's base address (which does not change while a guard lives). Only the
    /// published range may be borrowed through it; other bytes may be under an atomic view.
    #[inline]
    pub(crate) fn base(&self) -> *const u8 {
        self.map.base.load(Relaxed)
    }
}

impl WriteGuard<'_> {
    /// The mapping's length while the guard lives (as for a read guard; a resize guard
    /// sees it change through [`moved`](Self::moved)).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.map.len.load(Relaxed)
    }

    /// The mapping's base address, writable. Only the range the guard was taken for may be
    /// borrowed or written through it.
    #[inline]
    pub(crate) fn base(&self) -> *mut u8 {
        // The address comes from the mapping, not from a borrow of its bytes, so writing
        // through it is allowed.
        self.map.base.load(Relaxed)
    }

    /// The `Region` itself, to move or resize it: only for a guard from
    /// [`MapLock::resize`], under which no view of any kind is alive.
    pub(crate) fn map_mut(&mut self) -> &mut Region {
        #[cfg(debug_assertions)]
        debug_assert!(self.resize);
        // SAFETY: a resize ticket excludes every other entry of the mapping, and
        // `&mut self` makes this borrow unique.
        unsafe { &mut *self.map.map.get() }
    }

    /// Records where the mapping is after [`map_mut`](Self::map_mut) moved it.
    pub(crate) fn moved(&mut self) {
        // SAFETY: a resize guard keeps every other access out.
        let region = unsafe { self.map.map() };
        self.map.base.store(region.as_ptr(), Relaxed);
        self.map.len.store(region.len(), Relaxed);
    }
}

// SAFETY: an `AtomicGuard` only carries the address of pages that its ticket keeps mapped;
// the ticket itself is `Send + Sync`.
unsafe impl Send for AtomicGuard<'_> {}
// SAFETY: as above; shared access only reads the address.
unsafe impl Sync for AtomicGuard<'_> {}
