//! [`MapLock`]: a writable mapping behind a [`ViewLock`], and the guards that reach it.

use super::lock::{AtomicSpans, AtomicTicket, Conflict, ReadTicket, ViewLock, Width, WriteTicket};
use memmap2::MmapMut;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicPtr, Ordering::Relaxed};

/// A writable mapping and the lock that guards it.
pub(crate) struct MapLock {
    lock: ViewLock,
    map: UnsafeCell<MmapMut>,
    /// The mapping's address, readable without a guard (it changes only under a resize
    /// guard).
    base: AtomicPtr<u8>,
}

// SAFETY: the mapping is only reached through guards: shared access under a read ticket,
// exclusive access under a write ticket, and `MmapMut` is `Send + Sync`.
unsafe impl Sync for MapLock {}
// SAFETY: as above; moving the lock moves the `MmapMut`, which is `Send`.
unsafe impl Send for MapLock {}

/// Shared access to the mapping for the published range (and its length for bounds
/// checks); released on drop, on any thread.
pub(crate) struct ReadGuard<'a> {
    map: &'a MmapMut,
    _ticket: ReadTicket<'a>,
}

/// Exclusive access to the bytes; released on drop, on any thread.
///
/// It holds a [kept](WriteTicket::keep) write ticket of the map's lock, so that it is one
/// pointer, passed in a register.
pub(crate) struct WriteGuard<'a> {
    map: &'a MapLock,
    /// Made by `resize`: no atomic view is alive either.
    #[cfg(debug_assertions)]
    resize: bool,
}

/// A published atomic view: keeps the mapping in place; released on drop.
#[cfg_attr(not(feature = "atomic"), allow(dead_code))]
pub(crate) struct AtomicGuard<'a> {
    /// The mapping's base address while the guard lives.
    pub(crate) base: *mut u8,
    _ticket: AtomicTicket<'a>,
}

impl MapLock {
    pub(crate) fn new(map: MmapMut) -> Self {
        Self {
            lock: ViewLock::new(),
            base: AtomicPtr::new(map.as_ptr().cast_mut()),
            map: UnsafeCell::new(map),
        }
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
        self.lock.has_atomic_views()
    }

    /// Whether a writable view, a write or a resize is alive or waiting.
    pub(crate) fn write_held(&self) -> bool {
        self.lock.write_held()
    }

    /// # Safety
    ///
    /// A ticket of `self.lock` that excludes `resize` is held for as long as the borrow.
    unsafe fn map(&self) -> &MmapMut {
        // SAFETY: the caller holds a ticket that keeps resizes (the only mutation of the
        // `MmapMut` itself) out.
        unsafe { &*self.map.get() }
    }

    /// Shared access for a zero-copy view of `start..end` (clamped by the caller's bounds
    /// check, which runs under the returned guard).
    #[inline(always)]
    pub(crate) fn read(&self, start: usize, end: usize) -> Result<ReadGuard<'_>, Conflict> {
        let ticket = self.lock.read(start, end)?;
        Ok(ReadGuard {
            // SAFETY: `ticket` keeps resizes out while the guard lives.
            map: unsafe { self.map() },
            _ticket: ticket,
        })
    }

    /// Like [`read`](Self::read), but [`WOULD_BLOCK`](super::WOULD_BLOCK) where it would
    /// wait.
    #[inline]
    pub(crate) fn try_read(&self, start: usize, end: usize) -> Result<ReadGuard<'_>, Conflict> {
        let ticket = self.lock.try_read(start, end)?;
        Ok(ReadGuard {
            // SAFETY: `ticket` keeps resizes out while the guard lives.
            map: unsafe { self.map() },
            _ticket: ticket,
        })
    }

    /// Shared access for a copy of `start..end`, with the atomic views it overlaps.
    pub(crate) fn read_copy(
        &self,
        start: usize,
        end: usize,
    ) -> Result<(ReadGuard<'_>, AtomicSpans), Conflict> {
        let (ticket, spans) = self.lock.read_copy(start, end)?;
        let guard = ReadGuard {
            // SAFETY: as in `read`.
            map: unsafe { self.map() },
            _ticket: ticket,
        };
        Ok((guard, spans))
    }

    /// Exclusive access to the bytes; atomic views stay alive (check them on the guard).
    #[inline(always)]
    pub(crate) fn write(&self) -> Result<WriteGuard<'_>, Conflict> {
        Ok(self.guard(self.lock.write()?, false))
    }

    /// Like [`write`](Self::write), but [`WOULD_BLOCK`](super::WOULD_BLOCK) where it would
    /// wait.
    pub(crate) fn try_write(&self) -> Result<WriteGuard<'_>, Conflict> {
        Ok(self.guard(self.lock.try_write()?, false))
    }

    /// Exclusive access to the mapping itself, with no atomic view alive: it may move.
    pub(crate) fn resize(&self) -> Result<WriteGuard<'_>, Conflict> {
        Ok(self.guard(self.lock.resize()?, true))
    }

    /// The guard that holds `ticket`, a write ticket of `self.lock` (from `resize` if
    /// `resize`).
    #[inline]
    fn guard<'a>(&'a self, ticket: WriteTicket<'a>, resize: bool) -> WriteGuard<'a> {
        ticket.keep();
        let _ = resize;
        WriteGuard {
            map: self,
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
        let ticket = self.lock.atomic(start, end, width)?;
        // SAFETY: an atomic ticket keeps resizes out while the borrow lives.
        let map = unsafe { self.map() };
        let guard = AtomicGuard {
            base: map.as_ptr().cast_mut(),
            _ticket: ticket,
        };
        Ok((guard, map.len()))
    }
}

