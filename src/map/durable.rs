//! Durability: `flush` and `flush_range`, and the sync every flush path goes through.

use super::{Inner, Map, MemoryMappedFile, MmapMode};
use crate::errors::{MmapIoError, Result};
use crate::flush::Caller;
use crate::range;
use std::io;

impl MemoryMappedFile {
    /// Writes every dirty page of a read-write mapping back to the file and waits until it
    /// is durable (`msync(MS_SYNC)`); a no-op on read-only and copy-on-write mappings.
    ///
    /// Durable on every call, whatever wrote the bytes. After it returns `Ok`, no page of
    /// the mapping is dirty and a fresh read-only mapping of the file sees the bytes. It
    /// takes no lock on the mapping's bytes, so views may stay alive meanwhile.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::FlushFailed`](crate::MmapIoError::FlushFailed) if write-back fails now, or failed in another flush
    /// (the background flusher, a policy flush, a concurrent or the previous `flush` or
    /// `flush_range`) whose error is owed to this call: the kernel reports a write-back error
    /// once, so every flush in progress when it is met, and the next one, return it. Also if
    /// another process truncated the file below the mapping (checked first; nothing is
    /// touched then).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(&path, 64)?;
    /// mmap.update_region(0, b"durable")?;
    /// mmap.flush()?;
    /// assert_eq!(&std::fs::read(&path)?[..7], b"durable");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&self) -> Result<()> {
        if self.inner.mode != MmapMode::ReadWrite {
            return Ok(());
        }
        self.inner.sync(Caller::Flush, true)
    }

    /// Like [`flush`](Self::flush) for the pages covering `len` bytes at `offset` (the range
    /// is widened to page boundaries). A no-op on read-only and copy-on-write mappings.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the end;
    /// [`MmapIoError::FlushFailed`](crate::MmapIoError::FlushFailed) as for `flush`. A
    /// flush waits for no view or write (views of the mapping may be held across it); it
    /// keeps the mapping in place, so a `resize` that moves or shrinks it waits for the
    /// flush.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 8192)?;
    /// mmap.update_region(5000, b"record")?;
    /// mmap.flush_range(5000, 6)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush_range(&self, offset: u64, len: u64) -> Result<()> {
        let lock = match &self.inner.map {
            Map::Writable(lock) if self.inner.mode == MmapMode::ReadWrite => lock,
            _ => return self.with_range(Some((offset, len)), |_, _, _| ()),
        };
        let (r, whole) = {
            // A pin: keeps the mapping in place (a resize out), waits for no write.
            let (guard, _) = lock.read_copy(0, 0)?;
            let r = range::checked(offset, len, guard.len())?;
            self.inner
                .check_not_truncated(guard.len())
                .map_err(|e| MmapIoError::FlushFailed(e.to_string()))?;
            let whole = r.len() == guard.len();
            (r, whole)
        };
        if r.is_empty() {
            return Ok(());
        }
        let done = self.inner.flush.snapshot();
        let mut shrunk = None;
        // Every sync takes the one-at-a-time turn first and a guard second, never the other
        // way round (a guard held while waiting for the turn could hold up a writer that the
        // sync in turn waits for).
        self.inner
            .flush
            .sync(Caller::Flush, true, || {
                let (guard, _) = lock
                    .read_copy(0, 0)
                    .map_err(|c| io::Error::new(io::ErrorKind::WouldBlock, c.0))?;
                if r.end > guard.len() {
                    shrunk = Some(guard.len());
                    return Ok(());
                }
                guard.flush_range(r.start, r.len())
            })
            .map_err(MmapIoError::FlushFailed)?;
        if let Some(total) = shrunk {
            return Err(crate::errors::out_of_bounds(offset, len, total as u64));
        }
        // Only a flush of every page covers writes the counters cannot place.
        if whole {
            self.inner.flush.debit(done);
        }
        Ok(())
    }

    /// Starts writing every dirty page of the mapping back to the file and returns without
    /// waiting: nothing is durable yet, and [`pending_bytes`](Self::pending_bytes) is
    /// unchanged (a later [`flush`](Self::flush) finds less to do). A validated no-op on
    /// read-only and copy-on-write mappings.
    ///
    /// Linux: `sync_file_range(SYNC_FILE_RANGE_WRITE)`; other Unix: `msync(MS_ASYNC)`.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::FlushFailed`](crate::MmapIoError::FlushFailed) if the kernel refuses
    /// to start the write-back, or the file was truncated below the mapping.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 1 << 20)?;
    /// mmap.update_region(0, &[7; 4096])?;
    /// mmap.schedule_flush()?; // write-back starts in the background
    /// assert_eq!(mmap.pending_bytes(), 4096);
    /// mmap.flush()?; // durable
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule_flush(&self) -> Result<()> {
        self.schedule(None)
    }

    /// Like [`schedule_flush`](Self::schedule_flush) for the pages covering `len` bytes at
    /// `offset` (widened to page boundaries).
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past the
    /// end, on every mode; otherwise as for `schedule_flush`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 1 << 20)?;
    /// mmap.update_region(8192, b"record")?;
    /// mmap.schedule_flush_range(8192, 6)?;
    /// assert!(mmap.schedule_flush_range(1 << 20, 1).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule_flush_range(&self, offset: u64, len: u64) -> Result<()> {
        self.schedule(Some((offset, len)))
    }

    fn schedule(&self, range: Option<(u64, u64)>) -> Result<()> {
        let lock = match &self.inner.map {
            Map::Writable(lock) if self.inner.mode == MmapMode::ReadWrite => lock,
            _ => return self.with_range(range, |_, _, _| ()),
        };
        let r = self.with_range(range, |_, r, _| r)?;
        if r.is_empty() {
            return Ok(());
        }
        let page = crate::os::page_size();
        let start = r.start - r.start % page;
        let len = r.end - start;
        self.inner
            .check_not_truncated(r.end)
            .map_err(|e| MmapIoError::FlushFailed(e.to_string()))?;
        // The file's bytes for `sync_file_range`, the mapping's for `msync`.
        let in_file = self.inner.window + start as u64;
        crate::os::start_writeback(&self.inner.file, in_file, len, || {
            let (guard, _) = lock
                .read_copy(0, 0)
                .map_err(|c| io::Error::new(io::ErrorKind::WouldBlock, c.0))?;
            // A resize may have shrunk the mapping since the range was checked.
            let end = (start + len).min(guard.len());
            guard.flush_async_range(start, end.saturating_sub(start))
        })
        .map_err(|e| MmapIoError::FlushFailed(e.to_string()))
    }
}

