//! Borrowed views of mapped bytes: [`MappedSlice`] and [`MappedSliceMut`].

use crate::flush::FlushState;
use crate::sync::{ReadGuard, Ticket, WriteGuard};
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut, Range};
use std::ptr::NonNull;
use std::sync::Arc;

mod split;

/// Zero-copy, read-only view of a range of a mapping; derefs to `[u8]`.
///
/// It is published to the lock of its file for as long as it lives (in read-mostly phases
/// with plain stores to its thread's own record): writes of its bytes through any handle
/// of the file in the process, and [`resize`](crate::MemoryMappedFile::resize) of its
/// mapping, wait for it; writes of other bytes do not (see `docs/CONCURRENCY.md`).
///
/// It is `Send` and `Sync`: a view made on one thread may be used and dropped on another.
/// The checks that turn a self-deadlock into an error know a view by the thread that made
/// it: there, a write of its bytes and [`resize`](crate::MemoryMappedFile::resize) return
/// [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode) instead of waiting for it.
/// A thread that was *sent* a view is not known to hold it: like a lock guard held across
/// its own lock call, it must drop the view before it writes its bytes or resizes the
/// mapping, or it waits for itself.
///
/// It keeps its bytes from every write the crate makes, not from other processes or from
/// writes that bypass the crate (`std::fs`, [`raw`](crate::raw), raw pointers): share files
/// only with code that cooperates.
///
/// The view is the mapped memory itself, and the loads through it are the program's own: if
/// another process cuts the file under the mapping, a load of a page past the new end raises
/// `SIGBUS` and the process dies; no library can catch it there. The copying calls
/// ([`read_into`](crate::MemoryMappedFile::read_into),
/// [`reader`](crate::MemoryMappedFile::reader), `chunks_owned`, `read_bytes`) return an
/// error instead: use them for files others may cut (see
/// [`MmapIoError`](crate::MmapIoError)).
///
/// # Examples
///
/// ```
/// use mmap_io::MemoryMappedFile;
///
/// let dir = tempfile::tempdir()?;
/// let mmap = MemoryMappedFile::create_rw(dir.path().join("data.bin"), 64)?;
/// mmap.update_region(0, b"hello")?;
/// let slice = mmap.as_slice(0, 5)?;
/// assert_eq!(slice, b"hello");
/// assert_eq!(slice.len(), 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a MappedSlice keeps writers of its bytes out until it is dropped"]
pub struct MappedSlice<'a> {
    ptr: *const u8,
    len: usize,
    hold: Hold<'a>,
    _bytes: PhantomData<&'a [u8]>,
}

