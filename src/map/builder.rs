//! [`MemoryMappedFileBuilder`]: every option of a mapping, for create, open and
//! open-or-create alike.

use super::create::{create_exclusive, create_file};
use crate::errors::Result;
use crate::flush::FlushPolicy;
use crate::mmap::{MemoryMappedFile, MmapMode, TouchHint};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

const CREATE_NEW_NEEDS_RW: &str = "create_new maps read-write only";
/// 1.1's message for a read-write create given no size.
const NO_SIZE: &str = "Size must be set for create() in ReadWrite mode";

/// The options a mapping is made with.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) mode: MmapMode,
    pub(crate) size: Option<u64>,
    pub(crate) flush_policy: FlushPolicy,
    pub(crate) touch_hint: TouchHint,
    pub(crate) huge_pages: bool,
    pub(crate) preallocate: bool,
    /// Address space to reserve for growth in place (0: none).
    pub(crate) reserve: u64,
    /// Where in the file the mapping starts, and how long it is (`None`: to the end).
    pub(crate) offset: u64,
    pub(crate) window: Option<u64>,
    /// Copy-on-write mappings only: private pages that accept writes.
    pub(crate) cow_writable: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            mode: MmapMode::ReadWrite,
            size: None,
            flush_policy: FlushPolicy::default(),
            touch_hint: TouchHint::default(),
            huge_pages: false,
            preallocate: false,
            reserve: 0,
            offset: 0,
            window: None,
            cow_writable: false,
        }
    }
}

/// Builds a [`MemoryMappedFile`] with every option set in one place.
///
/// The options that apply to a mapping (mode, flush policy of a read-write mapping, touch
/// hint, huge pages) are honoured by [`create`](Self::create), [`open`](Self::open) and
/// [`open_or_create`](Self::open_or_create) alike. Without [`mode`](Self::mode),
/// [`open`](Self::open) maps [`MmapMode::ReadOnly`] and the other calls
/// [`MmapMode::ReadWrite`]; the flush policy defaults to [`FlushPolicy::Never`] and the touch
/// hint to [`TouchHint::Never`].
///
/// Only a read-write build creates or sizes a file: with [`MmapMode::ReadOnly`] or
/// [`MmapMode::CopyOnWrite`], `create` and `open_or_create` open the existing file as
/// `open` does, and the size is not used.
///
/// # Examples
///
/// ```
/// use mmap_io::{flush::FlushPolicy, MemoryMappedFile, MmapMode, TouchHint};
///
/// let dir = tempfile::tempdir()?;
/// let mmap = MemoryMappedFile::builder(dir.path().join("data.bin"))
///     .mode(MmapMode::ReadWrite)
///     .size(1 << 20)
///     .flush_policy(FlushPolicy::EveryMillis(50))
///     .touch_hint(TouchHint::Eager)
///     .create()?;
/// mmap.update_region(0, b"flushed in the background")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until create(), open() or open_or_create() is called"]
pub struct MemoryMappedFileBuilder {
    path: PathBuf,
    /// The mode set, if any: the default depends on the call that ends the build.
    mode: Option<MmapMode>,
    options: Options,
}

