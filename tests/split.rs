//! Narrowed and split views keep their guard: writers of the bytes the view was made for
//! wait (here: `try_update_region` says it would) until every part has dropped; parts of a
//! writable view are disjoint and writable from different threads; bad ranges are errors.
mod common;

use common::{file_with, pattern, tempdir, write_waits};
use mmap_io::{MappedSlice, MappedSliceMut, MemoryMappedFile, MmapIoError};

fn mapped(len: usize) -> (tempfile::TempDir, MemoryMappedFile, Vec<u8>) {
    let dir = tempdir();
    let bytes = pattern(len, 9);
    let p = file_with(&dir, "split.bin", &bytes);
    let mmap = MemoryMappedFile::open_rw(&p).unwrap();
    (dir, mmap, bytes)
}

#[test]
fn a_narrowed_view_keeps_the_guard_of_the_whole() {
    let (_dir, mmap, bytes) = mapped(4096);
    let view = mmap.as_slice(100, 200).unwrap();
    let narrow = MappedSlice::slice(view, 10..20).unwrap();
    assert_eq!(narrow, &bytes[110..120]);
    let narrower = MappedSlice::slice(narrow, ..=4).unwrap();
    assert_eq!(narrower, &bytes[110..115]);
    // Bytes of the original view outside the narrowed one are still kept from writers.
    assert!(write_waits(&mmap, 250));
    assert!(!write_waits(&mmap, 400), "bytes outside the view stay free");
    drop(narrower);
    assert!(!write_waits(&mmap, 250));
    assert_eq!(mmap.as_slice(250, 1).unwrap(), &[0]);
}

#[test]
fn split_parts_share_the_guard_until_both_drop() {
    let (_dir, mmap, bytes) = mapped(4096);
    let (head, tail) = MappedSlice::split_at(mmap.as_slice(0, 64).unwrap(), 16).unwrap();
    assert_eq!((head.len(), tail.len()), (16, 48));
    assert_eq!(head, &bytes[..16]);
    assert_eq!(tail, &bytes[16..64]);
    // The slice method is still what `.split_at` calls on a view.
    let (a, b) = tail.split_at(8);
    assert_eq!((a, b), (&bytes[16..24], &bytes[24..64]));
    drop(head);
    assert!(
        write_waits(&mmap, 0),
        "the tail still holds the whole view's guard"
    );
    // A part sent to another thread keeps the guard there.
    std::thread::scope(|s| {
        s.spawn(move || assert_eq!(tail.len(), 48));
    });
    assert!(!write_waits(&mmap, 0));
    // Split at either end: one part is empty.
    let (empty, all) = MappedSlice::split_at(mmap.as_slice(8, 8).unwrap(), 0).unwrap();
    assert!(empty.is_empty());
    assert_eq!(all.len(), 8);
}

#[test]
fn split_writable_parts_are_written_from_two_threads() {
    let (_dir, mmap, _) = mapped(4096);
    let whole = mmap.as_slice_mut(1000, 100).unwrap();
    let (mut left, right) = MappedSliceMut::split_at_mut(whole, 30).unwrap();
    let (mut a, mut b) = MappedSliceMut::split_at_mut(right, 50).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| left.fill(1));
        s.spawn(|| a.fill(2));
        s.spawn(|| b.fill(3));
    });
    // The slice method is still what `.split_at_mut` calls on a writable view.
    let (x, _) = left.split_at_mut(1);
    x[0] = 9;
    drop((left, a));
    assert!(write_waits(&mmap, 1000), "one part left holds the guard");
    drop(b);
    // Free now: the probe writes its 0.
    assert!(!write_waits(&mmap, 1099));
    let mut want = vec![1u8; 30];
    want[0] = 9;
    want.extend([2; 50]);
    want.extend([3; 19]);
    want.push(0);
    assert_eq!(mmap.as_slice(1000, 100).unwrap(), &want[..]);
}

