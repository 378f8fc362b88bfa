//! [`MmapReader`]: `io::Read` and `io::Seek` over a mapping.

use crate::mmap::MemoryMappedFile;
use std::io::{self, Read, Seek, SeekFrom};

/// A cursor over a mapping, implementing [`io::Read`] and [`io::Seek`].
///
/// It behaves like [`std::io::Cursor`]: the position may be set past the end, where reads
/// return 0 bytes; seeking to a negative position is an error. Each `read` copies under one
/// guard, so it sees a consistent mapping even while another thread resizes it; it holds
/// nothing between calls.
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
#[derive(Debug)]
pub struct MmapReader<'a> {
    mmap: &'a MemoryMappedFile,
    pos: u64,
}

impl MemoryMappedFile {
    /// A reader over the mapping that implements [`io::Read`] and [`io::Seek`].
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
        Self { mmap, pos: 0 }
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
    }
}

impl Read for MmapReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let pos = self.pos;
        let n = self.mmap.read_upto(pos, buf).map_err(io::Error::other)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for MmapReader<'_> {
    fn seek(&mut self, style: SeekFrom) -> io::Result<u64> {
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
