//! Access-pattern hints for the kernel: [`MmapAdvice`], [`MemoryMappedFile::advise`], and
//! `advise` / `advise_range` on the [raw maps](crate::raw).

use crate::errors::{MmapIoError, Result};
use crate::mmap::MemoryMappedFile;
use crate::os::Advice;
use crate::raw::{self, Backing, RawMmap, RawMmapMut};
use std::io;

/// How a range of a mapping is going to be used (`madvise`).
///
/// # Examples
///
/// ```
/// use mmap_io::{create_mmap, MmapAdvice};
///
/// let dir = tempfile::tempdir()?;
/// let mmap = create_mmap(dir.path().join("d.bin"), 1 << 20)?;
/// mmap.advise(0, 1 << 20, MmapAdvice::Sequential)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MmapAdvice {
    /// No particular pattern (the default).
    Normal,
    /// Random access: read-ahead is pointless.
    Random,
    /// Sequential access: read ahead aggressively, drop pages once read.
    Sequential,
    /// The range will be needed soon: start reading it in.
    WillNeed,
    /// The range will not be needed soon: its pages may be dropped from this process. They
    /// are read back from the file (or the page cache) on the next access; written bytes of
    /// a read-write mapping are kept.
    DontNeed,
}

impl From<MmapAdvice> for Advice {
    fn from(advice: MmapAdvice) -> Self {
        match advice {
            MmapAdvice::Normal => Advice::Normal,
            MmapAdvice::Random => Advice::Random,
            MmapAdvice::Sequential => Advice::Sequential,
            MmapAdvice::WillNeed => Advice::WillNeed,
            MmapAdvice::DontNeed => Advice::DontNeed,
        }
    }
}

