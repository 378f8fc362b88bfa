//! Typed views of plain-old-data (feature `pod`): the records, headers and index entries of
//! a file as `&T` / `&[T]` (and `&mut`) over the mapped bytes, without copying.
//!
//! The types are [bytemuck]'s [`Pod`]: every bit pattern is a valid value and there are no
//! padding bytes, which is what bytes written by another program (or a crashed one) need
//! to be read as a `T`, and what a `T` written back needs to be bytes. (bytemuck rather than
//! zerocopy: one trait for both directions, derivable with `#[derive(Pod, Zeroable)]`, and
//! the crate most code that maps records already uses.)
//!
//! A typed view is a [`MappedSlice`] (or [`MappedSliceMut`]) of its bytes with a type: it
//! takes the same guard, waits and is refused in the same cases, and holds its bytes until
//! it drops. Offsets are in bytes. Checked in this order: an offset that is not a multiple
//! of `T`'s alignment is [`MmapIoError::Misaligned`]; a count whose bytes overflow `u64` is
//! [`MmapIoError::OutOfBounds`]; then as the byte view (mode, bounds, conflicts). Never a
//! panic, never an unaligned reference: a `T` aligned to more than the mapping's start
//! (more than a page) is `Misaligned` where the address is not aligned. As for byte views,
//! a view of no bytes (a count of 0, or a zero-sized `T`) is valid at any aligned offset.
//!
//! The single-value calls are `as_pod` and `as_pod_mut` rather than `as_ref` / `as_mut`:
//! on an `Arc<MemoryMappedFile>`, `.as_ref()` finds `Arc`'s `AsRef` before the mapping's
//! methods.
//!
//! # Examples
//!
//! ```
//! use bytemuck::{Pod, Zeroable}; // bytemuck with its `derive` feature
//!
//! #[derive(Clone, Copy, Pod, Zeroable)]
//! #[repr(C)]
//! struct Header {
//!     magic: [u8; 4],
//!     version: u32,
//!     records: u64,
//! }
//!
//! # let dir = tempfile::tempdir()?;
//! let mmap = mmap_io::MemoryMappedFile::create_rw(dir.path().join("db.bin"), 4096)?;
//! {
//!     let mut header = mmap.as_pod_mut::<Header>(0)?;
//!     header.magic = *b"MMDB";
//!     header.version = 2;
//! }
//! let header = mmap.as_pod::<Header>(0)?;
//! assert_eq!((&header.magic, header.version), (b"MMDB", 2));
//! let index = mmap.as_slice_of::<u64>(64, 8)?;
//! assert_eq!(index.len(), 8);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::errors::{out_of_bounds, MmapIoError, Result};
use crate::{AnonymousMmap, MappedSlice, MappedSliceMut, MemoryMappedFile};
pub use bytemuck::{Pod, Zeroable};
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// A guarded, read-only view of a `T` (or of a `[T]`) in a mapping; derefs to `&T`.
///
/// It holds its bytes as a [`MappedSlice`] does.
#[must_use = "a MappedRef keeps writers of its bytes out until it is dropped"]
pub struct MappedRef<'a, T: ?Sized> {
    ptr: NonNull<T>,
    _view: MappedSlice<'a>,
}

/// A guarded, writable view of a `T` (or of a `[T]`) in a mapping; derefs to `&mut T`.
///
/// It holds its bytes exclusively, as a [`MappedSliceMut`] does.
#[must_use = "a MappedMut holds its bytes exclusively until it is dropped"]
pub struct MappedMut<'a, T: ?Sized> {
    ptr: NonNull<T>,
    _view: MappedSliceMut<'a>,
    /// Invariant in `T`, as `&mut T` is.
    _mut: PhantomData<&'a mut T>,
}

// SAFETY: the view gives out `&T` only, and its guard may be released on any thread.
unsafe impl<T: ?Sized + Sync> Send for MappedRef<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for MappedRef<'_, T> {}
// SAFETY: the view owns its bytes exclusively (`&mut T` through `&mut self`), and its guard
// may be released on any thread.
unsafe impl<T: ?Sized + Send> Send for MappedMut<'_, T> {}
// SAFETY: a `&MappedMut` gives out `&T` only.
unsafe impl<T: ?Sized + Sync> Sync for MappedMut<'_, T> {}

impl<T: ?Sized> Deref for MappedRef<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: `ptr` points into the view's bytes (or is dangling for no bytes), aligned
        // for `T`; the view keeps every writer of them out while it lives; every bit
        // pattern is a valid `T` (`Pod`).
        unsafe { self.ptr.as_ref() }
    }
}

