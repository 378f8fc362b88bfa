//! [`bytes::Bytes`] conversions, for handing mapped data to the hyper/tower/tonic ecosystem.

use crate::errors::Result;
use crate::map::RoBytes;
use crate::mmap::{MappedSlice, MemoryMappedFile};
use crate::sync::Ticket;
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
        unsafe { share(ro.ptr.add(r.start), r.len(), ticket, self) }
            .ok_or_else(|| self.cut_below(r.start))
    }
}

/// A `Bytes` over the `len` (at least 1) bytes at `ptr` of the read-only mapping `handle`
/// maps, which `ticket` holds writers off; `None` if the file no longer reaches their end.
/// A cut takes the tail, so the bytes are whole if their last one is there: loaded by the
/// routine that turns a fault into an error where the platform allows.
///
/// # Safety
///
/// `ptr..ptr + len` lies in `handle`'s read-only mapping, and `ticket` was published for
/// those bytes.
unsafe fn share(
    ptr: *const u8,
    len: usize,
    ticket: Ticket<'_>,
    handle: &MemoryMappedFile,
) -> Option<Bytes> {
    let mut last = [0u8; 1];
    // SAFETY: the last byte is in bounds (the caller's contract); the ticket keeps writers
    // out.
    if unsafe { crate::fault::copy_out(&mut last, ptr.add(len - 1)) }.is_err() {
        return None;
    }
    Some(Bytes::from_owner(Shared {
        ptr,
        len,
        // SAFETY: the handle below owns the lock, and is dropped after the ticket.
        _ticket: unsafe { ticket.detach() },
        // The mapping never moves, and this keeps it mapped.
        _handle: handle.clone(),
    }))
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

/// The owner of a `Bytes` that shares a read-only mapping: the view's entry, then the
/// handle that keeps the mapping and its lock alive (dropped in that order).
struct Shared {
    ptr: *const u8,
    len: usize,
    _ticket: Ticket<'static>,
    _handle: MemoryMappedFile,
}

// SAFETY: the bytes are only read, and no writer touches them while the ticket lives; the
// ticket may be released on any thread, and the handle is `Send + Sync`.
unsafe impl Send for Shared {}
// SAFETY: as above; `&Shared` gives out only `&[u8]`.
unsafe impl Sync for Shared {}

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr..ptr + len` is mapped and unwritten while `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl From<MappedSlice<'_>> for Bytes {
    /// Copies the viewed bytes (and releases the view's lock). A view borrows its handle, so
    /// it cannot keep the mapping alive as a `Bytes` may need to:
    /// [`MemoryMappedFile::read_bytes`] shares the mapping instead, on read-only mappings.
    ///
    /// # Panics
    ///
    /// If the file was cut under the mapping (by another process) where the view lies, on
    /// the platforms where the crate catches that fault (see
    /// [`MmapIoError`](crate::MmapIoError)): a `From` conversion has no way to return the
    /// error. [`MemoryMappedFile::read_bytes`] returns it instead.
    fn from(slice: MappedSlice<'_>) -> Self {
        Bytes::from(&slice)
    }
}

impl From<&MappedSlice<'_>> for Bytes {
    /// Copies the viewed bytes.
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
