//! Views, copies and writes: `as_slice`, `as_slice_mut`, `read_into`, `update_region`.

use super::{Map, MemoryMappedFile, MmapMode};
use crate::errors::{invalid_mode, Result};
use crate::flush::Caller;
use crate::range;
use crate::slice::{MappedSlice, MappedSliceMut};
use crate::sync::WriteGuard;
use std::ops::Range;
use std::sync::atomic::Ordering::Relaxed;

const BYTES_NEED_NO_LOCK: &str =
    "as_slice_bytes is not available on read-write mappings; use as_slice";
const BYTES_NEED_NO_WRITES: &str =
    "as_slice_bytes is not available on writable copy-on-write mappings; use as_slice";

impl MemoryMappedFile {
    /// Zero-copy view of `len` bytes at `offset`, on every mode.
    ///
    /// The view is published to the lock of the file (in read-mostly phases with plain
    /// stores to the thread's own record) for as long as it lives: writes of its bytes
    /// through any handle of the file in the process, and `resize` of this mapping (but
    /// growth within reserved room), wait until it is dropped; writes of other bytes do not.
    /// A zero-length request succeeds at any offset. See `docs/CONCURRENCY.md`.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if `offset + len` is past the end (or overflows);
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) if the range overlaps a live atomic view, or if this
    /// thread holds a [`MappedSliceMut`] of these bytes (the view would wait for it).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// mmap.update_region(10, b"xyz")?;
    /// assert_eq!(mmap.as_slice(10, 3)?, b"xyz");
    /// assert!(mmap.as_slice(60, 10).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline(always)]
    pub fn as_slice(&self, offset: u64, len: u64) -> Result<MappedSlice<'_>> {
        match self.ro {
            Some(ro) => {
                let r = range::checked(offset, len, self.ro_len())?;
                if r.is_empty() {
                    return Ok(MappedSlice::borrowed(&[]));
                }
                let (start, end) = range::in_file_checked(ro.window, r.start, r.end);
                // SAFETY: `ro.lock` is the lock `self.inner` owns.
                let ticket = unsafe { &*ro.lock }.read(ro.id, start, end)?;
                // SAFETY: `r` is in bounds of the read-only mapping, which lives as long as
                // `self`; the ticket keeps writers of these bytes out while the view lives.
                Ok(unsafe { MappedSlice::ticketed(ro.ptr.add(r.start), r.len(), ticket) })
            }
            None => self.as_slice_locked(offset, len),
        }
    }

    /// The guarded path of [`as_slice`](Self::as_slice), kept out of line so that the
    /// read-only path inlines into its callers.
    #[inline(always)]
    fn as_slice_locked(&self, offset: u64, len: u64) -> Result<MappedSlice<'_>> {
        self.writable()?.slice(offset, len)
    }

    /// Copies `buf.len()` bytes at `offset` of a read-only mapping into `buf`, published
    /// as a copy meanwhile; `None` on writable mappings. The inner error is a fault met by
    /// the copy (a file cut under the mapping), counted from `offset`.
    #[inline]
    fn ro_copy(
        &self,
        offset: u64,
        buf: &mut [u8],
    ) -> Option<Result<std::result::Result<(), crate::fault::Fault>>> {
        let ro = self.ro?;
        Some((|| {
            let r = range::checked(offset, buf.len() as u64, self.ro_len())?;
            if r.is_empty() {
                return Ok(Ok(()));
            }
            let (start, end) = range::in_file(ro.window, r.start, r.end);
            // SAFETY: `ro.lock` is the lock `self.inner` owns.
            let (_ticket, mut spans) = unsafe { &*ro.lock }.copy(ro.id, start, end)?;
            range::spans_in_map(ro.window, &mut spans);
            // SAFETY: `r` is in bounds of the read-only mapping; the ticket keeps writers of
            // these bytes out, and `spans` lists the atomic views over them.
            Ok(unsafe { crate::guarded::copy_guarded(ro.ptr, r, buf, &spans) })
        })())
    }

    /// Lends `offset..offset + len` of a read-only mapping until the last handle drops, and
    /// returns it; `None` on writable mappings.
    pub(crate) fn lend(&self, offset: u64, len: u64) -> Option<Result<&[u8]>> {
        let ro = self.ro?;
        Some((|| {
            let r = range::checked(offset, len, self.ro_len())?;
            while !r.is_empty() {
                // The entry is published (and may wait for writers) outside the mutex, so
                // that no caller here waits behind one that waits.
                let (start, end) = match self.inner.lent.lock().as_ref() {
                    Some(l) if l.start <= r.start && r.end <= l.end => break,
                    Some(l) => (l.start.min(r.start), l.end.max(r.end)),
                    None => (r.start, r.end),
                };
                let (in_file, in_file_end) = range::in_file(ro.window, start, end);
                let ticket = self.inner.lock.lend(self.inner.id, in_file, in_file_end)?;
                // SAFETY: `lent` is dropped before `lock` (declared first in `Inner`).
                let ticket = unsafe { ticket.detach() };
                let mut lent = self.inner.lent.lock();
                let wider = lent
                    .as_ref()
                    .map_or(true, |l| l.start >= start && l.end <= end);
                let old = if wider {
                    lent.replace(super::Lent {
                        start,
                        end,
                        _ticket: ticket,
                    })
                } else {
                    // Another call lent more meanwhile: look again.
                    None
                };
                drop(lent);
                drop(old);
            }
            // SAFETY: `r` is in bounds of the read-only mapping, which lives as long as
            // `self`; its bytes are lent (no write of the crate reaches them) until the
            // mapping's last handle drops.
            Ok(unsafe { std::slice::from_raw_parts(ro.ptr.add(r.start), r.len()) })
        })())
    }

    /// Plain `&[u8]` of `len` bytes at `offset`, borrowed for as long as `self`.
    ///
    /// Available where the bytes can never change through the mapping: read-only mappings
    /// and read-only copy-on-write mappings (`open_cow`). Writable mappings
    /// refuse it; use [`as_slice`](Self::as_slice) for a guarded view there.
    ///
    /// The bytes are *lent* until the mapping's last handle drops: a write to them through
    /// any other handle of the file in the process is refused meanwhile (the smallest range
    /// that covers every range lent by this mapping is kept from writes). Prefer
    /// [`as_slice`](Self::as_slice), whose view guards its bytes only while it lives.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) on read-write and
    /// writable copy-on-write mappings, and where the range lent (the smallest that covers
    /// these bytes and every range this mapping lent before) overlaps a live atomic view of
    /// another handle;
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("d.bin");
    /// std::fs::write(&path, b"plain bytes")?;
    /// let mmap = mmap_io::MemoryMappedFile::open_ro(&path)?;
    /// let bytes: &[u8] = mmap.as_slice_bytes(0, 5)?;
    /// assert_eq!(bytes, b"plain");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_slice_bytes(&self, offset: u64, len: u64) -> Result<&[u8]> {
        match self.lend(offset, len) {
            Some(bytes) => bytes,
            None => Err(invalid_mode(if self.inner.mode == MmapMode::ReadWrite {
                BYTES_NEED_NO_LOCK
            } else {
                BYTES_NEED_NO_WRITES
            })),
        }
    }

    /// Exclusive, writable view of `len` bytes at `offset`.
    ///
    /// The view holds the mapping's write lock until it is dropped. Its bytes count toward
    /// [`pending_bytes`](Self::pending_bytes) when it drops; automatic policies other than
    /// `EveryMillis` act on the next `update_region`.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) on read-only (and read-only copy-on-write) mappings, if the
    /// range overlaps a live atomic view, or if this thread holds a view of the mapping
    /// (the write would wait for it forever);
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// mmap.as_slice_mut(0, 4)?.copy_from_slice(b"abcd");
    /// assert_eq!(mmap.as_slice(0, 4)?, b"abcd");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn as_slice_mut(&self, offset: u64, len: u64) -> Result<MappedSliceMut<'_>> {
        let (guard, r) = self.writable()?.write_range(offset, len)?;
        Ok(self.write_view(guard, r))
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`, on every mode.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the end; `buf` is left untouched.
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) if this thread holds a [`MappedSliceMut`] of the
    /// mapping. Bytes under a live atomic view are read atomically, never refused.
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) of kind
    /// [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof) if another process cut the file
    /// under the mapping where the copy reached (on the platforms
    /// [`MmapIoError`](crate::MmapIoError) lists; elsewhere the process dies of `SIGBUS`):
    /// `buf` holds the bytes before the offset the error names.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// mmap.update_region(8, b"12345")?;
    /// let mut buf = [0u8; 5];
    /// mmap.read_into(8, &mut buf)?;
    /// assert_eq!(&buf, b"12345");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn read_into(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        match self.ro_copy(offset, buf) {
            Some(copied) => copied?.map_err(|fault| fault.into_error(offset)),
            None => self.writable()?.copy_out(offset, buf),
        }
    }

    /// Copies `data` into the mapping at `offset`, then applies the flush policy.
    ///
    /// Empty `data` is an `Ok` no-op in every mode and at any offset (decided before the
    /// mode and the range are checked). On read-write mappings the bytes reach the file
    /// (durably after [`flush`](Self::flush)); on copy-on-write mappings they stay private.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) on read-only (and read-only copy-on-write) mappings, if the
    /// range overlaps a live atomic view, or if the calling code holds a view of these bytes;
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the end (nothing is written);
    /// [`MmapIoError::FlushFailed`](crate::MmapIoError::FlushFailed) if the policy's flush fails (the bytes are written);
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) of kind
    /// [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof) if another process cut the file
    /// under the mapping where the copy reached (as for [`read_into`](Self::read_into)).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// mmap.update_region(60, b"tail")?;
    /// assert!(mmap.update_region(62, b"too long").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn update_region(&self, offset: u64, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            // Nothing to write: `Ok` in every mode, as in 1.1.
            return Ok(());
        }
        let (guard, r) = self.writable()?.write_range(offset, data.len() as u64)?;
        self.write_checked(guard, r, data, true)
    }

    /// A writable view of the range `r` that `write_range` checked for `guard`, counted
    /// toward the flush policy when it drops.
    #[inline]
    fn write_view<'a>(&'a self, guard: WriteGuard<'a>, r: Range<usize>) -> MappedSliceMut<'a> {
        let view = MappedSliceMut::guarded(guard, r);
        match self.inner.mode {
            MmapMode::ReadWrite => view.counted_in(&self.inner.flush),
            _ => view,
        }
    }

    /// [`update_region`](Self::update_region) of `data` (1 to `window` bytes) at the start
    /// of a window of `window` bytes at `offset`, which must lie in the mapping as it is
    /// under the write guard: a segment's write. A window that does not fit is reported
    /// relative to the mapping.
    pub(crate) fn update_window(&self, offset: u64, window: u64, data: &[u8]) -> Result<()> {
        let lock = self.writable()?;
        let (start, end) = crate::guarded::span(offset, data.len() as u64);
        let guard = match lock.write(start, end) {
            Ok(guard) => guard,
            Err(c) => {
                // A window the mapping no longer holds is reported as such first.
                crate::utils::ensure_in_bounds(offset, window, self.len())?;
                return Err(crate::guarded::refused(lock, c, offset, data.len() as u64));
            }
        };
        crate::utils::ensure_in_bounds(offset, window, guard.len() as u64)?;
        let r = range::checked(offset, data.len() as u64, guard.len())?;
        self.write_checked(guard, r, data, true)
    }

    /// Copies `data` to the range `r` that `write_range` checked for `guard`, then applies
    /// the flush policy.
    #[inline(always)]
    fn write_checked(
        &self,
        guard: WriteGuard<'_>,
        r: Range<usize>,
        data: &[u8],
        wait: bool,
    ) -> Result<()> {
        // SAFETY: the callers pass the guard and range `write_range` (or its `try_` form)
        // returned for `data.len()` bytes.
        let copied = unsafe { guard.copy_to(r, data) };
        self.record_write(data.len());
        copied?;
        drop(guard);
        if wait {
            return self.after_write();
        }
        // The policy flush of a `try_` write never waits for another thread's guard or sync.
        if self.inner.mode == MmapMode::ReadWrite && self.inner.flush.due() {
            self.inner.sync(Caller::Policy, false)?;
        }
        Ok(())
    }

    /// Like [`as_slice`](Self::as_slice), but never waits: `Ok(None)` where `as_slice`
    /// would wait for a writer or a [`resize`](Self::resize) (or for a
    /// [`MappedSliceMut`] this thread holds).
    ///
    /// Read-only mappings always succeed, and so does a thread that already holds read
    /// views of the mapping while no writer holds it.
    ///
    /// # Errors
    ///
    /// As for [`as_slice`](Self::as_slice): [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds)
    /// if the range is past the end, [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode)
    /// if it overlaps a live atomic view.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// mmap.update_region(0, b"data")?;
    /// match mmap.try_as_slice(0, 4)? {
    ///     Some(view) => assert_eq!(view, b"data"),
    ///     None => println!("a writer holds the mapping; try again later"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_as_slice(&self, offset: u64, len: u64) -> Result<Option<MappedSlice<'_>>> {
        match &self.inner.map {
            Map::Writable(lock) => lock.try_slice(offset, len),
            Map::ReadOnly(_) => self.as_slice(offset, len).map(Some),
        }
    }

    /// Like [`as_slice_mut`](Self::as_slice_mut), but never waits: `Ok(None)` where
    /// `as_slice_mut` would wait for a view, a writer or a [`resize`](Self::resize),
    /// including views this thread holds.
    ///
    /// # Errors
    ///
    /// As for [`as_slice_mut`](Self::as_slice_mut):
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) on read-only mappings
    /// or for a range under a live atomic view,
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// if let Some(mut view) = mmap.try_as_slice_mut(0, 4)? {
    ///     view.copy_from_slice(b"mine");
    /// }
    /// let reader = mmap.as_slice(0, 4)?;
    /// assert!(mmap.try_as_slice_mut(0, 4)?.is_none()); // `reader` is alive
    /// # drop(reader);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_as_slice_mut(&self, offset: u64, len: u64) -> Result<Option<MappedSliceMut<'_>>> {
        let Some((guard, r)) = self.writable()?.try_write_range(offset, len)? else {
            return Ok(None);
        };
        Ok(Some(self.write_view(guard, r)))
    }

    /// Like [`update_region`](Self::update_region), but never waits: `Ok(false)`, with
    /// nothing written, where `update_region` would wait for a view, a writer or a
    /// [`resize`](Self::resize), including views this thread holds. `Ok(true)` once the
    /// bytes are written and the flush policy applied.
    ///
    /// The policy's flush never waits either: where it would wait for a guard (another thread
    /// holds a view or waits to write) or for another thread's flush in progress (which may
    /// itself wait for a guard), it is left for later, and the bytes stay pending (see
    /// [`pending_bytes`](Self::pending_bytes)) until the next flush.
    ///
    /// # Errors
    ///
    /// As for [`update_region`](Self::update_region).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// assert!(mmap.try_update_region(0, b"fast path")?);
    /// let view = mmap.as_slice(0, 9)?;
    /// assert!(!mmap.try_update_region(0, b"blocked")?);
    /// assert_eq!(view, b"fast path");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_update_region(&self, offset: u64, data: &[u8]) -> Result<bool> {
        if data.is_empty() {
            return self.update_region(offset, data).map(|()| true);
        }
        let Some((guard, r)) = self
            .writable()?
            .try_write_range(offset, data.len() as u64)?
        else {
            return Ok(false);
        };
        self.write_checked(guard, r, data, false).map(|()| true)
    }

    /// Applies the flush policy after a write; the caller holds no guard.
    #[inline]
    pub(crate) fn after_write(&self) -> Result<()> {
        if self.inner.mode == MmapMode::ReadWrite && self.inner.flush.due() {
            self.inner.sync(Caller::Policy, true)?;
        }
        Ok(())
    }

    /// Copies up to `buf.len()` bytes at `offset` into `buf`, cut short at the end of the
    /// mapping, or where the file was cut under it after at least one byte; returns how many
    /// were copied (0 at or past the end).
    pub(crate) fn read_upto(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        match self.ro {
            Some(_) => {
                let total = self.ro_len();
                let start = usize::try_from(offset).map_or(total, |o| o.min(total));
                let n = buf.len().min(total - start);
                match self.ro_copy(start as u64, &mut buf[..n]) {
                    Some(copied) => crate::guarded::short_read(copied?, n, start as u64),
                    None => Ok(n),
                }
            }
            None => self.writable()?.copy_upto(offset, buf),
        }
    }

    /// A view of up to `len` bytes at `offset`, cut short at the end of the mapping;
    /// `None` if `offset` is at or past the end. Bytes an atomic view covers come as an
    /// owned copy, so iteration is never refused.
    #[cfg_attr(not(feature = "iterator"), allow(dead_code))]
    pub(crate) fn slice_upto(&self, offset: usize, len: usize) -> Option<MappedSlice<'_>> {
        let total = self.inner.len.load(Relaxed);
        if offset >= total {
            return None;
        }
        let len = len.min(total - offset) as u64;
        // Refused only where it overlaps an atomic view (of any handle of the file), or a
        // resize shrank the mapping meanwhile: then an owned copy, if it can be allocated.
        self.as_slice(offset as u64, len).ok().or_else(|| {
            let mut copy = Vec::new();
            copy.try_reserve_exact(len as usize).ok()?;
            copy.resize(len as usize, 0);
            let n = self.read_upto(offset as u64, &mut copy).ok()?;
            (n == copy.len()).then(|| MappedSlice::owned(copy.into_boxed_slice()))
        })
    }

    /// Base address of the mapping.
    ///
    /// # Safety
    ///
    /// Calling this is safe in itself; it is `unsafe` because the pointer is only valid
    /// until the mapping is resized or the last handle is dropped, and reading through it
    /// races with writers unless the caller synchronizes. Never write through it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 8)?;
    /// mmap.update_region(0, &[42])?;
    /// // SAFETY: the mapping is alive, not resized, and nothing writes concurrently.
    /// let first = unsafe { *mmap.as_ptr() };
    /// assert_eq!(first, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn as_ptr(&self) -> *const u8 {
        match &self.inner.map {
            Map::ReadOnly(map) => map.as_ptr(),
            Map::Writable(lock) => lock.write_base(),
        }
    }

    /// Writable base address of the mapping.
    ///
    /// Writes through the pointer are flushed by [`flush`](Self::flush) like any other. The
    /// crate cannot see them, so each call counts the whole mapping toward
    /// [`pending_bytes`](Self::pending_bytes) (and `EveryMillis` writes it back).
    ///
    /// # Safety
    ///
    /// As for [`as_ptr`](Self::as_ptr); in addition, the caller must not write while any
    /// slice, view or guard of the mapping is alive, nor past [`len`](Self::len).
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) on read-only mappings.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 8)?;
    /// // SAFETY: nothing else uses the mapping while we write its first byte.
    /// unsafe { mmap.as_mut_ptr()?.write(7) };
    /// assert_eq!(mmap.as_slice(0, 1)?, &[7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn as_mut_ptr(&self) -> Result<*mut u8> {
        match &self.inner.map {
            Map::ReadOnly(_) => Err(self.read_only()),
            Map::Writable(lock) => {
                // Writes through the pointer cannot be seen: count the whole mapping.
                if self.inner.mode == MmapMode::ReadWrite {
                    self.inner.flush.record_shared(self.len() as usize);
                }
                // The pointer comes from the mapping itself, not from a borrow of its bytes.
                Ok(lock.write_base())
            }
        }
    }
}
