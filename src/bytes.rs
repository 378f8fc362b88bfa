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
    /// the end; [`MmapIoError::Io`](crate::MmapIoError::Io) if the file was cut under the
    /// mapping (as for `read_into`).
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
    ///
    /// # Panics
    ///
    /// If the file was cut under the mapping (by another process) where the view lies, on
    /// the platforms where the crate catches that fault (see
    /// [`MmapIoError`](crate::MmapIoError)): a `From` conversion has no way to return the
    /// error. [`MemoryMappedFile::read_bytes`] returns it instead.
    fn from(slice: MappedSlice<'_>) -> Self {
        Bytes::from(&slice)
    }
}

impl From<&MappedSlice<'_>> for Bytes {
    /// Copies the viewed bytes.
    ///
    /// # Panics
    ///
    /// As for `From<MappedSlice>`.
    fn from(slice: &MappedSlice<'_>) -> Self {
        let mut copy = vec![0u8; slice.len()];
        // SAFETY: the view's bytes are live and no writer touches them while it is held;
        // `copy` is a distinct buffer of the same length.
        if let Err(fault) = unsafe { crate::fault::copy_out(&mut copy, slice.as_ptr()) } {
            panic!(
                "converting a mapped view to Bytes: the file was cut under the mapping at \
                 byte {} of the view",
                fault.done
            );
        }
        Bytes::from(copy)
    }
}
