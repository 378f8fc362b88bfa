//! Constructors: the one place a mapping and its shared state are built.

use super::builder::Options;
use super::{Inner, Map, MemoryMappedFile, MemoryMappedFileBuilder, MmapMode, RoBytes, TouchHint};
use crate::errors::{MmapIoError, Result};
use crate::flush::{Caller, FlushPolicy, FlushState, Flusher};
use crate::os::Region;
use crate::sync::MapLock;
use memmap2::MmapOptions;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

/// 1.1's message for a mapping of an empty file in a mode that cannot use one.
const EMPTY_FILE: &str = "Cannot map zero-length file";
const EMPTY_WINDOW: &str = "a window of no bytes can only be mapped read-only";

#[cfg(not(feature = "cow"))]
const COW_NEEDS_FEATURE: &str = "copy-on-write mappings need the `cow` feature";

impl MemoryMappedFile {
    /// Creates (or truncates) the file at `path`, sizes it to `size` zero bytes, and maps it
    /// read-write.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) if `size` is 0 (the file is not touched);
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be created, sized or mapped. A file that
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
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be opened (`ErrorKind::NotFound` if it does not
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
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) (`"Cannot map zero-length file"`) if the file
    /// is empty (an empty mapping cannot be written); [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be opened for writing or mapped.
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
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) if the file is missing or empty and
    /// `default_size` is 0 or above the size limit (an existing non-empty file maps whatever it
    /// says); [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be opened, created or mapped.
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
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) (`"Cannot map zero-length file"`) if the file is
    /// empty and `mode` is not read-only;
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) for [`MmapMode::CopyOnWrite`] without the `cow` feature;
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) if the mapping fails (for instance a read-write mapping of a file
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
        Self::map_sized(file, path, options, None)
    }

    /// Like [`map_file`](Self::map_file) for a file just created or truncated to `size`
    /// bytes: maps exactly that many, or fails if another caller cut the file meanwhile.
    pub(crate) fn map_sized(
        file: File,
        path: PathBuf,
        options: &Options,
        size: Option<u64>,
    ) -> Result<Self> {
        check_mode_available(options.mode)?;
        let private_writable = options.mode == MmapMode::CopyOnWrite && options.cow_writable;
        // Eager touching is done by the kernel inside mmap (MAP_POPULATE, which pre-faults
        // shared and read-only mappings for reading, dirtying nothing), unless a hint must
        // come first. Not for private writable mappings: there it would copy every page.
        let populate =
            options.touch_hint == TouchHint::Eager && !options.huge_pages && !private_writable;
        // Registered before mapping, with exactly the end of what is mapped, so that no
        // handle of this file in the process can cut it below that meanwhile.
        let (window, measured) = (options.offset, std::cell::Cell::new(0));
        let crate::registry::Registered {
            registration,
            len: end,
            lock,
            id,
        } = crate::registry::register(&file, || {
            let len = file.metadata()?.len();
            let len = match size {
                Some(size) if len < size => Err(std::io::Error::other(format!(
                    "another caller resized the file to {len} bytes while it was being \
                         created with {size}"
                ))),
                Some(size) => Ok(size),
                None => Ok(len),
            }?;
            measured.set(len);
            // A window past the end is refused below, with nothing mapped.
            Ok(match options.window {
                Some(n) => window.saturating_add(n).min(len),
                None => len,
            })
        })?;
        let file_len = measured.get();
        let want = options.window.unwrap_or(end.saturating_sub(window));
        if window > file_len || want > file_len - window {
            return Err(crate::errors::out_of_bounds(window, want, file_len));
        }
        let len = usize::try_from(end - window).map_err(|_| {
            MmapIoError::ResizeFailed(format!("size {} does not fit in memory", end - window))
        })?;
        if len == 0 && options.mode != MmapMode::ReadOnly && options.window == Some(0) {
            return Err(MmapIoError::ResizeFailed(EMPTY_WINDOW.to_owned()));
        }
        // Only a read-only mapping of an empty file is useful; 1.1 refuses the others.
        if len == 0 && options.mode != MmapMode::ReadOnly {
            return Err(MmapIoError::ResizeFailed(EMPTY_FILE.to_owned()));
        }
        let mut map_options = MmapOptions::new();
        map_options.offset(window).len(len);
        if populate {
            map_options.populate();
        }
        let map = match options.mode {
            MmapMode::ReadOnly => {
                Map::ReadOnly(match reserved(&file, len, options, false, populate)? {
                    Some(region) => region,
                    // SAFETY: the mapping is only ever read through shared borrows. The crate
                    // never shrinks a read-only file; what other processes do to the file is
                    // the caller's to control, as the type's documentation says.
                    None => Region::ReadOnly(unsafe { map_options.map(&file)? }),
                })
            }
            MmapMode::ReadWrite => {
                let region = match reserved(&file, len, options, true, populate)? {
                    Some(region) => region,
                    // SAFETY: every access to the pages goes through the `MapLock`, which
                    // excludes writers from readers and from `resize`; the file is only
                    // shrunk by `resize`, under that lock, after the mapping has shrunk.
                    None => Region::Writable(unsafe { map_options.map_mut(&file)? }),
                };
                Map::Writable(Box::new(MapLock::new(
                    region,
                    Arc::clone(&lock),
                    id,
                    window,
                )))
            }
            MmapMode::CopyOnWrite if private_writable => {
                // SAFETY: as for read-write; the pages are private, so writes never reach
                // the file, and the mapping is never resized.
                Map::Writable(Box::new(MapLock::new(
                    Region::Writable(unsafe { map_options.map_copy(&file)? }),
                    Arc::clone(&lock),
                    id | crate::sync::PRIVATE,
                    window,
                )))
            }
            MmapMode::CopyOnWrite => {
                // SAFETY: as for read-only: private pages that nothing in the process may
                // write (the safe API refuses every write to this mapping).
                Map::ReadOnly(Region::ReadOnly(unsafe {
                    map_options.map_copy_read_only(&file)?
                }))
            }
        };
        let inner = Arc::new(Inner {
            map,
            len: AtomicUsize::new(len),
            populated: AtomicUsize::new(if populate { len } else { 0 }),
            mode: options.mode,
            // Only read-write mappings flush: the others report `Never`, as 1.1's do.
            flush: FlushState::new(match options.mode {
                MmapMode::ReadWrite => options.flush_policy,
                _ => FlushPolicy::Never,
            }),
            huge_pages: options.huge_pages,
            preallocate: options.preallocate,
            registration,
            lock,
            id,
            window,
            follows: options.window.is_none(),
            lent: parking_lot::Mutex::new(None),
            handles: std::sync::OnceLock::new(),
            path,
            file,
        });
        let flusher = match options.flush_policy.interval() {
            Some(interval) if options.mode == MmapMode::ReadWrite => {
                let weak = Arc::downgrade(&inner);
                let inner = Arc::clone(&inner);
                // A live atomic view keeps the mapping pending: its stores are not counted.
                let task = move || {
                    if inner.flush.pending() > 0 || inner.has_atomic_views() {
                        // Kept for the next flush call if it fails.
                        let _ = inner.sync(Caller::Background, true);
                    }
                };
                // Stopped with the last handle, when no guard can be alive but a leaked one:
                // a write guard held then is never released, and the task would wait for it.
                let stuck = move || {
                    weak.upgrade().is_some_and(
                        |inner| matches!(&inner.map, Map::Writable(lock) if lock.write_held()),
                    )
                };
                Arc::new(Some(Flusher::start(interval, task, stuck)?))
            }
            _ => Arc::new(None),
        };
        let _ = inner.handles.set(Arc::downgrade(&flusher));
        if let Some(r) = &inner.registration {
            let weak = Arc::downgrade(&inner);
            r.set_follower(weak);
            // A mapping of the file that grew it meanwhile told the followers it knew.
            if let Ok(now) = inner.file.metadata().map(|m| m.len()) {
                crate::registry::Follow::follow(&*inner, now);
            }
        }
        let ro = RoBytes::of(&inner);
        let mmap = Self { inner, flusher, ro };
        mmap.apply_page_hints();
        if options.touch_hint == TouchHint::Eager && !populate {
            mmap.touch_pages()?;
        }
        Ok(mmap)
    }

    /// Hints given at construction that belong to features (best effort: they cannot fail).
    pub(super) fn apply_page_hints(&self) {
        #[cfg(feature = "hugepages")]
        if self.inner.huge_pages {
            self.advise_huge_pages();
        }
    }
}

/// A shared mapping of the first `len` bytes of `file` in address space reserved for
/// `options.reserve` bytes, where the platform has reservations and more room than `len` was
/// asked for; `None` otherwise.
fn reserved(
    file: &File,
    len: usize,
    options: &Options,
    writable: bool,
    populate: bool,
) -> std::io::Result<Option<Region>> {
    #[cfg(unix)]
    if options.reserve > len as u64 {
        // More than the address space holds fails to map, as any size that cannot fit.
        let room = usize::try_from(options.reserve).unwrap_or(usize::MAX);
        let kind = (writable, options.huge_pages);
        let region = crate::os::Reservation::map(file, options.offset, len, room, kind, populate)?;
        return Ok(Some(Region::Reserved(region)));
    }
    let _ = (file, len, options, writable, populate);
    Ok(None)
}

/// Refuses modes that need a feature the crate was built without.
pub(super) fn check_mode_available(mode: MmapMode) -> Result<()> {
    #[cfg(not(feature = "cow"))]
    if mode == MmapMode::CopyOnWrite {
        return Err(crate::errors::invalid_mode(COW_NEEDS_FEATURE));
    }
    let _ = mode;
    Ok(())
}
