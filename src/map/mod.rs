//! [`MemoryMappedFile`]: a file mapped into memory, shared between threads.
//!
//! The handle and its shared state live here; constructors in `open`, views and copies in
//! `access`, flushing in `durable`, `resize` in `resize`, page touching in `touch`.

mod access;
mod builder;
mod create;
mod durable;
mod follow;
mod open;
mod resize;
mod touch;

pub(crate) use builder::size_file;
pub use builder::MemoryMappedFileBuilder;

use crate::errors::{invalid_mode, Result};
use crate::flush::{FlushPolicy, FlushState, Flusher};
use crate::sync::{FileLock, MapLock, Ticket};
use std::fmt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// How a file is mapped.
///
/// # Examples
///
/// ```
/// use mmap_io::{load_mmap, create_mmap, MmapMode};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("data.bin");
/// create_mmap(&path, 4096)?;
/// let ro = load_mmap(&path, MmapMode::ReadOnly)?;
/// assert_eq!(ro.mode(), MmapMode::ReadOnly);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MmapMode {
    /// Reads only; writes return [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode).
    /// Reads take no mutex; views are published to the file's lock.
    ReadOnly,
    /// Reads and writes; writes reach the file, and [`flush`](MemoryMappedFile::flush) makes
    /// them durable.
    ReadWrite,
    /// Private, writable pages: writes stay in this process and never reach the file.
    /// Needs the `cow` feature; without it, opening in this mode returns
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode).
    CopyOnWrite,
}

/// Whether a constructor faults every page in before it returns.
///
/// # Examples
///
/// ```
/// use mmap_io::{MemoryMappedFile, MmapMode, TouchHint};
///
/// let dir = tempfile::tempdir()?;
/// let mmap = MemoryMappedFile::builder(dir.path().join("warm.bin"))
///     .mode(MmapMode::ReadWrite)
///     .size(1 << 20)
///     .touch_hint(TouchHint::Eager)
///     .create()?;
/// assert_eq!(mmap.len(), 1 << 20);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TouchHint {
    /// Pages are faulted in on first access. The default.
    #[default]
    Never,
    /// Every page is touched when the mapping is made (see
    /// [`touch_pages`](MemoryMappedFile::touch_pages)).
    Eager,
    /// Same as [`Never`](TouchHint::Never).
    Lazy,
}

/// The pages of a mapping: read-only ones need no lock, writable ones are guarded.
pub(crate) enum Map {
    ReadOnly(crate::os::Region),
    Writable(Box<MapLock>),
}

/// The state every handle to one mapping shares. Built only by `MemoryMappedFile::map_file`.
pub(crate) struct Inner {
    pub(crate) map: Map,
    /// The mapping's length: updated by `resize` under the write lock, or stored (release)
    /// after growth in place has mapped the new pages.
    pub(crate) len: AtomicUsize,
    /// How far from the start touching has faulted the mapping in: below this, pages are
    /// most likely mapped already, and reading them is cheaper than asking the kernel to
    /// populate them (which pins and releases every page); above it, populating is cheaper.
    /// A hint only: a page dropped since is simply faulted in again.
    pub(crate) populated: AtomicUsize,
    pub(crate) mode: MmapMode,
    pub(crate) flush: FlushState,
    #[cfg_attr(not(feature = "hugepages"), allow(dead_code))]
    pub(crate) huge_pages: bool,
    /// Grow the file with its blocks allocated (see the builder's `preallocate`).
    pub(crate) preallocate: bool,
    /// This mapping's entry in the process-wide table of mappings by file.
    pub(crate) registration: Option<crate::registry::Registration>,
    /// What every handle holds (its `flusher`), once made: a handle can be made from the
    /// mapping while one is alive.
    pub(crate) handles: std::sync::OnceLock<std::sync::Weak<Option<Flusher>>>,
    /// The bytes `as_slice_bytes` lent (the smallest range that covers every call's), kept
    /// from writes until the last handle drops. Declared (so dropped) before `lock`.
    pub(crate) lent: parking_lot::Mutex<Option<Lent>>,
    /// The lock every mapping of the file shares, and this mapping's id under it.
    pub(crate) lock: Arc<FileLock>,
    pub(crate) id: usize,
    /// Where in the file the mapping starts (the builder's `offset`), and whether its length
    /// follows the file's (no `len` was set).
    pub(crate) window: u64,
    pub(crate) follows: bool,
    pub(crate) path: PathBuf,
    pub(crate) file: File,
}

pub(crate) const READ_ONLY: &str = "mapping is read-only";
pub(crate) const COW_READ_ONLY: &str =
    "copy-on-write mapping is read-only; open it with open_cow_writable to write to it";

