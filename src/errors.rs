//! The error type of every fallible operation, and the crate's `Result` alias.

use std::io;

/// Everything that can go wrong in this crate.
///
/// The display strings match the published `mmap-io` 1.0 crate, so log lines and string
/// matches keep working. [`MmapIoError::Io`] keeps the operating system's error as its
/// [`source`](std::error::Error::source), with its [`io::ErrorKind`] intact.
///
/// # A file cut under its mapping
///
/// When another process truncates a mapped file (or its disk fails), touching a page past
/// the new end raises `SIGBUS` (an in-page error on Windows), which kills a process that
/// reads the mapping itself. Every copy the crate makes in or out of a mapping catches it
/// and returns [`MmapIoError::Io`] instead: of kind [`io::ErrorKind::UnexpectedEof`] for a
/// page the file no longer has (on Linux also a page its storage failed to provide: the
/// kernel reports both alike), or the I/O error, with a message naming the offset. The copying calls are
/// [`read_into`](crate::MemoryMappedFile::read_into),
/// [`update_region`](crate::MemoryMappedFile::update_region) and its `try_` and async
/// forms, [`write_mmap`](crate::write_mmap), [`SegmentMut::write`](crate::segment::SegmentMut::write),
/// [`reader`](crate::MemoryMappedFile::reader), `chunks_owned`, `pages_owned`,
/// `read_bytes` (on read-only mappings, where it shares the mapping, when it is made), and
/// [`touch_pages`](crate::MemoryMappedFile::touch_pages). A read leaves
/// the bytes before the offset in the caller's buffer.
///
/// This holds on Linux (x86_64 and i686) and on Windows (x86_64); elsewhere a fault still
/// ends the process. Views ([`MappedSlice`](crate::MappedSlice), atomic views, `raw`) hand
/// out the mapped memory itself: a load through them cannot be caught, so read a file that
/// others may cut through the copying calls. A cut that is not page-aligned leaves the rest
/// of its last page readable, as zeros. How it works: `docs/FAULTS.md`.
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
    /// An atomic view (or a typed view, feature `pod`) was asked for at an offset that is
    /// not aligned for its type. The message is 1.1's, which names atomic views only.
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

/// `e` as an `io::Error`: the `io::Error` itself for [`MmapIoError::Io`] (so its kind
/// survives), wrapped otherwise.
pub(crate) fn into_io(e: MmapIoError) -> io::Error {
    match e {
        MmapIoError::Io(e) => e,
        other => io::Error::other(other),
    }
}

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
