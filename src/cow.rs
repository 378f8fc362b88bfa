//! Copy-on-write mappings: private pages whose writes never reach the file.

use crate::errors::Result;
use crate::mmap::{MemoryMappedFile, MmapMode};
use std::path::Path;

impl MemoryMappedFile {
    /// Maps an existing file copy-on-write: reads see the file, writes stay private to this
    /// mapping and never reach the file.
    ///
    /// [`flush`](Self::flush) is an `Ok` no-op, [`resize`](Self::resize) is
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode). Any constructor
    /// accepts [`MmapMode::CopyOnWrite`] too.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be opened
    /// (`ErrorKind::NotFound` if it does not exist) or mapped.
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
    /// cow.update_region(0, b"private!")?;
    /// assert_eq!(cow.as_slice(0, 8)?, b"private!");
    /// assert_eq!(std::fs::read(&path)?, b"original");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_cow<P: AsRef<Path>>(path: P) -> Result<Self> {
        Self::builder(path).mode(MmapMode::CopyOnWrite).open()
    }
}
