//! [`bytes::Bytes`] conversions, for handing mapped data to the hyper/tower/tonic ecosystem.

use crate::errors::Result;
use crate::mmap::{MappedSlice, MemoryMappedFile};
use bytes::Bytes;

impl MemoryMappedFile {
    /// Copies `len` bytes at `offset` into a [`Bytes`].
    ///
    /// A copying read: like [`read_into`](Self::read_into), it is never refused for bytes
    /// under a live atomic view (it loads them atomically).
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
        // Checked before allocating (and again under the guard by `read_into`).
        let r = crate::range::checked(offset, len, self.len() as usize)?;
        let mut buf = vec![0u8; r.len()];
        self.read_into(offset, &mut buf)?;
        Ok(Bytes::from(buf))
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
