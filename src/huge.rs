//! Best-effort transparent huge pages: [`MemoryMappedFileBuilder::huge_pages`] and
//! [`MemoryMappedFile::is_hugepage_backed`].

use crate::errors::Result;
use crate::mmap::{MemoryMappedFile, MemoryMappedFileBuilder};
use crate::AnonymousMmap;

impl MemoryMappedFileBuilder {
    /// Asks the kernel to back the mapping with huge pages where it can
    /// (`MADV_HUGEPAGE`; default: off).
    ///
    /// Best effort: whether huge pages are used depends on the kernel's transparent huge
    /// page settings, the file system and the mapping's alignment, and the mapping works
    /// the same either way. Nothing is pre-faulted, so a sparse file stays sparse. The
    /// mapping's `Debug` output reports it for read-write mappings only, as mmap-io 1.1's
    /// does.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::builder(dir.path().join("hp.bin"))
    ///     .size(4 << 20)
    ///     .huge_pages(true)
    ///     .create()?;
    /// mmap.update_region(0, b"works either way")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn huge_pages(self, enable: bool) -> Self {
        self.set_huge_pages(enable)
    }
}

impl MemoryMappedFile {
    /// Whether any part of the mapping is currently backed by huge pages, as the kernel
    /// reports it in `/proc/self/smaps`; `None` where that cannot be known (other
    /// platforms, or no `/proc`).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 4096)?;
    /// if let Some(huge) = mmap.is_hugepage_backed() {
    ///     println!("huge pages in use: {huge}");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_hugepage_backed(&self) -> Option<bool> {
        self.with_range(None, |base, r, _| {
            crate::os::huge_page_backed(base, r.len())
        })
        .ok()
        .flatten()
    }

    /// Gives `MADV_HUGEPAGE` for the whole mapping; refusals are ignored (best effort).
    pub(crate) fn advise_huge_pages(&self) {
        let _ = self.range_op(None, |base, start, len| {
            // SAFETY: `range_op` passes a range of the live mapping at `base`; the hint does
            // not change what the pages hold.
            unsafe { crate::os::advise(base, start, len, crate::os::Advice::HugePage) }
        });
    }
}

impl AnonymousMmap {
    /// Maps `size` zero bytes backed by huge pages where the kernel has them.
    ///
    /// Tries `MAP_HUGETLB` first (pages from the kernel's huge page pool; only when `size`
    /// is a multiple of the huge page size, since such a mapping is unmapped in whole huge
    /// pages), and falls back to an ordinary mapping with the `MADV_HUGEPAGE` hint when the
    /// kernel refuses (no pool configured, pool exhausted, another platform). The fallback
    /// never fails the call; [`is_hugepage_backed`](Self::is_hugepage_backed) tells which
    /// one was made.
    ///
    /// # Errors
    ///
    /// As for [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// let buffer = mmap_io::AnonymousMmap::with_huge_pages(4 << 20)?;
    /// buffer.update_region(0, b"works either way")?;
    /// assert_eq!(buffer.len(), 4 << 20);
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn with_huge_pages(size: u64) -> Result<Self> {
        let len = crate::range::mapping_len(size)?;
        if crate::os::huge_page_size().is_some_and(|huge| len % huge == 0) {
            if let Ok(map) = memmap2::MmapOptions::new().len(len).huge(None).map_anon() {
                return Ok(Self::from_map(map));
            }
        }
        let mmap = Self::new(size)?;
        let (guard, _) = mmap.lock().read_copy(0, 0)?;
        // SAFETY: the whole live mapping, held in place by `guard`; the hint does not change
        // what the pages hold. Refusals are ignored: the hint is best effort.
        let _ =
            unsafe { crate::os::advise(guard.base(), 0, guard.len(), crate::os::Advice::HugePage) };
        drop(guard);
        Ok(mmap)
    }
}
