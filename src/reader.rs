//! [`MmapReader`]: `io::Read`, `io::BufRead` and `io::Seek` over a mapping.

use crate::mmap::MemoryMappedFile;
use std::fmt;
use std::io::{self, BufRead, Read, Seek, SeekFrom};

/// How many bytes [`MmapReader::fill_buf`] copies at a time.
const BUF: usize = 4096;

/// A cursor over a mapping, implementing [`io::Read`], [`io::BufRead`] and [`io::Seek`].
///
/// It behaves like [`std::io::Cursor`]: the position may be set past the end, where reads
/// return 0 bytes; seeking to a negative position is an error. Each `read` copies under one
/// guard, so it sees a consistent mapping even while another thread resizes it; it holds
/// nothing between calls.
///
/// [`BufRead`]'s `fill_buf` copies up to 4 KiB into a buffer inside the reader (no lock is
/// held between calls); a seek drops what is buffered. Every byte the reader hands out is a
/// copy, so a file cut under the mapping by another process is an error of kind
/// [`UnexpectedEof`](io::ErrorKind::UnexpectedEof) from `read` or `fill_buf`, not a crash
/// (on the platforms [`MmapIoError`](crate::MmapIoError) lists).
///
/// # Examples
///
/// ```
/// use std::io::{Read, Seek, SeekFrom};
///
/// let dir = tempfile::tempdir()?;
/// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 16)?;
/// mmap.update_region(10, b"tail")?;
/// let mut reader = mmap.reader();
/// reader.seek(SeekFrom::End(-6))?;
/// let mut buf = [0u8; 4];
/// reader.read_exact(&mut buf)?;
/// assert_eq!(&buf, b"tail");
/// assert_eq!(reader.position(), 14);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Reading a mapped log line by line:
///
/// ```
/// use std::io::BufRead;
///
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("app.log");
/// std::fs::write(&path, "start\nrequest 1\nrequest 2\n")?;
/// let log = mmap_io::MemoryMappedFile::open_ro(&path)?;
/// let requests = log
///     .reader()
///     .lines()
///     .filter(|line| line.as_ref().is_ok_and(|l| l.starts_with("request")))
///     .count();
/// assert_eq!(requests, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MmapReader<'a> {
    mmap: &'a MemoryMappedFile,
    pos: u64,
    /// Bytes copied by `fill_buf`: `buf[..buf_len]` are the bytes at
    /// `buf_at..`. Inline, so that the reader has no drop glue.
    buf: [u8; BUF],
    buf_at: u64,
    buf_len: usize,
}

impl MemoryMappedFile {
    /// A reader over the mapping that implements [`io::Read`], [`io::BufRead`] and
    /// [`io::Seek`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 4)?;
    /// mmap.update_region(0, b"read")?;
    /// let mut text = String::new();
    /// mmap.reader().read_to_string(&mut text)?;
    /// assert_eq!(text, "read");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reader(&self) -> MmapReader<'_> {
        MmapReader::new(self)
    }
}

impl<'a> MmapReader<'a> {
    pub(crate) fn new(mmap: &'a MemoryMappedFile) -> Self {
        Self {
            mmap,
            pos: 0,
            buf: [0; BUF],
            buf_at: 0,
            buf_len: 0,
        }
    }

    /// The buffered bytes from the current position on (empty if it is outside them).
    fn buffered(&self) -> &[u8] {
        match self.pos.checked_sub(self.buf_at) {
            Some(skip) if skip < self.buf_len as u64 => &self.buf[skip as usize..self.buf_len],
            _ => &[],
        }
    }

    /// The current position, in bytes from the start of the mapping.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 10)?;
    /// let mut reader = mmap.reader();
    /// reader.read_exact(&mut [0u8; 4])?;
    /// assert_eq!(reader.position(), 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Moves to `pos` bytes from the start (past the end is allowed, as for `Cursor`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 10)?;
    /// let mut reader = mmap.reader();
    /// reader.set_position(100);
    /// assert_eq!(reader.read(&mut [0u8; 4])?, 0); // past the end: nothing to read
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_position(&mut self, pos: u64) {
        self.pos = pos;
        self.buf_len = 0;
    }
}

impl Read for MmapReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let buffered = self.buffered();
        let n = if buffered.is_empty() {
            self.mmap
                .read_upto(self.pos, buf)
                .map_err(crate::errors::into_io)?
        } else {
            let n = buffered.len().min(buf.len());
            buf[..n].copy_from_slice(&buffered[..n]);
            n
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl BufRead for MmapReader<'_> {
    /// Up to 4 KiB from the position on, copied (empty at or past the end).
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.buffered().is_empty() {
            let n = self
                .mmap
                .read_upto(self.pos, &mut self.buf)
                .map_err(crate::errors::into_io)?;
            self.buf_at = self.pos;
            self.buf_len = n;
        }
        Ok(self.buffered())
    }

    fn consume(&mut self, amt: usize) {
        self.pos = self.pos.saturating_add(amt as u64);
    }
}

impl fmt::Debug for MmapReader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MmapReader")
            .field("path", &self.mmap.path())
            .field("position", &self.pos)
            .field("len", &self.mmap.len())
            .finish()
    }
}

impl Seek for MmapReader<'_> {
    fn seek(&mut self, style: SeekFrom) -> io::Result<u64> {
        self.buf_len = 0;
        let (base, delta) = match style {
            SeekFrom::Start(n) => {
                self.pos = n;
                return Ok(n);
            }
            SeekFrom::End(d) => (self.mmap.len(), d),
            SeekFrom::Current(d) => (self.pos, d),
        };
        match base.checked_add_signed(delta) {
            Some(pos) => {
                self.pos = pos;
                Ok(pos)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid seek to a negative or overflowing position",
            )),
        }
    }
}
