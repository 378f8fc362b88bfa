//! Faulting pages in ahead of use, and system calls over a range of the mapping.

use super::{Map, MemoryMappedFile};
use crate::errors::{MmapIoError, Result};
use crate::range;
use std::io;
use std::ops::Range;
use std::sync::atomic::Ordering::Relaxed;

impl MemoryMappedFile {
    /// Faults in every page of the mapping for reading, so that later reads take no page
    /// fault. Nothing is dirtied.
    ///
    /// It picks the faster way for the mapping at hand: on Linux 6.7+ it faults the first page
    /// in and asks the kernel (`PAGEMAP_SCAN`) whether it mapped it with a 2 MiB entry; if so
    /// (a file cached in large folios), one `MADV_POPULATE_READ` call maps the rest, else
    /// it reads one byte per page. (`cargo bench --all-features --bench compare --
    /// touch_pages` compares it with both, and `MAP_POPULATE`, on both file layouts.)
    ///
    /// # Errors
    ///
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) of kind
    /// [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof) if the file was cut under the
    /// mapping (by another process, or a handle that bypasses the crate) where a page lies
    /// past its new end, or the I/O error if the disk failed to read one (see
    /// [`MmapIoError`](crate::MmapIoError) on which platforms this is caught).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 1 << 20)?;
    /// mmap.touch_pages()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn touch_pages(&self) -> Result<()> {
        self.touch(None)
    }

    /// Faults in the pages covering `len` bytes at `offset`.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the end;
    /// as [`touch_pages`](Self::touch_pages) for a page past the file's end.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 1 << 20)?;
    /// mmap.touch_pages_range(0, 64 * 1024)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn touch_pages_range(&self, offset: u64, len: u64) -> Result<()> {
        self.touch(Some((offset, len)))
    }

    /// Faults in the pages of `range` (the whole mapping for `None`): pages below the
    /// populated watermark by reading them, the rest by asking the kernel to populate them.
    fn touch(&self, range: Option<(u64, u64)>) -> Result<()> {
        self.with_range(range, |base, r, atomics| {
            let mark = self.inner.populated.load(Relaxed);
            // Bytes under an atomic view are left to the kernel where it can populate them;
            // where it cannot, the byte loads below are the guarded routine's, single loads
            // in assembly (no plain Rust read races the view's stores).
            let split = if atomics {
                r.start
            } else {
                r.end.min(mark).max(r.start)
            };
            // Reads one byte per page of `from..to`; a page past the file's end is an error.
            let touch = |from: usize, to: usize| {
                // SAFETY: `with_range` passes a range of the live mapping at `base` that no
                // writer touches; `from..to` lies in it.
                unsafe { crate::fault::touch_pages(base.add(from), to - from) }
                    .map_err(|f| f.into_error(from as u64))
            };
            touch(r.start, split)?;
            // Populating maps a file cached in 2 MiB folios several times faster than
            // reading a byte per page, and one cached in small folios several times
            // slower: fault the first page in, and ask how the kernel mapped it.
            let huge = atomics || split == r.end || {
                touch(split, split + 1)?;
                // SAFETY: `split` lies in the live mapping (`split < r.end`).
                crate::os::maps_huge(unsafe { base.add(split) }) != Some(false)
            };
            // SAFETY: as for `touch`; populating does not change what the pages hold.
            let populated =
                huge && unsafe { crate::os::populate_read(base.add(split), r.end - split) };
            if !populated {
                touch(split, r.end)?;
            }
            if r.start <= mark {
                self.inner.populated.fetch_max(r.end, Relaxed);
            }
            Ok(())
        })?
    }

    /// Asks the kernel to start reading the pages covering `len` bytes at `offset` in the
    /// background (`MADV_WILLNEED`); returns without waiting for them.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the end; [`MmapIoError::Io`](crate::MmapIoError::Io) if the
    /// kernel refuses the hint.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 1 << 20)?;
    /// mmap.prefetch_range(4096, 8192)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prefetch_range(&self, offset: u64, len: u64) -> Result<()> {
        self.range_op(Some((offset, len)), |base, start, len| {
            // SAFETY: `range_op` passes a range of the live mapping at `base`, and WillNeed
            // never changes what the pages hold.
            unsafe { crate::os::advise(base, start, len, crate::os::Advice::WillNeed) }
        })
        .map_err(|e| e.into_error(MmapIoError::Io))
    }

    /// Runs the system call `op` on the pages of `range` (the whole mapping for `None`),
    /// with the mapping held in place during the call. `op` gets the mapping's base address
    /// and the range's start and length; empty ranges skip it.
    pub(crate) fn range_op(
        &self,
        range: Option<(u64, u64)>,
        op: impl FnOnce(*const u8, usize, usize) -> io::Result<()>,
    ) -> std::result::Result<(), RangeOpError> {
        self.with_range(range, |base, r, _| {
            if r.is_empty() {
                return Ok(());
            }
            op(base, r.start, r.len()).map_err(RangeOpError::Os)
        })
        .map_err(RangeOpError::Range)?
    }

    /// Runs `f` with the mapping's base address and the checked `range` (the whole mapping
    /// for `None`), holding the mapping in place (no writer, no resize) but borrowing none of
    /// its bytes. `f` is told whether atomic views may cover some of them.
    pub(crate) fn with_range<R>(
        &self,
        range: Option<(u64, u64)>,
        f: impl FnOnce(*const u8, Range<usize>, bool) -> R,
    ) -> Result<R> {
        let (offset, len) = range.unwrap_or((0, u64::MAX));
        match &self.inner.map {
            Map::ReadOnly(map) => {
                let r = match range {
                    Some(_) => range::checked(offset, len, map.len())?,
                    None => 0..map.len(),
                };
                // Other handles of the file may write these bytes: published as a copy.
                let (start, end) = range::in_file(self.inner.window, r.start, r.end);
                let (_copy, atomics) = self.inner.lock.copy(self.inner.id, start, end)?;
                Ok(f(map.as_ptr(), r, !atomics.is_empty()))
            }
            Map::Writable(lock) => {
                let (start, end) = crate::guarded::span(offset, len);
                let (guard, atomics) = lock.read_copy(start, end)?;
                let r = match range {
                    Some(_) => range::checked(offset, len, guard.len())?,
                    None => 0..guard.len(),
                };
                Ok(f(guard.base(), r, !atomics.is_empty()))
            }
        }
    }
}

/// Why a range operation failed: a bad range, or the kernel's refusal.
pub(crate) enum RangeOpError {
    Range(MmapIoError),
    Os(io::Error),
}

impl RangeOpError {
    /// The range error as is, or the kernel's error wrapped by `wrap`.
    pub(crate) fn into_error(self, wrap: impl FnOnce(io::Error) -> MmapIoError) -> MmapIoError {
        match self {
            RangeOpError::Range(e) => e,
            RangeOpError::Os(e) => wrap(e),
        }
    }
}
