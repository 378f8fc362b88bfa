//! Walking a mapping in fixed strides: [`ChunkIterator`], [`PageIterator`], their owned
//! forms, and [`ChunkIteratorMut`].
//!
//! The zero-copy iterators yield [`MappedSlice`]s. Each item is a view of its own, published
//! to the lock of the file, so an item can never outlive the pages it views; an item whose
//! bytes overlap a live atomic view is an owned copy instead, so iteration is not refused.
//! While an iterator lives, the mapping stays in place: a
//! [`resize`](MemoryMappedFile::resize) on another thread that would move or shrink it waits
//! for the iterator to drop (on the thread that holds it, such a `resize` is refused, as for
//! any view it holds), so the items cover exactly the length the mapping had when the
//! iterator was made, and `len()` is exact. (Growth within reserved room goes on meanwhile:
//! it moves nothing, and the items stop at the length they started with.)

use crate::errors::Result;
use crate::mmap::{MappedSlice, MemoryMappedFile};
use std::iter::FusedIterator;

/// Zero-copy chunks of a mapping; see [`MemoryMappedFile::chunks`].
#[derive(Debug)]
#[must_use = "iterators do nothing unless consumed"]
pub struct ChunkIterator<'a> {
    mmap: &'a MemoryMappedFile,
    offset: usize,
    end: usize,
    chunk: usize,
    /// Keeps a writable mapping in place (a resize waits), so `end` stays its length.
    _pin: Option<crate::sync::Ticket<'a>>,
}

/// Zero-copy pages of a mapping; see [`MemoryMappedFile::pages`].
#[derive(Debug)]
#[must_use = "iterators do nothing unless consumed"]
pub struct PageIterator<'a> {
    chunks: ChunkIterator<'a>,
}

/// Copied chunks of a mapping; see [`MemoryMappedFile::chunks_owned`].
#[derive(Debug)]
#[must_use = "iterators do nothing unless consumed"]
pub struct ChunkIteratorOwned<'a> {
    chunks: ChunkIterator<'a>,
}

/// Copied pages of a mapping; see [`MemoryMappedFile::pages_owned`].
#[derive(Debug)]
#[must_use = "iterators do nothing unless consumed"]
pub struct PageIteratorOwned<'a> {
    chunks: ChunkIteratorOwned<'a>,
}

/// Writable chunks of a mapping, visited by a callback under one write lock; see
/// [`MemoryMappedFile::chunks_mut`].
#[derive(Debug)]
#[must_use = "call for_each_mut to visit the chunks"]
pub struct ChunkIteratorMut<'a> {
    mmap: &'a MemoryMappedFile,
    chunk: usize,
}

impl<'a> ChunkIterator<'a> {
    fn new(mmap: &'a MemoryMappedFile, chunk: usize) -> Self {
        // A handle's length always fits in `usize`: it is the length of a mapping.
        // Pinned before the length is read: no resize of the mapping runs until the
        // iterator drops (one on this thread is refused, as for any view it holds).
        let pin = mmap.writable().ok().and_then(|lock| lock.pin().ok());
        let end = if chunk == 0 { 0 } else { mmap.len() as usize };
        Self {
            mmap,
            offset: 0,
            end,
            chunk,
            _pin: pin,
        }
    }

    /// The offset and length of the next chunk, if any.
    fn next_span(&self) -> Option<(usize, usize)> {
        (self.offset < self.end).then(|| (self.offset, self.chunk.min(self.end - self.offset)))
    }

    fn remaining(&self) -> usize {
        match self.chunk {
            0 => 0,
            chunk => (self.end - self.offset).div_ceil(chunk),
        }
    }
}

impl<'a> Iterator for ChunkIterator<'a> {
    type Item = MappedSlice<'a>;

