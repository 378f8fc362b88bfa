//! [`bytes::Bytes`] conversions, for handing mapped data to the hyper/tower/tonic ecosystem.

use crate::errors::Result;
use crate::map::RoBytes;
use crate::mmap::{MappedSlice, MemoryMappedFile};
use crate::slice::Keeper;
use bytes::Bytes;
use std::io;

impl MemoryMappedFile {
    /// `len` bytes at `offset` as a [`Bytes`]: shared with the mapping on read-only mappings,
    /// copied on writable ones.
    ///
    /// On a read-only mapping (`open_ro`, and `open_cow` without writable pages) the
    /// `Bytes` points into the mapping: no byte is copied, whatever the length. It keeps the
    /// mapping alive after the handle drops (for [`unmap`](Self::unmap) it counts as a
    /// handle), and it is a view of its bytes, as [`as_slice`](Self::as_slice) gives: a
    /// write to them through another handle of the file waits until every clone of it is
    /// dropped, and the thread that made it is refused such a write instead of waiting for
    /// itself. Like a view, it is refused over bytes under a live atomic view. A file found
    /// cut below the range when it is made is an error, as for a copy; a cut made later by
    /// another process is not caught (as for views: see the type's documentation).
    ///
    /// On a writable mapping the bytes are copied, since a `Bytes` is immutable and may
    /// live forever: like [`read_into`](Self::read_into), the copy is never refused for
    /// bytes under a live atomic view (it loads them atomically).
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if the range is past
    /// the end; [`MmapIoError::Io`](crate::MmapIoError::Io) if the file was cut under the
    /// mapping (as for `read_into`); on read-only mappings,
    /// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) where `as_slice` is
    /// refused.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("d.bin");
    /// let mmap = mmap_io::create_mmap(&path, 1 << 20)?;
    /// mmap.update_region(0, b"payload")?;
    /// let copied: bytes::Bytes = mmap.read_bytes(0, 7)?;
    /// assert_eq!(&copied[..], b"payload");
    ///
    /// let ro = mmap_io::MemoryMappedFile::open_ro(&path)?;
    /// let shared = ro.read_bytes(0, 1 << 20)?; // no copy
    /// drop(ro); // the mapping lives on in `shared`
    /// assert_eq!(&shared[..7], b"payload");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_bytes(&self, offset: u64, len: u64) -> Result<Bytes> {
        if let Some(ro) = self.ro {
            return self.share_bytes(ro, offset, len);
        }
        // Checked before allocating (and again under the guard by `read_into`).
        let r = crate::range::checked(offset, len, self.len() as usize)?;
        let mut buf = vec![0u8; r.len()];
        self.read_into(offset, &mut buf)?;
        Ok(Bytes::from(buf))
    }

    /// `read_bytes` on a read-only mapping: a `Bytes` that owns a handle and a view.
    fn share_bytes(&self, ro: RoBytes, offset: u64, len: u64) -> Result<Bytes> {
        let r = crate::range::checked(offset, len, self.ro_len())?;
        if r.is_empty() {
            return Ok(Bytes::new());
        }
        let (start, end) = crate::range::in_file(ro.window, r.start, r.end);
        // SAFETY: `ro.lock` is the lock `self.inner` owns.
        let ticket = unsafe { &*ro.lock }.read(ro.id, start, end)?;
        // SAFETY: `r` is in bounds of the read-only mapping, and the ticket was published for
        // those bytes.
        let view = unsafe { MappedSlice::ticketed(ro.ptr.add(r.start), r.len(), ticket) };
        if !whole(&view) {
            return Err(self.cut_below(r.start));
        }
        Ok(shared(view, Some(self.clone())))
    }
}

/// Whether the file still reaches the end of the (non-empty) `view`. A cut takes the tail,
/// so the bytes are whole if their last one is there: loaded by the routine that turns a
/// fault into an error where the platform allows.
fn whole(view: &MappedSlice<'_>) -> bool {
    let mut last = [0u8; 1];
    // SAFETY: the last byte is in the view, whose hold keeps writers out.
    unsafe { crate::fault::copy_out(&mut last, view.as_ptr().add(view.len() - 1)) }.is_ok()
}

impl MemoryMappedFile {
    /// The error for a range from `start` of a mapping whose file was found cut below its
    /// end.
    #[cold]
    fn cut_below(&self, start: usize) -> crate::MmapIoError {
        let page = crate::os::page_size() as u64;
        // The first page the file lacks, from the mapping's start (a window's, in its file).
        let at = match self.inner.file.metadata() {
            Ok(m) => m.len().div_ceil(page).saturating_mul(page),
            Err(e) => return e.into(),
        };
        let at = at.saturating_sub(self.inner.window).max(start as u64);
        crate::MmapIoError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the mapped file has no page at offset {at} (cut under the mapping)"),
        ))
    }
}

