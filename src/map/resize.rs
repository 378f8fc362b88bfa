//! `resize`: grow or shrink the file and the mapping together.

use super::{Map, MemoryMappedFile, MmapMode};
use crate::errors::{invalid_mode, MmapIoError, Result};
use crate::os::Growth;
use crate::range;
use crate::sync::MapLock;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

const RESIZE_NEEDS_RW: &str = "resize needs a read-write mapping";

impl MemoryMappedFile {
    /// Grows or shrinks the file and the mapping to `new_size` bytes (read-write only).
    ///
    /// Takes the write lock before it touches the file, so it waits for every live slice,
    /// view (atomic views included), guard and iterator item; if the calling thread holds
    /// one, it returns [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) at once instead of waiting forever.
    /// Growing adds zero bytes; shrinking drops the tail.
    /// On failure the file and the mapping keep their old length.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) on read-only and copy-on-write mappings, or if this
    /// thread holds a view of the mapping;
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) if `new_size` is 0 or does not fit in memory, or if
    /// another process truncated the file below the mapping;
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be resized or remapped (with the builder's
    /// `preallocate`, `ENOSPC` when the disk is full).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 1024)?;
    /// mmap.resize(2048)?;
    /// assert_eq!(mmap.len(), 2048);
    /// mmap.update_region(2040, b"grown")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resize(&self, new_size: u64) -> Result<()> {
        let lock = match &self.inner.map {
            Map::Writable(lock) if self.inner.mode == MmapMode::ReadWrite => lock,
            _ => return Err(invalid_mode(RESIZE_NEEDS_RW)),
        };
        let new_len = range::resized_len(new_size)?;
        if self.grow_in_place(lock, new_size, new_len)? {
            return Ok(());
        }
        let mut guard = lock.resize()?;
        let old_len = guard.len();
        self.inner
            .check_not_truncated(old_len)
            .map_err(|e| MmapIoError::ResizeFailed(e.to_string()))?;
        let file = &self.inner.file;
        let registration = self.inner.registration.as_ref();
        let result = if new_len > old_len {
            let (old, new, prealloc) = (old_len as u64, new_size, self.inner.preallocate);
            let grown = match registration {
                // Under the registry's lock: never shrinks a file another handle grew.
                Some(r) => r.grow(file, new, |now| super::size_file(file, now, new, prealloc)),
                None => super::size_file(file, old, new, prealloc),
            };
            grown.and_then(|()| {
                // SAFETY: we hold a resize guard, so no view of any kind points into the
                // pages.
                unsafe { guard.map_mut().remap(file, new_len) }.map_err(|e| {
                    match registration {
                        Some(r) => r.grow_failed(file, old),
                        None => {
                            let _ = file.set_len(old);
                        }
                    }
                    e
                })
            })
        } else if new_len < old_len {
            let mut shrink = || {
                // SAFETY: as above.
                unsafe { guard.map_mut().shrink(file, new_len) }
            };
            match registration {
                Some(r) => match r.shrink(new_size, shrink) {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(refusal)) => return Err(MmapIoError::ResizeFailed(refusal.message())),
                    Err(e) => Err(e),
                },
                None => shrink(),
            }
        } else {
            Ok(())
        };
        guard.moved();
        let len = guard.len();
        self.inner.len.store(len, Release);
        self.inner.populated.fetch_min(len, Relaxed);
        drop(guard);
        if result.is_ok() {
            // A remap may have made a new mapping, without the hints the old one had.
            self.apply_page_hints();
        }
        result.map_err(MmapIoError::from)
    }

    /// Grows a mapping that has room reserved where it is, waiting for no view: `true` if
    /// it did, `false` if the mapping must move or shrink (or the length is its own).
    fn grow_in_place(&self, lock: &MapLock, new_size: u64, new_len: usize) -> Result<bool> {
        let file = &self.inner.file;
        let registration = self.inner.registration.as_ref();
        let prealloc = self.inner.preallocate;
        let size = |old: usize| {
            self.inner.check_not_truncated(old)?;
            match registration {
                // Under the registry's lock: never shrinks a file another handle grew.
                Some(r) => r.grow(file, new_size, |now| {
                    super::size_file(file, now, new_size, prealloc)
                }),
                None => super::size_file(file, old as u64, new_size, prealloc),
            }
        };
        let undo = |old: usize| match registration {
            Some(r) => r.grow_failed(file, old as u64),
            None => {
                let _ = file.set_len(old as u64);
            }
        };
        let growth = lock.grow(file, new_len, size, undo, &self.inner.len)?;
        let growth = growth.map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                MmapIoError::ResizeFailed(e.to_string())
            } else {
                MmapIoError::from(e)
            }
        })?;
        if growth != Growth::Grown {
            return Ok(false);
        }
        self.apply_page_hints();
        Ok(true)
    }

    /// Follows the file's growth: maps the bytes another handle or another process added to
    /// the file since the mapping was made, and returns the mapping's length after.
    ///
    /// With room reserved by the builder's [`reserve`](crate::MemoryMappedFileBuilder::reserve)
    /// (Unix), the new pages are mapped right after the old ones and no view is waited for.
    /// Without room, a read-write mapping moves as [`resize`](Self::resize) does (waiting for
    /// the views of the mapping), and a read-only one returns an error and keeps its length:
    /// it never moves, because its views are plain borrows. A file now shorter than the
    /// mapping is left alone (see the type's documentation on truncation).
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
    /// // Another process appends.
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
        let on_disk = self.inner.file.metadata()?.len();
        let mapped = self.inner.len.load(Acquire);
        if on_disk <= mapped as u64 {
            return Ok(mapped as u64);
        }
        let new_len = range::resized_len(on_disk)?;
        match &self.inner.map {
            Map::Writable(_) if self.inner.mode == MmapMode::ReadWrite => {
                self.resize(on_disk)?;
            }
            Map::Writable(_) => return Err(no_room(self.inner.mode, mapped, on_disk)),
            Map::ReadOnly(region) => {
                let (file, registration) = (&self.inner.file, self.inner.registration.as_ref());
                // Recorded before mapping, so that no handle in the process cuts the file
                // below the new end meanwhile.
                let record = |old: usize| match registration {
                    Some(r) => r.grow(file, on_disk, |now| {
                        Err(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!("the file was cut to {now} bytes (from {old})"),
                        ))
                    }),
                    None => Ok(()),
                };
                let undo = |old: usize| {
                    if let Some(r) = registration {
                        r.set_len(old as u64);
                    }
                };
                // A read-only region never moves nor shrinks: no pin is needed.
                match region.grow(file, new_len, record, undo)? {
                    Growth::Grown => {
                        self.inner.len.fetch_max(new_len, Release);
                    }
                    Growth::NotLonger => {}
                    Growth::NoRoom => return Err(no_room(self.inner.mode, mapped, on_disk)),
                }
            }
        }
        Ok(self.len())
    }
}

/// The refusal of a refresh that would have to move a mapping that never moves.
fn no_room(mode: MmapMode, mapped: usize, on_disk: u64) -> MmapIoError {
    let how = match mode {
        MmapMode::CopyOnWrite => "a copy-on-write mapping is never remapped; open it again",
        _ => "a read-only mapping never moves; reserve room with the builder's `reserve`, or open it again",
    };
    MmapIoError::ResizeFailed(format!(
        "the file grew to {on_disk} bytes, past the {mapped} bytes mapped and the room reserved: {how}"
    ))
}