/// A file mapped into memory: zero-copy reads, concurrent writes, durable flushes.
///
/// A `MemoryMappedFile` is a cheap handle: [`Clone`] gives another handle to the same
/// mapping, and it is `Send + Sync`, so it can be shared between threads as is or in an
/// [`Arc`]. The mapping is unmapped when the last handle, and the last `Bytes` shared from
/// it (by `read_bytes` or `Bytes::from` a view), is dropped.
///
/// # Concurrency
///
/// Every mapping of one file in the process (every handle, clone and mode, however the
/// file was reached: another path, a hard link, a symlink) shares one coordination state,
/// and a guard covers the bytes it views, not the mapping: [`as_slice`](Self::as_slice) and
/// the other views publish their range while they live (with plain stores to the thread's
/// own record while reads dominate); a write ([`update_region`](Self::update_region),
/// [`as_slice_mut`](Self::as_slice_mut), an atomic view, a create or copy onto the file)
/// waits only for the views of its own bytes, and [`resize`](Self::resize) for the views
/// of its mapping (none, when it grows within reserved room: see
/// [`reserve`](crate::mmap::MemoryMappedFileBuilder::reserve)). A writer waiting is not
/// starved by new readers. A thread may hold any number of views; a call that would wait
/// for a view the calling thread made returns
/// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) at once instead of
/// deadlocking. No plain view or write of bytes may live with an atomic view of them (see
/// the `atomic` module). Handles of one file in the process never shrink it under each
/// other: [`resize`](Self::resize) and truncating creates return
/// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) instead. The protocol is
/// in `docs/CONCURRENCY.md`.
///
/// # Durability
///
/// On a read-write mapping, [`flush`](Self::flush) returns only once every dirty page is
/// written back to the file (`msync(MS_SYNC)`), whatever wrote the bytes. A
/// [`FlushPolicy`] adds automatic flushes.
///
/// # What this type cannot protect against
///
/// The bytes of a mapping are the file's bytes. If another process (or code that bypasses
/// the crate: `std::fs`, [`raw`](crate::raw), raw pointers) truncates the file while it is
/// mapped, touching the lost pages raises `SIGBUS`; if it writes the file, views see the
/// bytes change under them. Share files only with cooperating processes.
///
/// The crate's copies catch that fault where the platform allows (Linux on x86_64 and i686,
/// Windows on x86_64): [`read_into`](Self::read_into), [`update_region`](Self::update_region)
/// and the other copying calls listed on [`MmapIoError`](crate::MmapIoError) return
/// [`MmapIoError::Io`](crate::MmapIoError::Io) of kind
/// [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof) instead. [`flush`](Self::flush),
/// [`flush_range`](Self::flush_range) and [`resize`](Self::resize) check the file's length
/// first and return an error, without touching a page. Views ([`as_slice`](Self::as_slice),
/// [`as_slice_mut`](Self::as_slice_mut), atomic views) are the mapped memory itself: a load
/// or store through one past the new end kills the process, so after such a truncation use
/// only the copying calls until the file is grown back.
///
/// # Examples
///
/// ```
/// use mmap_io::MemoryMappedFile;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("data.bin");
///
/// let mmap = MemoryMappedFile::create_rw(&path, 1024)?;
/// mmap.update_region(100, b"Hello, mmap!")?;
/// mmap.flush()?;
///
/// let ro = MemoryMappedFile::open_ro(&path)?;
/// assert_eq!(ro.as_slice(100, 12)?, b"Hello, mmap!");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MemoryMappedFile {
    pub(crate) inner: Arc<Inner>,
    /// Present with [`FlushPolicy::EveryMillis`]; every handle holds it (so it counts the
    /// handles), and the thread is stopped and joined when the last handle drops.
    pub(crate) flusher: Arc<Option<Flusher>>,
    /// The bytes of a read-only mapping, so that reads reach them without going through
    /// `inner`; `None` for writable mappings.
    pub(crate) ro: Option<RoBytes>,
}

/// Address of a read-only mapping owned by the handle's `inner` (which never moves: it only
/// grows in place, and `inner.len` says how far), and the lock of its file (owned by `inner`
/// too).
#[derive(Clone, Copy)]
pub(crate) struct RoBytes {
    pub(crate) ptr: *const u8,
    /// Where in the file the mapping starts.
    pub(crate) window: u64,
    pub(crate) lock: *const FileLock,
    pub(crate) id: usize,
}

impl RoBytes {
    /// The bytes of `inner`'s mapping if it is read-only.
    pub(crate) fn of(inner: &Inner) -> Option<Self> {
        match &inner.map {
            Map::ReadOnly(map) => Some(Self {
                ptr: map.as_ptr(),
                window: inner.window,
                lock: Arc::as_ptr(&inner.lock),
                id: inner.id,
            }),
            Map::Writable(_) => None,
        }
    }
}