    #[inline]
    fn next(&mut self) -> Option<MappedSlice<'a>> {
        let (offset, len) = self.next_span()?;
        match self.mmap.slice_upto(offset, len) {
            Some(slice) if slice.len() == len => {
                self.offset += len;
                Some(slice)
            }
            None => {
                // Over a live atomic view, and its owned copy could not be allocated (the
                // length is pinned, so nothing else stops an item): stop here.
                self.end = self.offset;
                None
            }
            Some(short) => {
                self.end = self.offset;
                Some(short)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining();
        (n, Some(n))
    }
}

impl ExactSizeIterator for ChunkIterator<'_> {}
impl FusedIterator for ChunkIterator<'_> {}

impl<'a> Iterator for PageIterator<'a> {
    type Item = MappedSlice<'a>;

    #[inline]
    fn next(&mut self) -> Option<MappedSlice<'a>> {
        self.chunks.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for PageIterator<'_> {}
impl FusedIterator for PageIterator<'_> {}

impl Iterator for ChunkIteratorOwned<'_> {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Result<Vec<u8>>> {
        let (offset, len) = self.chunks.next_span()?;
        let mut buf = vec![0u8; len];
        match self.chunks.mmap.read_into(offset as u64, &mut buf) {
            Ok(()) => {
                self.chunks.offset += len;
                Some(Ok(buf))
            }
            Err(e) => {
                // Reported once, and the iteration stops (the length is pinned: no
                // shrink cuts a chunk).
                self.chunks.end = self.chunks.offset;
                Some(Err(e))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for ChunkIteratorOwned<'_> {}
impl FusedIterator for ChunkIteratorOwned<'_> {}

impl Iterator for PageIteratorOwned<'_> {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Result<Vec<u8>>> {
        self.chunks.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for PageIteratorOwned<'_> {}
impl FusedIterator for PageIteratorOwned<'_> {}

impl ChunkIteratorMut<'_> {
    /// Calls `f(offset, chunk)` on every chunk in order, under one write lock held for the
    /// whole loop, then applies the flush policy. Stops at the first error `f` returns.
    ///
    /// A chunk size of 0 visits nothing.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) on read-only mappings;
    /// the first error `f` returns; or the policy's flush error.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 4096)?;
    /// mmap.chunks_mut(1024).for_each_mut(|offset, chunk| {
    ///     chunk.fill((offset / 1024) as u8);
    ///     Ok(())
    /// })?;
    /// assert_eq!(mmap.as_slice(3000, 1)?, &[2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_each_mut<F>(self, f: F) -> Result<()>
    where
        F: FnMut(u64, &mut [u8]) -> Result<()>,
    {
        self.run(f)?
    }

    /// Like [`for_each_mut`](Self::for_each_mut), for callbacks with their own error type:
    /// the outer `Result` carries the mapping's errors, the inner one the callback's.
    ///
    /// # Errors
    ///
    /// The outer error: [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) on
    /// read-only mappings, or the policy's flush error.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 4096)?;
    /// mmap.chunks_mut(1024).for_each_mut_legacy(|_offset, chunk| {
    ///     chunk.fill(0xAB);
    ///     Ok::<(), std::io::Error>(())
    /// })??;
    /// assert_eq!(mmap.as_slice(4095, 1)?, &[0xAB]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_each_mut_legacy<F, E>(self, f: F) -> Result<std::result::Result<(), E>>
    where
        F: FnMut(u64, &mut [u8]) -> std::result::Result<(), E>,
    {
        self.run(f)
    }

    fn run<F, E>(self, mut f: F) -> Result<std::result::Result<(), E>>
    where
        F: FnMut(u64, &mut [u8]) -> std::result::Result<(), E>,
    {
        let lock = self.mmap.writable()?;
        if self.chunk == 0 {
            // Nothing to visit: the mode is the only thing to check.
            return Ok(Ok(()));
        }
        let (guard, whole) = lock.write_range(0, self.mmap.len())?;
        // SAFETY: the write guard holds the whole mapping exclusively (checked against it,
        // and against atomic views), and `guard` outlives the borrow.
        let bytes = unsafe { std::slice::from_raw_parts_mut(guard.base(), whole.end) };
        // Counted when it drops, under the guard still (it is declared after it), so the
        // chunks handed out count even if `f` panics.
        let mut visited = Visited {
            mmap: self.mmap,
            bytes: 0,
        };
        let mut outcome = Ok(());
        for chunk in bytes.chunks_mut(self.chunk) {
            let offset = visited.bytes as u64;
            visited.bytes += chunk.len();
            if let Err(e) = f(offset, chunk) {
                outcome = Err(e);
                break;
            }
        }
        drop(visited);
        drop(guard);
        if outcome.is_ok() {
            self.mmap.after_write()?;
        }
        Ok(outcome)
    }
}

/// The bytes `chunks_mut` handed out, counted as written when it drops.
struct Visited<'a> {
    mmap: &'a MemoryMappedFile,
    bytes: usize,
}

impl Drop for Visited<'_> {
    fn drop(&mut self) {
        self.mmap.record_write(self.bytes);
    }
}

impl MemoryMappedFile {
    /// Zero-copy chunks of `chunk_size` bytes (the last one may be shorter).
    ///
    /// Each item is a [`MappedSlice`] holding its own lock; a `chunk_size` of 0 yields
    /// nothing. See the [module docs](crate::iterator) for how items and `resize` interact.
    /// The items cover the mapping's length when the iterator was made (a `resize` that
    /// would move or shrink the mapping waits for it on another thread, and is refused on
    /// this one), so it yields exactly `len()` items, but
    /// where an item cannot be made: while the calling thread holds a
    /// [`MappedSliceMut`](crate::MappedSliceMut) of its bytes (it would wait for it), or
    /// over a live atomic view when its owned copy cannot be allocated, iteration ends there.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 10_000)?;
    /// let chunks = mmap.chunks(4096);
    /// assert_eq!(chunks.len(), 3);
    /// let sizes: Vec<usize> = chunks.map(|c| c.len()).collect();
    /// assert_eq!(sizes, [4096, 4096, 1808]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn chunks(&self, chunk_size: usize) -> ChunkIterator<'_> {
        ChunkIterator::new(self, chunk_size)
    }

