//! [`MemoryMappedFile`]: a file mapped into memory, shared between threads.

use crate::builder::Options;
use crate::errors::{flush_failed, invalid_mode, MmapIoError, Result};
use crate::flush::{FlushPolicy, FlushState, Flusher};
use crate::range;
use crate::sync::{MapLock, WriteGuard};
use memmap2::{Mmap, MmapOptions};
use std::fmt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

pub use crate::builder::MemoryMappedFileBuilder;
pub use crate::reader::MmapReader;
pub use crate::slice::{MappedSlice, MappedSliceMut};

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
    /// Reads only; writes return [`MmapIoError::InvalidMode`]. Reads take no lock.
    ReadOnly,
    /// Reads and writes; writes reach the file, and [`flush`](MemoryMappedFile::flush) makes
    /// them durable.
    ReadWrite,
    /// Private, writable pages: writes stay in this process and never reach the file.
    /// Needs the `cow` feature; without it, opening in this mode returns
    /// [`MmapIoError::InvalidMode`].
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
    ReadOnly(Mmap),
    Writable(MapLock),
}

/// The state every handle to one mapping shares. Built only by [`MemoryMappedFile::map_file`].
pub(crate) struct Inner {
    pub(crate) map: Map,
    /// The mapping's length, updated by `resize` under the write lock.
    len: AtomicUsize,
    /// How far from the start touching has faulted the mapping in: below this, pages are
    /// most likely mapped already, and reading them is cheaper than asking the kernel to
    /// populate them (which pins and releases every page); above it, populating is cheaper.
    /// A hint only: a page dropped since is simply faulted in again.
    populated: AtomicUsize,
    mode: MmapMode,
    /// Set once `as_slice_bytes` has lent out unguarded bytes of a copy-on-write mapping:
    /// from then on it refuses writes.
    frozen: AtomicBool,
    pub(crate) flush: FlushState,
    #[cfg_attr(not(feature = "hugepages"), allow(dead_code))]
    pub(crate) huge_pages: bool,
    /// Grow the file with its blocks allocated (see the builder's `preallocate`).
    preallocate: bool,
    path: PathBuf,
    file: File,
}

const READ_ONLY: &str = "mapping is read-only";
const RESIZE_NEEDS_RW: &str = "resize needs a read-write mapping";
const BYTES_NEED_NO_LOCK: &str =
    "as_slice_bytes is not available on read-write mappings; use as_slice";
const FROZEN: &str =
    "copy-on-write mapping is frozen: as_slice_bytes lent out bytes that writes would change";
#[cfg(not(feature = "cow"))]
const COW_NEEDS_FEATURE: &str = "copy-on-write mappings need the `cow` feature";

/// A file mapped into memory: zero-copy reads, concurrent writes, durable flushes.
///
/// A `MemoryMappedFile` is a cheap handle: [`Clone`] gives another handle to the same
/// mapping, and it is `Send + Sync`, so it can be shared between threads as is or in an
/// [`Arc`]. The mapping is unmapped when the last handle is dropped.
///
/// # Concurrency
///
/// Read-only mappings take no lock at all. Read-write and copy-on-write mappings are
/// guarded by a reader-writer lock: [`as_slice`](Self::as_slice) and the other read views
/// hold a shared lock while they live, writes ([`update_region`](Self::update_region),
/// [`as_slice_mut`](Self::as_slice_mut)) and [`resize`](Self::resize) take it exclusively.
/// A thread may hold several read views at once; it must drop its write views before
/// asking for anything else on the same mapping, or it deadlocks.
///
/// # Durability
///
/// On a read-write mapping, [`flush`](Self::flush) returns only once every dirty page is
/// written back to the file (`msync(MS_SYNC)`), whatever wrote the bytes. A
/// [`FlushPolicy`] adds automatic flushes.
///
/// # What this type cannot protect against
///
/// The bytes of a mapping are the file's bytes. If another process (or another handle that
/// is not a `MemoryMappedFile`) truncates the file while it is mapped, touching the lost
/// pages raises `SIGBUS`; if it writes the file, views see the bytes change under them.
/// Share files only with cooperating processes. [`flush`](Self::flush),
/// [`flush_range`](Self::flush_range) and [`resize`](Self::resize) check the file's length
/// first and return an error, without touching a page, when it was truncated below the
/// mapping; the read and write paths do not (they make no system call), so after such a
/// truncation only those calls are safe until the file is grown back.
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
    /// Present with [`FlushPolicy::EveryMillis`]; every handle holds it, so the thread is
    /// stopped and joined when the last handle drops.
    flusher: Option<Arc<Flusher>>,
    /// The bytes of a read-only mapping, so that reads reach them without going through
    /// `inner`; `None` for writable mappings.
    ro: Option<RoBytes>,
}

