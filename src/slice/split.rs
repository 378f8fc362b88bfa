//! Narrowing and splitting views while they keep their guard: associated functions (as
//! `std::cell::Ref::map` is), so that `view.split_at(n)` and `view.split_at_mut(n)` keep
//! calling the slice methods, as code written for mmap-io 1.1 expects.

use super::{GuardHold, Hold, Kept, MappedSlice, MappedSliceMut, OwnedCopy};
use crate::errors::{out_of_bounds, Result};
use std::ops::{Bound, Range, RangeBounds};
use std::ptr::NonNull;
use std::sync::Arc;

/// `range` of a view of `len` bytes, or the error that names it.
fn checked(range: impl RangeBounds<usize>, len: usize) -> Result<Range<usize>> {
    let start = match range.start_bound() {
        Bound::Included(&s) => Some(s),
        Bound::Excluded(&s) => s.checked_add(1),
        Bound::Unbounded => Some(0),
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => e.checked_add(1),
        Bound::Excluded(&e) => Some(e),
        Bound::Unbounded => Some(len),
    };
    match (start, end) {
        (Some(start), Some(end)) if start <= end && end <= len => Ok(start..end),
        (start, end) => {
            let start = start.unwrap_or(usize::MAX);
            let span = end.unwrap_or(usize::MAX).saturating_sub(start);
            Err(out_of_bounds(start as u64, span as u64, len as u64))
        }
    }
}

impl<'a> MappedSlice<'a> {
    /// Narrows the view to `range` of its bytes, keeping its guard: the guard still covers
    /// every byte the view was made for (writers of them wait, or are refused on this
    /// thread) until the narrowed view drops.
    ///
    /// An associated function, called as `MappedSlice::slice(view, range)`, like
    /// [`Ref::map`](std::cell::Ref::map).
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) (relative to the view)
    /// if `range` is not within the view; the view is dropped then.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MappedSlice;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// mmap.update_region(0, b"key=value")?;
    /// let record = mmap.as_slice(0, 9)?;
    /// let value = MappedSlice::slice(record, 4..)?;
    /// assert_eq!(value, b"value");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn slice(this: Self, range: impl RangeBounds<usize>) -> Result<MappedSlice<'a>> {
        let r = checked(range, this.len)?;
        let mut this = match this.hold {
            // The copy is freed through the pointer it was made with: share it instead.
            Hold::Owned => this.into_shared(),
            _ => this,
        };
        // In bounds: `r` lies within the view.
        this.ptr = this.ptr.wrapping_add(r.start);
        this.len = r.len();
        Ok(this)
    }

    /// Splits the view into `[0, mid)` and `[mid, len)`, which share its guard: the guard
    /// is released when both have dropped, and until then it covers every byte of the
    /// whole view. So a write of the bytes of either part waits for both (on the thread
    /// that made the view it is refused instead, as for any view); a thread that was sent
    /// one part must drop it before it writes the bytes of the other, or it waits for itself.
    ///
    /// An associated function, called as `MappedSlice::split_at(view, mid)`, so that
    /// `view.split_at(mid)` still splits the viewed `[u8]`.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if `mid` is past the
    /// end of the view; the view is dropped then.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MappedSlice;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// mmap.update_region(0, b"headbody")?;
    /// let (head, body) = MappedSlice::split_at(mmap.as_slice(0, 8)?, 4)?;
    /// assert_eq!((head.as_slice(), body.as_slice()), (&b"head"[..], &b"body"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn split_at(this: Self, mid: usize) -> Result<(MappedSlice<'a>, MappedSlice<'a>)> {
        if mid > this.len {
            return Err(out_of_bounds(mid as u64, 0, this.len as u64));
        }
        let (ptr, len) = (this.ptr, this.len);
        let kept = this.into_kept();
        let part = |start: usize, len: usize| MappedSlice {
            // In bounds: `start + len` is at most the view's length.
            ptr: ptr.wrapping_add(start),
            len,
            hold: kept.clone().map_or(Hold::Borrowed, Hold::Shared),
            _bytes: std::marker::PhantomData,
        };
        Ok((part(0, mid), part(mid, len - mid)))
    }

    /// The same view, with its ticket or copy in a [`Hold::Shared`] (borrowed bytes stay
    /// borrowed).
    fn into_shared(self) -> Self {
        let (ptr, len) = (self.ptr, self.len);
        MappedSlice {
            ptr,
            len,
            hold: self.into_kept().map_or(Hold::Borrowed, Hold::Shared),
            _bytes: std::marker::PhantomData,
        }
    }

    /// What keeps the view's bytes, in the form its parts share; `None` for borrowed bytes.
    fn into_kept(mut self) -> Option<Arc<Kept<'a>>> {
        // The view drops with a `Borrowed` hold: what it held moves to the result.
        match std::mem::replace(&mut self.hold, Hold::Borrowed) {
            Hold::Borrowed => None,
            Hold::Shared(kept) => Some(kept),
            Hold::Ticket(ticket) => Some(Arc::new(Kept::Ticket(ticket))),
            Hold::Owned => {
                let bytes = std::ptr::slice_from_raw_parts_mut(self.ptr.cast_mut(), self.len);
                // SAFETY: `ptr` came from `Box::into_raw` in `owned`, which is never null;
                // only the `OwnedCopy` frees the copy from now on.
                let bytes = unsafe { NonNull::new_unchecked(bytes) };
                Some(Arc::new(Kept::Copy(OwnedCopy(bytes))))
            }
        }
    }
}