    /// Zero-copy pages of the mapping, [`page_size`](crate::utils::page_size) bytes each.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let ps = mmap_io::utils::page_size() as u64;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 3 * ps)?;
    /// assert_eq!(mmap.pages().count(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pages(&self) -> PageIterator<'_> {
        PageIterator {
            chunks: self.chunks(crate::utils::page_size()),
        }
    }

    /// Chunks of `chunk_size` bytes, each copied into a `Vec`.
    ///
    /// A chunk that cannot be copied is an `Err` item, and the iteration ends after it: as
    /// [`read_into`](Self::read_into), including a file cut under the mapping by another
    /// process ([`MmapIoError::Io`](crate::MmapIoError::Io) of kind
    /// [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof)).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 100)?;
    /// mmap.update_region(0, b"abc")?;
    /// let first: Vec<u8> = mmap.chunks_owned(3).next().unwrap()?;
    /// assert_eq!(first, b"abc");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn chunks_owned(&self, chunk_size: usize) -> ChunkIteratorOwned<'_> {
        ChunkIteratorOwned {
            chunks: self.chunks(chunk_size),
        }
    }

    /// Pages of the mapping, each copied into a `Vec`; errors as for
    /// [`chunks_owned`](Self::chunks_owned).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 5000)?;
    /// let pages: Vec<Vec<u8>> = mmap.pages_owned().collect::<Result<_, _>>()?;
    /// assert_eq!(pages.concat().len(), 5000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pages_owned(&self) -> PageIteratorOwned<'_> {
        PageIteratorOwned {
            chunks: self.chunks_owned(crate::utils::page_size()),
        }
    }

    /// Writable chunks of `chunk_size` bytes, visited by
    /// [`for_each_mut`](ChunkIteratorMut::for_each_mut) under one write lock.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 4096)?;
    /// mmap.chunks_mut(512).for_each_mut(|_, chunk| {
    ///     chunk[0] = 1;
    ///     Ok(())
    /// })?;
    /// assert_eq!(mmap.pending_bytes(), 4096);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn chunks_mut(&self, chunk_size: usize) -> ChunkIteratorMut<'_> {
        ChunkIteratorMut {
            mmap: self,
            chunk: chunk_size,
        }
    }
}
