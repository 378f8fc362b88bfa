//! [`bytes::Bytes`] conversions, for handing mapped data to the hyper/tower/tonic ecosystem.

use crate::errors::Result;
use crate::mmap::{MappedSlice, MemoryMappedFile};
use bytes::Bytes;

impl MemoryMappedFile {
    /// Copies `len` bytes at `offset` into a [`Bytes`].
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past
    /// the end.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 64)?;
    /// mmap.update_region(0, b"payload")?;
    /// let body: bytes::Bytes = mmap.read_bytes(0, 7)?;
    /// assert_eq!(&body[..], b"payload");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_bytes(&self, offset: u64, len: u64) -> Result<Bytes> {
        Ok(Bytes::copy_from_slice(&self.as_slice(offset, len)?))
    }
}

impl From<MappedSlice<'_>> for Bytes {
    /// Copies the viewed bytes (and releases the view's lock).
    fn from(slice: MappedSlice<'_>) -> Self {
        Bytes::copy_from_slice(&slice)
    }
}

impl From<&MappedSlice<'_>> for Bytes {
    /// Copies the viewed bytes.
    fn from(slice: &MappedSlice<'_>) -> Self {
        Bytes::copy_from_slice(slice)
    }
}
