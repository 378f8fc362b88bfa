//! Keeping pages in RAM: [`MemoryMappedFile::lock`] and friends (`mlock`), and `lock` /
//! `unlock` on the [raw maps](crate::raw).

use crate::errors::{MmapIoError, Result};
use crate::mmap::MemoryMappedFile;
use crate::raw::{RawMmap, RawMmapMut};
use std::io;

impl MemoryMappedFile {
    /// Locks the pages covering `len` bytes at `offset` in RAM, so they are never swapped
    /// out or dropped. The range is widened to page boundaries; a zero-length range is a
    /// no-op. Locks stay until [`unlock`](Self::unlock) or the mapping is dropped.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`] if the range is past the end;
    /// [`MmapIoError::LockFailed`] if the kernel refuses, typically because the process
    /// lacks `CAP_IPC_LOCK` and the range exceeds `RLIMIT_MEMLOCK`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 4096)?;
    /// match mmap.lock(0, 4096) {
    ///     Ok(()) => mmap.unlock(0, 4096)?,
    ///     Err(e) => println!("not allowed to lock memory here: {e}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lock(&self, offset: u64, len: u64) -> Result<()> {
        self.lock_range(Some((offset, len)))
    }

    /// Unlocks the pages covering `len` bytes at `offset`; unlocking pages that are not
    /// locked is not an error.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`] if the range is past the end;
    /// [`MmapIoError::UnlockFailed`] if the kernel refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 4096)?;
    /// mmap.unlock(0, 4096)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlock(&self, offset: u64, len: u64) -> Result<()> {
        self.unlock_range(Some((offset, len)))
    }

    /// Locks every page of the mapping in RAM (see [`lock`](Self::lock)).
    ///
    /// # Errors
    ///
    /// [`MmapIoError::LockFailed`] if the kernel refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 8192)?;
    /// if mmap.lock_all().is_ok() {
    ///     mmap.unlock_all()?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lock_all(&self) -> Result<()> {
        self.lock_range(None)
    }

    /// Unlocks every page of the mapping.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::UnlockFailed`] if the kernel refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 8192)?;
    /// mmap.unlock_all()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlock_all(&self) -> Result<()> {
        self.unlock_range(None)
    }

    fn lock_range(&self, range: Option<(u64, u64)>) -> Result<()> {
        self.range_op(range, |base, start, len| {
            // SAFETY: `range_op` passes a range of the live mapping at `base`.
            unsafe { crate::os::lock(base, start, len) }
        })
        .map_err(|e| e.into_error(|e| MmapIoError::LockFailed(e.to_string())))
    }

    fn unlock_range(&self, range: Option<(u64, u64)>) -> Result<()> {
        self.range_op(range, |base, start, len| {
            // SAFETY: `range_op` passes a range of the live mapping at `base`.
            unsafe { crate::os::unlock(base, start, len) }
        })
        .map_err(|e| e.into_error(|e| MmapIoError::UnlockFailed(e.to_string())))
    }
}

impl RawMmap {
    /// Locks every page of the window in RAM (`mlock`) until [`unlock`](Self::unlock) or
    /// the map is dropped. A no-op for an empty window.
    ///
    /// # Errors
    ///
    /// The OS error if the kernel refuses, typically because the process lacks
    /// `CAP_IPC_LOCK` and the map exceeds `RLIMIT_MEMLOCK`.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = mmap_io::raw::RawMmapMut::map_anon(4096)?.make_read_only()?;
    /// if map.lock().is_ok() {
    ///     map.unlock()?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lock(&self) -> io::Result<()> {
        lock_raw(self, true)
    }

    /// Unlocks every page of the window (`munlock`); unlocking pages that are not locked is
    /// not an error.
    ///
    /// # Errors
    ///
    /// The OS error if the kernel refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// mmap_io::raw::RawMmapMut::map_anon(4096)?.make_read_only()?.unlock()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlock(&self) -> io::Result<()> {
        lock_raw(self, false)
    }
}

impl RawMmapMut {
    /// Locks every page of the map in RAM (`mlock`) until [`unlock`](Self::unlock) or the
    /// map is dropped. A no-op for an empty map.
    ///
    /// # Errors
    ///
    /// The OS error if the kernel refuses, typically because the process lacks
    /// `CAP_IPC_LOCK` and the map exceeds `RLIMIT_MEMLOCK`.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = mmap_io::raw::RawMmapMut::map_anon(4096)?;
    /// if map.lock().is_ok() {
    ///     map.unlock()?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lock(&self) -> io::Result<()> {
        lock_raw(self, true)
    }

    /// Unlocks every page of the map (`munlock`); unlocking pages that are not locked is
    /// not an error.
    ///
    /// # Errors
    ///
    /// The OS error if the kernel refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// mmap_io::raw::RawMmapMut::map_anon(4096)?.unlock()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlock(&self) -> io::Result<()> {
        lock_raw(self, false)
    }
}

/// Locks (or unlocks) the pages covering `bytes`, a whole raw map.
fn lock_raw(bytes: &[u8], lock: bool) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    let (ptr, len) = (bytes.as_ptr(), bytes.len());
    // SAFETY: `bytes` borrows a live map; the facade widens it to the whole pages of its OS
    // mapping. Locking or unlocking pages does not change what they hold.
    unsafe {
        if lock {
            crate::os::lock(ptr, 0, len)
        } else {
            crate::os::unlock(ptr, 0, len)
        }
    }
}
