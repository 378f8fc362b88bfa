#![cfg(feature = "bytes")]
mod common;

use bytes::Bytes;
use common::{file_with, pattern, tempdir};
use mmap_io::{MemoryMappedFile, MmapIoError};

#[test]
fn read_bytes_copies_the_range_on_every_mode() {
    let dir = tempdir();
    let data = pattern(5000, 1);
    let p = file_with(&dir, "b.bin", &data);
    for mmap in [
        MemoryMappedFile::open_ro(&p).unwrap(),
        MemoryMappedFile::open_rw(&p).unwrap(),
    ] {
        let b = mmap.read_bytes(100, 4000).unwrap();
        assert_eq!(&b[..], &data[100..4100]);
        assert!(mmap.read_bytes(5000, 0).unwrap().is_empty());
        assert!(matches!(
            mmap.read_bytes(4999, 2),
            Err(MmapIoError::OutOfBounds { .. })
        ));
        assert!(mmap.read_bytes(u64::MAX, 1).is_err());
    }
}

#[test]
fn bytes_outlive_the_view_they_came_from() {
    let dir = tempdir();
    let p = file_with(&dir, "v.bin", b"hello world");
    let mmap = MemoryMappedFile::open_rw(&p).unwrap();
    let by_ref: Bytes = (&mmap.as_slice(0, 5).unwrap()).into();
    let by_value: Bytes = mmap.as_slice(6, 5).unwrap().into();
    mmap.update_region(0, b"HELLO WORLD").unwrap(); // no view is alive any more
    mmap.resize(4096).unwrap();
    assert_eq!(by_ref, Bytes::from_static(b"hello"));
    assert_eq!(by_value, Bytes::from_static(b"world"));
}

#[cfg(feature = "atomic")]
#[test]
fn read_bytes_copies_bytes_under_an_atomic_view() {
    use std::sync::atomic::Ordering;
    let dir = tempdir();
    let p = file_with(&dir, "atomic.bin", &[0u8; 64]);
    let mmap = MemoryMappedFile::open_rw(&p).unwrap();
    let counter = mmap.atomic_u64(8).unwrap();
    counter.store(0x0102_0304_0506_0708, Ordering::Relaxed);
    let body = mmap.read_bytes(0, 24).unwrap();
    assert_eq!(&body[8..16], &0x0102_0304_0506_0708u64.to_ne_bytes());
    assert!(matches!(
        mmap.read_bytes(60, 5),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    assert!(mmap.read_bytes(u64::MAX, 0).unwrap().is_empty());
}
