//! Best-effort transparent huge pages: [`MemoryMappedFileBuilder::huge_pages`] and
//! [`MemoryMappedFile::is_hugepage_backed`].

use crate::mmap::{MemoryMappedFile, MemoryMappedFileBuilder};

impl MemoryMappedFileBuilder {
    /// Asks the kernel to back the mapping with huge pages where it can
    /// (`MADV_HUGEPAGE`; default: off).
    ///
    /// Best effort: whether huge pages are used depends on the kernel's transparent huge
    /// page settings, the file system and the mapping's alignment, and the mapping works
    /// the same either way. Nothing is pre-faulted, so a sparse file stays sparse.
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