/// Address and length of a read-only mapping owned by the handle's `inner`.
#[derive(Clone, Copy)]
struct RoBytes {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: `ro` points into the read-only mapping that `inner` owns (kept alive by the handle's
// `Arc`) and is only ever read; the rest of the handle is `Send + Sync` on its own.
unsafe impl Send for MemoryMappedFile {}
// SAFETY: as above; shared access only reads the mapping.
unsafe impl Sync for MemoryMappedFile {}

impl MemoryMappedFile {
    /// Creates (or truncates) the file at `path`, sizes it to `size` zero bytes, and maps it
    /// read-write.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::ResizeFailed`] if `size` is 0 (the file is not touched);
    /// [`MmapIoError::Io`] if the file cannot be created, sized or mapped. A file that
    /// cannot be sized keeps its old contents and length.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MemoryMappedFile;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mmap = MemoryMappedFile::create_rw(dir.path().join("new.bin"), 4096)?;
    /// assert_eq!(mmap.len(), 4096);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_rw<P: AsRef<Path>>(path: P, size: u64) -> Result<Self> {
        Self::builder(path).size(size).create()
    }

    /// Maps an existing file read-only.
    ///
    /// A zero-length file maps as an empty mapping.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::Io`] if the file cannot be opened (`ErrorKind::NotFound` if it does not
    /// exist) or mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MemoryMappedFile;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("data.bin");
    /// std::fs::write(&path, b"existing bytes")?;
    /// let mmap = MemoryMappedFile::open_ro(&path)?;
    /// assert_eq!(mmap.as_slice(0, 8)?, b"existing");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_ro<P: AsRef<Path>>(path: P) -> Result<Self> {
        Self::builder(path).mode(MmapMode::ReadOnly).open()
    }

