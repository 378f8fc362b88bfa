//! [`Segment`] and [`SegmentMut`]: fixed windows into a shared mapping.

use crate::errors::{out_of_bounds, Result};
use crate::mmap::{MappedSlice, MappedSliceMut, MemoryMappedFile};
use crate::utils::ensure_in_bounds;
use std::sync::Arc;

/// A read-only window of `len` bytes at `offset` into a shared mapping.
///
/// The window is checked when it is made. If the mapping later shrinks below it,
/// [`is_valid`](Self::is_valid) turns false and [`as_slice`](Self::as_slice) returns
/// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds). An empty window is valid
/// at any offset, whatever the mapping's length (as in mmap-io 1.1).
///
/// # Examples
///
/// ```
/// use mmap_io::{segment::Segment, MemoryMappedFile};
/// use std::sync::Arc;
///
/// let dir = tempfile::tempdir()?;
/// let mmap = Arc::new(MemoryMappedFile::create_rw(dir.path().join("d.bin"), 256)?);
/// mmap.update_region(100, b"header")?;
/// let header = Segment::new(Arc::clone(&mmap), 100, 6)?;
/// assert_eq!(header.as_slice()?, b"header");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Segment {
    parent: Arc<MemoryMappedFile>,
    offset: u64,
    len: u64,
}

/// A writable window of `len` bytes at `offset` into a shared mapping.
///
/// Like [`Segment`], with writes that cannot leave the window.
///
/// # Examples
///
/// ```
/// use mmap_io::{segment::SegmentMut, MemoryMappedFile};
/// use std::sync::Arc;
///
/// let dir = tempfile::tempdir()?;
/// let mmap = Arc::new(MemoryMappedFile::create_rw(dir.path().join("d.bin"), 256)?);
/// let record = SegmentMut::new(Arc::clone(&mmap), 64, 8)?;
/// record.write(b"record")?;
/// assert!(record.write(b"too long!").is_err());
/// assert_eq!(mmap.as_slice(64, 6)?, b"record");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SegmentMut {
    parent: Arc<MemoryMappedFile>,
    offset: u64,
    len: u64,
}

/// Whether a window fits a mapping of `total` bytes: an empty one always does.
fn fits(offset: u64, len: u64, total: u64) -> Result<()> {
    match len {
        0 => Ok(()),
        _ => ensure_in_bounds(offset, len, total),
    }
}

macro_rules! segment_common {
    ($ty:ident) => {
        impl $ty {
            /// Makes a window of `len` bytes at `offset` into `parent`.
            ///
            /// # Examples
            ///
            /// ```
            /// # use std::sync::Arc;
            #[doc = concat!("use mmap_io::segment::", stringify!($ty), ";")]
            /// # let dir = tempfile::tempdir()?;
            /// let mmap = Arc::new(mmap_io::create_mmap(dir.path().join("d.bin"), 100)?);
            #[doc = concat!("let seg = ", stringify!($ty), "::new(Arc::clone(&mmap), 10, 20)?;")]
            /// assert_eq!((seg.offset(), seg.len(), seg.is_empty()), (10, 20, false));
            /// assert!(seg.is_valid());
            /// assert_eq!(seg.parent().len(), 100);
            #[doc = concat!("assert!(", stringify!($ty), "::new(mmap, 90, 20).is_err());")]
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            ///
            /// # Errors
            ///
            /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the window
            /// does not fit in the mapping. An empty window fits at any offset, and stays
            /// valid whatever the mapping's length.
            pub fn new(parent: Arc<MemoryMappedFile>, offset: u64, len: u64) -> Result<Self> {
                fits(offset, len, parent.len())?;
                Ok(Self {
                    parent,
                    offset,
                    len,
                })
            }

            /// Length of the window in bytes. See [`new`](Self::new) for an example.
            pub fn len(&self) -> u64 {
                self.len
            }

            /// Whether the window is empty. See [`new`](Self::new) for an example.
            pub fn is_empty(&self) -> bool {
                self.len == 0
            }

            /// Offset of the window in the mapping. See [`new`](Self::new) for an example.
            pub fn offset(&self) -> u64 {
                self.offset
            }

            /// The mapping the window looks into. See [`new`](Self::new) for an example.
            pub fn parent(&self) -> &MemoryMappedFile {
                &self.parent
            }

            /// Whether the window still fits in the mapping (it may not after a shrink). See [`new`](Self::new) for an example.
            pub fn is_valid(&self) -> bool {
                fits(self.offset, self.len, self.parent.len()).is_ok()
            }
        }
    };
}

segment_common!(Segment);
segment_common!(SegmentMut);

impl Segment {
    /// Zero-copy view of the window (see [`MemoryMappedFile::as_slice`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = Arc::new(mmap_io::create_mmap(dir.path().join("d.bin"), 100)?);
    /// mmap.update_region(10, b"window")?;
    /// let seg = mmap_io::segment::Segment::new(mmap, 10, 6)?;
    /// assert_eq!(seg.as_slice()?, b"window");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the mapping shrank
    /// below the window.
    pub fn as_slice(&self) -> Result<MappedSlice<'_>> {
        self.parent.as_slice(self.offset, self.len)
    }
}

impl SegmentMut {
    /// Exclusive, writable view of the window (see [`MemoryMappedFile::as_slice_mut`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = Arc::new(mmap_io::create_mmap(dir.path().join("d.bin"), 100)?);
    /// let seg = mmap_io::segment::SegmentMut::new(Arc::clone(&mmap), 10, 4)?;
    /// seg.as_slice_mut()?.copy_from_slice(b"abcd");
    /// assert_eq!(mmap.as_slice(10, 4)?, b"abcd");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) on a read-only
    /// mapping; [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the mapping
    /// shrank below the window.
    pub fn as_slice_mut(&self) -> Result<MappedSliceMut<'_>> {
        self.parent.as_slice_mut(self.offset, self.len)
    }

    /// Writes `data` at the start of the window and applies the mapping's flush policy.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = Arc::new(mmap_io::create_mmap(dir.path().join("d.bin"), 100)?);
    /// let seg = mmap_io::segment::SegmentMut::new(Arc::clone(&mmap), 10, 4)?;
    /// seg.write(b"ab")?;
    /// assert!(seg.write(b"abcde").is_err()); // longer than the window
    /// assert_eq!(mmap.as_slice(10, 4)?, b"ab\0\0");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Checked in this order, as in mmap-io 1.1 (nothing is written on an error):
    /// 1. [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) relative to the
    ///    window (`offset` 0, `len` the data's length, `total` the window's length) if
    ///    `data` is longer than the window;
    /// 2. empty `data` is `Ok(())`, whatever the mapping;
    /// 3. [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) on a read-only
    ///    mapping;
    /// 4. [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) relative to the
    ///    mapping (`offset` and `len` the window's, `total` the mapping's length) if the
    ///    mapping shrank below the window, even when `data` alone would still fit. The
    ///    window is checked under the write guard, so a concurrent `resize` cannot slip
    ///    between the check and the write.
    ///
    /// Otherwise as [`MemoryMappedFile::update_region`], including
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) where another process cut the file under
    /// the window.
    pub fn write(&self, data: &[u8]) -> Result<()> {
        if data.len() as u64 > self.len {
            return Err(out_of_bounds(0, data.len() as u64, self.len));
        }
        if data.is_empty() {
            return Ok(());
        }
        self.parent.update_window(self.offset, self.len, data)
    }
}
