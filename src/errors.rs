//! The error type of every fallible operation, and the crate's `Result` alias.

use std::io;

/// Everything that can go wrong in this crate.
///
/// The display strings match the published `mmap-io` 1.0 crate, so log lines and string
/// matches keep working. [`MmapIoError::Io`] keeps the operating system's error as its
/// [`source`](std::error::Error::source), with its [`io::ErrorKind`] intact.
///
/// # Examples
///
/// ```
/// use mmap_io::{MemoryMappedFile, MmapIoError};
///
/// let dir = tempfile::tempdir()?;
/// let err = MemoryMappedFile::open_ro(dir.path().join("missing.bin")).unwrap_err();
/// match err {
///     MmapIoError::Io(e) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
///     other => panic!("unexpected error: {other}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum MmapIoError {
    /// An operating-system call failed; the `io::Error` is kept as the source.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The operation is not allowed in this mapping's mode (a write on a read-only
    /// mapping, a resize of a copy-on-write mapping, ...).
    #[error("invalid access mode: {0}")]
    InvalidMode(&'static str),
    /// `offset + len` is past the end of the mapping (or overflows `u64`).
    #[error("range out of bounds: offset={offset}, len={len}, total={total}")]
    OutOfBounds {
        /// Requested start offset.
        offset: u64,
        /// Requested length.
        len: u64,
        /// Length of the mapping (or segment) the request was checked against.
        total: u64,
    },
    /// Writing dirty pages back to the file failed.
    #[error("flush failed: {0}")]
    FlushFailed(String),
    /// A size was refused (zero, too large) or the file could not be resized.
    #[error("resize failed: {0}")]
    ResizeFailed(String),
    /// `madvise` failed.
    #[error("advice failed: {0}")]
    AdviceFailed(String),
    /// `mlock` failed (often `RLIMIT_MEMLOCK` or a missing `CAP_IPC_LOCK`).
    #[error("lock failed: {0}")]
    LockFailed(String),
    /// `munlock` failed.
    #[error("unlock failed: {0}")]
    UnlockFailed(String),
    /// An atomic view was asked for at an offset that is not aligned for its type.
    #[error("atomic alignment error: required={required}, offset={offset}")]
    Misaligned {
        /// The alignment the type needs, in bytes.
        required: u64,
        /// The offset that was asked for.
        offset: u64,
    },
    /// The file watcher could not be set up.
    #[error("watch failed: {0}")]
    WatchFailed(String),
}

/// `Result` with [`MmapIoError`] as the error type.
///
/// # Examples
///
/// ```
/// fn first_byte(mmap: &mmap_io::MemoryMappedFile) -> mmap_io::errors::Result<u8> {
///     let mut b = [0u8];
///     mmap.read_into(0, &mut b)?;
///     Ok(b[0])
/// }
/// # let dir = tempfile::tempdir()?;
/// # let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 8)?;
/// assert_eq!(first_byte(&mmap)?, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Result<T> = std::result::Result<T, MmapIoError>;

/// The message of every zero-size refusal.
pub(crate) const ZERO_SIZE: &str = "Size must be greater than zero";

#[cold]
#[inline(never)]
pub(crate) fn zero_size() -> MmapIoError {
    MmapIoError::ResizeFailed(ZERO_SIZE.to_owned())
}

#[cold]
#[inline(never)]
pub(crate) fn invalid_mode(why: &'static str) -> MmapIoError {
    MmapIoError::InvalidMode(why)
}

#[cold]
#[inline(never)]
pub(crate) fn out_of_bounds(offset: u64, len: u64, total: u64) -> MmapIoError {
    MmapIoError::OutOfBounds { offset, len, total }
}
