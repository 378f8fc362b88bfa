//! [`AnonymousMmap`]: zero-filled memory with no file behind it.

use crate::errors::Result;
use crate::range;
use crate::slice::{MappedSlice, MappedSliceMut};
use crate::sync::MapLock;
use std::fmt;

/// Zero-filled, process-private memory from an anonymous mapping.
///
/// Useful for large scratch buffers shared between threads. Accesses are guarded like those
/// of a read-write [`MemoryMappedFile`](crate::MemoryMappedFile): readers share a lock,
/// writers hold it exclusively.
///
/// # Examples
///
/// ```
/// use mmap_io::AnonymousMmap;
///
/// let scratch = AnonymousMmap::new(1 << 20)?;
/// scratch.update_region(4096, b"scratch")?;
/// assert_eq!(scratch.as_slice(4096, 7)?, b"scratch");
/// # Ok::<(), mmap_io::MmapIoError>(())
/// ```
pub struct AnonymousMmap {
    map: MapLock,
    len: usize,
}

impl AnonymousMmap {
    /// Maps `size` zero bytes.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) if `size` is 0 or does not fit in memory;
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) if the kernel refuses the mapping.
    ///
    /// # Examples
    ///
    /// ```
    /// let scratch = mmap_io::AnonymousMmap::new(4096)?;
    /// assert_eq!(scratch.len(), 4096);
    /// assert!(mmap_io::AnonymousMmap::new(0).is_err());
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn new(size: u64) -> Result<Self> {
        let len = range::mapping_len(size)?;
        let map = memmap2::MmapOptions::new().len(len).map_anon()?;
        Ok(Self::from_map(map))
    }

    /// Guards a fresh anonymous mapping.
    pub(crate) fn from_map(map: memmap2::MmapMut) -> Self {
        let len = map.len();
        Self {
            map: MapLock::new(
                crate::os::Region::Writable(map),
                std::sync::Arc::new(crate::sync::FileLock::new()),
                0,
                0,
            ),
            len,
        }
    }

    /// Length in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(mmap_io::AnonymousMmap::new(100)?.len(), 100);
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn len(&self) -> u64 {
        self.len as u64
    }

    /// Whether the mapping is empty (never: the size is at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!mmap_io::AnonymousMmap::new(1)?.is_empty());
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// let scratch = mmap_io::AnonymousMmap::new(64)?;
    /// let mut buf = [1u8; 4];
    /// scratch.read_into(0, &mut buf)?;
    /// assert_eq!(buf, [0; 4]);
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn read_into(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.map.copy_out(offset, buf)
    }

    /// Copies `data` in at `offset`.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the end (nothing is written).
    ///
    /// # Examples
    ///
    /// ```
    /// let scratch = mmap_io::AnonymousMmap::new(64)?;
    /// scratch.update_region(60, b"end!")?;
    /// assert!(scratch.update_region(61, b"end!").is_err());
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn update_region(&self, offset: u64, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.map.copy_in(offset, data)
    }

    /// Zero-copy view of `len` bytes at `offset`; writers wait for it while it lives.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// let scratch = mmap_io::AnonymousMmap::new(64)?;
    /// assert_eq!(scratch.as_slice(0, 2)?, &[0, 0]);
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn as_slice(&self, offset: u64, len: u64) -> Result<MappedSlice<'_>> {
        self.map.slice(offset, len)
    }

    /// Exclusive, writable view of `len` bytes at `offset`; holds the write lock while it
    /// lives.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// let scratch = mmap_io::AnonymousMmap::new(64)?;
    /// scratch.as_mut_slice(0, 3)?.copy_from_slice(b"abc");
    /// assert_eq!(scratch.as_slice(0, 3)?, b"abc");
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn as_mut_slice(&self, offset: u64, len: u64) -> Result<MappedSliceMut<'_>> {
        self.map.slice_mut(offset, len)
    }

    /// Like [`as_slice`](Self::as_slice), but `Ok(None)` where it would wait for a writer
    /// (or for a [`MappedSliceMut`] this thread holds).
    ///
    /// # Errors
    ///
    /// As for [`as_slice`](Self::as_slice).
    ///
    /// # Examples
    ///
    /// ```
    /// let scratch = mmap_io::AnonymousMmap::new(64)?;
    /// let writer = scratch.as_mut_slice(0, 8)?;
    /// assert!(scratch.try_as_slice(0, 8)?.is_none()); // the writer holds it
    /// drop(writer);
    /// assert!(scratch.try_as_slice(0, 8)?.is_some());
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn try_as_slice(&self, offset: u64, len: u64) -> Result<Option<MappedSlice<'_>>> {
        self.map.try_slice(offset, len)
    }

    /// Like [`as_mut_slice`](Self::as_mut_slice), but `Ok(None)` where it would wait for a
    /// view or a writer (including views this thread holds).
    ///
    /// # Errors
    ///
    /// As for [`as_mut_slice`](Self::as_mut_slice).
    ///
    /// # Examples
    ///
    /// ```
    /// let scratch = mmap_io::AnonymousMmap::new(64)?;
    /// if let Some(mut view) = scratch.try_as_mut_slice(0, 2)? {
    ///     view.copy_from_slice(b"ok");
    /// }
    /// assert_eq!(scratch.as_slice(0, 2)?, b"ok");
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn try_as_mut_slice(&self, offset: u64, len: u64) -> Result<Option<MappedSliceMut<'_>>> {
        Ok(self
            .map
            .try_write_range(offset, len)?
            .map(|(guard, r)| MappedSliceMut::guarded(guard, r)))
    }

    /// Like [`update_region`](Self::update_region), but `Ok(false)`, with nothing written,
    /// where it would wait for a view or a writer (including views this thread holds).
    ///
    /// # Errors
    ///
    /// As for [`update_region`](Self::update_region).
    ///
    /// # Examples
    ///
    /// ```
    /// let scratch = mmap_io::AnonymousMmap::new(64)?;
    /// assert!(scratch.try_update_region(0, b"now")?);
    /// let view = scratch.as_slice(0, 3)?;
    /// assert!(!scratch.try_update_region(0, b"later")?);
    /// assert_eq!(view, b"now");
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn try_update_region(&self, offset: u64, data: &[u8]) -> Result<bool> {
        if data.is_empty() {
            return Ok(true);
        }
        self.map.try_copy_in(offset, data)
    }

    /// Whether any part of the mapping is backed by huge pages (transparent huge pages in
    /// use, or `MAP_HUGETLB` pages from `with_huge_pages`), as the
    /// kernel reports it in `/proc/self/smaps`; `None` where that cannot be known.
    ///
    /// # Examples
    ///
    /// ```
    /// let scratch = mmap_io::AnonymousMmap::new(1 << 20)?;
    /// if let Some(huge) = scratch.is_hugepage_backed() {
    ///     println!("huge pages: {huge}");
    /// }
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn is_hugepage_backed(&self) -> Option<bool> {
        let (guard, _) = self.map.read_copy(0, 0).ok()?;
        crate::os::huge_page_backed(guard.base(), guard.len())
    }

    /// Base address of the mapping.
    ///
    /// # Safety
    ///
    /// The pointer is valid for [`len`](Self::len) bytes until `self` is dropped; reading
    /// through it races with writers unless the caller synchronizes.
    ///
    /// # Examples
    ///
    /// ```
    /// let scratch = mmap_io::AnonymousMmap::new(64)?;
    /// scratch.update_region(0, &[9])?;
    /// // SAFETY: in bounds, and nothing writes concurrently.
    /// assert_eq!(unsafe { *scratch.as_ptr() }, 9);
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub unsafe fn as_ptr(&self) -> *const u8 {
        self.map.write_base()
    }

    /// Writable base address of the mapping.
    ///
    /// # Safety
    ///
    /// As for [`as_ptr`](Self::as_ptr); in addition the caller must not write while any
    /// slice or guard of the mapping is alive, nor past [`len`](Self::len).
    ///
    /// # Examples
    ///
    /// ```
    /// let scratch = mmap_io::AnonymousMmap::new(64)?;
    /// // SAFETY: in bounds, and no slice or guard of the mapping is alive.
    /// unsafe { scratch.as_mut_ptr().add(3).write(5) };
    /// assert_eq!(scratch.as_slice(3, 1)?, &[5]);
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub unsafe fn as_mut_ptr(&self) -> *mut u8 {
        // The pointer comes from the mapping itself, not from a borrow of its bytes.
        self.map.write_base()
    }
}

impl AnonymousMmap {
    /// Where the mapping starts in its "file": an anonymous map has none.
    #[cfg_attr(not(feature = "pod"), allow(dead_code))]
    pub(crate) fn window_start(&self) -> u64 {
        0
    }

    /// The guarded mapping.
    #[cfg_attr(not(any(feature = "atomic", feature = "hugepages")), allow(dead_code))]
    pub(crate) fn lock(&self) -> &MapLock {
        &self.map
    }
}

// As for `MemoryMappedFile`: a panic leaves nothing of the crate's half done.
impl std::panic::UnwindSafe for AnonymousMmap {}
impl std::panic::RefUnwindSafe for AnonymousMmap {}

impl fmt::Debug for AnonymousMmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnonymousMmap")
            .field("len", &self.len)
            .finish()
    }
}