/// The owner of a `Bytes` made without a copy: a view, and the handle that keeps the mapping
/// it lies in and its lock alive, if it needs one (dropped in that order).
struct Shared {
    view: MappedSlice<'static>,
    _handle: Option<MemoryMappedFile>,
}

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        self.view.as_slice()
    }
}

impl From<MappedSlice<'_>> for Bytes {
    /// The viewed bytes, shared with the view where it can live on as a `Bytes`, copied
    /// otherwise.
    ///
    /// - A view of a read-only mapping (`open_ro`, and `open_cow` without writable pages),
    ///   or any part of one, becomes a `Bytes` that points into the mapping, as
    ///   [`MemoryMappedFile::read_bytes`] gives: no byte is copied, it keeps the mapping alive
    ///   after every handle drops (for [`unmap`](MemoryMappedFile::unmap) it counts as a
    ///   handle), and it keeps the view's hold on the bytes, so that a write to them waits
    ///   until every clone of it drops (the thread that made the view is refused one). A
    ///   part of a split or narrowed view keeps the hold of the whole view it came from, as
    ///   the part does; convert a view of just the bytes needed to hold no more.
    /// - A view that owns a copy of its bytes (an iterator's item over bytes under an atomic
    ///   view) hands the copy over.
    /// - A view of a writable mapping is copied (and released): a `Bytes` is immutable and
    ///   may live forever. So is a view of memory the crate does not keep alive on its own
    ///   (a mapping of a file without identity, an anonymous mapping).
    ///
    /// # Panics
    ///
    /// If the file was cut under the mapping (by another process) where the view lies (found
    /// by a load of its last byte when it is shared), on the platforms where the crate
    /// catches that fault (see [`MmapIoError`](crate::MmapIoError)): a `From` conversion has
    /// no way to return the error. [`MemoryMappedFile::read_bytes`] returns it instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// # mmap_io::create_mmap(&path, 4096)?.update_region(0, b"header")?;
    /// let ro = mmap_io::MemoryMappedFile::open_ro(&path)?;
    /// let view = ro.as_slice(0, 6)?;
    /// let at = view.as_ptr();
    /// let bytes = bytes::Bytes::from(view);
    /// drop(ro);
    /// assert_eq!((&bytes[..], bytes.as_ptr()), (&b"header"[..], at));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn from(view: MappedSlice<'_>) -> Self {
        if view.is_empty() {
            return Bytes::new();
        }
        let handle = match view.keeper() {
            Keeper::Borrow => None,
            Keeper::Nothing => return shared(view, None),
            Keeper::Mapping(id) => crate::registry::handle_of(id).filter(|handle| {
                handle.ro.is_some_and(|ro| {
                    let start = view.as_ptr() as usize;
                    let mapped = ro.ptr as usize..ro.ptr as usize + handle.ro_len();
                    mapped.contains(&start) && start + view.len() <= mapped.end
                })
            }),
        };
        // A view the file was cut under is copied, to fail as a copy does.
        let handle = handle.filter(|_| whole(&view));
        match handle {
            Some(handle) => shared(view, Some(handle)),
            None => Bytes::from(&view),
        }
    }
}

/// `view` as a `Bytes`, kept with `handle`.
///
/// The caller has checked that `view` lies in the read-only mapping `handle` maps, or owns its
/// bytes (then `handle` is `None`).
fn shared(view: MappedSlice<'_>, handle: Option<MemoryMappedFile>) -> Bytes {
    // SAFETY: the view's bytes are its own, or lie in the read-only mapping of `handle`,
    // which never moves and which `handle` keeps mapped (with the lock its ticket names)
    // until after the view drops.
    let view = unsafe { view.detach() };
    Bytes::from_owner(Shared {
        view,
        _handle: handle,
    })
}

impl From<&MappedSlice<'_>> for Bytes {
    /// Copies the viewed bytes (the view stays as it is; `From<MappedSlice>` shares them
    /// where it can).
    ///
    /// # Panics
    ///
    /// As for `From<MappedSlice>`.
    fn from(slice: &MappedSlice<'_>) -> Self {
        let mut copy = vec![0u8; slice.len()];
        // SAFETY: the view's bytes are live and no writer touches them while it is held;
        // `copy` is a distinct buffer of the same length.
        if let Err(fault) = unsafe { crate::fault::copy_out(&mut copy, slice.as_ptr()) } {
            panic!(
                "converting a mapped view to Bytes: the file was cut under the mapping at \
                 byte {} of the view",
                fault.done
            );
        }
        Bytes::from(copy)
    }
}
