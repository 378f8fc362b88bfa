//! The memmap2-shaped layer: [`RawMmap`], [`RawMmapMut`] and [`RawMmapOptions`].
//!
//! For code moving from `memmap2`: the same types, constructors and methods (`Mmap` is
//! [`RawMmap`], `MmapMut` is [`RawMmapMut`], `MmapOptions` is [`RawMmapOptions`]), thin
//! wrappers over memmap2 with this crate's checks in front. A raw map is a plain byte slice:
//! no lock, no view tracking, no flush policy; [`MemoryMappedFile`](crate::MemoryMappedFile)
//! is the guarded alternative.
//!
//! What the checks add to memmap2:
//! - every `(offset, len)`, of a window or of a range passed to a method, is checked with
//!   overflow-checked arithmetic before any pointer is formed or system call made; a bad one
//!   is [`io::ErrorKind::InvalidInput`];
//! - a window that reaches past the end of the file is refused up front, so no mapping is
//!   made whose tail would fault on access;
//! - a zero-length window makes no OS mapping at all and derefs to an empty slice;
//! - `advise(MmapAdvice::DontNeed)` (feature `advise`) is refused on copy-on-write and
//!   anonymous maps, where it would silently zero or revert written bytes;
//! - a huge-page anonymous map must be a whole number of huge pages, the only length the
//!   kernel can unmap again.
//!
//! Any offset works: the OS mapping starts at the offset rounded down to
//! [`offset_granularity()`] and the leading bytes are hidden. A map outlives the [`File`] it
//! was made from.
//!
//! # Safety
//!
//! Mapping a file hands out `&[u8]` (and, for [`RawMmapMut`], `&mut [u8]`) whose bytes live
//! in the file system's page cache, where others can change them. Every `unsafe`
//! constructor here has the same contract: while the map lives, the caller ensures that
//! - the file is not truncated below the end of the window (touching a page past the end of
//!   a file raises `SIGBUS`), and
//! - nothing else (another process, another map of the same file, a `write` to it) modifies
//!   the mapped bytes, and for a writable shared map, nothing else reads them while a
//!   `&mut [u8]` of the map is alive.
//!
//! Copy-on-write maps ([`RawMmapOptions::map_copy`]) see others' changes to the pages they
//! have not written yet, so the same contract holds for them.
//!
//! # Examples
//!
//! ```
//! use mmap_io::raw::{RawMmapMut, RawMmapOptions};
//! use std::fs::OpenOptions;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("data.bin");
//! let file = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path)?;
//! file.set_len(8192)?;
//!
//! // SAFETY: nothing else truncates or writes the file while it is mapped.
//! let mut map = unsafe { RawMmapMut::map_mut(&file)? };
//! map[4096..4101].copy_from_slice(b"hello");
//! map.flush()?;
//! drop(map);
//!
//! // SAFETY: as above. The window need not start on a page boundary.
//! let window = unsafe { RawMmapOptions::new().offset(4097).len(4).map(&file)? };
//! assert_eq!(&window[..], b"ello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod options;

pub use options::RawMmapOptions;

use std::fmt;
use std::fs::File;
use std::io;
use std::ops::{Deref, DerefMut};

/// The alignment the OS mapping of a window starts at: the page size on Unix, the
/// allocation granularity (64 KiB) on Windows.
///
/// A window at any offset can be mapped; this is how many bytes before it the OS mapping
/// may begin, which matters to code that budgets address space.
///
/// # Errors
///
/// [`io::ErrorKind::Unsupported`] on platforms without memory maps.
///
/// # Examples
///
/// ```
/// let granularity = mmap_io::raw::offset_granularity()?;
/// assert!(granularity.is_power_of_two());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn offset_granularity() -> io::Result<usize> {
    crate::os::offset_granularity()
}

/// What a map's pages belong to; kept across [`RawMmap::make_mut`] and
/// [`RawMmapMut::make_read_only`], because it decides whether `DontNeed` loses data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backing {
    /// `MAP_SHARED` pages of a file: the file's page cache itself.
    SharedFile,
    /// `MAP_PRIVATE` pages of a file: written pages are this process's own copies.
    PrivateCopy,
    /// Zero-filled memory with no file behind it.
    Anonymous,
}

/// A read-only memory map of a file window (memmap2's `Mmap`).
///
/// Derefs to `[u8]`. Made by [`RawMmap::map`] or [`RawMmapOptions::map`], whose contract is
/// in the [module docs](crate::raw#safety).
///
/// # Examples
///
/// ```
/// use mmap_io::raw::RawMmap;
///
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("d.bin");
/// std::fs::write(&path, b"hello")?;
/// let file = std::fs::File::open(&path)?;
/// // SAFETY: nothing else truncates or writes the file while it is mapped.
/// let map = unsafe { RawMmap::map(&file)? };
/// assert_eq!(&map[..], b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RawMmap {
    /// `None` for a zero-length window, which has no OS mapping.
    map: Option<memmap2::Mmap>,
    pub(crate) backing: Backing,
}

