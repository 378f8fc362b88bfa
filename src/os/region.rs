//! [`Region`]: the pages of a file mapping, as memmap2 makes them or, on Unix with room
//! reserved, as a [`Reservation`] that grows in place.

use memmap2::{Mmap, MmapMut};
use std::fs::File;
use std::io;

#[cfg(unix)]
pub(crate) use super::reserve::{Growth, Reservation};

/// What [`Region::grow`] did, where no reservation exists (so it never grows).
#[cfg(not(unix))]
#[allow(dead_code)]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Growth {
    Grown,
    NoRoom,
    Same,
    Shorter,
}

/// The pages of one mapping.
pub(crate) enum Region {
    /// Read-only pages (shared or private).
    ReadOnly(Mmap),
    /// Writable pages (shared, private or anonymous).
    Writable(MmapMut),
    /// A shared mapping at the start of reserved address space.
    #[cfg(unix)]
    Reserved(Reservation),
}

impl Region {
    /// Start of the mapping. Writable only for writable mappings.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        match self {
            Self::ReadOnly(m) => m.as_ptr().cast_mut(),
            Self::Writable(m) => m.as_ptr().cast_mut(),
            #[cfg(unix)]
            Self::Reserved(r) => r.as_ptr(),
        }
    }

    /// Bytes mapped now (a reservation grows without `&mut`).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::ReadOnly(m) => m.len(),
            Self::Writable(m) => m.len(),
            #[cfg(unix)]
            Self::Reserved(r) => r.len(),
        }
    }

    /// Grows the mapping in place to `new_len`, after `size` (given the mapped length) made
    /// the file that long; see [`Reservation::grow`]. Without a reservation: `NoRoom`.
    pub(crate) fn grow(
        &self,
        file: &File,
        new_len: usize,
        size: impl FnOnce(usize) -> io::Result<()>,
        undo: impl FnOnce(usize),
    ) -> io::Result<Growth> {
        match self {
            #[cfg(unix)]
            Self::Reserved(r) => r.grow(file, new_len, size, undo),
            _ if new_len == self.len() => Ok(Growth::Same),
            _ if new_len < self.len() => Ok(Growth::Shorter),
            _ => {
                let _ = (file, size, undo);
                Ok(Growth::NoRoom)
            }
        }
    }

    /// Moves the mapping to `new_len` bytes of `file` from `offset`, which the file reaches. A
    /// reservation is made again with room for twice `new_len` (or for `new_len` where that
    /// much address space cannot be had), so that growth goes on in place.
    ///
    /// # Safety
    ///
    /// No reference into the mapping may be alive: it moves.
    pub(crate) unsafe fn remap(
        &mut self,
        file: &File,
        offset: u64,
        new_len: usize,
    ) -> io::Result<()> {
        match self {
            // SAFETY: the caller's contract.
            Self::Writable(m) => unsafe { super::remap(m, file, offset, new_len) },
            #[cfg(unix)]
            Self::Reserved(r) => {
                let room = new_len.saturating_mul(2);
                let kind = r.kind();
                let again = Reservation::map(file, offset, new_len, room, kind, false)
                    .or_else(|_| Reservation::map(file, offset, new_len, new_len, kind, false))?;
                *self = Self::Reserved(again);
                Ok(())
            }
            Self::ReadOnly(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a read-only mapping is never moved",
            )),
        }
    }

    /// Shrinks the mapping and `file` to `new_len` bytes, the mapping first; on failure
    /// both keep their old length. A mapping of the whole file only: a window is shrunk by
    /// [`remap`](Self::remap), and its file is not cut.
    ///
    /// # Safety
    ///
    /// As for [`remap`](Self::remap).
    pub(crate) unsafe fn shrink(&mut self, file: &File, new_len: usize) -> io::Result<()> {
        match self {
            // SAFETY: the caller's contract.
            Self::Writable(m) => unsafe { super::shrink(m, file, new_len) },
            #[cfg(unix)]
            // SAFETY: the caller's contract covers the bytes past `new_len`.
            Self::Reserved(r) => unsafe {
                r.shrink(file, new_len, || file.set_len(new_len as u64))
            },
            Self::ReadOnly(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a read-only mapping is never shrunk",
            )),
        }
    }

    /// Writes every dirty page back and waits for them (`msync(MS_SYNC)`).
    pub(crate) fn flush(&self) -> io::Result<()> {
        match self {
            Self::ReadOnly(_) => Ok(()),
            Self::Writable(m) => m.flush(),
            #[cfg(unix)]
            Self::Reserved(r) => r.flush(0, r.len(), true),
        }
    }

    /// Writes the dirty pages of `len` bytes at `offset` back and waits for them.
    pub(crate) fn flush_range(&self, offset: usize, len: usize) -> io::Result<()> {
        match self {
            Self::ReadOnly(_) => Ok(()),
            Self::Writable(m) => m.flush_range(offset, len),
            #[cfg(unix)]
            Self::Reserved(r) => r.flush(offset, len, true),
        }
    }

    /// Starts writing back the dirty pages of `len` bytes at `offset` (`msync(MS_ASYNC)`).
    pub(crate) fn flush_async_range(&self, offset: usize, len: usize) -> io::Result<()> {
        match self {
            Self::ReadOnly(_) => Ok(()),
            Self::Writable(m) => m.flush_async_range(offset, len),
            #[cfg(unix)]
            Self::Reserved(r) => r.flush(offset, len, false),
        }
    }
}
