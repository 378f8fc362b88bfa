//! `refresh`, and following growth made through other mappings of the file in the process.

use super::{Inner, Map, MemoryMappedFile, MmapMode, RoBytes};
use crate::errors::{MmapIoError, Result};
use crate::os::Growth;
use crate::range;
use std::io;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::Arc;

impl MemoryMappedFile {
    /// Follows the file's growth: maps the bytes another handle or another process added to
    /// the file since the mapping was made, and returns the mapping's length after.
    ///
    /// With room reserved by the builder's
    /// [`reserve`](crate::mmap::MemoryMappedFileBuilder::reserve)
    /// (Unix), the new pages are mapped right after the old ones and no view is waited for.
    /// Without room, a read-write mapping moves as [`resize`](Self::resize) does (waiting for
    /// the views of the mapping), and a read-only one returns an error and keeps its length:
    /// it never moves, because its views are plain borrows. A file now shorter than the
    /// mapping is left alone (see the type's documentation on truncation).
    ///
    /// Mappings of one file in the process that have room need no `refresh` for each other:
    /// a [`resize`](Self::resize) or `refresh` that grows one grows the others in place
    /// before it returns. Mappings without room keep their length until their own
    /// `refresh`.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) if a read-only or
    /// copy-on-write mapping has no room for the file's new length, or the length does not
    /// fit in memory; as [`resize`](Self::resize) where a read-write mapping moves;
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be measured or mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::{MemoryMappedFile, MmapMode};
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("log.bin");
    /// std::fs::write(&path, b"first")?;
    /// let follower = MemoryMappedFile::builder(&path)
    ///     .mode(MmapMode::ReadOnly)
    ///     .reserve(1 << 30)
    ///     .open()?;
    /// let seen = follower.as_slice(0, 5)?; // held across the refresh
    ///
    /// // Another handle (or process) appends.
    /// use std::io::Write;
    /// std::fs::OpenOptions::new().append(true).open(&path)?.write_all(b" second")?;
    /// # if cfg!(unix) {
    /// assert_eq!(follower.refresh()?, 12);
    /// assert_eq!(follower.as_slice(5, 7)?, b" second");
    /// # }
    /// assert_eq!(&*seen, b"first");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn refresh(&self) -> Result<u64> {
        let mapped = self.inner.len.load(Acquire);
        // A window of a set length does not follow the file.
        if !self.inner.follows {
            return Ok(mapped as u64);
        }
        let on_disk = self.inner.file.metadata()?.len();
        let window = self.inner.window;
        if on_disk <= window + mapped as u64 {
            return Ok(mapped as u64);
        }
        range::resized_len(on_disk - window)?;
        match self.inner.follow_file(on_disk)? {
            Growth::Grown => self.inner.tell_followers(on_disk),
            Growth::Same | Growth::Shorter => {}
            // Moves, as a resize without room does.
            Growth::NoRoom if self.inner.mode == MmapMode::ReadWrite => {
                self.resize(on_disk - window)?
            }
            Growth::NoRoom => return Err(no_room(self.inner.mode, mapped, on_disk)),
        }
        Ok(self.len())
    }
}

impl Inner {
    /// Grows a shared mapping in place to the end of a file now `len` bytes long, waiting
    /// for no view; `NoRoom` where it must move (or is copy-on-write).
    pub(crate) fn follow_file(&self, len: u64) -> Result<Growth> {
        let Ok(new_len) = usize::try_from(len.saturating_sub(self.window)) else {
            return Ok(Growth::NoRoom);
        };
        let (file, registration) = (&self.file, self.registration.as_ref());
        // Recorded before mapping, so that no handle in the process cuts the file below
        // the new end meanwhile; the file is not grown here.
        let record = |old: usize| match registration {
            Some(r) => r.grow(file, len, |now| {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the file was cut to {now} bytes (from {old})"),
                ))
            }),
            None => Ok(()),
        };
        let undo = |old: usize| {
            if let Some(r) = registration {
                r.set_len(self.window + old as u64);
            }
        };
        let growth = match &self.map {
            Map::Writable(lock) if self.mode == MmapMode::ReadWrite => {
                lock.grow(file, new_len, record, undo, &self.len)??
            }
            Map::Writable(_) => Growth::NoRoom,
            // A read-only region never moves nor shrinks: no pin is needed.
            Map::ReadOnly(region) => {
                let growth = region.grow(file, new_len, record, undo)?;
                if growth == Growth::Grown {
                    self.len.fetch_max(new_len, Release);
                }
                growth
            }
        };
        Ok(growth)
    }

    /// Tells the other mappings of the file in the process that it grew to `len` bytes.
    pub(crate) fn tell_followers(&self, len: u64) {
        if let Some(r) = &self.registration {
            r.grown(len);
        }
    }
}

impl crate::registry::Follow for Inner {
    /// Follows in place where there is room; otherwise the mapping keeps its length until
    /// its own `refresh` (which may have to wait for its views).
    fn follow(&self, len: u64) {
        if self.follows && self.window + (self.len.load(Acquire) as u64) < len {
            let _ = self.follow_file(len);
        }
    }

    fn handle(self: Arc<Self>) -> Option<MemoryMappedFile> {
        let flusher = self.handles.get()?.upgrade()?;
        let ro = RoBytes::of(&self);
        Some(MemoryMappedFile {
            inner: self,
            flusher,
            ro,
        })
    }
}

/// The refusal of a refresh that would have to move a mapping that never moves.
fn no_room(mode: MmapMode, mapped: usize, on_disk: u64) -> MmapIoError {
    let how = match mode {
        MmapMode::CopyOnWrite => "a copy-on-write mapping is never remapped; open it again",
        _ => {
            "a read-only mapping never moves; reserve room with the builder's `reserve`, or \
             open it again"
        }
    };
    MmapIoError::ResizeFailed(format!(
        "the file grew to {on_disk} bytes, past the {mapped} bytes mapped and the room \
         reserved: {how}"
    ))
}
