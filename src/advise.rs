//! Access-pattern hints for the kernel: [`MmapAdvice`] and
//! [`MemoryMappedFile::advise`].

use crate::errors::{MmapIoError, Result};
use crate::mmap::MemoryMappedFile;
use crate::os::Advice;

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
    /// range's private modifications (its bytes read the file again); it waits for the views
    /// of the mapping like a write, and refuses a range under a live atomic view.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`] if the range is past the end;
    /// [`MmapIoError::InvalidMode`] for `DontNeed` on a writable copy-on-write mapping if the
    /// range overlaps a live atomic view or this thread holds a view of the mapping;
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

    /// `DontNeed` on a writable copy-on-write mapping: throws the range's private copies
    /// away (the pages read the file again), under the write guard, so no view of those
    /// bytes is alive while they change.
    fn discard_private(&self, offset: u64, len: u64) -> Result<()> {
        let lock = self.writable()?;
        if len == 0 {
            return Ok(());
        }
        let (guard, r) = lock.write_range(offset, len)?;
        // SAFETY: `r` is in bounds of the mapping the write guard holds exclusively, with no
        // view or atomic view of it alive; the bytes change, as for a write.
        unsafe { crate::os::advise(guard.base(), r.start, r.len(), Advice::DontNeed) }
            .map_err(|e| MmapIoError::AdviceFailed(e.to_string()))
    }
}
