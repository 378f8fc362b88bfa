//! [`Reservation`]: a shared mapping of a file at the start of address space reserved for it,
//! so that it grows where it is (`docs/CONCURRENCY.md`, "Growth").
//!
//! The reservation is one inaccessible anonymous mapping (`PROT_NONE`, private: nothing is
//! committed for it); the file is mapped over its start with `MAP_FIXED`, and growth maps more
//! of the file over the reserved pages that follow. `MAP_FIXED` only ever replaces pages of
//! the reservation itself, which this value owns until it unmaps the whole of it.

use std::fs::File;
use std::io;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicUsize, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};

use rustix::mm::{MapFlags, MsyncFlags, ProtFlags};

/// A file mapped at the start of `reserved` bytes of address space.
pub(crate) struct Reservation {
    /// Start of the reservation; never changes. The file is mapped from its page at
    /// `file_page` here, and the mapping's bytes start `skip` bytes in.
    base: *mut u8,
    file_page: u64,
    skip: usize,
    /// Bytes of address space owned, a multiple of the page size.
    reserved: usize,
    /// Bytes of the mapping (from `base + skip`); stored (release) after the pages are
    /// mapped.
    len: AtomicUsize,
    writable: bool,
    /// Advise huge pages for every page mapped (the builder's `huge_pages`).
    huge: bool,
    /// One growth or shrink at a time; the new length is decided under it.
    turn: parking_lot::Mutex<()>,
}

// SAFETY: the pointer is to a mapping this value owns; its mutable state is atomic or under
// `turn`, and the bytes are reached only through the callers' guards.
unsafe impl Send for Reservation {}
// SAFETY: as above.
unsafe impl Sync for Reservation {}

/// What [`Reservation::grow`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Growth {
    /// The mapping is now the new length.
    Grown,
    /// The new length does not fit the reservation: nothing changed.
    NoRoom,
    /// The mapping is already that long (another call grew it): nothing changed.
    Same,
    /// The mapping is longer: growing does not shorten it, nothing changed.
    Shorter,
}

fn round_up(n: usize) -> io::Result<usize> {
    let page = super::page_size();
    n.checked_next_multiple_of(page)
        .ok_or_else(|| io::Error::new(io::ErrorKind::OutOfMemory, "length too large to map"))
}

impl Reservation {
    /// Reserves room for at least `reserve` bytes (and at least `len`) and maps the `len`
    /// bytes of `file` at `offset` (which must exist) at its start.
    pub(crate) fn map(
        file: &File,
        offset: u64,
        len: usize,
        reserve: usize,
        kind: (bool, bool),
        populate: bool,
    ) -> io::Result<Self> {
        let (writable, huge) = kind;
        let skip = (offset % super::page_size() as u64) as usize;
        let room = reserve.max(len).max(1);
        let reserved = round_up(room.saturating_add(skip))?;
        // SAFETY: a new mapping at an address the kernel picks: no memory in use changes.
        let base = unsafe {
            rustix::mm::mmap_anonymous(null_mut(), reserved, ProtFlags::empty(), MapFlags::PRIVATE)
        }?;
        let this = Self {
            base: base.cast(),
            file_page: offset - skip as u64,
            skip,
            reserved,
            len: AtomicUsize::new(0),
            writable,
            huge,
            turn: parking_lot::Mutex::new(()),
        };
        // On failure `this` drops, unmapping the reservation.
        this.map_pages(file, 0, skip + len, populate)?;
        this.len.store(len, Release);
        Ok(this)
    }

    /// Maps the pages of `file` over the reservation from `start` (a page boundary, from the
    /// reservation's start) to `to` rounded up to a page.
    fn map_pages(&self, file: &File, start: usize, to: usize, populate: bool) -> io::Result<()> {
        let end = round_up(to)?;
        if end <= start {
            return Ok(());
        }
        debug_assert!(end <= self.reserved);
        let prot = if self.writable {
            ProtFlags::READ | ProtFlags::WRITE
        } else {
            ProtFlags::READ
        };
        #[allow(unused_mut)]
        let mut flags = MapFlags::SHARED | MapFlags::FIXED;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if populate {
            flags |= MapFlags::POPULATE;
        }
        let _ = populate;
        // SAFETY: `start..end` lies in the reservation, past every byte a caller may hold a
        // view of (views lie below the length, whose last page is below `start`): MAP_FIXED
        // replaces only inaccessible reserved pages that nothing references.
        let mapped = unsafe {
            rustix::mm::mmap(
                self.base.add(start).cast(),
                end - start,
                prot,
                flags,
                file,
                self.file_page + start as u64,
            )
        };
        if let Err(e) = mapped {
            self.reserve_again(start, end);
            return Err(e.into());
        }
        if self.huge {
            // SAFETY: the pages were just mapped; the hint does not change what they hold.
            let _ =
                unsafe { super::advise(self.base, start, end - start, super::Advice::HugePage) };
        }
        Ok(())
    }

