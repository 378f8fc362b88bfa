//! `resize`: grow or shrink the file and the mapping together.

use super::{Map, MemoryMappedFile, MmapMode};
use crate::errors::{invalid_mode, MmapIoError, Result};
use crate::os::Growth;
use crate::range;
use crate::sync::MapLock;
use std::sync::atomic::Ordering::{Relaxed, Release};

const RESIZE_NEEDS_RW: &str = "resize needs a read-write mapping";

impl MemoryMappedFile {
    /// Grows or shrinks the file and the mapping to `new_size` bytes (read-write only). A
    /// window of the file (the builder's `offset` or `len`) grows the file only as far as
    /// its new end needs, and never cuts it.
    ///
    /// Growing within the room the builder's
    /// [`reserve`](crate::mmap::MemoryMappedFileBuilder::reserve) set aside (Unix) maps the new
    /// pages right after the old ones: the mapping does not move, and no view is waited
    /// for. Otherwise the mapping may move, so a resize takes the write lock before it
    /// touches the file and waits for every live slice, view (atomic views included), guard
    /// and iterator item of the mapping; if the calling thread holds one, it returns
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) at once instead of
    /// waiting forever. Shrinking always waits so.
    /// Growing past the file's end adds zero bytes; shrinking drops the tail. Other mappings
    /// of the file in the process that have room (and no set `len`) follow growth at once
    /// (see [`refresh`](Self::refresh)).
    /// On failure the file and the mapping keep their old length.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) on read-only and
    /// copy-on-write mappings, or if this thread holds a view of the mapping and the resize
    /// would wait for it;
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
        // The file's length that the window's new end needs.
        let window = self.inner.window;
        let new_end = window.checked_add(new_size).ok_or_else(|| {
            MmapIoError::ResizeFailed(format!("a window at {window} cannot grow to {new_size}"))
        })?;
        if self.grow_in_place(lock, new_end, new_len)? {
            self.inner.tell_followers(new_end);
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
            let (old, new, prealloc) = (window + old_len as u64, new_end, self.inner.preallocate);
            // The file's length before this call grew it, if it did.
            let was = std::cell::Cell::new(None);
            let grown = match registration {
                // Under the registry's lock: never shrinks a file another handle grew.
                Some(r) => r.grow(file, new, |now| {
                    was.set(Some(now));
                    super::size_file(file, now, new, prealloc)
                }),
                None => grow_file(file, new, prealloc, &was),
            };
            grown.and_then(|()| {
                // SAFETY: we hold a resize guard, so no view of any kind points into the
                // pages.
                unsafe { guard.map_mut().remap(file, window, new_len) }.map_err(|e| {
                    match registration {
                        Some(r) => r.grow_failed(file, old, was.get()),
                        None => {
                            if let Some(was) = was.get() {
                                let _ = file.set_len(was);
                            }
                        }
                    }
                    e
                })
            })
        } else if new_len < old_len && !self.inner.is_whole() {
            // A window shrinks alone: the file goes on past it.
            // SAFETY: as above.
            let shrunk = unsafe { guard.map_mut().remap(file, window, new_len) };
            if let (Ok(()), Some(r)) = (&shrunk, registration) {
                r.set_len(new_end);
            }
            shrunk
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
            if new_len > old_len {
                self.inner.tell_followers(new_end);
            }
        }
        result.map_err(MmapIoError::from)
    }

    /// Grows a mapping that has room reserved where it is, waiting for no view: `true` if
    /// it did (or another call already had), `false` if the mapping must move or shrink.
    /// `new_end` is where the window ends in the file then.
    fn grow_in_place(&self, lock: &MapLock, new_end: u64, new_len: usize) -> Result<bool> {
        let file = &self.inner.file;
        let registration = self.inner.registration.as_ref();
        let prealloc = self.inner.preallocate;
        let window = self.inner.window;
        let was = std::cell::Cell::new(None);
        let size = |old: usize| {
            self.inner.check_not_truncated(old)?;
            match registration {
                // Under the registry's lock: never shrinks a file another handle grew.
                Some(r) => r.grow(file, new_end, |now| {
                    was.set(Some(now));
                    super::size_file(file, now, new_end, prealloc)
                }),
                None => grow_file(file, new_end, prealloc, &was),
            }
        };
        let undo = |old: usize| match registration {
            Some(r) => r.grow_failed(file, window + old as u64, was.get()),
            None => {
                if let Some(was) = was.get() {
                    let _ = file.set_len(was);
                }
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
        // Huge-page advice for the new pages was given as they were mapped.
        Ok(matches!(growth, Growth::Grown | Growth::Same))
    }
}

/// Grows `file` to `len` bytes unless it is that long already (a file without an identity,
/// which no registry entry guards), noting in `was` the length it grew from.
fn grow_file(
    file: &std::fs::File,
    len: u64,
    preallocate: bool,
    was: &std::cell::Cell<Option<u64>>,
) -> std::io::Result<()> {
    let now = file.metadata()?.len();
    if now < len {
        was.set(Some(now));
        super::size_file(file, now, len, preallocate)?;
    }
    Ok(())
}