impl<T: ?Sized> Deref for MappedMut<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: as for `MappedRef`; `&self` allows shared reads only.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T: ?Sized> DerefMut for MappedMut<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as above, and the view holds its bytes exclusively; `&mut self` makes this
        // borrow unique. Any `T` written is valid bytes (`Pod`: no padding).
        unsafe { self.ptr.as_mut() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The bytes `count` values of `T` at `offset` take, after the alignment check (which comes
/// first, as for atomic views: of the offset in the file, for a mapping that starts at byte
/// `window` of it); `total` is the mapping's length, for the error.
fn span<T>(window: u64, offset: u64, count: usize, total: u64) -> Result<u64> {
    let align = std::mem::align_of::<T>() as u64;
    if window.wrapping_add(offset) % align != 0 {
        return Err(MmapIoError::Misaligned {
            required: align,
            offset,
        });
    }
    (count as u64)
        .checked_mul(std::mem::size_of::<T>() as u64)
        .ok_or_else(|| out_of_bounds(offset, u64::MAX, total))
}

/// The first of `count` values of `T` at `bytes`, which the caller checked to be
/// `count * size_of::<T>()` long: aligned, or dangling where there are no bytes.
fn first<T>(bytes: *const u8, len: usize, offset: u64) -> Result<NonNull<T>> {
    if len == 0 {
        return Ok(NonNull::dangling());
    }
    // A mapping starts on a page of its file, so an offset aligned in the file gives an
    // aligned address; checked anyway, since a reference must never be unaligned.
    match NonNull::new(bytes.cast_mut().cast::<T>()) {
        Some(ptr) if ptr.as_ptr() as usize % std::mem::align_of::<T>() == 0 => Ok(ptr),
        _ => Err(MmapIoError::Misaligned {
            required: std::mem::align_of::<T>() as u64,
            offset,
        }),
    }
}

fn typed<T: Pod>(view: MappedSlice<'_>, offset: u64, count: usize) -> Result<MappedRef<'_, [T]>> {
    let first = first::<T>(view.as_ptr(), view.len(), offset)?;
    Ok(MappedRef {
        ptr: NonNull::slice_from_raw_parts(first, count),
        _view: view,
    })
}

fn typed_mut<T: Pod>(
    mut view: MappedSliceMut<'_>,
    offset: u64,
    count: usize,
) -> Result<MappedMut<'_, [T]>> {
    let first = first::<T>(view.as_mut().as_mut_ptr(), view.len(), offset)?;
    Ok(MappedMut {
        ptr: NonNull::slice_from_raw_parts(first, count),
        _view: view,
        _mut: PhantomData,
    })
}

macro_rules! typed_views {
    ($ty:ty, $slice:ident, $slice_mut:ident) => {
        impl $ty {
            /// A guarded view of the `T` at `offset` (in bytes); the same guard as
            /// [`as_slice`](Self::as_slice) of its bytes. See [`crate::pod`].
            ///
            /// # Errors
            ///
            /// [`MmapIoError::Misaligned`] if `offset` is not a multiple of `T`'s
            /// alignment (in the file, for a window); otherwise as `as_slice` of its
            /// `size_of::<T>()` bytes
            /// ([`MmapIoError::OutOfBounds`] past the end, ...).
            pub fn as_pod<T: Pod>(&self, offset: u64) -> Result<MappedRef<'_, T>> {
                let MappedRef { ptr, _view } = self.as_slice_of::<T>(offset, 1)?;
                Ok(MappedRef {
                    ptr: ptr.cast(),
                    _view,
                })
            }

            /// A guarded view of the `count` values of `T` at `offset` (in bytes).
            ///
            /// # Errors
            ///
            /// As [`as_pod`](Self::as_pod), for `count * size_of::<T>()` bytes (a count
            /// whose bytes overflow is [`MmapIoError::OutOfBounds`]).
            pub fn as_slice_of<T: Pod>(
                &self,
                offset: u64,
                count: usize,
            ) -> Result<MappedRef<'_, [T]>> {
                let bytes = span::<T>(self.window_start(), offset, count, self.len() as u64)?;
                typed(self.$slice(offset, bytes)?, offset, count)
            }

            /// A guarded, writable view of the `T` at `offset` (in bytes); the same guard
            /// as the writable view of its bytes.
            ///
            /// # Errors
            ///
            /// [`MmapIoError::Misaligned`] if `offset` is not a multiple of `T`'s
            /// alignment (in the file, for a window); otherwise as the writable view of its
            /// bytes
            /// ([`MmapIoError::InvalidMode`] on a read-only mapping, ...).
            pub fn as_pod_mut<T: Pod>(&self, offset: u64) -> Result<MappedMut<'_, T>> {
                let MappedMut { ptr, _view, .. } = self.as_mut_slice_of::<T>(offset, 1)?;
                Ok(MappedMut {
                    ptr: ptr.cast(),
                    _view,
                    _mut: PhantomData,
                })
            }

            /// A guarded, writable view of the `count` values of `T` at `offset`.
            ///
            /// # Errors
            ///
            /// As [`as_pod_mut`](Self::as_pod_mut), for `count * size_of::<T>()` bytes.
            pub fn as_mut_slice_of<T: Pod>(
                &self,
                offset: u64,
                count: usize,
            ) -> Result<MappedMut<'_, [T]>> {
                let bytes = span::<T>(self.window_start(), offset, count, self.len() as u64)?;
                typed_mut(self.$slice_mut(offset, bytes)?, offset, count)
            }
        }
    };
}

typed_views!(MemoryMappedFile, as_slice, as_slice_mut);
typed_views!(AnonymousMmap, as_slice, as_mut_slice);