/// A range lent by `as_slice_bytes`, and the entry that keeps writes out of it.
pub(crate) struct Lent {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) _ticket: Ticket<'static>,
}

// SAFETY: `ro` points into the read-only mapping and to the file lock that `inner` owns (kept
// alive by the handle's `Arc`); the mapping is only ever read, the lock is `Sync`, and the
// rest of the handle is `Send + Sync` on its own.
unsafe impl Send for MemoryMappedFile {}
// SAFETY: as above; shared access only reads the mapping.
unsafe impl Sync for MemoryMappedFile {}

// A panic that unwinds through a user's closure leaves the handle's own state consistent:
// guards release on drop, no invariant of the crate spans user code, and the mapped bytes
// are plain data (a write cut short leaves bytes half written, as for any buffer). So a
// handle may cross `catch_unwind`.
impl std::panic::UnwindSafe for MemoryMappedFile {}
impl std::panic::RefUnwindSafe for MemoryMappedFile {}

impl MemoryMappedFile {
    /// Length of the mapping in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 4096)?;
    /// assert_eq!(mmap.len(), 4096);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn len(&self) -> u64 {
        self.inner.len.load(Relaxed) as u64
    }

    /// Whether the mapping is empty (only a read-only mapping of no bytes is: an empty file,
    /// or a window of none).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("empty.bin");
    /// std::fs::write(&path, b"")?;
    /// let mmap = mmap_io::MemoryMappedFile::open_ro(&path)?;
    /// assert!(mmap.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Length of the mapping, as [`len`](Self::len) gives it: it changes only through
    /// [`resize`](Self::resize), [`refresh`](Self::refresh), or growth another mapping of the
    /// file made and this one followed, and never shows a length the mapping lacks.
    ///
    /// # Errors
    ///
    /// None today; the `Result` is kept for compatibility.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 100)?;
    /// mmap.resize(200)?;
    /// assert_eq!(mmap.current_len()?, 200);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn current_len(&self) -> Result<u64> {
        // Updated under the resize guard, so it never shows a length the mapping lacks.
        Ok(self.len())
    }

    /// Path the mapping was opened with.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("d.bin");
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(&path, 8)?;
    /// assert_eq!(mmap.path(), path);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The mode the file is mapped in.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 8)?;
    /// assert_eq!(mmap.mode(), mmap_io::MmapMode::ReadWrite);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mode(&self) -> MmapMode {
        self.inner.mode
    }

    /// The flush policy the mapping was made with; [`FlushPolicy::Never`] for read-only
    /// and copy-on-write mappings, which never flush (as in mmap-io 1.1).
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::{flush::FlushPolicy, MemoryMappedFile};
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("d.bin");
    /// let every = FlushPolicy::EveryWrites(10);
    /// let rw = MemoryMappedFile::builder(&path).size(8).flush_policy(every).create()?;
    /// assert_eq!(rw.flush_policy(), every);
    /// let ro = MemoryMappedFile::builder(&path).flush_policy(every).open()?;
    /// assert_eq!(ro.flush_policy(), FlushPolicy::Never);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush_policy(&self) -> FlushPolicy {
        self.inner.flush.policy()
    }

    /// Bytes written since the last successful flush, counted on every write path of a
    /// read-write mapping (`update_region`, `as_slice_mut`, segments, ...). Always 0 on
    /// read-only and copy-on-write mappings, whose writes are never flushed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// mmap.update_region(0, b"abc")?;
    /// assert_eq!(mmap.pending_bytes(), 3);
    /// mmap.flush()?;
    /// assert_eq!(mmap.pending_bytes(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pending_bytes(&self) -> u64 {
        self.inner.flush.pending()
    }

    /// Unmaps the mapping and returns the file, if this is the last handle to it.
    ///
    /// Unmapping does not flush: call [`flush`](Self::flush) first for durability. A
    /// background flusher is stopped and joined first.
    ///
    /// # Errors
    ///
    /// Gives `self` back while other handles (clones, segments, `Bytes` shared from the
    /// mapping by `read_bytes` or `Bytes::from` a view) to the mapping exist.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 8)?;
    /// let clone = mmap.clone();
    /// let mmap = mmap.unmap().unwrap_err(); // `clone` still maps the file
    /// drop(clone);
    /// let file = mmap.unmap().expect("last handle");
    /// assert_eq!(file.metadata()?.len(), 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unmap(self) -> std::result::Result<File, Self> {
        let Self { inner, flusher, ro } = self;
        // Every handle holds `flusher`, so this succeeds exactly when this is the last
        // handle; dropping it joins a flusher thread, which releases its reference to
        // `inner`.
        let flusher = match Arc::try_unwrap(flusher) {
            Ok(flusher) => flusher,
            Err(flusher) => return Err(Self { inner, flusher, ro }),
        };
        drop(flusher);
        // What may still hold `inner` is, briefly, another mapping of the file telling this
        // one that the file grew (for the length of a system call), or a lookup of its
        // handle (`registry::handle_of`, which finds none now): never a handle.
        let mut inner = inner;
        loop {
            match Arc::try_unwrap(inner) {
                Ok(inner) => return Ok(inner.file),
                Err(again) => {
                    inner = again;
                    std::thread::yield_now();
                }
            }
        }
    }

    /// The guarded mapping of a writable mapping (read-write, or copy-on-write opened
    /// writable).
    #[inline]
    pub(crate) fn writable(&self) -> Result<&MapLock> {
        match &self.inner.map {
            Map::ReadOnly(_) => Err(self.read_only()),
            Map::Writable(lock) => Ok(lock),
        }
    }

    /// Where in its file the mapping starts (the builder's `offset`).
    #[cfg_attr(not(feature = "pod"), allow(dead_code))]
    pub(crate) fn window_start(&self) -> u64 {
        self.inner.window
    }

    /// Length of a read-only mapping now: it only grows, in place, and its new length is
    /// stored after the new pages are mapped. A relaxed load is enough (an acquire one costs
    /// the read path several times over): a byte past the old length is only touched after
    /// this load returned the new one, so after the store, so after the `mmap` that mapped
    /// it returned; a fault is taken in program order, so the kernel then finds the page
    /// mapped (`docs/CONCURRENCY.md`, "Growth").
    #[inline(always)]
    pub(crate) fn ro_len(&self) -> usize {
        self.inner.len.load(Relaxed)
    }

    /// The refusal of a write to a read-only mapping, naming how to get a writable one.
    #[cold]
    pub(crate) fn read_only(&self) -> crate::MmapIoError {
        invalid_mode(match self.inner.mode {
            MmapMode::CopyOnWrite => COW_READ_ONLY,
            _ => READ_ONLY,
        })
    }

    /// Whether this is a copy-on-write mapping whose private pages accept writes.
    #[cfg_attr(not(any(feature = "cow", feature = "advise")), allow(dead_code))]
    #[inline]
    pub(crate) fn is_private_writable(&self) -> bool {
        self.inner.mode == MmapMode::CopyOnWrite && matches!(self.inner.map, Map::Writable(_))
    }

    /// Counts a write toward the flush policy; the caller holds the write guard.
    #[inline]
    pub(crate) fn record_write(&self, bytes: usize) {
        if self.inner.mode == MmapMode::ReadWrite {
            self.inner.flush.record_exclusive(bytes);
        }
    }
}

