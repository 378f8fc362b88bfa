//! Atomic views into a mapping: [`AtomicView`] and [`AtomicSliceView`].
//!
//! A view derefs to an [`AtomicU32`] or [`AtomicU64`] (or a slice of them) that lives in the
//! mapped pages, so threads, and processes mapping the same file read-write, can update it
//! without any other lock. A view keeps the mapping in place:
//! [`resize`](MemoryMappedFile::resize) waits until every view is dropped (unless it grows
//! the mapping within reserved room, where nothing moves). It does not hold
//! writers back: a view may live as long as the program, while other bytes are written.
//!
//! Views need writable pages: read-write and copy-on-write mappings give them, read-only
//! mappings return [`MmapIoError::InvalidMode`].
//!
//! Mixing atomic and plain access to the same bytes would be a data race, so no handle of
//! the file in the process lets both live together: a zero-copy view ([`as_slice`](MemoryMappedFile::as_slice)
//! and friends) or a write ([`update_region`](MemoryMappedFile::update_region),
//! [`as_slice_mut`](MemoryMappedFile::as_slice_mut)) that overlaps a live atomic view is
//! refused with [`MmapIoError::InvalidMode`], and so is an atomic view that overlaps a live
//! zero-copy view or an atomic view of the other width. Copying reads
//! ([`read_into`](MemoryMappedFile::read_into), the reader, owned iterators) are never
//! refused: they load those bytes atomically. Disjoint ranges never interfere.
//!
//! ```
//! use std::sync::atomic::Ordering;
//!
//! # let dir = tempfile::tempdir()?;
//! let mmap = mmap_io::create_mmap(dir.path().join("counters.bin"), 4096)?;
//! let hits = mmap.atomic_u64(0)?;
//! hits.fetch_add(1, Ordering::Relaxed);
//! assert!(mmap.as_slice(0, 8).is_err()); // the counter's bytes: refused
//! assert!(mmap.update_region(0, &[0; 8]).is_err());
//! mmap.update_region(64, b"elsewhere")?; // other bytes: fine, while the view lives
//! let mut copy = [0u8; 8];
//! mmap.read_into(0, &mut copy)?; // copies are never refused
//! assert_eq!(u64::from_ne_bytes(copy), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::errors::{out_of_bounds, MmapIoError, Result};
use crate::flush::{FlushState, LocalCounters};
use crate::mmap::{MemoryMappedFile, MmapMode};
use crate::sync::{AtomicGuard, MapLock, Width};
use crate::AnonymousMmap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};

/// A view of one atomic integer inside a mapping; derefs to `T`.
///
/// While it lives the mapping cannot be resized: [`resize`](crate::MemoryMappedFile::resize)
/// waits for it, or, on the thread that made it, returns [`MmapIoError::InvalidMode`]. A
/// thread that was *sent* the view is not known to hold it: it must drop the view before it
/// resizes the mapping, or it waits for itself.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::Ordering;
///
/// # let dir = tempfile::tempdir()?;
/// let mmap = mmap_io::create_mmap(dir.path().join("counter.bin"), 64)?;
/// let counter = mmap.atomic_u64(0)?;
/// counter.fetch_add(5, Ordering::SeqCst);
/// assert_eq!(counter.load(Ordering::SeqCst), 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a view keeps the mapping from being resized until it is dropped"]
pub struct AtomicView<'a, T> {
    ptr: NonNull<T>,
    _hold: Hold<'a>,
}

/// A view of consecutive atomic integers inside a mapping; derefs to `[T]`.
///
/// While it lives the mapping cannot be resized: [`resize`](crate::MemoryMappedFile::resize)
/// waits for it, or, on the thread that made it, returns [`MmapIoError::InvalidMode`]. A
/// thread that was *sent* the view is not known to hold it: it must drop the view before it
/// resizes the mapping, or it waits for itself.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::Ordering;
///
/// # let dir = tempfile::tempdir()?;
/// let mmap = mmap_io::create_mmap(dir.path().join("counters.bin"), 64)?;
/// let counters = mmap.atomic_u32_slice(0, 16)?;
/// counters[3].store(7, Ordering::Relaxed);
/// assert_eq!(counters.iter().map(|c| c.load(Ordering::Relaxed)).sum::<u32>(), 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a view keeps the mapping from being resized until it is dropped"]
pub struct AtomicSliceView<'a, T> {
    ptr: NonNull<T>,
    len: usize,
    _hold: Option<Hold<'a>>,
    _items: PhantomData<&'a [T]>,
}