#[test]
fn ranges_outside_the_view_are_errors_not_panics() {
    let (_dir, mmap, _) = mapped(4096);
    let out = |r: Result<MappedSlice<'_>, MmapIoError>| {
        matches!(r, Err(MmapIoError::OutOfBounds { total: 10, .. }))
    };
    assert!(out(MappedSlice::slice(
        mmap.as_slice(0, 10).unwrap(),
        5..11
    )));
    assert!(out(MappedSlice::slice(mmap.as_slice(0, 10).unwrap(), 11..)));
    #[allow(clippy::reversed_empty_ranges)]
    let backwards = 6..5;
    assert!(out(MappedSlice::slice(
        mmap.as_slice(0, 10).unwrap(),
        backwards
    )));
    assert!(out(MappedSlice::slice(
        mmap.as_slice(0, 10).unwrap(),
        ..=usize::MAX
    )));
    assert!(matches!(
        MappedSlice::split_at(mmap.as_slice(0, 10).unwrap(), 11),
        Err(MmapIoError::OutOfBounds { offset: 11, .. })
    ));
    assert!(matches!(
        MappedSliceMut::split_at_mut(mmap.as_slice_mut(0, 10).unwrap(), 11),
        Err(MmapIoError::OutOfBounds { offset: 11, .. })
    ));
    // The refused view was dropped with the error: its bytes are free.
    assert!(mmap.try_update_region(0, b"free").unwrap());
}

/// Chunks over a live atomic view are owned copies: narrowing and splitting them works the
/// same way.
#[cfg(all(feature = "atomic", feature = "iterator"))]
#[test]
fn owned_copies_narrow_and_split_too() {
    let (_dir, mmap, bytes) = mapped(4096);
    let _counter = mmap.atomic_u64(8).unwrap();
    let chunk = mmap.chunks(64).next().unwrap();
    assert_eq!(chunk.len(), 64);
    // SAFETY: the address is only compared.
    let base = unsafe { mmap.as_ptr() };
    assert_ne!(chunk.as_ptr(), base, "an owned copy, not the mapped bytes");
    let narrow = MappedSlice::slice(chunk, 16..32).unwrap();
    assert_eq!(narrow, &bytes[16..32]);
    let (a, b) = MappedSlice::split_at(narrow, 4).unwrap();
    drop(a);
    assert_eq!(b, &bytes[20..32]);
}

#[test]
fn split_writable_parts_count_each_byte_once_and_empty_views_split() {
    let (_dir, mmap, _) = mapped(4096);
    mmap.flush().unwrap();
    let (a, b) = MappedSliceMut::split_at_mut(mmap.as_slice_mut(0, 100).unwrap(), 40).unwrap();
    let (b, c) = MappedSliceMut::split_at_mut(b, 60).unwrap();
    assert!(c.is_empty());
    drop((a, b, c));
    assert_eq!(mmap.pending_bytes(), 100, "every byte counted once");
    // Views of no bytes narrow and split too, at either end.
    let empty = mmap.as_slice(10, 0).unwrap();
    let (x, y) = MappedSlice::split_at(empty, 0).unwrap();
    assert!(x.is_empty() && y.is_empty());
    let whole = mmap.as_slice(0, 8).unwrap();
    let (all, none) = MappedSlice::split_at(whole, 8).unwrap();
    assert_eq!((all.len(), none.len()), (8, 0));
    assert!(MappedSlice::slice(none, 0..0).unwrap().is_empty());
}

#[test]
fn the_parts_guard_the_whole_view_on_the_thread_that_made_it() {
    let (_dir, mmap, _) = mapped(4096);
    let (head, tail) = MappedSlice::split_at(mmap.as_slice(0, 64).unwrap(), 32).unwrap();
    drop(head);
    // The head's bytes are still under the shared guard: refused here, as for any view.
    assert!(matches!(
        mmap.update_region(0, b"head"),
        Err(MmapIoError::InvalidMode(_))
    ));
    assert!(!mmap.try_update_region(0, b"head").unwrap());
    drop(tail);
    mmap.update_region(0, b"head").unwrap();
    let (a, b) = MappedSliceMut::split_at_mut(mmap.as_slice_mut(100, 10).unwrap(), 5).unwrap();
    assert!(matches!(
        mmap.read_into(100, &mut [0u8; 2]),
        Err(MmapIoError::InvalidMode(_))
    ));
    drop((a, b));
    let mut two = [9u8; 2];
    mmap.read_into(100, &mut two).unwrap();
}
