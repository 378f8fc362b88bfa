//! Access-pattern hints for the kernel: [`MmapAdvice`] and
//! [`MemoryMappedFile::advise`].

use crate::errors::{invalid_mode, MmapIoError, Result};
use crate::mmap::{MemoryMappedFile, MmapMode};
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
    /// no-op. [`MmapAdvice::DontNeed`] is refused on copy-on-write mappings, where it would
    /// silently throw away this process's private modifications.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`] if the range is past the end;
    /// [`MmapIoError::InvalidMode`] for `DontNeed` on a copy-on-write mapping;
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
        if advice == MmapAdvice::DontNeed && self.mode() == MmapMode::CopyOnWrite {
            return Err(invalid_mode(
                "DontNeed would discard the private pages of a copy-on-write mapping",
            ));
        }
        self.range_op(Some((offset, len)), |base, start, len| {
            // SAFETY: `range_op` passes a range of the live mapping at `base`. The one
            // destructive hint, DontNeed, was refused above for private mappings; on shared
            // and read-only mappings the pages are read back from the file unchanged.
            unsafe { crate::os::advise(base, start, len, Advice::from(advice)) }
        })
        .map_err(|e| e.into_error(|e| MmapIoError::AdviceFailed(e.to_string())))
    }
}