/// What an atomic view holds: its publication, and the write accounting it reports to
/// when it drops (the view counts its bytes there).
struct Hold<'a> {
    _guard: AtomicGuard<'a>,
    counters: Option<LocalCounters<'a>>,
}

impl Hold<'_> {
    /// Counts the view's `bytes` as written, before the publication is released.
    #[inline]
    fn count(&self, bytes: usize) {
        if let Some(counters) = &self.counters {
            counters.record(bytes);
        }
    }
}

impl<T> Drop for AtomicView<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self._hold.count(std::mem::size_of::<T>());
    }
}

impl<T> Drop for AtomicSliceView<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if let Some(hold) = &self._hold {
            hold.count(std::mem::size_of_val::<[T]>(self));
        }
    }
}

// SAFETY: a view only gives out `&T` (or `&[T]`), and `T` is an atomic type, which is
// `Sync`; its registration may be released on any thread.
unsafe impl<T: Sync> Send for AtomicView<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for AtomicView<'_, T> {}
// SAFETY: as for `AtomicView`.
unsafe impl<T: Sync> Send for AtomicSliceView<'_, T> {}
// SAFETY: as for `AtomicView`.
unsafe impl<T: Sync> Sync for AtomicSliceView<'_, T> {}

impl<T> Deref for AtomicView<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: `ptr` is in bounds and aligned for `T` (checked by `atomic_span`), every bit
        // pattern is a valid atomic integer, and the registration keeps the pages mapped and
        // in place while the view lives. No plain view or write of these bytes, and no
        // atomic view of another width, can live while it does.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> Deref for AtomicSliceView<'_, T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        // SAFETY: as for `AtomicView`, for `len` consecutive values (or an empty slice at a
        // dangling, aligned pointer).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: fmt::Debug> fmt::Debug for AtomicView<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AtomicView").field(&**self).finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for AtomicSliceView<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AtomicSliceView").field(&&**self).finish()
    }
}

/// The atomic integer types a view can be made of.
trait AtomicInt: Sync {
    const WIDTH: Width;
}
impl AtomicInt for AtomicU32 {
    const WIDTH: Width = Width::U32;
}
impl AtomicInt for AtomicU64 {
    const WIDTH: Width = Width::U64;
}

const NEEDS_WRITABLE: &str = "atomic views need a writable mapping";
const PAST_USIZE: &str =
    "atomic views of bytes past the first 4 GiB of a file are not available on this target";

/// The mapping a view is made of: one implementation for files and anonymous memory.
struct Source<'a> {
    /// The guarded mapping, or why there is none (a read-only mapping).
    lock: Result<&'a MapLock>,
    /// The write accounting stores are reported to (read-write file mappings only).
    flush: Option<&'a FlushState>,
    /// The mapping's length, for the bounds check made before registering.
    len: usize,
    /// Where in its file the mapping starts: values are aligned in the file.
    window: u64,
}

impl<'a> Source<'a> {
    /// Checks that values of `T` at `offset` may be viewed at all: the mode, then the
    /// alignment.
    #[inline]
    fn checked<T: AtomicInt>(&self, offset: u64) -> Result<&'a MapLock> {
        let lock = match &self.lock {
            Ok(lock) => *lock,
            Err(_) => return Err(crate::errors::invalid_mode(NEEDS_WRITABLE)),
        };
        let align = std::mem::align_of::<T>() as u64;
        if self.window.wrapping_add(offset) % align != 0 {
            return Err(MmapIoError::Misaligned {
                required: align,
                offset,
            });
        }
        Ok(lock)
    }

    /// Checks `count` (at least 1) values of `T` at `offset` (mode, alignment, bounds,
    /// overlap, in that order) and registers them; returns the pointer to the first, with
    /// what the view holds.
    #[inline]
    fn span<T: AtomicInt>(self, offset: u64, count: usize) -> Result<(NonNull<T>, Hold<'a>)> {
        let lock = self.checked::<T>(offset)?;
        let Some(bytes) = (count as u64).checked_mul(std::mem::size_of::<T>() as u64) else {
            return Err(out_of_bounds(offset, u64::MAX, self.len as u64));
        };
        let r = crate::range::checked(offset, bytes, self.len)?;
        if !crate::range::exact_in_file(self.window, r.end) {
            return Err(crate::errors::invalid_mode(PAST_USIZE));
        }
        let (guard, start) = lock.atomic_span(offset, bytes, T::WIDTH)?;
        // The pointer comes from the mapping itself (not from a borrow of its bytes), is in
        // bounds (checked above), and is aligned: its offset in the file is (checked above),
        // and the mapping starts on a page of the file.
        let ptr = NonNull::new(guard.base.wrapping_add(start).cast::<T>())
            .ok_or_else(|| crate::errors::invalid_mode("mapping at address zero"))?;
        let hold = Hold {
            _guard: guard,
            counters: self.flush.map(FlushState::local),
        };
        Ok((ptr, hold))
    }

    #[inline]
    fn view<T: AtomicInt>(self, offset: u64) -> Result<AtomicView<'a, T>> {
        let (ptr, hold) = self.span(offset, 1)?;
        Ok(AtomicView { ptr, _hold: hold })
    }

    /// A view of `count` values; an empty one (no registration) for `count == 0`, at an
    /// offset no further than the end.
    #[inline]
    fn slice_view<T: AtomicInt>(self, offset: u64, count: usize) -> Result<AtomicSliceView<'a, T>> {
        let (ptr, hold) = if count == 0 {
            // Still bounds-checked, as in 1.1: the offset may be the end, not past it.
            self.checked::<T>(offset)?;
            if offset > self.len as u64 {
                return Err(out_of_bounds(offset, 0, self.len as u64));
            }
            (NonNull::dangling(), None)
        } else {
            let (ptr, hold) = self.span(offset, count)?;
            (ptr, Some(hold))
        };
        Ok(AtomicSliceView {
            ptr,
            len: count,
            _hold: hold,
            _items: PhantomData,
        })
    }
}