/// A writable memory map of a file window or of anonymous memory (memmap2's `MmapMut`).
///
/// Derefs to `[u8]` and `mut [u8]`. Made by [`RawMmapMut::map_mut`],
/// [`RawMmapMut::map_anon`] or [`RawMmapOptions`]; the contract of the `unsafe` ones is in
/// the [module docs](crate::raw#safety).
///
/// # Examples
///
/// ```
/// let mut map = mmap_io::raw::RawMmapMut::map_anon(4096)?;
/// map[..5].copy_from_slice(b"hello");
/// assert_eq!(&map[..5], b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RawMmapMut {
    /// `None` for a zero-length map, which has no OS mapping.
    map: Option<memmap2::MmapMut>,
    pub(crate) backing: Backing,
}

/// What [`RawMmap`] and [`RawMmapMut`] share, written once: each holds `map`, a memmap2
/// map or `None` when empty, and `backing`. `$ro` turns the anonymous map of the examples
/// into the type at hand.
macro_rules! shared_accessors {
    ($ty:ident, $what:literal, $ro:literal) => {
        impl $ty {
            #[doc = concat!("Length of the ", $what, " in bytes.")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let map = mmap_io::raw::RawMmapMut::map_anon(100)?", $ro, ";")]
            /// assert_eq!(map.len(), 100);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            pub fn len(&self) -> usize {
                self.deref().len()
            }

            #[doc = concat!("Whether the ", $what, " is empty (and so has no OS mapping).")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let map = mmap_io::raw::RawMmapMut::map_anon(0)?", $ro, ";")]
            /// assert!(map.is_empty());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            pub fn is_empty(&self) -> bool {
                self.map.is_none()
            }

            #[doc = concat!("The first byte of the ", $what, " (dangling for an empty one).")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let map = mmap_io::raw::RawMmapMut::map_anon(4096)?", $ro, ";")]
            /// assert_eq!(map.as_ptr(), map[..].as_ptr());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            pub fn as_ptr(&self) -> *const u8 {
                self.deref().as_ptr()
            }
        }

        impl Deref for $ty {
            type Target = [u8];

            #[inline]
            fn deref(&self) -> &[u8] {
                match &self.map {
                    Some(map) => map,
                    None => &[],
                }
            }
        }

        impl AsRef<[u8]> for $ty {
            #[inline]
            fn as_ref(&self) -> &[u8] {
                self
            }
        }

        /// Like memmap2's (`ptr`, `len`), plus what backs the map.
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("ptr", &self.as_ptr())
                    .field("len", &self.len())
                    .field("backing", &self.backing)
                    .finish()
            }
        }
    };
}

shared_accessors!(RawMmap, "window", ".make_read_only()?");
shared_accessors!(RawMmapMut, "map", "");

impl RawMmap {
    /// Maps the whole of `file` read-only; an empty file gives an empty map.
    ///
    /// # Safety
    ///
    /// See the [module docs](crate::raw#safety).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if the file does not fit in the address space; the
    /// OS error if `file` cannot be mapped (for example, it is not open for reading).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let file = std::fs::File::create(dir.path().join("empty.bin"))?;
    /// // SAFETY: nothing else truncates or writes the file while it is mapped.
    /// let map = unsafe { mmap_io::raw::RawMmap::map(&file)? };
    /// assert!(map.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map(file: &File) -> io::Result<Self> {
        // SAFETY: the caller keeps the module's contract.
        unsafe { RawMmapOptions::new().map(file) }
    }

    /// Makes the map writable in place (`mprotect`); a copy-on-write map stays private.
    ///
    /// # Errors
    ///
    /// The OS error if the pages cannot be made writable, typically because a shared map's
    /// file was opened read-only; the map is unmapped then.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = mmap_io::raw::RawMmapMut::map_anon(4096)?.make_read_only()?;
    /// let mut map = map.make_mut()?;
    /// map[0] = 1;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn make_mut(self) -> io::Result<RawMmapMut> {
        Ok(RawMmapMut {
            map: self.map.map(memmap2::Mmap::make_mut).transpose()?,
            backing: self.backing,
        })
    }
}