    /// Maps an existing file read-write.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::ResizeFailed`] if the file is empty (an empty mapping cannot be
    /// written); [`MmapIoError::Io`] if the file cannot be opened for writing or mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MemoryMappedFile;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("data.bin");
    /// std::fs::write(&path, [0u8; 16])?;
    /// let mmap = MemoryMappedFile::open_rw(&path)?;
    /// mmap.update_region(0, b"written")?;
    /// mmap.flush()?;
    /// assert_eq!(&std::fs::read(&path)?[..7], b"written");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_rw<P: AsRef<Path>>(path: P) -> Result<Self> {
        Self::builder(path).mode(MmapMode::ReadWrite).open()
    }

    /// Maps the file at `path` read-write, creating it with `default_size` zero bytes if it
    /// does not exist.
    ///
    /// An existing file is never truncated and keeps its length; an existing empty file (one
    /// left behind by an interrupted create) is sized to `default_size`. The file is
    /// created exclusively, so two processes racing here both end up mapping the same file
    /// and neither truncates what the other wrote.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::ResizeFailed`] if `default_size` is 0; [`MmapIoError::Io`] if the
    /// file cannot be opened, created or mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MemoryMappedFile;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("data.bin");
    /// let first = MemoryMappedFile::open_or_create(&path, 1024)?;
    /// first.update_region(0, b"kept")?;
    /// first.flush()?;
    /// drop(first);
    ///
    /// let again = MemoryMappedFile::open_or_create(&path, 4096)?;
    /// assert_eq!(again.len(), 1024);
    /// assert_eq!(again.as_slice(0, 4)?, b"kept");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_or_create<P: AsRef<Path>>(path: P, default_size: u64) -> Result<Self> {
        Self::builder(path).size(default_size).open_or_create()
    }

    /// Maps an already open `file` in `mode`; `path` is what [`path`](Self::path) reports.
    ///
    /// The file must have been opened with the access `mode` needs (read and write for
    /// [`MmapMode::ReadWrite`]).
    ///
    /// # Errors
    ///
    /// [`MmapIoError::ResizeFailed`] if `mode` is read-write and the file is empty;
    /// [`MmapIoError::InvalidMode`] for [`MmapMode::CopyOnWrite`] without the `cow` feature;
    /// [`MmapIoError::Io`] if the mapping fails (for instance a read-write mapping of a file
    /// opened read-only).
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::{MemoryMappedFile, MmapMode};
    /// use std::fs::OpenOptions;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("data.bin");
    /// std::fs::write(&path, [1u8; 64])?;
    /// let file = OpenOptions::new().read(true).write(true).open(&path)?;
    /// let mmap = MemoryMappedFile::from_file(file, MmapMode::ReadWrite, &path)?;
    /// assert_eq!(mmap.len(), 64);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file<P: AsRef<Path>>(file: File, mode: MmapMode, path: P) -> Result<Self> {
        let options = Options {
            mode,
            ..Options::default()
        };
        Self::map_file(file, path.as_ref().to_path_buf(), &options)
    }

    /// Starts a [`MemoryMappedFileBuilder`] for the file at `path`.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::{flush::FlushPolicy, MemoryMappedFile, MmapMode};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mmap = MemoryMappedFile::builder(dir.path().join("data.bin"))
    ///     .mode(MmapMode::ReadWrite)
    ///     .size(1 << 16)
    ///     .flush_policy(FlushPolicy::EveryWrites(100))
    ///     .create()?;
    /// assert_eq!(mmap.len(), 1 << 16);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder<P: AsRef<Path>>(path: P) -> MemoryMappedFileBuilder {
        MemoryMappedFileBuilder::new(path.as_ref())
    }

    /// Maps `file` as `options` say: the one place a mapping and its shared state are built.
    pub(crate) fn map_file(file: File, path: PathBuf, options: &Options) -> Result<Self> {
        check_mode_available(options.mode)?;
        // Eager touching is done by the kernel inside mmap (MAP_POPULATE, which pre-faults
        // shared mappings for reading, dirtying nothing), unless a hint must come first. Not
        // for private mappings: there it would copy every page.
        let populate = options.touch_hint == TouchHint::Eager
            && !options.huge_pages
            && options.mode != MmapMode::CopyOnWrite;
        let mut map_options = MmapOptions::new();
        if populate {
            map_options.populate();
        }
        let map = match options.mode {
            MmapMode::ReadOnly => {
                // SAFETY: the mapping is only ever read through shared borrows. The crate
                // never shrinks a read-only file; what other processes do to the file is the
                // caller's to control, as the type's documentation says.
                Map::ReadOnly(unsafe { map_options.map(&file)? })
            }
            MmapMode::ReadWrite => {
                if file.metadata()?.len() == 0 {
                    return Err(MmapIoError::ResizeFailed(
                        "cannot map an empty file read-write".to_owned(),
                    ));
                }
                // SAFETY: every access to the pages goes through the `MapLock`, which
                // excludes writers from readers and from `resize`; the file is only
                // shrunk by `resize`, under that lock, after the mapping has shrunk.
                Map::Writable(MapLock::new(unsafe { map_options.map_mut(&file)? }))
            }
            MmapMode::CopyOnWrite => {
                // SAFETY: as for read-write; the pages are private, so writes never reach
                // the file, and the mapping is never resized.
                Map::Writable(MapLock::new(unsafe { map_options.map_copy(&file)? }))
            }
        };
        let len = match &map {
            Map::ReadOnly(m) => m.len(),
            Map::Writable(lock) => lock.read().len(),
        };
        let inner = Arc::new(Inner {
            map,
            len: AtomicUsize::new(len),
            populated: AtomicUsize::new(if populate { len } else { 0 }),
            mode: options.mode,
            frozen: AtomicBool::new(false),
            flush: FlushState::new(options.flush_policy),
            huge_pages: options.huge_pages,
            preallocate: options.preallocate,
            path,
            file,
        });
        let flusher = match options.flush_policy.interval() {
            Some(interval) if options.mode == MmapMode::ReadWrite => {
                Some(Arc::new(Flusher::start(Arc::clone(&inner), interval)?))
            }
            _ => None,
        };
        let ro = match &inner.map {
            Map::ReadOnly(map) => {
                std::ptr::NonNull::new(map.as_ptr().cast_mut()).map(|ptr| RoBytes {
                    ptr,
                    len: map.len(),
                })
            }
            Map::Writable(_) => None,
        };
        let mmap = Self { inner, flusher, ro };
        mmap.apply_page_hints();
        if options.touch_hint == TouchHint::Eager && !populate {
            mmap.touch_pages()?;
        }
        Ok(mmap)
    }

    /// Hints given at construction that belong to features (best effort: they cannot fail).
    fn apply_page_hints(&self) {
        #[cfg(feature = "hugepages")]
        if self.inner.huge_pages {
            self.advise_huge_pages();
        }
    }

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

    /// Whether the mapping is empty (only a read-only mapping of an empty file is).
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

    /// Length of the mapping, read under the mapping's lock, so that it is exact with
    /// respect to a concurrent [`resize`](Self::resize).
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
        Ok(self.read_with(|bytes| bytes.len() as u64))
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

    /// The flush policy the mapping was made with.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 8)?;
    /// assert_eq!(mmap.flush_policy(), mmap_io::flush::FlushPolicy::Never);
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

    /// Zero-copy view of `len` bytes at `offset`, on every mode.
    ///
    /// On read-only mappings this is a range check and a pointer add. On read-write and
    /// copy-on-write mappings the view holds a shared lock: writers and `resize` wait until
    /// it is dropped. A zero-length request succeeds at any offset.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`] if `offset + len` is past the end (or overflows).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// mmap.update_region(10, b"xyz")?;
    /// assert_eq!(mmap.as_slice(10, 3)?, b"xyz");
    /// assert!(mmap.as_slice(60, 10).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline(always)]
    pub fn as_slice(&self, offset: u64, len: u64) -> Result<MappedSlice<'_>> {
        match self.ro_bytes() {
            Some(bytes) => {
                let r = range::checked(offset, len, bytes.len())?;
                Ok(MappedSlice::borrowed(&bytes[r]))
            }
            None => self.as_slice_locked(offset, len),
        }
    }

    /// The guarded path of [`as_slice`](Self::as_slice), kept out of line so that the
    /// read-only path inlines into its callers.
    #[inline(never)]
    fn as_slice_locked(&self, offset: u64, len: u64) -> Result<MappedSlice<'_>> {
        match &self.inner.map {
            Map::Writable(lock) => {
                let guard = lock.read();
                let r = range::checked(offset, len, guard.len())?;
                Ok(MappedSlice::guarded(guard, r))
            }
            Map::ReadOnly(map) => Ok(MappedSlice::borrowed(
                &map[range::checked(offset, len, map.len())?],
            )),
        }
    }

    /// The bytes of a read-only mapping, reached without going through `inner`.
    #[inline(always)]
    fn ro_bytes(&self) -> Option<&[u8]> {
        self.ro.map(|ro| {
            // SAFETY: `ro` describes the read-only mapping `self.inner` owns, which lives as
            // long as `self` and is never written, moved or resized.
            unsafe { std::slice::from_raw_parts(ro.ptr.as_ptr(), ro.len) }
        })
    }

    /// Plain `&[u8]` of `len` bytes at `offset`, borrowed for as long as `self`.
    ///
    /// Available on read-only mappings, whose bytes never change, and on copy-on-write
    /// mappings. Because the borrow holds no lock, the first call on a copy-on-write
    /// mapping freezes it: later writes through any handle return
    /// [`MmapIoError::InvalidMode`]. Use [`as_slice`](Self::as_slice) for a guarded view
    /// that leaves the mapping writable.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`] on read-write mappings (use `as_slice`);
    /// [`MmapIoError::OutOfBounds`] if the range is past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("d.bin");
    /// std::fs::write(&path, b"plain bytes")?;
    /// let mmap = mmap_io::MemoryMappedFile::open_ro(&path)?;
    /// let bytes: &[u8] = mmap.as_slice_bytes(0, 5)?;
    /// assert_eq!(bytes, b"plain");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_slice_bytes(&self, offset: u64, len: u64) -> Result<&[u8]> {
        match &self.inner.map {
            Map::ReadOnly(map) => Ok(&map[range::checked(offset, len, map.len())?]),
            Map::Writable(_) if self.inner.mode == MmapMode::ReadWrite => {
                Err(invalid_mode(BYTES_NEED_NO_LOCK))
            }
            Map::Writable(lock) => {
                if !self.inner.frozen.load(Relaxed) {
                    // Freeze under the write lock: every writer, including atomic views
                    // that write under a shared lock, either finished before or checks the
                    // flag after taking its lock.
                    let _exclusive = lock.write();
                    self.inner.frozen.store(true, Relaxed);
                }
                let guard = lock.read();
                let r = range::checked(offset, len, guard.len())?;
                let bytes = &guard[r];
                // SAFETY: a copy-on-write mapping is never resized or unmapped while a
                // handle lives, and from now on it is never written (every write path checks
                // `frozen` under its lock), so the bytes stay valid and unchanged for
                // the borrow of `self`.
                Ok(unsafe { std::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) })
            }
        }
    }

    /// Exclusive, writable view of `len` bytes at `offset`.
    ///
    /// The view holds the mapping's write lock until it is dropped. Its bytes count toward
    /// [`pending_bytes`](Self::pending_bytes) when it is made; automatic policies other than
    /// `EveryMillis` act on the next `update_region`.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`] on read-only (or frozen copy-on-write) mappings;
    /// [`MmapIoError::OutOfBounds`] if the range is past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// mmap.as_slice_mut(0, 4)?.copy_from_slice(b"abcd");
    /// assert_eq!(mmap.as_slice(0, 4)?, b"abcd");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_slice_mut(&self, offset: u64, len: u64) -> Result<MappedSliceMut<'_>> {
        let guard = self.write_lock()?;
        let r = range::checked(offset, len, guard.len())?;
        self.record_write(r.len());
        Ok(MappedSliceMut::guarded(guard, r))
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`, on every mode.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`] if the range is past the end; `buf` is left untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// mmap.update_region(8, b"12345")?;
    /// let mut buf = [0u8; 5];
    /// mmap.read_into(8, &mut buf)?;
    /// assert_eq!(&buf, b"12345");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn read_into(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.read_with(|bytes| range::copy_out(bytes, offset, buf))
    }

    /// Copies `data` into the mapping at `offset`, then applies the flush policy.
    ///
    /// Empty `data` is a no-op. On read-write mappings the bytes reach the file (durably
    /// after [`flush`](Self::flush)); on copy-on-write mappings they stay private.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`] on read-only (or frozen copy-on-write) mappings;
    /// [`MmapIoError::OutOfBounds`] if the range is past the end (nothing is written);
    /// [`MmapIoError::FlushFailed`] if the policy's flush fails (the bytes are written).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// mmap.update_region(60, b"tail")?;
    /// assert!(mmap.update_region(62, b"too long").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn update_region(&self, offset: u64, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            // Nothing to write, so no lock to take: only the mode can make it an error.
            return match self.inner.map {
                Map::ReadOnly(_) => Err(invalid_mode(READ_ONLY)),
                Map::Writable(_) => Ok(()),
            };
        }
        let mut guard = self.write_lock()?;
        range::copy_in(&mut guard, offset, data)?;
        self.record_write(data.len());
        drop(guard);
        self.after_write()
    }

    /// Applies the flush policy after a write; the caller holds no guard.
    #[inline]
    pub(crate) fn after_write(&self) -> Result<()> {
        if self.inner.flush.due() {
            self.flush()?;
        }
        Ok(())
    }

    /// A view of up to `len` bytes at `offset`, cut short at the end of the mapping;
    /// `None` if `offset` is at or past the end.
    #[cfg_attr(not(feature = "iterator"), allow(dead_code))]
    pub(crate) fn slice_upto(&self, offset: usize, len: usize) -> Option<MappedSlice<'_>> {
        let cut = |total: usize| offset..offset + len.min(total.saturating_sub(offset));
        match &self.inner.map {
            Map::ReadOnly(map) if offset < map.len() => {
                Some(MappedSlice::borrowed(&map[cut(map.len())]))
            }
            Map::Writable(lock) => {
                let guard = lock.read();
                let r = cut(guard.len());
                (offset < guard.len()).then(|| MappedSlice::guarded(guard, r))
            }
            Map::ReadOnly(_) => None,
        }
    }

    /// Writes every dirty page of a read-write mapping back to the file and waits until it
    /// is durable (`msync(MS_SYNC)`); a no-op on read-only and copy-on-write mappings.
    ///
    /// Durable on every call, whatever wrote the bytes. After it returns `Ok`, no page of
    /// the mapping is dirty and a fresh read-only mapping of the file sees the bytes. Drop
    /// any [`MappedSliceMut`] this thread holds first.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::FlushFailed`] if writeback fails now, or failed in the background
    /// flusher since the last call (such an error is kept until a flush returns it), or if
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
        let synced = self.inner.sync();
        self.flush_result(synced)
    }

    /// Like [`flush`](Self::flush) for the pages covering `len` bytes at `offset` (the range
    /// is widened to page boundaries). A no-op on read-only and copy-on-write mappings.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`] if the range is past the end;
    /// [`MmapIoError::FlushFailed`] as for `flush`.
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
        let synced = match &self.inner.map {
            Map::Writable(lock) if self.inner.mode == MmapMode::ReadWrite => {
                let guard = lock.read();
                let r = range::checked(offset, len, guard.len())?;
                if r.is_empty() {
                    return Ok(());
                }
                let done = self.inner.flush.snapshot();
                self.inner
                    .check_not_truncated(guard.len())
                    .and_then(|()| guard.flush_range(r.start, r.len()))
                    .map(|()| {
                        self.inner.flush.debit(done.capped(r.len() as u64));
                    })
            }
            _ => return self.read_with(|b| range::checked(offset, len, b.len()).map(drop)),
        };
        self.flush_result(synced)
    }

    /// Combines a writeback result with an error the background flusher kept.
    fn flush_result(&self, synced: io::Result<()>) -> Result<()> {
        if let Some(kept) = self.inner.flush.take_error() {
            return Err(kept);
        }
        synced.map_err(|e| flush_failed(&e))
    }

    /// Grows or shrinks the file and the mapping to `new_size` bytes (read-write only).
    ///
    /// Takes the write lock before it touches the file, so it waits for every live slice,
    /// view, guard and iterator item. Growing adds zero bytes; shrinking drops the tail.
    /// On failure the file and the mapping keep their old length.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`] on read-only and copy-on-write mappings;
    /// [`MmapIoError::ResizeFailed`] if `new_size` is 0 or does not fit in memory, or if
    /// another process truncated the file below the mapping;
    /// [`MmapIoError::Io`] if the file cannot be resized or remapped (with the builder's
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
        let new_len = range::mapping_len(new_size)?;
        let mut guard = lock.write();
        let old_len = guard.len();
        self.inner
            .check_not_truncated(old_len)
            .map_err(|e| MmapIoError::ResizeFailed(e.to_string()))?;
        let file = &self.inner.file;
        if new_len > old_len {
            crate::builder::size_file(file, old_len as u64, new_size, self.inner.preallocate)?;
            // SAFETY: we hold the write lock, so no slice, view or guard borrows the pages.
            if let Err(e) = unsafe { crate::os::remap(&mut guard, file, new_len) } {
                let _ = file.set_len(old_len as u64);
                return Err(e.into());
            }
        } else if new_len < old_len {
            // Shrink the mapping first, so it never reaches past the end of the file.
            // SAFETY: as above.
            unsafe { crate::os::remap(&mut guard, file, new_len)? };
            if let Err(e) = file.set_len(new_size) {
                // SAFETY: as above; the file still has its old length.
                let _ = unsafe { crate::os::remap(&mut guard, file, old_len) };
                self.inner.len.store(guard.len(), Relaxed);
                return Err(e.into());
            }
        }
        self.inner.len.store(new_len, Relaxed);
        self.inner.populated.fetch_min(new_len, Relaxed);
        Ok(())
    }

    /// Faults in every page of the mapping for reading, so that later reads take no page
    /// fault. Nothing is dirtied.
    ///
    /// On Linux 5.14+ this is one `MADV_POPULATE_READ` call; elsewhere it reads one byte per
    /// page. (`cargo bench --bench compare -- touch_pages` compares both with
    /// `MAP_POPULATE` on this machine.)
    ///
    /// # Errors
    ///
    /// None today; the `Result` is kept for compatibility.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 1 << 20)?;
    /// mmap.touch_pages()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn touch_pages(&self) -> Result<()> {
        self.touch(None)
    }

    /// Faults in the pages covering `len` bytes at `offset`.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`] if the range is past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 1 << 20)?;
    /// mmap.touch_pages_range(0, 64 * 1024)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn touch_pages_range(&self, offset: u64, len: u64) -> Result<()> {
        self.touch(Some((offset, len)))
    }

    /// Faults in the pages of `range` (the whole mapping for `None`): pages below the
    /// populated watermark by reading them, the rest by asking the kernel to populate them.
    fn touch(&self, range: Option<(u64, u64)>) -> Result<()> {
        self.read_with(|bytes| {
            let r = match range {
                Some((offset, len)) => range::checked(offset, len, bytes.len())?,
                None => 0..bytes.len(),
            };
            let mark = self.inner.populated.load(Relaxed).min(bytes.len());
            let split = r.end.min(mark).max(r.start);
            crate::os::touch_pages(&bytes[r.start..split]);
            crate::os::populate_read(&bytes[split..r.end]);
            if r.start <= mark {
                self.inner.populated.fetch_max(r.end, Relaxed);
            }
            Ok(())
        })
    }

    /// Asks the kernel to start reading the pages covering `len` bytes at `offset` in the
    /// background (`MADV_WILLNEED`); returns without waiting for them.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`] if the range is past the end; [`MmapIoError::Io`] if the
    /// kernel refuses the hint.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 1 << 20)?;
    /// mmap.prefetch_range(4096, 8192)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prefetch_range(&self, offset: u64, len: u64) -> Result<()> {
        self.range_op(Some((offset, len)), |base, start, len| {
            // SAFETY: `range_op` passes a range of the live mapping at `base`, and WillNeed
            // never changes what the pages hold.
            unsafe { crate::os::advise(base, start, len, crate::os::Advice::WillNeed) }
        })
        .map_err(|e| e.into_error(MmapIoError::Io))
    }

    /// Runs the system call `op` on the pages of `range` (the whole mapping for `None`),
    /// under the read lock, so that the mapping stays in place during the call. `op` gets
    /// the mapping's base address and the range's start and length; empty ranges skip it.
    pub(crate) fn range_op(
        &self,
        range: Option<(u64, u64)>,
        op: impl FnOnce(*const u8, usize, usize) -> io::Result<()>,
    ) -> std::result::Result<(), RangeOpError> {
        self.read_with(|bytes| {
            let r = match range {
                Some((offset, len)) => {
                    range::checked(offset, len, bytes.len()).map_err(RangeOpError::Range)?
                }
                None => 0..bytes.len(),
            };
            if r.is_empty() {
                return Ok(());
            }
            op(bytes.as_ptr(), r.start, r.len()).map_err(RangeOpError::Os)
        })
    }

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

    /// Base address of the mapping.
    ///
    /// # Safety
    ///
    /// Calling this is safe in itself; it is `unsafe` because the pointer is only valid
    /// until the mapping is resized or the last handle is dropped, and reading through it
    /// races with writers unless the caller synchronizes. Never write through it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 8)?;
    /// mmap.update_region(0, &[42])?;
    /// // SAFETY: the mapping is alive, not resized, and nothing writes concurrently.
    /// let first = unsafe { *mmap.as_ptr() };
    /// assert_eq!(first, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn as_ptr(&self) -> *const u8 {
        self.read_with(<[u8]>::as_ptr)
    }

    /// Writable base address of the mapping.
    ///
    /// Writes through the pointer are flushed by [`flush`](Self::flush) like any other, but
    /// they do not count toward [`pending_bytes`](Self::pending_bytes).
    ///
    /// # Safety
    ///
    /// As for [`as_ptr`](Self::as_ptr); in addition, the caller must not write while any
    /// slice, view or guard of the mapping is alive, nor past [`len`](Self::len).
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`] on read-only mappings.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 8)?;
    /// // SAFETY: nothing else uses the mapping while we write its first byte.
    /// unsafe { mmap.as_mut_ptr()?.write(7) };
    /// assert_eq!(mmap.as_slice(0, 1)?, &[7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn as_mut_ptr(&self) -> Result<*mut u8> {
        match &self.inner.map {
            Map::ReadOnly(_) => Err(invalid_mode(READ_ONLY)),
            // The pointer comes from the mapping itself, not from a borrow of its bytes.
            Map::Writable(lock) => Ok(lock.read().as_ptr().cast_mut()),
        }
    }

    /// Unmaps the mapping and returns the file, if this is the last handle to it.
    ///
    /// Unmapping does not flush: call [`flush`](Self::flush) first for durability. A
    /// background flusher is stopped and joined first.
    ///
    /// # Errors
    ///
    /// Gives `self` back while other handles (clones, segments) to the mapping exist.
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
        if let Some(flusher) = flusher {
            // Every handle holds the flusher, so this succeeds exactly when we are the last
            // handle; dropping it joins the thread, which releases its reference to `inner`.
            if let Err(flusher) = Arc::try_unwrap(flusher) {
                return Err(Self {
                    inner,
                    flusher: Some(flusher),
                    ro,
                });
            }
        }
        Arc::try_unwrap(inner)
            .map(|inner| inner.file)
            .map_err(|inner| Self {
                inner,
                flusher: None,
                ro,
            })
    }

    /// Runs `f` on the whole mapping, under the read lock where there is one.
    #[inline]
    pub(crate) fn read_with<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        if let Some(bytes) = self.ro_bytes() {
            return f(bytes);
        }
        match &self.inner.map {
            Map::ReadOnly(map) => f(map),
            Map::Writable(lock) => f(&lock.read()),
        }
    }

    /// The write lock of a writable mapping that still accepts writes.
    #[inline]
    pub(crate) fn write_lock(&self) -> Result<WriteGuard<'_>> {
        match &self.inner.map {
            Map::ReadOnly(_) => Err(invalid_mode(READ_ONLY)),
            Map::Writable(lock) => {
                let guard = lock.write();
                self.check_not_frozen()?;
                Ok(guard)
            }
        }
    }

    /// Refuses writes to a frozen copy-on-write mapping; call it under a lock.
    #[cfg_attr(not(feature = "atomic"), allow(dead_code))]
    pub(crate) fn check_not_frozen(&self) -> Result<()> {
        if self.inner.frozen.load(Relaxed) {
            return Err(invalid_mode(FROZEN));
        }
        Ok(())
    }

    /// Counts a write made under a shared lock toward the flush policy.
    #[cfg_attr(not(feature = "atomic"), allow(dead_code))]
    pub(crate) fn record_shared_write(&self, bytes: usize) {
        if self.inner.mode == MmapMode::ReadWrite {
            self.inner.flush.record_shared(bytes);
        }
    }

    /// Counts a write toward the flush policy; the caller holds the write lock.
    #[inline]
    pub(crate) fn record_write(&self, bytes: usize) {
        if self.inner.mode == MmapMode::ReadWrite {
            self.inner.flush.record_exclusive(bytes);
        }
    }
}

/// Why a range operation failed: a bad range, or the kernel's refusal.
pub(crate) enum RangeOpError {
    Range(MmapIoError),
    Os(io::Error),
}

impl RangeOpError {
    /// The range error as is, or the kernel's error wrapped by `wrap`.
    pub(crate) fn into_error(self, wrap: impl FnOnce(io::Error) -> MmapIoError) -> MmapIoError {
        match self {
            RangeOpError::Range(e) => e,
            RangeOpError::Os(e) => wrap(e),
        }
    }
}

impl Inner {
    /// Fails if the file is now shorter than `mapped` bytes: another process truncated it,
    /// and the pages past its end must not be touched.
    fn check_not_truncated(&self, mapped: usize) -> io::Result<()> {
        let on_disk = self.file.metadata()?.len();
        if on_disk < mapped as u64 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the file was truncated to {on_disk} bytes while {mapped} bytes are mapped"
                ),
            ));
        }
        Ok(())
    }

    /// Writes back every dirty page of a read-write mapping and waits for it to be durable;
    /// on success, takes what was pending off the counters.
    pub(crate) fn sync(&self) -> io::Result<()> {
        match &self.map {
            Map::Writable(lock) if self.mode == MmapMode::ReadWrite => {
                let done = self.flush.snapshot();
                // Under the lock, so that a resize in progress cannot look like a truncation.
                self.check_not_truncated(lock.read().len())?;
                crate::os::sync_shared_mapping(&self.file, || lock.read().flush())?;
                // Writers update the counters with plain loads and stores under the write
                // lock, so the debit must exclude them.
                let _guard = lock.read();
                self.flush.debit(done);
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Refuses modes that need a feature the crate was built without.
fn check_mode_available(mode: MmapMode) -> Result<()> {
    #[cfg(not(feature = "cow"))]
    if mode == MmapMode::CopyOnWrite {
        return Err(invalid_mode(COW_NEEDS_FEATURE));
    }
    let _ = mode;
    Ok(())
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
        f.debug_struct("MemoryMappedFile")
            .field("path", &self.inner.path)
            .field("mode", &self.inner.mode)
            .field("len", &self.len())
            .field("flush_policy", &self.inner.flush.policy())
            .field("pending_bytes", &self.pending_bytes())
            .finish()
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
