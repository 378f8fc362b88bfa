#![cfg(feature = "cow")]
mod common;

use common::{file_with, path, pattern, read_file, tempdir};
use mmap_io::flush::FlushPolicy;
use mmap_io::{MemoryMappedFile, MmapIoError, MmapMode};
use std::fs::File;

#[test]
fn writes_through_every_path_stay_private() {
    let dir = tempdir();
    let bytes = pattern(3 * 4096, 1);
    let p = file_with(&dir, "cow.bin", &bytes);
    let cow = MemoryMappedFile::open_cow(&p).unwrap();
    assert_eq!(cow.mode(), MmapMode::CopyOnWrite);
    cow.update_region(0, b"private").unwrap();
    cow.as_slice_mut(4096, 4).unwrap().copy_from_slice(b"mine");
    // SAFETY: in bounds, and nothing else uses the mapping.
    unsafe { cow.as_mut_ptr().unwrap().add(8192).write(0xFF) };
    cow.flush().unwrap();
    cow.flush_range(0, 100).unwrap();

    assert_eq!(cow.as_slice(0, 7).unwrap(), b"private");
    assert_eq!(cow.as_slice(4096, 4).unwrap(), b"mine");
    assert_eq!(read_file(&p), bytes, "the file must not change");
    let other = MemoryMappedFile::open_ro(&p).unwrap();
    assert_eq!(other.as_slice(0, 7).unwrap(), &bytes[..7]);
    assert_eq!(cow.pending_bytes(), 0, "private writes are never pending");
    drop(cow);
    assert_eq!(read_file(&p), bytes, "nor when the mapping goes away");
}

#[test]
fn two_copy_on_write_mappings_do_not_see_each_other() {
    let dir = tempdir();
    let p = file_with(&dir, "two.bin", &[0u8; 64]);
    let a = MemoryMappedFile::open_cow(&p).unwrap();
    let b = MemoryMappedFile::open_cow(&p).unwrap();
    a.update_region(0, b"a").unwrap();
    b.update_region(0, b"b").unwrap();
    assert_eq!(a.as_slice(0, 1).unwrap(), b"a");
    assert_eq!(b.as_slice(0, 1).unwrap(), b"b");
}

#[test]
fn every_constructor_accepts_copy_on_write() {
    let dir = tempdir();
    let bytes = pattern(256, 2);
    let p = file_with(&dir, "ctor.bin", &bytes);
    let maps = [
        MemoryMappedFile::open_cow(&p).unwrap(),
        mmap_io::load_mmap(&p, MmapMode::CopyOnWrite).unwrap(),
        MemoryMappedFile::from_file(File::open(&p).unwrap(), MmapMode::CopyOnWrite, &p).unwrap(),
        MemoryMappedFile::builder(&p)
            .mode(MmapMode::CopyOnWrite)
            .open()
            .unwrap(),
        MemoryMappedFile::builder(&p)
            .mode(MmapMode::CopyOnWrite)
            .size(10)
            .open_or_create()
            .unwrap(),
    ];
    for cow in &maps {
        assert_eq!(cow.mode(), MmapMode::CopyOnWrite);
        assert_eq!(cow.as_slice(0, 256).unwrap(), bytes.as_slice());
        cow.update_region(0, b"w").unwrap();
    }
    let created = MemoryMappedFile::builder(path(&dir, "new.bin"))
        .mode(MmapMode::CopyOnWrite)
        .size(100)
        .create()
        .unwrap();
    created.update_region(0, b"x").unwrap();
    assert_eq!(read_file(&path(&dir, "new.bin")), vec![0u8; 100]);
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn resize_is_invalid_mode_and_the_flush_policy_never_writes() {
    let dir = tempdir();
    let bytes = pattern(4096, 3);
    let p = file_with(&dir, "r.bin", &bytes);
    let cow = MemoryMappedFile::builder(&p)
        .mode(MmapMode::CopyOnWrite)
        .flush_policy(FlushPolicy::Always)
        .open()
        .unwrap();
    assert!(matches!(cow.resize(8192), Err(MmapIoError::InvalidMode(_))));
    assert!(matches!(cow.resize(0), Err(MmapIoError::InvalidMode(_))));
    cow.update_region(0, b"never reaches the file").unwrap();
    assert_eq!(read_file(&p), bytes);
    assert_eq!(cow.len(), 4096);
}

#[test]
fn as_slice_bytes_freezes_the_mapping_against_writes() {
    let dir = tempdir();
    let p = file_with(&dir, "freeze.bin", &[7u8; 64]);
    let cow = MemoryMappedFile::open_cow(&p).unwrap();
    cow.update_region(0, b"before").unwrap();
    let plain: &[u8] = cow.as_slice_bytes(0, 6).unwrap();
    assert_eq!(plain, b"before");
    let clone = cow.clone();
    for result in [
        cow.update_region(0, b"after!"),
        clone.update_region(10, b"x"),
        cow.as_slice_mut(0, 1).map(drop),
    ] {
        assert!(matches!(result, Err(MmapIoError::InvalidMode(_))));
    }
    assert_eq!(plain, b"before", "the borrowed bytes did not change");
    assert_eq!(cow.as_slice(0, 6).unwrap(), b"before");
}

#[test]
fn out_of_range_requests_on_copy_on_write_are_refused() {
    let dir = tempdir();
    let p = file_with(&dir, "oob.bin", &[1u8; 100]);
    let cow = MemoryMappedFile::open_cow(&p).unwrap();
    assert!(matches!(
        cow.update_region(99, b"xy"),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    assert!(cow.as_slice(u64::MAX, 1).is_err());
    assert!(cow.as_slice_mut(1, u64::MAX).is_err());
    assert!(cow.as_slice_bytes(100, 1).is_err());
    assert!(cow.flush_range(50, 51).is_err());
    assert!(cow.as_slice(0, 100).unwrap().iter().all(|&b| b == 1));
}

#[test]
fn open_cow_of_a_missing_file_is_not_found() {
    let dir = tempdir();
    let err = MemoryMappedFile::open_cow(path(&dir, "missing.bin")).unwrap_err();
    assert!(matches!(err, MmapIoError::Io(e) if e.kind() == std::io::ErrorKind::NotFound));
}

#[test]
fn eager_touch_of_a_copy_on_write_mapping_copies_nothing() {
    let dir = tempdir();
    let p = file_with(&dir, "eager.bin", &pattern(4 << 20, 9));
    let cow = MemoryMappedFile::builder(&p)
        .mode(MmapMode::CopyOnWrite)
        .touch_hint(mmap_io::TouchHint::Eager)
        .open()
        .unwrap();
    // SAFETY: the address is only compared against /proc/self/smaps.
    let addr = unsafe { cow.as_ptr() } as usize;
    assert!(
        common::smaps_kb(addr, "Rss") >= 4096 * 9 / 10,
        "the pages are faulted in"
    );
    assert_eq!(common::smaps_kb(addr, "Anonymous"), 0, "no page was copied");
}
