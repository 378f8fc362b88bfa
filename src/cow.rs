//! Copy-on-write mappings: private pages whose writes never reach the file.
//!
//! [`open_cow`](MemoryMappedFile::open_cow) (and [`MmapMode::CopyOnWrite`] on any other
//! constructor) maps a file privately and read-only through the safe API: reads take no
//! lock and [`as_slice_bytes`](MemoryMappedFile::as_slice_bytes) lends plain `&[u8]`.
//! [`open_cow_writable`](MemoryMappedFile::open_cow_writable) (or the builder's
//! [`cow_writable(true)`](MemoryMappedFileBuilder::cow_writable)) makes the private pages
//! writable: every write path works, and the writes stay in this mapping.
//!
//! As in mmap-io 1.1, every copy-on-write constructor refuses an empty file with
//! [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed)`("Cannot map zero-length
//! file")`; only a read-only mapping maps one.

use crate::errors::Result;
use crate::mmap::{MemoryMappedFile, MemoryMappedFileBuilder, MmapMode};
use std::path::Path;

impl MemoryMappedFile {
    /// Maps an existing file copy-on-write, read-only through the safe API.
    ///
    /// Reads see the file as it was when each page was first read. Every write method
    /// returns [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode),
    /// [`as_slice_bytes`](Self::as_slice_bytes) works, and [`flush`](Self::flush) is an `Ok`
    /// no-op. Use [`open_cow_writable`](Self::open_cow_writable) for private pages that
    /// accept writes.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be opened
    /// (`ErrorKind::NotFound` if it does not exist) or mapped;
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) if it is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MemoryMappedFile;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("shared.bin");
    /// std::fs::write(&path, b"original")?;
    ///
    /// let cow = MemoryMappedFile::open_cow(&path)?;
    /// assert_eq!(cow.as_slice_bytes(0, 8)?, b"original");
    /// assert!(cow.update_region(0, b"private!").is_err());
    /// assert!(!cow.is_cow_writable());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_cow<P: AsRef<Path>>(path: P) -> Result<Self> {
        Self::builder(path).mode(MmapMode::CopyOnWrite).open()
    }

    /// Maps an existing file copy-on-write with writable private pages: reads see the file,
    /// writes stay private to this mapping and never reach the file.
    ///
    /// Every write path works ([`update_region`](Self::update_region),
    /// [`as_slice_mut`](Self::as_slice_mut), atomic views, ...). [`flush`](Self::flush) and
    /// [`flush_range`](Self::flush_range) are validated `Ok` no-ops,
    /// [`pending_bytes`](Self::pending_bytes) stays 0, and [`resize`](Self::resize) and
    /// [`as_slice_bytes`](Self::as_slice_bytes) return
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode).
    ///
    /// # Errors
    ///
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be opened
    /// (`ErrorKind::NotFound` if it does not exist) or mapped;
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) if it is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MemoryMappedFile;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("shared.bin");
    /// std::fs::write(&path, b"original")?;
    ///
    /// let cow = MemoryMappedFile::open_cow_writable(&path)?;
    /// cow.update_region(0, b"private!")?;
    /// assert_eq!(cow.as_slice(0, 8)?, b"private!");
    /// cow.flush()?; // nothing to write back
    /// assert_eq!(std::fs::read(&path)?, b"original");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_cow_writable<P: AsRef<Path>>(path: P) -> Result<Self> {
        Self::builder(path)
            .mode(MmapMode::CopyOnWrite)
            .cow_writable(true)
            .open()
    }

    /// Whether this is a copy-on-write mapping whose private pages accept writes.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MemoryMappedFile;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// # std::fs::write(&path, [0u8; 16])?;
    /// assert!(MemoryMappedFile::open_cow_writable(&path)?.is_cow_writable());
    /// assert!(!MemoryMappedFile::open_cow(&path)?.is_cow_writable());
    /// assert!(!MemoryMappedFile::open_rw(&path)?.is_cow_writable());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_cow_writable(&self) -> bool {
        self.is_private_writable()
    }
}

impl MemoryMappedFileBuilder {
    /// Makes a [`MmapMode::CopyOnWrite`] mapping's private pages writable (default: off,
    /// read-only as [`open_cow`](MemoryMappedFile::open_cow)); other modes ignore it.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::{MemoryMappedFile, MmapMode};
    ///
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// # std::fs::write(&path, [0u8; 16])?;
    /// let cow = MemoryMappedFile::builder(&path)
    ///     .mode(MmapMode::CopyOnWrite)
    ///     .cow_writable(true)
    ///     .open()?;
    /// cow.update_region(0, b"scratch")?;
    /// assert_eq!(std::fs::read(&path)?, [0u8; 16]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cow_writable(self, enabled: bool) -> Self {
        self.set_cow_writable(enabled)
    }
}
