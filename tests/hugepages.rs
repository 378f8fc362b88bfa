#![cfg(feature = "hugepages")]
mod common;

use common::{path, tempdir};
#[cfg(target_os = "linux")]
use mmap_io::{MemoryMappedFile, MmapMode};

/// The `VmFlags` of the smaps entry of `mmap` (`hg` marks `MADV_HUGEPAGE`).
#[cfg(target_os = "linux")]
fn vm_flags(mmap: &MemoryMappedFile) -> Vec<String> {
    // SAFETY: the address is only compared against /proc/self/smaps.
    let addr = unsafe { mmap.as_ptr() } as usize;
    common::smaps_field(addr, "VmFlags")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

// Linux only: transparent huge pages and their smaps flags are a Linux notion.
#[cfg(target_os = "linux")]
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

// Linux only: transparent huge pages and their smaps flags are a Linux notion.
#[cfg(target_os = "linux")]
#[test]
fn huge_pages_are_honoured_by_open_and_open_or_create() {
    let dir = tempdir();
    let p = path(&dir, "hp.bin");
    drop(MemoryMappedFile::create_rw(&p, 2 << 20).unwrap());
    let opened = MemoryMappedFile::builder(&p)
        .mode(MmapMode::ReadWrite)
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

// Linux only: reads page state from /proc/self/smaps.
#[cfg(target_os = "linux")]
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
        common::resident_kb(&mmap) < 4096,
        "pages were faulted in: {} kB",
        common::resident_kb(&mmap)
    );
    use std::os::unix::fs::MetadataExt;
    let allocated = std::fs::metadata(&p).unwrap().blocks() * 512;
    assert!(
        allocated < 4 << 20,
        "the file was filled in: {allocated} bytes allocated"
    );
    assert_eq!(mmap.pending_bytes(), 0);
}

// Linux only: reads page state from /proc/self/smaps.
#[cfg(target_os = "linux")]
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

// Linux only: transparent huge pages and their smaps flags are a Linux notion.
#[cfg(target_os = "linux")]
#[test]
fn the_huge_page_hint_survives_resize() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::builder(path(&dir, "grow.bin"))
        .size(4 << 20)
        .huge_pages(true)
        .create()
        .unwrap();
    for size in [64 << 20, 2 << 20, 8 << 20] {
        mmap.resize(size).unwrap();
        assert!(
            vm_flags(&mmap).iter().any(|f| f == "hg"),
            "MADV_HUGEPAGE after resize to {size}"
        );
    }
}

// --- AnonymousMmap::with_huge_pages ---

/// `vm.nr_hugepages`, if it can be read.
#[cfg(target_os = "linux")]
fn huge_page_pool() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/vm/nr_hugepages")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Held by the tests that map huge pages from the pool, so that one does not take the
/// pages another reserved.
static POOL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn with_huge_pages_falls_back_to_an_ordinary_mapping_with_the_hint() {
    let _pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    // Sizes that are no multiple of a huge page never get MAP_HUGETLB (others may, if the
    // pool has pages). Either way the map works.
    for size in [4097, 3 << 20, 4 << 20] {
        let map = mmap_io::AnonymousMmap::with_huge_pages(size).unwrap();
        assert_eq!(map.len(), size);
        assert!(map.as_slice(0, size).unwrap().iter().all(|&b| b == 0));
        map.update_region(size - 4, b"tail").unwrap();
        assert_eq!(map.as_slice(size - 4, 4).unwrap(), b"tail");
        if cfg!(target_os = "linux") && size % (2 << 20) != 0 {
            // SAFETY: the address is only compared against /proc/self/smaps.
            let addr = unsafe { map.as_ptr() } as usize;
            let flags = common::smaps_field(addr, "VmFlags");
            assert!(flags.split_whitespace().any(|f| f == "hg"), "{flags}");
            assert!(!flags.split_whitespace().any(|f| f == "ht"), "{flags}");
        }
    }
    assert!(mmap_io::AnonymousMmap::with_huge_pages(0).is_err());
    assert!(mmap_io::AnonymousMmap::with_huge_pages(u64::MAX).is_err());
}

// Linux only: reads page state from /proc/self/smaps.
#[cfg(target_os = "linux")]
#[test]
fn with_huge_pages_uses_the_pool_when_there_is_one() {
    let _pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    // Needs root to give the kernel a pool of two huge pages for the test.
    let Some(before) = huge_page_pool() else {
        return println!("skipped: no /proc/sys/vm/nr_hugepages");
    };
    let set = |n: u64| std::fs::write("/proc/sys/vm/nr_hugepages", n.to_string()).is_ok();
    if !set(before + 2) || huge_page_pool() < Some(before + 2) {
        set(before);
        return println!("skipped: cannot reserve huge pages here (needs root and free memory)");
    }
    let result = std::panic::catch_unwind(|| {
        let map = mmap_io::AnonymousMmap::with_huge_pages(2 << 20).unwrap();
        map.update_region(0, b"huge").unwrap();
        assert_eq!(map.as_slice(0, 4).unwrap(), b"huge");
        assert_eq!(map.is_hugepage_backed(), Some(true));
        // SAFETY: the address is only compared against /proc/self/smaps.
        let addr = unsafe { map.as_ptr() } as usize;
        assert!(common::smaps_field(addr, "VmFlags").contains("ht"));
        let plain = mmap_io::AnonymousMmap::new(64 << 10).unwrap(); // too small for THP
        plain.update_region(0, b"small").unwrap();
        assert_eq!(plain.is_hugepage_backed(), Some(false));
    });
    set(before);
    result.unwrap();
}

#[cfg(not(target_os = "linux"))]
#[test]
fn is_hugepage_backed_is_unknown_off_linux() {
    let dir = tempdir();
    let mmap = mmap_io::create_mmap(path(&dir, "u.bin"), 4096).unwrap();
    assert_eq!(mmap.is_hugepage_backed(), None);
    let map = mmap_io::AnonymousMmap::with_huge_pages(2 << 20).unwrap();
    assert_eq!(map.is_hugepage_backed(), None);
}
