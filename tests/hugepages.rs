#![cfg(feature = "hugepages")]
mod common;

use common::{path, resident_kb, tempdir};
use mmap_io::MemoryMappedFile;
use std::os::unix::fs::MetadataExt;

/// The `VmFlags` of the smaps entry of `mmap` (`hg` marks `MADV_HUGEPAGE`).
fn vm_flags(mmap: &MemoryMappedFile) -> Vec<String> {
    // SAFETY: the address is only compared against /proc/self/smaps.
    let addr = unsafe { mmap.as_ptr() } as usize;
    common::smaps_field(addr, "VmFlags")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn huge_pages_true_asks_the_kernel_for_huge_pages() {
    let dir = tempdir();
    let with = MemoryMappedFile::builder(path(&dir, "hp.bin"))
        .size(4 << 20)
        .huge_pages(true)
        .create()
        .unwrap();
    let without = MemoryMappedFile::builder(path(&dir, "plain.bin"))
        .size(4 << 20)
        .huge_pages(false)
        .create()
        .unwrap();
    assert!(
        vm_flags(&with).contains(&"hg".to_owned()),
        "MADV_HUGEPAGE was not given"
    );
    assert!(!vm_flags(&without).contains(&"hg".to_owned()));
    with.update_region((4 << 20) - 5, b"works").unwrap();
    assert_eq!(with.as_slice((4 << 20) - 5, 5).unwrap(), b"works");
}

#[test]
fn huge_pages_are_honoured_by_open_and_open_or_create() {
    let dir = tempdir();
    let p = path(&dir, "hp.bin");
    drop(MemoryMappedFile::create_rw(&p, 2 << 20).unwrap());
    let opened = MemoryMappedFile::builder(&p)
        .huge_pages(true)
        .open()
        .unwrap();
    assert!(vm_flags(&opened).contains(&"hg".to_owned()));
    let either = MemoryMappedFile::builder(&p)
        .size(1)
        .huge_pages(true)
        .open_or_create()
        .unwrap();
    assert!(vm_flags(&either).contains(&"hg".to_owned()));
}

#[test]
fn a_sparse_file_is_not_pre_faulted() {
    let dir = tempdir();
    let p = path(&dir, "sparse.bin");
    let size = 256u64 << 20;
    let mmap = MemoryMappedFile::builder(&p)
        .size(size)
        .huge_pages(true)
        .create()
        .unwrap();
    assert!(
        resident_kb(&mmap) < 4096,
        "pages were faulted in: {} kB",
        resident_kb(&mmap)
    );
    let allocated = std::fs::metadata(&p).unwrap().blocks() * 512;
    assert!(
        allocated < 4 << 20,
        "the file was filled in: {allocated} bytes allocated"
    );
    assert_eq!(mmap.pending_bytes(), 0);
}

#[test]
fn is_hugepage_backed_agrees_with_smaps() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::builder(path(&dir, "q.bin"))
        .size(4 << 20)
        .huge_pages(true)
        .create()
        .unwrap();
    mmap.touch_pages().unwrap();
    // SAFETY: the address is only compared against /proc/self/smaps.
    let addr = unsafe { mmap.as_ptr() } as usize;
    let huge_kb = ["AnonHugePages", "FilePmdMapped", "ShmemPmdMapped"]
        .iter()
        .map(|f| common::smaps_kb(addr, f))
        .sum::<u64>();
    assert_eq!(mmap.is_hugepage_backed(), Some(huge_kb > 0));

    let p = common::file_with(&dir, "empty.bin", b"");
    let empty = MemoryMappedFile::open_ro(&p).unwrap();
    assert_eq!(empty.is_hugepage_backed(), None);
}