    /// Start of the mapping.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.base.wrapping_add(self.skip)
    }

    /// Bytes of the file mapped now. Relaxed, as on every read path: a byte past the old
    /// length is touched only after this returned the new one (`docs/CONCURRENCY.md`).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// Whether the pages are mapped writable, and whether huge pages are advised for them
    /// (what [`map`](Self::map) takes as `kind`).
    pub(crate) fn kind(&self) -> (bool, bool) {
        (self.writable, self.huge)
    }

    /// Grows the mapping in place to `new_len` bytes, after `size` (given the mapped length)
    /// has made the file at least that long; if mapping then fails, `undo` (given the same)
    /// is called. Nothing changes unless it returns `Grown`. Waits for no view: bytes below
    /// the old length stay where they are.
    pub(crate) fn grow(
        &self,
        file: &File,
        new_len: usize,
        size: impl FnOnce(usize) -> io::Result<()>,
        undo: impl FnOnce(usize),
    ) -> io::Result<Growth> {
        let _turn = self.turn.lock();
        let old = self.len.load(Acquire);
        if new_len <= old {
            return Ok(if new_len == old {
                Growth::Same
            } else {
                Growth::Shorter
            });
        }
        if new_len > self.reserved - self.skip {
            return Ok(Growth::NoRoom);
        }
        size(old)?;
        // The page holding the old end is mapped already.
        let from = round_up(self.skip + old)?;
        if let Err(e) = self.map_pages(file, from, self.skip + new_len, false) {
            undo(old);
            return Err(e);
        }
        self.len.store(new_len, Release);
        Ok(Growth::Grown)
    }

    /// Shrinks the mapping in place to `new_len` bytes: the pages past it go back to the
    /// reservation, then `cut` shortens the file; if it fails, the pages are mapped again.
    ///
    /// # Safety
    ///
    /// No reference into the bytes past `new_len` may be alive.
    pub(crate) unsafe fn shrink(
        &self,
        file: &File,
        new_len: usize,
        cut: impl FnOnce() -> io::Result<()>,
    ) -> io::Result<()> {
        let _turn = self.turn.lock();
        let old = self.len.load(Acquire);
        let (start, end) = (round_up(self.skip + new_len)?, round_up(self.skip + old)?);
        if start < end {
            if let Err(e) = self.reserve_pages(start, end) {
                // The kernel may have unmapped the pages before it failed: map them again,
                // or failing that (reserved again) end the mapping at `new_len`.
                if self.map_pages(file, start, self.skip + old, false).is_err() {
                    self.len.store(new_len, Release);
                }
                return Err(e);
            }
        }
        self.len.store(new_len.min(old), Release);
        if let Err(e) = cut() {
            // The file keeps its old length: map its pages again.
            self.map_pages(file, start, self.skip + old, false)?;
            self.len.store(old, Release);
            return Err(e);
        }
        Ok(())
    }

    /// Makes `start..end` of the reservation inaccessible reserved pages again.
    fn reserve_pages(&self, start: usize, end: usize) -> io::Result<()> {
        // SAFETY: `start..end` lies in the reservation, which this value owns; callers pass
        // pages no reference points into (past the length, or cut under a resize guard).
        unsafe {
            rustix::mm::mmap_anonymous(
                self.base.add(start).cast(),
                end - start,
                ProtFlags::empty(),
                MapFlags::PRIVATE | MapFlags::FIXED,
            )
        }?;
        Ok(())
    }

    /// After a `MAP_FIXED` over `start..end` failed: the kernel may have unmapped the range
    /// before it failed, and a hole in the reservation could be taken by any other mapping
    /// of the process, which later growth would map over. So the range is reserved again;
    /// if even that fails the process aborts, as it does when memory is exhausted.
    fn reserve_again(&self, start: usize, end: usize) {
        if self.reserve_pages(start, end).is_err() {
            eprintln!("mmap-io: cannot restore reserved address space after a failed mapping");
            std::process::abort();
        }
    }

    /// Writes the dirty pages of `len` bytes at `offset` back; waits for them if `wait`.
    pub(crate) fn flush(&self, offset: usize, len: usize, wait: bool) -> io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        let (start, span) = super::page_span(self.as_ptr(), offset, len);
        let flags = if wait {
            MsyncFlags::SYNC
        } else {
            MsyncFlags::ASYNC
        };
        // SAFETY: `start..start + span` covers mapped pages of this reservation (the
        // caller's range lies below the length); msync reads no memory.
        unsafe { rustix::mm::msync(start.cast(), span, flags) }?;
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // SAFETY: the reservation is this value's; no reference into it outlives it.
        let _ = unsafe { rustix::mm::munmap(self.base.cast(), self.reserved) };
    }
}