/// What keeps a view's bytes valid and unchanged.
enum Hold<'a> {
    /// Bytes borrowed for `'a` from memory that never changes.
    Borrowed,
    /// A published read of a guarded mapping, unpublished when dropped.
    Ticket(#[allow(dead_code)] Ticket<'a>),
    /// A copy the view owns: `ptr` and `len` come from a leaked `Box<[u8]>`.
    Owned,
    /// The ticket or copy of a view this one was split or narrowed from, shared with its
    /// other parts; `ptr` and `len` lie in it.
    Shared(Arc<Kept<'a>>),
}

/// What a view's bytes depend on, other than the view: what must outlive a `Bytes` made from
/// it.
#[cfg(feature = "bytes")]
pub(crate) enum Keeper {
    /// Memory the view borrows for its lifetime only.
    Borrow,
    /// Nothing: the view owns its bytes (a copy).
    Nothing,
    /// The mapping with this id (under its file's lock), whose bytes the view's ticket keeps.
    Mapping(usize),
}

/// What the parts of a split view share: the whole view's ticket, or its copy.
enum Kept<'a> {
    Ticket(#[allow(dead_code)] Ticket<'a>),
    Copy(#[allow(dead_code)] OwnedCopy),
}

/// A copy made by `MappedSlice::owned`, freed when the last part drops. Kept as the pointer
/// `Box::into_raw` gave, which the parts read through: no `Box` exists until it is freed.
struct OwnedCopy(NonNull<[u8]>);

// SAFETY: the copy is only read (through the parts) and freed once, on any thread.
unsafe impl Send for OwnedCopy {}
// SAFETY: a `&OwnedCopy` gives nothing out.
unsafe impl Sync for OwnedCopy {}

impl Drop for OwnedCopy {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `Box::into_raw` in `MappedSlice::owned`, and no part
        // that reads it is left (they hold the `Arc` this lives in).
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

// SAFETY: a `MappedSlice` only reads its bytes, which nothing writes while it lives; its
// ticket may be released on any thread, and an owned copy may be freed on any thread.
unsafe impl Send for MappedSlice<'_> {}
// SAFETY: a `&MappedSlice` gives out only `&[u8]`, which may be shared between threads.
unsafe impl Sync for MappedSlice<'_> {}

impl<'a> MappedSlice<'a> {
    /// A view of bytes that stay valid and unmodified for `'a` without a lock.
    #[inline]
    pub(crate) fn borrowed(bytes: &'a [u8]) -> Self {
        Self {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
            hold: Hold::Borrowed,
            _bytes: PhantomData,
        }
    }

    /// A view of `range` of the mapping `guard` protects; `range` must be in bounds and
    /// within the range `guard` published.
    #[inline]
    pub(crate) fn guarded(guard: ReadGuard<'a>, range: Range<usize>) -> Self {
        let (base, ticket) = guard.into_parts();
        Self {
            // In bounds: the caller checked `range` against the guarded length.
            ptr: base.wrapping_add(range.start),
            len: range.len(),
            hold: Hold::Ticket(ticket),
            _bytes: PhantomData,
        }
    }

    /// A view of `len` bytes at `ptr`, kept valid and unchanged by `ticket`.
    ///
    /// # Safety
    ///
    /// `ptr..ptr + len` lies in a mapping that lives for `'a`, and `ticket` was published
    /// for (at least) those bytes, keeping every writer of them out while it lives.
    #[inline]
    pub(crate) unsafe fn ticketed(ptr: *const u8, len: usize, ticket: Ticket<'a>) -> Self {
        Self {
            ptr,
            len,
            hold: Hold::Ticket(ticket),
            _bytes: PhantomData,
        }
    }

    /// A view of its own copy of `bytes`.
    pub(crate) fn owned(bytes: Box<[u8]>) -> Self {
        let len = bytes.len();
        Self {
            ptr: Box::into_raw(bytes).cast::<u8>(),
            len,
            hold: Hold::Owned,
            _bytes: PhantomData,
        }
    }

    /// What the view's bytes depend on, other than the view.
    #[cfg(feature = "bytes")]
    pub(crate) fn keeper(&self) -> Keeper {
        match &self.hold {
            Hold::Borrowed => Keeper::Borrow,
            Hold::Owned => Keeper::Nothing,
            Hold::Ticket(ticket) => Keeper::Mapping(ticket.map()),
            Hold::Shared(kept) => match &**kept {
                Kept::Copy(_) => Keeper::Nothing,
                Kept::Ticket(ticket) => Keeper::Mapping(ticket.map()),
            },
        }
    }

    /// The same view, no longer tied to the borrow it was made from.
    ///
    /// # Safety
    ///
    /// What the view borrows (per its [`keeper`](Self::keeper): the mapping and its lock)
    /// stays alive and in place as long as the result.
    #[cfg(feature = "bytes")]
    pub(crate) unsafe fn detach(self) -> MappedSlice<'static> {
        // SAFETY: the types differ only in the lifetime, which the caller vouches for.
        unsafe { std::mem::transmute::<MappedSlice<'a>, MappedSlice<'static>>(self) }
    }

    /// The viewed bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 8)?;
    /// let slice = mmap.as_slice(0, 4)?;
    /// assert_eq!(slice.as_slice(), &[0, 0, 0, 0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr..ptr + len` is in bounds of a live mapping (or of our own copy), and
        // stays valid and unmodified while the view lives: the ticket we hold keeps resizes,
        // writers and overlapping atomic views out, or the bytes were borrowed for `'a` from
        // a mapping that never changes, or they are our own copy.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// Number of bytes viewed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 8)?;
    /// let view = mmap.as_slice(0, 3)?;
    /// assert_eq!((view.len(), view.is_empty()), (3, false));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the view is empty. See [`len`](Self::len) for an example.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for MappedSlice<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Hold::Owned = self.hold {
            let bytes = std::ptr::slice_from_raw_parts_mut(self.ptr.cast_mut(), self.len);
            // SAFETY: `ptr` and `len` came from `Box::into_raw` in `owned`, and are freed once.
            drop(unsafe { Box::from_raw(bytes) });
        }
    }
}

impl Deref for MappedSlice<'_> {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for MappedSlice<'_> {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for MappedSlice<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

impl PartialEq for MappedSlice<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for MappedSlice<'_> {}

impl PartialEq<[u8]> for MappedSlice<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<&[u8]> for MappedSlice<'_> {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_slice() == *other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for MappedSlice<'_> {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.as_slice() == other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for MappedSlice<'_> {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.as_slice() == *other
    }
}

