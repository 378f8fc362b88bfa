//! File change notifications: [`MemoryMappedFile::watch`], on the `notify` crate (inotify on
//! Linux, FSEvents on macOS, ReadDirectoryChangesW on Windows).
//!
//! Writes made through another file handle or by another process are reported promptly.
//! Writes made through a mapping reach the watcher only when the kernel writes the pages
//! back, if at all: do not rely on them.

use crate::errors::{MmapIoError, Result};
use crate::mmap::MemoryMappedFile;
use notify::event::{EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// What changed about a watched file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// The contents changed.
    Modified,
    /// Metadata (permissions, timestamps, links, name) changed.
    Metadata,
    /// The file was removed.
    Removed,
}

/// One change to a watched file.
///
/// `offset` and `len` say which bytes changed when the platform reports it; inotify does
/// not, so on Linux they are `None`.
#[derive(Debug, Clone)]
pub struct ChangeEvent {
    /// Offset of the changed bytes, if known.
    pub offset: Option<u64>,
    /// Number of changed bytes, if known.
    pub len: Option<u64>,
    /// What changed.
    pub kind: ChangeKind,
}

/// A running watch; dropping it stops the watch.
///
/// `drop` returns only once the thread that runs the callback has ended, so the callback is
/// never called after the handle is gone, and whatever it captured is dropped by then.
#[derive(Debug)]
#[must_use = "the watch stops when the handle is dropped"]
pub struct WatchHandle {
    watcher: Option<RecommendedWatcher>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How often the callback thread checks for a stop request while no event arrives.
const POLL: Duration = Duration::from_millis(100);

impl MemoryMappedFile {
    /// Calls `callback` on a background thread for every change to the mapped file, until
    /// the returned handle is dropped.
    ///
    /// The callback runs on one thread, one call at a time, so it may keep state of its own
    /// (it is `FnMut`) without a lock.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::WatchFailed`] if the watch cannot be set up (for instance the file
    /// no longer exists), [`MmapIoError::Io`] if the thread cannot be started.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::{ChangeEvent, ChangeKind};
    /// use std::io::Write;
    /// use std::sync::mpsc;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("watched.bin");
    /// let mmap = mmap_io::create_mmap(&path, 1024)?;
    /// let (tx, rx) = mpsc::channel();
    /// let handle = mmap.watch(move |event: ChangeEvent| {
    ///     let _ = tx.send(event.kind);
    /// })?;
    /// let mut other = std::fs::OpenOptions::new().write(true).open(&path)?;
    /// other.write_all(&[1u8; 1024])?; // another writer
    /// let kind = rx.recv_timeout(std::time::Duration::from_secs(10))?;
    /// assert_eq!(kind, ChangeKind::Modified);
    /// drop(handle);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn watch<F>(&self, mut callback: F) -> Result<WatchHandle>
    where
        F: FnMut(ChangeEvent) + Send + 'static,
    {
        let watch_failed = |e: notify::Error| MmapIoError::WatchFailed(e.to_string());
        let (tx, rx) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(tx).map_err(watch_failed)?;
        watcher
            .watch(self.path(), RecursiveMode::NonRecursive)
            .map_err(watch_failed)?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let path = self.path().to_path_buf();
        let thread = std::thread::Builder::new()
            .name("mmap-io-watch".into())
            .spawn(move || loop {
                match rx.recv_timeout(POLL) {
                    _ if thread_stop.load(Ordering::Acquire) => break,
                    Ok(Ok(event)) => {
                        if let Some(kind) = change_kind(&event.kind, &path) {
                            callback(ChangeEvent {
                                offset: None,
                                len: None,
                                kind,
                            });
                        }
                    }
                    Ok(Err(_)) | Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            })?;
        Ok(WatchHandle {
            watcher: Some(watcher),
            stop,
            thread: Some(thread),
        })
    }
}

/// The change an event reports, if it is one a watcher of file contents cares about.
///
/// A file that is still mapped (or open) is not deleted when it is unlinked, so the kernel
/// reports its removal as a metadata change (its link count dropped to zero): a metadata or
/// name change after which nothing is left at `path` is reported as a removal.
fn change_kind(kind: &EventKind, path: &Path) -> Option<ChangeKind> {
    match kind {
        EventKind::Modify(ModifyKind::Metadata(_) | ModifyKind::Name(_)) => {
            match std::fs::symlink_metadata(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(ChangeKind::Removed),
                _ => Some(ChangeKind::Metadata),
            }
        }
        EventKind::Modify(_) => Some(ChangeKind::Modified),
        EventKind::Remove(_) => Some(ChangeKind::Removed),
        _ => None,
    }
}

impl WatchHandle {
    /// Whether the watch is still delivering events (false once its callback panicked).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 16)?;
    /// let handle = mmap.watch(|_| {})?;
    /// assert!(handle.is_active());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_active(&self) -> bool {
        !self.stop.load(Ordering::Acquire) && self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for WatchHandle {
    /// Stops the watch and waits for the callback thread to end.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Dropping the watcher ends notify's own thread, which closes the channel and wakes
        // ours at once; the stop flag and the poll interval bound the wait regardless.
        drop(self.watcher.take());
        if let Some(thread) = self.thread.take() {
            // Not joined from the callback itself (it stops once the callback returns), nor
            // where this thread holds views a callback in progress may be waiting for: the
            // thread then ends on its own once the callback returns.
            if thread.thread().id() == std::thread::current().id() || crate::sync::holds_views() {
                return;
            }
            // A panic in the callback already ended the thread; nothing is left to stop.
            let _ = thread.join();
        }
    }
}