impl<'a> ReadGuard<'a> {
    /// The mapping's base address and the ticket that keeps it valid.
    #[inline]
    pub(crate) fn into_parts(self) -> (*const u8, ReadTicket<'a>) {
        (self.map.as_ptr(), self._ticket)
    }

    /// The mapping's length while the guard lives.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Writes the mapping's dirty pages back and waits for them (`msync(MS_SYNC)`).
    pub(crate) fn flush(&self) -> std::io::Result<()> {
        self.map.flush()
    }

    /// Writes the dirty pages of `len` bytes at `offset` back and waits for them.
    pub(crate) fn flush_range(&self, offset: usize, len: usize) -> std::io::Result<()> {
        self.map.flush_range(offset, len)
    }

    /// Starts writing back the dirty pages of `len` bytes at `offset` (`msync(MS_ASYNC)`).
    pub(crate) fn flush_async_range(&self, offset: usize, len: usize) -> std::io::Result<()> {
        self.map.flush_async_range(offset, len)
    }

    /// The mapping's base address. Only the published range may be borrowed through it;
    /// other bytes may be under an atomic view.
    #[inline]
    pub(crate) fn base(&self) -> *const u8 {
        self.map.as_ptr()
    }
}

impl WriteGuard<'_> {
    /// Refuses a write of `start..end` that overlaps a live atomic view.
    #[inline]
    pub(crate) fn check_atomics(&self, start: usize, end: usize) -> Result<(), Conflict> {
        self.map.lock.check_write(start, end)
    }

    /// The mapping's length while the guard lives.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        // SAFETY: the write ticket keeps resizes out.
        unsafe { self.map.map() }.len()
    }

    /// The mapping's base address, writable. Only ranges checked with
    /// [`check_atomics`](Self::check_atomics) may be borrowed or written through it.
    #[inline]
    pub(crate) fn base(&self) -> *mut u8 {
        // SAFETY: as in `len`. The pointer comes from the mapping, not from a borrow of
        // its bytes, so writing through it is allowed.
        unsafe { self.map.map() }.as_ptr().cast_mut()
    }

    /// The `MmapMut` itself, to move or resize it: only for a guard from
    /// [`MapLock::resize`], under which no view of any kind is alive.
    pub(crate) fn map_mut(&mut self) -> &mut MmapMut {
        #[cfg(debug_assertions)]
        debug_assert!(self.resize);
        // SAFETY: a resize ticket excludes every other guard and atomic view, and
        // `&mut self` makes this borrow unique.
        unsafe { &mut *self.map.map.get() }
    }

    /// Records where the mapping is after [`map_mut`](Self::map_mut) moved it.
    pub(crate) fn moved(&mut self) {
        let base = self.base().cast::<u8>();
        self.map.base.store(base, Relaxed);
    }
}

impl Drop for WriteGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the guard holds the ticket it kept in `MapLock::guard`, released only
        // here.
        unsafe { self.map.lock.release_write() };
    }
}

// SAFETY: an `AtomicGuard` only carries the address of pages that its ticket keeps mapped;
// the ticket itself is `Send + Sync`.
unsafe impl Send for AtomicGuard<'_> {}
// SAFETY: as above; shared access only reads the address.
unsafe impl Sync for AtomicGuard<'_> {}