impl MemoryMappedFile {
    /// Tells the kernel how `len` bytes at `offset` will be used.
    ///
    /// Any offset works: the range is widened to page boundaries. A zero-length range is a
    /// no-op. [`MmapAdvice::DontNeed`] on a writable copy-on-write mapping throws away the
    /// private modifications of every page the range touches (their bytes read the file
    /// again); it waits for the views of the mapping like a write, and refuses pages under a
    /// live atomic view. (Windows has no such call: there every hint but `WillNeed` is a
    /// no-op.)
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`] if the range is past the end;
    /// [`MmapIoError::InvalidMode`] for `DontNeed` on a writable copy-on-write mapping if the
    /// pages of the range hold a live atomic view, or this thread holds a view of the
    /// mapping;
    /// [`MmapIoError::AdviceFailed`] if the kernel refuses the hint.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::{create_mmap, MmapAdvice};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mmap = create_mmap(dir.path().join("d.bin"), 1 << 20)?;
    /// mmap.advise(100, 5000, MmapAdvice::WillNeed)?; // need not be page-aligned
    /// mmap.advise(0, 1 << 20, MmapAdvice::Random)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn advise(&self, offset: u64, len: u64, advice: MmapAdvice) -> Result<()> {
        if advice == MmapAdvice::DontNeed && self.is_private_writable() {
            return self.discard_private(offset, len);
        }
        self.range_op(Some((offset, len)), |base, start, len| {
            // SAFETY: `range_op` passes a range of the live mapping at `base`. The one
            // destructive hint, DontNeed, went to `discard_private` for writable private
            // mappings; on shared and read-only mappings the pages are read back from the
            // file unchanged.
            unsafe { crate::os::advise(base, start, len, Advice::from(advice)) }
        })
        .map_err(|e| e.into_error(|e| MmapIoError::AdviceFailed(e.to_string())))
    }

    /// `DontNeed` on a writable copy-on-write mapping: throws the private copies of the pages
    /// the range touches away (the pages read the file again), under the write guard, so no
    /// view of those bytes is alive while they change. The check for atomic views covers the
    /// whole pages, since all their bytes change.
    fn discard_private(&self, offset: u64, len: u64) -> Result<()> {
        let lock = self.writable()?;
        if len == 0 {
            return Ok(());
        }
        let page = crate::os::page_size();
        let (first, last) = crate::guarded::span(offset, len);
        // Whole pages by address: a window's offsets are `skip` bytes past its pages' starts
        // (the bytes before the window in its first page are in no view).
        let skip = (lock.window() % page as u64) as usize;
        let (start, end) = (
            ((first.saturating_add(skip)) / page * page).saturating_sub(skip),
            last.saturating_add(skip)
                .div_ceil(page)
                .saturating_mul(page)
                .saturating_sub(skip),
        );
        let guard = lock
            .write(start, end)
            .map_err(|c| crate::guarded::refused(lock, c, offset, len))?;
        crate::range::checked(offset, len, guard.len())?;
        let end = end.min(guard.len());
        // SAFETY: `start..end` is in bounds of the mapping the write guard holds exclusively,
        // with no view or atomic view of it alive; the bytes change, as for a write.
        unsafe { crate::os::advise(guard.base(), start, end - start, Advice::DontNeed) }
            .map_err(|e| MmapIoError::AdviceFailed(e.to_string()))
    }
}

impl RawMmap {
    /// Tells the kernel how the whole window will be used (`madvise`); see
    /// [`advise_range`](Self::advise_range).
    ///
    /// # Errors
    ///
    /// As for [`advise_range`](Self::advise_range).
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MmapAdvice;
    ///
    /// let map = mmap_io::raw::RawMmapMut::map_anon(8192)?.make_read_only()?;
    /// map.advise(MmapAdvice::Sequential)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn advise(&self, advice: MmapAdvice) -> io::Result<()> {
        advise_raw(self, self.backing, advice, 0, self.len())
    }

    /// Tells the kernel how `len` bytes at `offset` will be used (`madvise`). Any offset
    /// works: the range is widened to whole pages. An empty range is a no-op.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if the range is not within the window (checked
    /// without overflow), or for [`MmapAdvice::DontNeed`] on a copy-on-write or anonymous
    /// map, where it would throw written bytes away; the OS error if the kernel refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MmapAdvice;
    ///
    /// let map = mmap_io::raw::RawMmapMut::map_anon(8192)?.make_read_only()?;
    /// map.advise_range(MmapAdvice::WillNeed, 100, 5000)?;
    /// assert!(map.advise_range(MmapAdvice::DontNeed, 0, 8192).is_err()); // anonymous
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn advise_range(&self, advice: MmapAdvice, offset: usize, len: usize) -> io::Result<()> {
        advise_raw(self, self.backing, advice, offset, len)
    }
}

impl RawMmapMut {
    /// Tells the kernel how the whole map will be used (`madvise`); see
    /// [`advise_range`](Self::advise_range).
    ///
    /// # Errors
    ///
    /// As for [`advise_range`](Self::advise_range).
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MmapAdvice;
    ///
    /// mmap_io::raw::RawMmapMut::map_anon(8192)?.advise(MmapAdvice::Random)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn advise(&self, advice: MmapAdvice) -> io::Result<()> {
        advise_raw(self, self.backing, advice, 0, self.len())
    }

    /// Tells the kernel how `len` bytes at `offset` will be used (`madvise`). Any offset
    /// works: the range is widened to whole pages. An empty range is a no-op.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if the range is not within the map (checked without
    /// overflow), or for [`MmapAdvice::DontNeed`] on a copy-on-write or anonymous map, where
    /// it would throw written bytes away; the OS error if the kernel refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MmapAdvice;
    ///
    /// let map = mmap_io::raw::RawMmapMut::map_anon(8192)?;
    /// map.advise_range(MmapAdvice::WillNeed, 4095, 2)?;
    /// assert!(map.advise_range(MmapAdvice::DontNeed, 0, 8192).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn advise_range(&self, advice: MmapAdvice, offset: usize, len: usize) -> io::Result<()> {
        advise_raw(self, self.backing, advice, offset, len)
    }
}

/// Checks `offset..offset + len` of `bytes`, a whole raw map, and whether `advice` is safe
/// for its `backing`, then gives the advice for the pages covering the range.
fn advise_raw(
    bytes: &[u8],
    backing: Backing,
    advice: MmapAdvice,
    offset: usize,
    len: usize,
) -> io::Result<()> {
    raw::check_range(offset, len, bytes.len())?;
    if advice == MmapAdvice::DontNeed && backing != Backing::SharedFile {
        return Err(raw::invalid_input(
            "DontNeed would discard the written pages of a copy-on-write or anonymous map"
                .to_owned(),
        ));
    }
    if len == 0 {
        return Ok(());
    }
    // SAFETY: the range was checked to lie within `bytes`, which borrows a live map. The
    // facade widens it to whole pages, which stay within the OS mapping: it starts at the
    // page below the first byte and ends on a page boundary. The one destructive hint,
    // DontNeed, reaches only a shared file mapping here, whose pages are the file's page
    // cache: dropping them loses nothing, and the next access reads the same bytes back.
    unsafe { crate::os::advise(bytes.as_ptr(), offset, len, Advice::from(advice)) }
}
