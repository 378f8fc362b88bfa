//! [`RawMmapOptions`]: the window to map, checked against the file before memmap2 maps it.

use super::{invalid_input, Backing, RawMmap, RawMmapMut};
use std::fs::File;
use std::io;

/// How to map: the window, and `MAP_POPULATE` / `MAP_HUGETLB` (memmap2's `MmapOptions`).
///
/// # Examples
///
/// ```
/// use mmap_io::raw::RawMmapOptions;
///
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("d.bin");
/// std::fs::write(&path, b"hello world")?;
/// let file = std::fs::File::open(&path)?;
/// // SAFETY: nothing else truncates or writes the file while it is mapped.
/// let map = unsafe { RawMmapOptions::new().offset(6).len(5).map(&file)? };
/// assert_eq!(&map[..], b"world");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct RawMmapOptions {
    offset: u64,
    len: Option<usize>,
    populate: bool,
    huge: bool,
}

impl RawMmapOptions {
    /// Options for a window of the whole file, without populate or huge pages.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = mmap_io::raw::RawMmapOptions::new().map_anon()?;
    /// assert!(map.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self {
            offset: 0,
            len: None,
            populate: false,
            huge: false,
        }
    }

    /// Starts the window `offset` bytes into the file (default 0). Any offset works; it is
    /// ignored by [`map_anon`](Self::map_anon).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// std::fs::write(&path, b"hello world")?;
    /// let file = std::fs::File::open(&path)?;
    /// // SAFETY: nothing else truncates or writes the file while it is mapped.
    /// let map = unsafe { mmap_io::raw::RawMmapOptions::new().offset(4).map(&file)? };
    /// assert_eq!(&map[..], b"o world");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn offset(&mut self, offset: u64) -> &mut Self {
        self.offset = offset;
        self
    }

    /// Sets the window's length (default: from the offset to the end of the file; 0 for
    /// [`map_anon`](Self::map_anon)).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = mmap_io::raw::RawMmapOptions::new().len(100).map_anon()?;
    /// assert_eq!(map.len(), 100);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&mut self, len: usize) -> &mut Self {
        self.len = Some(len);
        self
    }

    /// Pre-faults the pages when mapping (`MAP_POPULATE` on Linux; no effect elsewhere).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = mmap_io::raw::RawMmapOptions::new().len(8192).populate().map_anon()?;
    /// assert_eq!(map.len(), 8192);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn populate(&mut self) -> &mut Self {
        self.populate = true;
        self
    }

    /// Backs an anonymous map with huge pages of the default size (`MAP_HUGETLB` on Linux;
    /// no effect on file maps or elsewhere). There is no fallback: if the kernel has no
    /// huge pages to give, [`map_anon`](Self::map_anon) fails with its error.
    ///
    /// # Examples
    ///
    /// ```
    /// match mmap_io::raw::RawMmapOptions::new().len(2 << 20).huge().map_anon() {
    ///     Ok(map) => assert_eq!(map.len(), 2 << 20),
    ///     Err(e) => println!("no huge pages here: {e}"),
    /// }
    /// ```
    pub fn huge(&mut self) -> &mut Self {
        self.huge = true;
        self
    }

    /// Maps the window of `file` read-only.
    ///
    /// # Safety
    ///
    /// See the [module docs](crate::raw#safety).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if the window reaches past the end of the file or
    /// does not fit in the address space (checked without overflow); the OS error if `file`
    /// cannot be mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::raw::RawMmapOptions;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// std::fs::write(&path, b"hello")?;
    /// let file = std::fs::File::open(&path)?;
    /// // SAFETY: nothing else truncates or writes the file while it is mapped.
    /// let map = unsafe { RawMmapOptions::new().len(4).map(&file)? };
    /// assert_eq!(&map[..], b"hell");
    /// assert!(unsafe { RawMmapOptions::new().len(6).map(&file) }.is_err()); // past the end
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map(&self, file: &File) -> io::Result<RawMmap> {
        Ok(RawMmap {
            // SAFETY: the caller keeps the module's contract.
            map: unsafe { self.map_window(file, memmap2::MmapOptions::map::<&File>) }?,
            backing: Backing::SharedFile,
        })
    }

    /// Maps the window of `file` read-write and shared: writes reach the file.
    ///
    /// # Safety
    ///
    /// See the [module docs](crate::raw#safety).
    ///
    /// # Errors
    ///
    /// As for [`map`](Self::map); the OS error also if `file` is not open for writing.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// std::fs::write(&path, b"hello")?;
    /// let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
    /// // SAFETY: nothing else truncates, reads or writes the file while it is mapped.
    /// let mut map = unsafe { mmap_io::raw::RawMmapOptions::new().offset(4).map_mut(&file)? };
    /// map[0] = b'!';
    /// map.flush()?;
    /// assert_eq!(std::fs::read(&path)?, b"hell!");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map_mut(&self, file: &File) -> io::Result<RawMmapMut> {
        Ok(RawMmapMut {
            // SAFETY: the caller keeps the module's contract.
            map: unsafe { self.map_window(file, memmap2::MmapOptions::map_mut::<&File>) }?,
            backing: Backing::SharedFile,
        })
    }

    /// Maps the window of `file` copy-on-write: writable, but writes stay private to this
    /// map and never reach the file.
    ///
    /// # Safety
    ///
    /// See the [module docs](crate::raw#safety).
    ///
    /// # Errors
    ///
    /// As for [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// std::fs::write(&path, b"hello")?;
    /// let file = std::fs::File::open(&path)?;
    /// // SAFETY: nothing else truncates or writes the file while it is mapped.
    /// let mut map = unsafe { mmap_io::raw::RawMmapOptions::new().map_copy(&file)? };
    /// map[0] = b'j';
    /// assert_eq!(&map[..], b"jello");
    /// assert_eq!(std::fs::read(&path)?, b"hello");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map_copy(&self, file: &File) -> io::Result<RawMmapMut> {
        Ok(RawMmapMut {
            // SAFETY: the caller keeps the module's contract.
            map: unsafe { self.map_window(file, memmap2::MmapOptions::map_copy::<&File>) }?,
            backing: Backing::PrivateCopy,
        })
    }

    /// Maps `len` zero bytes of anonymous memory, private to this process.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if the length does not fit in the address space, or
    /// with [`huge`](Self::huge), if it is not a multiple of the huge page size (the
    /// kernel would round the mapping up and then refuse to unmap it); the OS error if the
    /// kernel refuses the mapping.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = mmap_io::raw::RawMmapOptions::new().len(4096).map_anon()?;
    /// assert!(map.iter().all(|&b| b == 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_anon(&self) -> io::Result<RawMmapMut> {
        let len = self.len.unwrap_or(0);
        if let Some(page) = self.huge.then(crate::os::huge_page_size).flatten() {
            if len % page != 0 {
                return Err(invalid_input(format!(
                    "a huge-page map must be a multiple of {page} bytes, not {len}"
                )));
            }
        }
        let map = self
            .memmap2_options(0, len as u64)?
            .map(|options| options.map_anon())
            .transpose()?;
        Ok(RawMmapMut {
            map,
            backing: Backing::Anonymous,
        })
    }

    /// Checks the window against the length of `file`, then maps it with `map` (one of
    /// memmap2's file constructors) unless it is empty.
    ///
    /// # Safety
    ///
    /// See the [module docs](crate::raw#safety).
    unsafe fn map_window<'f, M>(
        &self,
        file: &'f File,
        map: unsafe fn(&memmap2::MmapOptions, &'f File) -> io::Result<M>,
    ) -> io::Result<Option<M>> {
        let Some(options) = self.file_window(file)? else {
            return Ok(None);
        };
        // SAFETY: the caller keeps the module's contract, and `file_window` checked that
        // the window lies within the file.
        unsafe { map(&options, file) }.map(Some)
    }

    /// Checks the window against the length of `file`; memmap2's options for it, or `None`
    /// for an empty window.
    fn file_window(&self, file: &File) -> io::Result<Option<memmap2::MmapOptions>> {
        let file_len = file.metadata()?.len();
        let len = match self.len {
            Some(len) => match self.offset.checked_add(len as u64) {
                Some(end) if end <= file_len => len as u64,
                _ => {
                    return Err(invalid_input(format!(
                        "a window of {len} bytes at offset {} is past the end of the \
                         {file_len}-byte file",
                        self.offset
                    )))
                }
            },
            None => file_len.checked_sub(self.offset).ok_or_else(|| {
                invalid_input(format!(
                    "offset {} is past the end of the {file_len}-byte file",
                    self.offset
                ))
            })?,
        };
        self.memmap2_options(self.offset, len)
    }

    /// memmap2's options for `len` bytes at `offset`, or `None` when `len` is 0.
    fn memmap2_options(&self, offset: u64, len: u64) -> io::Result<Option<memmap2::MmapOptions>> {
        if len == 0 {
            return Ok(None);
        }
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| isize::try_from(len).is_ok())
            .ok_or_else(|| {
                invalid_input(format!(
                    "a {len}-byte map does not fit in the address space"
                ))
            })?;
        let mut options = memmap2::MmapOptions::new();
        options.offset(offset).len(len);
        if self.populate {
            options.populate();
        }
        if self.huge {
            options.huge(None);
        }
        Ok(Some(options))
    }
}