impl MemoryMappedFileBuilder {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            mode: None,
            options: Options::default(),
        }
    }

    /// The options with the mode set, or `default` when none was.
    fn resolved(mut self, default: MmapMode) -> Self {
        self.options.mode = self.mode.unwrap_or(default);
        self
    }

    /// Whether the build makes a read-write mapping, the one mode that creates and sizes.
    fn is_read_write(&self) -> bool {
        self.options.mode == MmapMode::ReadWrite
    }

    /// Sets the mapping mode (default: [`MmapMode::ReadOnly`] for [`open`](Self::open),
    /// [`MmapMode::ReadWrite`] for the calls that may create the file).
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::{MemoryMappedFile, MmapMode};
    ///
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// # std::fs::write(&path, [0u8; 8])?;
    /// let ro = MemoryMappedFile::builder(&path).mode(MmapMode::ReadOnly).open()?;
    /// assert_eq!(ro.mode(), MmapMode::ReadOnly);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mode(mut self, mode: MmapMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Sets the file size of a read-write build: the size of a created file, and the size
    /// [`open_or_create`](Self::open_or_create) gives an existing empty file. An existing
    /// non-empty file keeps its length; [`open`](Self::open) and read-only or copy-on-write
    /// builds do not use it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::builder(dir.path().join("d.bin"))
    ///     .size(8192)
    ///     .create()?;
    /// assert_eq!(mmap.len(), 8192);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn size(mut self, size: u64) -> Self {
        self.options.size = Some(size);
        self
    }

    /// Sets the flush policy of read-write mappings (default: [`FlushPolicy::Never`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::flush::FlushPolicy;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::builder(dir.path().join("d.bin"))
    ///     .size(4096)
    ///     .flush_policy(FlushPolicy::Always)
    ///     .create()?;
    /// mmap.update_region(0, b"flushed at once")?;
    /// assert_eq!(mmap.pending_bytes(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush_policy(mut self, policy: FlushPolicy) -> Self {
        self.options.flush_policy = policy;
        self
    }

    /// Sets whether every page is faulted in when the mapping is made
    /// (default: [`TouchHint::Never`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::TouchHint;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let warm = mmap_io::MemoryMappedFile::builder(dir.path().join("d.bin"))
    ///     .size(1 << 16)
    ///     .touch_hint(TouchHint::Eager)
    ///     .create()?;
    /// assert_eq!(warm.len(), 1 << 16);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn touch_hint(mut self, hint: TouchHint) -> Self {
        self.options.touch_hint = hint;
        self
    }

    /// Allocates the file's disk blocks when it is created, sized or grown by
    /// [`resize`](MemoryMappedFile::resize) (default: off): `fallocate` on Linux and the
    /// BSDs; on Windows a file that is not sparse gets its clusters when it grows; macOS has
    /// no such call, and this makes create and grow fail with `Unsupported` there.
    ///
    /// Without it, a file is sized sparsely on Unix: creating it is instant, but when the
    /// disk fills up, a store through a view to a page that has no block yet cannot fail
    /// with an error and the process is killed by `SIGBUS` (a copy such as `update_region`
    /// returns [`MmapIoError::Io`](crate::MmapIoError::Io) where the crate catches the fault,
    /// see [`MmapIoError`](crate::MmapIoError)). With it, running out of space is
    /// an [`MmapIoError::Io`](crate::MmapIoError::Io) error (`ENOSPC`) from `create`,
    /// `open_or_create` or `resize`, and later writes cannot run out of space.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("log.bin");
    /// let mmap = mmap_io::MemoryMappedFile::builder(&path)
    ///     .size(1 << 20)
    ///     .preallocate(true)
    ///     .create()?;
    /// mmap.resize(2 << 20)?; // allocated too
    /// # #[cfg(unix)]
    /// # {
    /// use std::os::unix::fs::MetadataExt;
    /// assert!(std::fs::metadata(&path)?.blocks() * 512 >= 2 << 20);
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn preallocate(mut self, enable: bool) -> Self {
        self.options.preallocate = enable;
        self
    }

    /// Maps the file from byte `offset` (default 0): a window into it, for a slice of a file
    /// too large to map whole (32-bit targets) or a region of a container format. Any offset
    /// works (the mapping starts at the page below it, the 64 KiB allocation granule on
    /// Windows, and hides the bytes before it). A window that does not lie within the file
    /// (or, for `create`, within its size) is
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds), with nothing changed;
    /// a writable window of no bytes is
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed).
    ///
    /// Every offset the mapping's calls take is relative to the window's start, and its
    /// length is the window's. Two windows of one file that overlap guard the same bytes:
    /// a write through one waits for views of those bytes through the other. Without
    /// [`len`](Self::len) the window reaches the file's end. A window (an offset other than
    /// 0, or a length set) is resized as a window: [`resize`](MemoryMappedFile::resize) grows the
    /// file if the window would pass its end, and shrinking the window never cuts the file.
    /// It follows growth ([`refresh`](MemoryMappedFile::refresh)) only if it has no `len`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("big.bin");
    /// let whole = mmap_io::MemoryMappedFile::create_rw(&path, 1 << 20)?;
    /// whole.update_region(300_000, b"record")?;
    ///
    /// let window = mmap_io::MemoryMappedFile::builder(&path)
    ///     .offset(299_990)
    ///     .len(4096)
    ///     .open()?;
    /// assert_eq!(window.len(), 4096);
    /// assert_eq!(window.as_slice(10, 6)?, b"record");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn offset(mut self, offset: u64) -> Self {
        self.options.offset = offset;
        self
    }

    /// Maps `len` bytes from the [`offset`](Self::offset) (default: to the end of the file):
    /// the window's length. The window must lie within the file when it is mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// # mmap_io::MemoryMappedFile::create_rw(&path, 8192)?;
    /// let head = mmap_io::MemoryMappedFile::builder(&path).len(100).open()?;
    /// assert_eq!(head.len(), 100);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(mut self, len: u64) -> Self {
        self.options.window = Some(len);
        self
    }

    /// Reserves address space for the mapping to grow into (default: none), so that growing
    /// it up to `max` bytes never moves it and never waits for a view: a
    /// [`resize`](MemoryMappedFile::resize) that grows a read-write mapping, and a
    /// [`refresh`](MemoryMappedFile::refresh) that follows a file another handle or process
    /// grew, map the new pages right after the old ones while views of the old bytes stay
    /// valid. This is a database's map size (LMDB's `mapsize`), kept safe: the reserved
    /// space is inaccessible and costs no memory, only address space.
    ///
    /// Growth past `max` still works for a read-write mapping: the mapping moves to a new
    /// reservation with room for twice its new length, waiting for its views as a resize
    /// without room does. A read-only mapping never moves (its views may be borrowed for as
    /// long as a handle lives), so a [`refresh`](MemoryMappedFile::refresh) past `max` is
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed), and the mapping keeps
    /// its length.
    ///
    /// Unix only (shared mappings: read-only and read-write); elsewhere, and for
    /// copy-on-write mappings, it is accepted and has no effect: growth moves the mapping and
    /// waits for its views, and a read-only mapping cannot follow growth. A `max` below the
    /// mapping's length reserves nothing more.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let log = mmap_io::MemoryMappedFile::builder(dir.path().join("log.bin"))
    ///     .size(4096)
    ///     .reserve(1 << 30)
    ///     .create()?;
    /// log.update_region(0, b"first record")?;
    /// # #[cfg(unix)] {
    /// let first = log.as_slice(0, 12)?; // a view held across the growth
    /// log.resize(1 << 20)?; // in place: does not wait for `first`
    /// log.update_region(4096, b"second record")?;
    /// assert_eq!(&*first, b"first record");
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve(mut self, max: u64) -> Self {
        self.options.reserve = max;
        self
    }

    /// Creates (or truncates) the file, sizes it to [`size`](Self::size) zero bytes and
    /// maps it read-write. With mode [`MmapMode::ReadOnly`] or [`MmapMode::CopyOnWrite`] it
    /// is [`open`](Self::open): the file is never created, truncated or sized.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) if no size, a zero
    /// size or one above the size limit was set (the file is not touched);
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be created, sized or
    /// mapped; otherwise as [`open`](Self::open) for the other modes.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::{MemoryMappedFile, MmapMode};
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("d.bin");
    /// let mmap = MemoryMappedFile::builder(&path).size(4096).create()?;
    /// assert_eq!((mmap.mode(), mmap.len()), (MmapMode::ReadWrite, 4096));
    /// // Read-only: the existing file, as it is.
    /// let ro = MemoryMappedFile::builder(&path).mode(MmapMode::ReadOnly).size(8).create()?;
    /// assert_eq!(ro.len(), 4096);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(self) -> Result<MemoryMappedFile> {
        let this = self.resolved(MmapMode::ReadWrite);
        if !this.is_read_write() {
            return this.open_existing();
        }
        let size = this.checked_size()?;
        let (file, created) = create_file(&this.path, size, this.options.preallocate)?;
        this.map_created(file, created, size)
    }

    /// Maps a file this builder created or truncated; removes it again if it created it
    /// and mapping fails, so a failed create leaves no file behind.
    fn map_created(self, file: File, created: bool, size: u64) -> Result<MemoryMappedFile> {
        let path = self.path.clone();
        MemoryMappedFile::map_sized(file, self.path, &self.options, Some(size)).map_err(|e| {
            if created {
                let _ = std::fs::remove_file(&path);
            }
            e
        })
    }

    /// Creates the file, which must not exist yet, sizes it to [`size`](Self::size) zero
    /// bytes and maps it read-write. Unlike [`create`](Self::create) it never truncates: an
    /// existing file is an error, and is left as it is.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) with `ErrorKind::AlreadyExists` if the
    /// file exists; [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) if the mode
    /// is not [`MmapMode::ReadWrite`]; [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed)
    /// if no size, a zero size or one above the size limit was set. Mode and size are
    /// checked before the file system is touched, and a file this call created is removed
    /// again if sizing or mapping it fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("fresh.bin");
    /// let mmap = mmap_io::MemoryMappedFile::builder(&path).size(4096).create_new()?;
    /// assert_eq!(mmap.len(), 4096);
    /// let again = mmap_io::MemoryMappedFile::builder(&path).size(4096).create_new();
    /// assert!(matches!(again, Err(mmap_io::MmapIoError::Io(e)) if e.kind() == ErrorKind::AlreadyExists));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_new(self) -> Result<MemoryMappedFile> {
        let this = self.resolved(MmapMode::ReadWrite);
        if !this.is_read_write() {
            return Err(crate::errors::invalid_mode(CREATE_NEW_NEEDS_RW));
        }
        let size = this.checked_size()?;
        let file = create_exclusive(&this.path, size, this.options.preallocate)?;
        this.map_created(file, true, size)
    }

    /// Maps the existing file in the builder's mode ([`MmapMode::ReadOnly`] unless
    /// [`mode`](Self::mode) says otherwise), at its length (or the window `offset` and `len`
    /// set): the size is not used.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be opened
    /// (`ErrorKind::NotFound` if it does not exist) or mapped;
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) for an empty file in
    /// a mode other than read-only.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::{MemoryMappedFile, MmapMode};
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("d.bin");
    /// std::fs::write(&path, [0u8; 128])?;
    /// let mmap = MemoryMappedFile::builder(&path).open()?;
    /// assert_eq!((mmap.mode(), mmap.len()), (MmapMode::ReadOnly, 128));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(self) -> Result<MemoryMappedFile> {
        self.resolved(MmapMode::ReadOnly).open_existing()
    }

    /// Opens and maps the existing file in the resolved mode, at its length (or the window
    /// `offset` and `len` set).
    fn open_existing(self) -> Result<MemoryMappedFile> {
        super::open::check_mode_available(self.options.mode)?;
        let file = open_file(&self.path, self.options.mode)?;
        MemoryMappedFile::map_file(file, self.path, &self.options)
    }

    /// Maps the file if it exists (never truncating it), and otherwise creates it,
    /// exclusively, with [`size`](Self::size) zero bytes. An existing empty file is sized
    /// to it. The size is checked only when it is used: an existing non-empty file maps at
    /// its length whatever it says. With mode [`MmapMode::ReadOnly`] or
    /// [`MmapMode::CopyOnWrite`] it is [`open`](Self::open).
    ///
    /// # Errors
    ///
    /// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) if the file must be
    /// created or sized and no size, a zero size or one above the size limit was set;
    /// [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be opened, created or
    /// mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("d.bin");
    /// let a = mmap_io::MemoryMappedFile::builder(&path).size(512).open_or_create()?;
    /// let b = mmap_io::MemoryMappedFile::builder(&path).size(1024).open_or_create()?;
    /// assert_eq!((a.len(), b.len()), (512, 512));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_or_create(self) -> Result<MemoryMappedFile> {
        let this = self.resolved(MmapMode::ReadWrite);
        if !this.is_read_write() {
            return this.open_existing();
        }
        // Another process may create or delete the file between our attempts; each turn
        // of the loop makes progress unless it keeps doing so.
        let mut last_race = None;
        for _ in 0..8 {
            match open_file(&this.path, this.options.mode) {
                Ok(file) => return this.map_existing(file),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
            let size = this.checked_size()?;
            match create_exclusive(&this.path, size, this.options.preallocate) {
                Ok(file) => return this.map_created(file, true, size),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_race = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last_race
            .unwrap_or_else(|| io::ErrorKind::AlreadyExists.into())
            .into())
    }

    /// The size set, checked (set, non-zero, within the size limit, holding the window)
    /// before any file is created or sized.
    fn checked_size(&self) -> Result<u64> {
        let size = self
            .options
            .size
            .ok_or_else(|| crate::MmapIoError::ResizeFailed(NO_SIZE.to_owned()))?;
        crate::range::mapping_len(size)?;
        let (offset, window) = (self.options.offset, self.options.window);
        let want = window.unwrap_or(size.saturating_sub(offset));
        if offset > size || want > size - offset {
            return Err(crate::errors::out_of_bounds(offset, want, size));
        }
        Ok(size)
    }

    /// Maps an existing file read-write, first sizing it if it is empty.
    fn map_existing(self, file: File) -> Result<MemoryMappedFile> {
        if file.metadata()?.len() == 0 {
            // Measured again under the registry's lock: two callers that both found it
            // empty size it once, and neither cuts what the other maps. The size is
            // checked only if it is still empty: another creator may have sized it.
            crate::registry::exclusive(|| -> Result<()> {
                if file.metadata()?.len() == 0 {
                    let size = self.checked_size()?;
                    size_file(&file, 0, size, self.options.preallocate)?;
                }
                Ok(())
            })?;
        }
        MemoryMappedFile::map_file(file, self.path, &self.options)
    }

    #[cfg_attr(not(feature = "hugepages"), allow(dead_code))]
    pub(crate) fn set_huge_pages(mut self, enable: bool) -> Self {
        self.options.huge_pages = enable;
        self
    }

    #[cfg_attr(not(feature = "cow"), allow(dead_code))]
    pub(crate) fn set_cow_writable(mut self, enable: bool) -> Self {
        self.options.cow_writable = enable;
        self
    }
}

impl std::fmt::Debug for MemoryMappedFileBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let o = &self.options;
        f.debug_struct("MemoryMappedFileBuilder")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .field("size", &o.size)
            .field("flush_policy", &o.flush_policy)
            .field("touch_hint", &o.touch_hint)
            .field("huge_pages", &o.huge_pages)
            .field("preallocate", &o.preallocate)
            .field("reserve", &o.reserve)
            .field("offset", &o.offset)
            .field("len", &o.window)
            .field("cow_writable", &o.cow_writable)
            .finish()
    }
}

/// Opens the file at `path` with the access `mode` needs.
fn open_file(path: &Path, mode: MmapMode) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(mode == MmapMode::ReadWrite)
        .open(path)
}

/// Grows `file` from `old` to `new` bytes: sparsely, or with its blocks allocated.
/// On failure the file is left at `old` bytes.
pub(crate) fn size_file(file: &File, old: u64, new: u64, preallocate: bool) -> io::Result<()> {
    let grown = if preallocate {
        crate::os::allocate(file, old, new - old)
    } else {
        file.set_len(new)
    };
    if grown.is_err() {
        let _ = file.set_len(old);
    }
    grown
}