/// Exclusive, writable view of a range of a mapping; derefs to `[u8]` mutably.
///
/// It holds its bytes exclusively for as long as it lives: every reader and writer of
/// those bytes (through any handle of the file in the process) and
/// [`resize`](crate::MemoryMappedFile::resize) of its mapping (but growth within reserved
/// room) wait for it; on the thread
/// that made it they return [`MmapIoError::InvalidMode`](crate::MmapIoError::InvalidMode)
/// instead. Other bytes stay free. It is `Send` and `Sync`. A thread that was *sent* the
/// view is not known to hold it: it must drop the view before it reads or writes those
/// bytes or resizes the mapping, or it waits for itself.
///
/// Loads and stores through the view are the program's own: past the end of a file another
/// process cut, they raise `SIGBUS` (see [`MappedSlice`]);
/// [`update_region`](crate::MemoryMappedFile::update_region) returns an error instead.
///
/// # Examples
///
/// ```
/// use mmap_io::MemoryMappedFile;
///
/// let dir = tempfile::tempdir()?;
/// let mmap = MemoryMappedFile::create_rw(dir.path().join("data.bin"), 64)?;
/// {
///     let mut guard = mmap.as_slice_mut(0, 10)?;
///     guard.as_mut().copy_from_slice(b"0123456789");
/// } // the bytes are released here
/// mmap.flush()?;
/// assert_eq!(mmap.as_slice(0, 10)?, b"0123456789");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a MappedSliceMut holds its bytes exclusively until it is dropped"]
pub struct MappedSliceMut<'a> {
    ptr: *mut u8,
    len: usize,
    /// The write accounting the view's bytes are counted in when it drops, if any.
    counted: Option<&'a FlushState>,
    guard: GuardHold<'a>,
}

/// The write guard of a writable view: its own, or shared with the other parts of the view
/// it was split from (each part has bytes of its own under it).
enum GuardHold<'a> {
    Own(#[allow(dead_code)] WriteGuard<'a>),
    Shared(#[allow(dead_code)] Arc<WriteGuard<'a>>),
}

// SAFETY: the view owns exclusive access to its bytes through its write guard, which may be
// released on any thread.
unsafe impl Send for MappedSliceMut<'_> {}
// SAFETY: a `&MappedSliceMut` gives out only `&[u8]`.
unsafe impl Sync for MappedSliceMut<'_> {}

impl<'a> MappedSliceMut<'a> {
    /// A writable view of `range` of the mapping `guard` protects; `range` must be in
    /// bounds and overlap no atomic view.
    #[inline]
    pub(crate) fn guarded(guard: WriteGuard<'a>, range: Range<usize>) -> Self {
        Self {
            // In bounds: the caller checked `range` against the guarded length.
            ptr: guard.base().wrapping_add(range.start),
            len: range.len(),
            counted: None,
            guard: GuardHold::Own(guard),
        }
    }

    /// Counts the view's bytes as written in `flush` when it drops (under its guard still).
    #[inline]
    pub(crate) fn counted_in(mut self, flush: &'a FlushState) -> Self {
        self.counted = Some(flush);
        self
    }

    /// The viewed bytes, writable.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 8)?;
    /// let mut guard = mmap.as_slice_mut(0, 4)?;
    /// guard.as_mut().fill(7);
    /// assert_eq!(&*guard, &[7, 7, 7, 7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[allow(clippy::should_implement_trait)] // part of the 1.0 API; `AsMut` is implemented too
    pub fn as_mut(&mut self) -> &mut [u8] {
        // SAFETY: `ptr..ptr + len` was a valid `&mut [u8]` when the view was made, and the
        // write guard we hold keeps every other access to the mapping out while we live;
        // `&mut self` makes this borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    /// Number of bytes viewed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 8)?;
    /// let view = mmap.as_slice_mut(0, 3)?;
    /// assert_eq!((view.len(), view.is_empty()), (3, false));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the view is empty. See [`len`](Self::len) for an example.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for MappedSliceMut<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(flush) = self.counted {
            // The guard is dropped after this, so the write is counted while it is held.
            flush.record_exclusive(self.len);
        }
    }
}

impl Deref for MappedSliceMut<'_> {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: as in `as_mut`; `&self` only allows shared reads, which the write guard
        // keeps free of concurrent writers.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl DerefMut for MappedSliceMut<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut()
    }
}

impl AsRef<[u8]> for MappedSliceMut<'_> {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl AsMut<[u8]> for MappedSliceMut<'_> {
    fn as_mut(&mut self) -> &mut [u8] {
        MappedSliceMut::as_mut(self)
    }
}

impl fmt::Debug for MappedSliceMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