impl<'a> MappedSliceMut<'a> {
    /// Splits the writable view into `[0, mid)` and `[mid, len)`: two disjoint writable
    /// views, as [`<[u8]>::split_at_mut`](slice::split_at_mut) gives, which may be written
    /// from different threads. They share the view's guard, released when both have
    /// dropped, which covers the whole view meanwhile (see
    /// [`MappedSlice::split_at`] for what that means to writers of either part's bytes).
    ///
    /// An associated function, called as `MappedSliceMut::split_at_mut(view, mid)`, so
    /// that `view.split_at_mut(mid)` still splits the viewed `[u8]`.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) if `mid` is past the
    /// end of the view; the view is dropped then (nothing written through it is lost).
    ///
    /// Each part counts its own bytes as written when it drops (for
    /// [`pending_bytes`](crate::MemoryMappedFile::pending_bytes) and the flush policy), so a
    /// split view counts as two writes of the same bytes in all.
    ///
    /// # Examples
    ///
    /// ```
    /// use mmap_io::MappedSliceMut;
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("d.bin"), 64)?;
    /// let (mut left, mut right) = MappedSliceMut::split_at_mut(mmap.as_slice_mut(0, 8)?, 4)?;
    /// std::thread::scope(|s| {
    ///     s.spawn(|| left.fill(b'L'));
    ///     s.spawn(|| right.fill(b'R'));
    /// });
    /// drop((left, right));
    /// assert_eq!(mmap.as_slice(0, 8)?, b"LLLLRRRR");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn split_at_mut(
        this: Self,
        mid: usize,
    ) -> Result<(MappedSliceMut<'a>, MappedSliceMut<'a>)> {
        if mid > this.len {
            return Err(out_of_bounds(mid as u64, 0, this.len as u64));
        }
        // The whole is taken apart, not dropped: the parts count their own bytes when they
        // drop, and hold its guard.
        let this = std::mem::ManuallyDrop::new(this);
        // SAFETY: `this` is never used or dropped again, so its guard is moved out once.
        let guard = unsafe { std::ptr::read(&this.guard) };
        let shared = match guard {
            GuardHold::Own(guard) => Arc::new(guard),
            GuardHold::Shared(shared) => shared,
        };
        let part = |start: usize, len: usize| MappedSliceMut {
            // In bounds, and disjoint from the other part: `start + len` is at most the
            // view's length.
            ptr: this.ptr.wrapping_add(start),
            len,
            counted: this.counted,
            guard: GuardHold::Shared(Arc::clone(&shared)),
        };
        Ok((part(0, mid), part(mid, this.len - mid)))
    }
}