impl Inner {
    /// Writes back every dirty page of a read-write mapping and waits for it to be
    /// durable; on success, marks what was written before as flushed. `caller` decides the
    /// errors it returns (see [`Caller`]). With `wait` false (the policy flush of a `try_`
    /// write) it never waits for a guard another thread holds, nor for another thread's sync
    /// in progress: where it would, nothing is synced or marked, and the flush is left for
    /// later.
    pub(crate) fn sync(&self, caller: Caller, wait: bool) -> Result<()> {
        let Map::Writable(lock) = &self.map else {
            return Ok(());
        };
        let read = || match wait {
            true => lock.read_copy(0, 0).map(|(guard, _)| Some(guard)),
            false => match lock.try_read_copy(0, 0) {
                Err(crate::sync::WOULD_BLOCK) => Ok(None),
                other => other.map(|(guard, _)| Some(guard)),
            },
        };
        let done = self.flush.snapshot();
        {
            // Under a guard, so that a resize in progress cannot look like a truncation.
            let Some(guard) = read()? else {
                return Ok(());
            };
            self.check_not_truncated(guard.len())
                .map_err(|e| MmapIoError::FlushFailed(e.to_string()))?;
        }
        let skipped = std::cell::Cell::new(false);
        // Without `wait`, a sync in progress on another thread may itself be waiting for a
        // guard (`flush_range`, or any sync where it goes through the mapping): this one is
        // then skipped too, and left for later.
        let ran = self
            .flush
            .sync(caller, wait, || {
                crate::os::sync_shared_mapping(&self.file, || {
                    match read().map_err(|c| io::Error::new(io::ErrorKind::WouldBlock, c.0))? {
                        Some(guard) => guard.flush(),
                        None => {
                            skipped.set(true);
                            Ok(())
                        }
                    }
                })
            })
            .map_err(MmapIoError::FlushFailed)?;
        if ran && !skipped.get() {
            self.flush.debit(done);
        }
        Ok(())
    }
}