impl Inner {
    /// Whether an atomic view of a writable mapping is alive.
    pub(crate) fn has_atomic_views(&self) -> bool {
        matches!(&self.map, Map::Writable(lock) if lock.has_atomic_views())
    }

    /// Whether the mapping is of the whole file (no window was asked for): only then does
    /// shrinking it cut the file.
    pub(crate) fn is_whole(&self) -> bool {
        self.window == 0 && self.follows
    }

    /// Fails if the file now ends before the mapping's `mapped` bytes: another process
    /// truncated it, and the pages past its end must not be touched.
    pub(crate) fn check_not_truncated(&self, mapped: usize) -> io::Result<()> {
        let on_disk = self.file.metadata()?.len();
        let mapped = self.window + mapped as u64;
        if on_disk < mapped {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the file was truncated to {on_disk} bytes while {mapped} bytes are mapped"
                ),
            ));
        }
        Ok(())
    }
}

impl Clone for MemoryMappedFile {
    /// Another handle to the same mapping (no new mapping is made).
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            flusher: self.flusher.clone(),
            ro: self.ro,
        }
    }
}

impl fmt::Debug for MemoryMappedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The fields 1.1 prints.
        let mut s = f.debug_struct("MemoryMappedFile");
        s.field("path", &self.inner.path)
            .field("mode", &self.inner.mode)
            .field("len", &self.len());
        // 1.1 reports huge pages for read-write mappings only.
        #[cfg(feature = "hugepages")]
        s.field(
            "huge_pages",
            &(self.inner.huge_pages && self.inner.mode == MmapMode::ReadWrite),
        );
        s.finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for MemoryMappedFile {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.file.as_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for MemoryMappedFile {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.inner.file.as_raw_fd()
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsHandle for MemoryMappedFile {
    fn as_handle(&self) -> std::os::windows::io::BorrowedHandle<'_> {
        self.inner.file.as_handle()
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawHandle for MemoryMappedFile {
    fn as_raw_handle(&self) -> std::os::windows::io::RawHandle {
        self.inner.file.as_raw_handle()
    }
}