impl MemoryMappedFile {
    #[inline]
    fn atomics(&self) -> Source<'_> {
        Source {
            lock: self.writable(),
            flush: (self.mode() == MmapMode::ReadWrite).then_some(&self.inner.flush),
            len: self.len() as usize,
            window: self.inner.window,
        }
    }

    /// An atomic view of the `u64` at `offset`, which must be 8-byte aligned (in the file:
    /// a window's start counts, see the builder's `offset`).
    ///
    /// The view keeps the mapping in place: [`resize`](Self::resize) waits for it (growth
    /// within reserved room does not: nothing moves). Writes
    /// to other bytes go on while it lives. Its 8 bytes count toward
    /// [`pending_bytes`](Self::pending_bytes) when it drops; while it lives, the mapping
    /// counts as pending for [`FlushPolicy::EveryMillis`](crate::flush::FlushPolicy).
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`] on read-only (and read-only copy-on-write) mappings, if
    /// the value overlaps a live zero-copy view or an atomic view of another width, or if
    /// this thread holds a [`MappedSliceMut`](crate::MappedSliceMut) of the mapping;
    /// [`MmapIoError::Misaligned`] if `offset` is not a multiple of 8 in the file;
    /// [`MmapIoError::InvalidMode`] for bytes past the first 4 GiB of the file on 32-bit
    /// targets;
    /// [`MmapIoError::OutOfBounds`] if the value is past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("c.bin"), 64)?;
    /// mmap.atomic_u64(8)?.store(42, Ordering::Release);
    /// assert_eq!(mmap.atomic_u64(8)?.load(Ordering::Acquire), 42);
    /// assert!(mmap.atomic_u64(4).is_err()); // misaligned
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn atomic_u64(&self, offset: u64) -> Result<AtomicView<'_, AtomicU64>> {
        self.atomics().view(offset)
    }

    /// An atomic view of the `u32` at `offset`, which must be 4-byte aligned; see
    /// [`atomic_u64`](Self::atomic_u64).
    ///
    /// # Errors
    ///
    /// As [`atomic_u64`](Self::atomic_u64), with 4-byte alignment.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("c.bin"), 64)?;
    /// let flag = mmap.atomic_u32(60)?;
    /// assert_eq!(flag.swap(1, Ordering::AcqRel), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn atomic_u32(&self, offset: u64) -> Result<AtomicView<'_, AtomicU32>> {
        self.atomics().view(offset)
    }

    /// Atomic views of `count` consecutive `u64`s at `offset`, which must be 8-byte
    /// aligned. A `count` of 0 gives an empty view, still checked as 1.1 checks it: mode,
    /// alignment, then an offset no further than [`len`](Self::len) (else
    /// [`MmapIoError::OutOfBounds`] with `len` 0).
    ///
    /// # Errors
    ///
    /// As [`atomic_u64`](Self::atomic_u64); [`MmapIoError::OutOfBounds`] also when
    /// `count * 8` overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("c.bin"), 64)?;
    /// let slots = mmap.atomic_u64_slice(0, 8)?;
    /// slots[7].fetch_add(1, Ordering::Relaxed);
    /// assert_eq!(slots.len(), 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic_u64_slice(
        &self,
        offset: u64,
        count: usize,
    ) -> Result<AtomicSliceView<'_, AtomicU64>> {
        self.atomics().slice_view(offset, count)
    }

    /// Atomic views of `count` consecutive `u32`s at `offset`, which must be 4-byte
    /// aligned; see [`atomic_u64_slice`](Self::atomic_u64_slice).
    ///
    /// # Errors
    ///
    /// As [`atomic_u64_slice`](Self::atomic_u64_slice), with 4-byte values.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("c.bin"), 64)?;
    /// assert_eq!(mmap.atomic_u32_slice(0, 16)?.len(), 16);
    /// assert!(mmap.atomic_u32_slice(0, 17).is_err()); // past the end
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic_u32_slice(
        &self,
        offset: u64,
        count: usize,
    ) -> Result<AtomicSliceView<'_, AtomicU32>> {
        self.atomics().slice_view(offset, count)
    }
}

impl AnonymousMmap {
    #[inline]
    fn atomics(&self) -> Source<'_> {
        Source {
            lock: Ok(self.lock()),
            flush: None,
            len: self.len() as usize,
            window: 0,
        }
    }

    /// An atomic view of the `u64` at `offset`, which must be 8-byte aligned; see
    /// [`MemoryMappedFile::atomic_u64`].
    ///
    /// # Errors
    ///
    /// [`MmapIoError::Misaligned`] if `offset` is not a multiple of 8;
    /// [`MmapIoError::OutOfBounds`] if the value is past the end;
    /// [`MmapIoError::InvalidMode`] if it overlaps a live zero-copy view or an atomic view
    /// of another width.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    ///
    /// let shared = mmap_io::AnonymousMmap::new(4096)?;
    /// let next_id = shared.atomic_u64(0)?;
    /// assert_eq!(next_id.fetch_add(1, Ordering::Relaxed), 0);
    /// assert_eq!(next_id.fetch_add(1, Ordering::Relaxed), 1);
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    #[inline]
    pub fn atomic_u64(&self, offset: u64) -> Result<AtomicView<'_, AtomicU64>> {
        self.atomics().view(offset)
    }

    /// An atomic view of the `u32` at `offset`, which must be 4-byte aligned; see
    /// [`atomic_u64`](Self::atomic_u64).
    ///
    /// # Errors
    ///
    /// As [`atomic_u64`](Self::atomic_u64), with 4-byte alignment.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    ///
    /// let shared = mmap_io::AnonymousMmap::new(64)?;
    /// shared.atomic_u32(4)?.store(9, Ordering::Release);
    /// assert!(shared.atomic_u32(6).is_err()); // misaligned
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    #[inline]
    pub fn atomic_u32(&self, offset: u64) -> Result<AtomicView<'_, AtomicU32>> {
        self.atomics().view(offset)
    }

    /// Atomic views of `count` consecutive `u64`s at `offset`, which must be 8-byte
    /// aligned; a `count` of 0 is checked as on [`MemoryMappedFile::atomic_u64_slice`].
    ///
    /// # Errors
    ///
    /// As [`atomic_u64`](Self::atomic_u64); [`MmapIoError::OutOfBounds`] also when
    /// `count * 8` overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    ///
    /// let shared = mmap_io::AnonymousMmap::new(64)?;
    /// let slots = shared.atomic_u64_slice(0, 8)?;
    /// slots[2].fetch_add(3, Ordering::Relaxed);
    /// assert_eq!(slots[2].load(Ordering::Relaxed), 3);
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn atomic_u64_slice(
        &self,
        offset: u64,
        count: usize,
    ) -> Result<AtomicSliceView<'_, AtomicU64>> {
        self.atomics().slice_view(offset, count)
    }

    /// Atomic views of `count` consecutive `u32`s at `offset`, which must be 4-byte
    /// aligned; see [`atomic_u64_slice`](Self::atomic_u64_slice).
    ///
    /// # Errors
    ///
    /// As [`atomic_u64_slice`](Self::atomic_u64_slice), with 4-byte values.
    ///
    /// # Examples
    ///
    /// ```
    /// let shared = mmap_io::AnonymousMmap::new(64)?;
    /// assert_eq!(shared.atomic_u32_slice(0, 16)?.len(), 16);
    /// assert!(shared.atomic_u32_slice(0, 17).is_err()); // past the end
    /// # Ok::<(), mmap_io::MmapIoError>(())
    /// ```
    pub fn atomic_u32_slice(
        &self,
        offset: u64,
        count: usize,
    ) -> Result<AtomicSliceView<'_, AtomicU32>> {
        self.atomics().slice_view(offset, count)
    }
}
