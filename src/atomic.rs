//! Atomic views into a mapping: [`AtomicView`] and [`AtomicSliceView`].
//!
//! A view derefs to an [`AtomicU32`] or [`AtomicU64`] (or a slice of them) that lives in the
//! mapped pages, so threads, and processes mapping the same file read-write, can update it
//! without any other lock. Views hold a shared lock on the mapping, so
//! [`resize`](MemoryMappedFile::resize) waits until every view is dropped.
//!
//! Views need writable pages: read-write and copy-on-write mappings give them, read-only
//! mappings return [`MmapIoError::InvalidMode`]. Read the
//! values through views, not through `as_slice`, while other views may be writing them.

use crate::errors::{invalid_mode, out_of_bounds, MmapIoError, Result};
use crate::mmap::{Map, MemoryMappedFile};
use crate::range;
use crate::sync::ReadGuard;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};

/// A view of one atomic integer inside a mapping; derefs to `T`.
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
#[must_use = "a view holds a lock on the mapping until it is dropped"]
pub struct AtomicView<'a, T> {
    ptr: NonNull<T>,
    _guard: ReadGuard<'a>,
}

/// A view of consecutive atomic integers inside a mapping; derefs to `[T]`.
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
#[must_use = "a view holds a lock on the mapping until it is dropped"]
pub struct AtomicSliceView<'a, T> {
    ptr: NonNull<T>,
    len: usize,
    _guard: Option<ReadGuard<'a>>,
    _items: PhantomData<&'a [T]>,
}

// SAFETY: a `&AtomicView<T>` only gives out `&T`, and `T` is an atomic type, which is `Sync`;
// the guard it holds is `Sync` too. (It is not `Send`: the guard must be released on the
// thread that took it.)
unsafe impl<T: Sync> Sync for AtomicView<'_, T> {}
// SAFETY: as for `AtomicView`.
unsafe impl<T: Sync> Sync for AtomicSliceView<'_, T> {}

impl<T> Deref for AtomicView<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: `ptr` is in bounds and aligned for `T` (checked by `atomic_span`), every bit
        // pattern is a valid atomic integer, and the guard keeps the pages mapped and in
        // place while the view lives. Other writers only touch the value atomically.
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
trait AtomicInt: Sync {}
impl AtomicInt for AtomicU32 {}
impl AtomicInt for AtomicU64 {}

impl MemoryMappedFile {
    /// The lock of a mapping that can hold atomic views.
    fn atomic_lock(&self) -> Result<&crate::sync::MapLock> {
        match &self.inner.map {
            Map::Writable(lock) => Ok(lock),
            Map::ReadOnly(_) => Err(invalid_mode("atomic views need a writable mapping")),
        }
    }

    /// Checks `count` (at least one) values of `T` at `offset` and returns the pointer to
    /// the first, with the shared guard that keeps it valid.
    fn atomic_span<T: AtomicInt>(
        &self,
        offset: u64,
        count: usize,
    ) -> Result<(NonNull<T>, ReadGuard<'_>)> {
        let lock = self.atomic_lock()?;
        let align = std::mem::align_of::<T>() as u64;
        if offset % align != 0 {
            return Err(MmapIoError::Misaligned {
                required: align,
                offset,
            });
        }
        let guard = lock.read();
        self.check_not_frozen()?;
        let Some(len) = (count as u64).checked_mul(std::mem::size_of::<T>() as u64) else {
            return Err(out_of_bounds(offset, u64::MAX, guard.len() as u64));
        };
        let r = range::checked(offset, len, guard.len())?;
        // The pointer comes from the mapping itself (not from a borrow of its bytes), is in
        // bounds (checked above), and is aligned: the mapping starts on a page boundary.
        let ptr = guard.as_ptr().cast_mut().wrapping_add(r.start).cast::<T>();
        let ptr = NonNull::new(ptr).ok_or_else(|| invalid_mode("mapping at address zero"))?;
        self.record_shared_write(r.len());
        Ok((ptr, guard))
    }

    fn atomic_view<T: AtomicInt>(&self, offset: u64) -> Result<AtomicView<'_, T>> {
        let (ptr, guard) = self.atomic_span(offset, 1)?;
        Ok(AtomicView { ptr, _guard: guard })
    }

    fn atomic_slice_view<T: AtomicInt>(
        &self,
        offset: u64,
        count: usize,
    ) -> Result<AtomicSliceView<'_, T>> {
        let (ptr, guard) = if count == 0 {
            self.atomic_lock()?;
            (NonNull::dangling(), None)
        } else {
            let (ptr, guard) = self.atomic_span(offset, count)?;
            (ptr, Some(guard))
        };
        Ok(AtomicSliceView {
            ptr,
            len: count,
            _guard: guard,
            _items: PhantomData,
        })
    }

    /// An atomic view of the `u64` at `offset`, which must be 8-byte aligned.
    ///
    /// The view holds a shared lock: [`resize`](Self::resize) waits for it. Its 8 bytes
    /// count toward [`pending_bytes`](Self::pending_bytes) when it is made.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::InvalidMode`] on read-only (or frozen copy-on-write) mappings;
    /// [`MmapIoError::Misaligned`] if `offset` is not a multiple of 8;
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
    pub fn atomic_u64(&self, offset: u64) -> Result<AtomicView<'_, AtomicU64>> {
        self.atomic_view(offset)
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
    pub fn atomic_u32(&self, offset: u64) -> Result<AtomicView<'_, AtomicU32>> {
        self.atomic_view(offset)
    }

    /// Atomic views of `count` consecutive `u64`s at `offset`, which must be 8-byte
    /// aligned. A `count` of 0 gives an empty view at any offset.
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
        self.atomic_slice_view(offset, count)
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
        self.atomic_slice_view(offset, count)
    }
}