impl RawMmapMut {
    /// Maps the whole of `file` read-write and shared: writes reach the file.
    ///
    /// # Safety
    ///
    /// See the [module docs](crate::raw#safety).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if the file does not fit in the address space; the
    /// OS error if `file` cannot be mapped (for example, it is not open for writing).
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::raw::RawMmapMut;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// std::fs::write(&path, b"hello")?;
    /// let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
    /// // SAFETY: nothing else truncates, reads or writes the file while it is mapped.
    /// let mut map = unsafe { RawMmapMut::map_mut(&file)? };
    /// map[0] = b'j';
    /// map.flush()?;
    /// assert_eq!(std::fs::read(&path)?, b"jello");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map_mut(file: &File) -> io::Result<Self> {
        // SAFETY: the caller keeps the module's contract.
        unsafe { RawMmapOptions::new().map_mut(file) }
    }

    /// Maps `len` zero bytes of anonymous memory, private to this process.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if `len` does not fit in the address space; the OS
    /// error if the kernel refuses the mapping.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = mmap_io::raw::RawMmapMut::map_anon(4096)?;
    /// assert_eq!(&map[..4], &[0, 0, 0, 0]);
    /// assert!(mmap_io::raw::RawMmapMut::map_anon(usize::MAX).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_anon(len: usize) -> io::Result<Self> {
        RawMmapOptions::new().len(len).map_anon()
    }

    /// The first byte of the map, for writing (dangling for an empty one).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map = mmap_io::raw::RawMmapMut::map_anon(4096)?;
    /// // SAFETY: offset 10 is within the map, and nothing else uses it meanwhile.
    /// unsafe { map.as_mut_ptr().add(10).write(7) };
    /// assert_eq!(map[10], 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.deref_mut().as_mut_ptr()
    }

    /// Writes every modified page back to the file and waits until it is durable
    /// (`msync(MS_SYNC)`). A no-op for an empty, copy-on-write or anonymous map, which have
    /// nothing to write back.
    ///
    /// # Errors
    ///
    /// The OS error if the write-back fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// std::fs::write(&path, [0; 4096])?;
    /// let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
    /// // SAFETY: nothing else truncates, reads or writes the file while it is mapped.
    /// let mut map = unsafe { mmap_io::raw::RawMmapMut::map_mut(&file)? };
    /// map[4095] = 1;
    /// map.flush()?; // durable when it returns
    /// assert_eq!(std::fs::read(&path)?[4095], 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&self) -> io::Result<()> {
        self.flush_range(0, self.len())
    }

    /// Like [`flush`](Self::flush), for the pages covering `len` bytes at `offset` (any
    /// offset: the range is widened to whole pages).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if the range is not within the map (checked without
    /// overflow); the OS error if the write-back fails.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map = mmap_io::raw::RawMmapMut::map_anon(8192)?;
    /// map[5000] = 1;
    /// map.flush_range(5000, 1)?;
    /// assert!(map.flush_range(8000, 1000).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush_range(&self, offset: usize, len: usize) -> io::Result<()> {
        self.write_back(offset, len, memmap2::MmapMut::flush_range)
    }

    /// Starts writing every modified page back to the file and returns without waiting
    /// (`msync(MS_ASYNC)`): not durable.
    ///
    /// # Errors
    ///
    /// The OS error if the write-back cannot be started.
    ///
    /// # Examples
    ///
    /// ```
    /// mmap_io::raw::RawMmapMut::map_anon(4096)?.flush_async()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush_async(&self) -> io::Result<()> {
        self.flush_async_range(0, self.len())
    }

    /// Like [`flush_async`](Self::flush_async), for the pages covering `len` bytes at
    /// `offset`.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if the range is not within the map (checked without
    /// overflow); the OS error if the write-back cannot be started.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = mmap_io::raw::RawMmapMut::map_anon(4096)?;
    /// map.flush_async_range(100, 200)?;
    /// assert!(map.flush_async_range(usize::MAX, 2).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush_async_range(&self, offset: usize, len: usize) -> io::Result<()> {
        self.write_back(offset, len, memmap2::MmapMut::flush_async_range)
    }

    /// Checks `offset..offset + len` and hands a non-empty one of a shared file map to
    /// memmap2's `msync` call. Private pages have nothing to write back (and on Windows
    /// memmap2 would call `FlushFileBuffers` on a handle that may be read-only).
    fn write_back(
        &self,
        offset: usize,
        len: usize,
        msync: fn(&memmap2::MmapMut, usize, usize) -> io::Result<()>,
    ) -> io::Result<()> {
        check_range(offset, len, self.len())?;
        match &self.map {
            Some(map) if len > 0 && self.backing == Backing::SharedFile => msync(map, offset, len),
            _ => Ok(()),
        }
    }

    /// Makes the map read-only in place (`mprotect`).
    ///
    /// # Errors
    ///
    /// The OS error if the protection cannot be changed; the map is unmapped then.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map = mmap_io::raw::RawMmapMut::map_anon(4096)?;
    /// map[0] = 1;
    /// let map = map.make_read_only()?;
    /// assert_eq!(map[0], 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn make_read_only(self) -> io::Result<RawMmap> {
        Ok(RawMmap {
            map: self.map.map(memmap2::MmapMut::make_read_only).transpose()?,
            backing: self.backing,
        })
    }
}

/// Checks that `offset..offset + len` lies within `total` bytes, without overflow.
#[inline]
pub(crate) fn check_range(offset: usize, len: usize, total: usize) -> io::Result<()> {
    match offset.checked_add(len) {
        Some(end) if end <= total => Ok(()),
        _ => Err(invalid_input(format!(
            "range of {len} bytes at offset {offset} is outside the {total}-byte map"
        ))),
    }
}

#[cold]
#[inline(never)]
pub(crate) fn invalid_input(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

impl DerefMut for RawMmapMut {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.map {
            Some(map) => map,
            None => &mut [],
        }
    }
}

impl AsMut<[u8]> for RawMmapMut {
    #[inline]
    fn as_mut(&mut self) -> &mut [u8] {
        self
    }
}
