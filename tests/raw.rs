//! `mmap_io::raw`: the memmap2-shaped layer and the checks it adds.

mod common;

use common::{file_with, pattern, read_file};
use mmap_io::raw::{RawMmap, RawMmapMut, RawMmapOptions};
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// A temp dir holding `f.bin` with `bytes`, the file's path, and the file open read-write.
fn fixture(bytes: &[u8]) -> (tempfile::TempDir, PathBuf, File) {
    let dir = common::tempdir();
    let path = file_with(&dir, "f.bin", bytes);
    let file = open_rw(&path);
    (dir, path, file)
}

fn open_rw(path: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open read-write")
}

/// Maps `len` bytes at `offset` read-only, shared and copy-on-write, and read-write on a
/// writable file: each must fail with `InvalidInput`, and the file must be unchanged.
fn assert_window_refused(path: &Path, offset: u64, len: Option<usize>) {
    let before = read_file(path);
    let file = open_rw(path);
    let mut options = RawMmapOptions::new();
    options.offset(offset);
    if let Some(len) = len {
        options.len(len);
    }
    // SAFETY (all three): nothing else touches the test's file meanwhile.
    let results = [
        unsafe { options.map(&file) }.map(|m| m.len()),
        unsafe { options.map_mut(&file) }.map(|m| m.len()),
        unsafe { options.map_copy(&file) }.map(|m| m.len()),
    ];
    for result in results {
        let err = result.expect_err("window must be refused");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(read_file(path), before, "the file must be unchanged");
}

#[test]
fn maps_the_whole_file() {
    let bytes = pattern(10_000, 3);
    let (_dir, _path, file) = fixture(&bytes);
    // SAFETY: nothing else touches the test's file meanwhile.
    let map = unsafe { RawMmap::map(&file) }.unwrap();
    assert_eq!(&map[..], &bytes[..]);
    assert_eq!(map.as_ref(), &bytes[..]);
    assert_eq!(map.len(), bytes.len());
    assert!(!map.is_empty());
    assert_eq!(map.as_ptr(), map[..].as_ptr());
}

#[test]
fn offsets_that_are_not_page_multiples_read_the_right_bytes() {
    let bytes = pattern(3 * 4096 + 100, 7);
    let (_dir, _path, file) = fixture(&bytes);
    for offset in [1usize, 100, 4095, 4097, 2 * 4096 + 1] {
        // SAFETY: nothing else touches the test's file meanwhile.
        let window = unsafe {
            RawMmapOptions::new()
                .offset(offset as u64)
                .len(50)
                .map(&file)
        };
        assert_eq!(
            &window.unwrap()[..],
            &bytes[offset..offset + 50],
            "at {offset}"
        );
        // SAFETY: as above.
        let rest = unsafe { RawMmapOptions::new().offset(offset as u64).map(&file) };
        assert_eq!(&rest.unwrap()[..], &bytes[offset..], "rest at {offset}");
    }
}

#[test]
fn writes_at_an_unaligned_offset_land_in_the_right_place() {
    let (_dir, path, file) = fixture(&[0u8; 8192]);
    // SAFETY: nothing else touches the test's file meanwhile.
    let mut map = unsafe { RawMmapOptions::new().offset(4099).len(5).map_mut(&file) }.unwrap();
    map.copy_from_slice(b"hello");
    map.flush().unwrap();
    assert_eq!(&read_file(&path)[4099..4104], b"hello");
}

#[test]
fn a_window_past_the_end_of_the_file_is_refused_and_the_file_is_intact() {
    let (_dir, path, _file) = fixture(&pattern(5000, 1));
    assert_window_refused(&path, 0, Some(5001));
    assert_window_refused(&path, 4999, Some(2));
    assert_window_refused(&path, 5000, Some(1));
    assert_window_refused(&path, 5001, None);
    assert_window_refused(&path, 1 << 40, None);
}

#[test]
fn overflowing_windows_are_refused_and_the_file_is_intact() {
    let (_dir, path, _file) = fixture(&pattern(5000, 2));
    assert_window_refused(&path, u64::MAX, Some(1));
    assert_window_refused(&path, u64::MAX, None);
    assert_window_refused(&path, 1, Some(usize::MAX));
    assert_window_refused(&path, 0, Some(usize::MAX));
    assert_window_refused(&path, u64::MAX, Some(usize::MAX));
}

#[test]
fn zero_length_windows_are_empty() {
    let (dir, path, file) = fixture(&pattern(5000, 4));
    let empty = file_with(&dir, "empty.bin", b"");
    // SAFETY (all): nothing else touches the test's files meanwhile.
    let maps = [
        unsafe { RawMmapOptions::new().offset(100).len(0).map(&file) }.unwrap(),
        unsafe { RawMmapOptions::new().offset(5000).map(&file) }.unwrap(),
        unsafe { RawMmap::map(&File::open(&empty).unwrap()) }.unwrap(),
    ];
    for map in &maps {
        assert!(map.is_empty());
        assert_eq!(map.len(), 0);
        assert_eq!(&map[..], b"");
    }
    // SAFETY: as above.
    let mut map = unsafe { RawMmapOptions::new().offset(5000).map_mut(&file) }.unwrap();
    assert_eq!(&mut map[..], b"");
    map.flush().unwrap();
    map.flush_async().unwrap();
    map.flush_range(0, 0).unwrap();
    assert_eq!(read_file(&path), pattern(5000, 4));
}

// Linux only: looks for the mapping in /proc/self/maps.
#[cfg(target_os = "linux")]
#[test]
fn zero_length_windows_make_no_os_mapping() {
    let (_dir, _path, file) = fixture(b"");
    // SAFETY: nothing else touches the test's file meanwhile.
    let file_map = unsafe { RawMmap::map(&file) }.unwrap();
    let anon = RawMmapMut::map_anon(0).unwrap();
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    for ptr in [file_map.as_ptr(), anon.as_ptr()] {
        let addr = ptr as usize;
        let mapped = maps.lines().any(|line| {
            let range = line.split_whitespace().next().unwrap();
            let (lo, hi) = range.split_once('-').unwrap();
            let lo = usize::from_str_radix(lo, 16).unwrap();
            let hi = usize::from_str_radix(hi, 16).unwrap();
            lo <= addr && addr < hi
        });
        assert!(!mapped, "{ptr:?} is inside an OS mapping");
    }
}

#[test]
fn an_empty_map_flushes_advises_and_locks_as_no_ops() {
    let map = RawMmapMut::map_anon(0).unwrap();
    map.flush().unwrap();
    map.flush_async().unwrap();
    #[cfg(feature = "advise")]
    map.advise(mmap_io::MmapAdvice::WillNeed).unwrap();
    #[cfg(feature = "locking")]
    {
        map.lock().unwrap();
        map.unlock().unwrap();
    }
    let map = map.make_read_only().unwrap();
    assert!(map.is_empty());
    #[cfg(feature = "locking")]
    map.lock().unwrap();
    assert!(map.make_mut().unwrap().is_empty());
}

#[test]
fn flush_makes_writes_visible_in_the_file() {
    let (_dir, path, file) = fixture(&[0u8; 3 * 4096]);
    // SAFETY: nothing else touches the test's file meanwhile.
    let mut map = unsafe { RawMmapMut::map_mut(&file) }.unwrap();
    map[..4].copy_from_slice(b"head");
    map[5000..5004].copy_from_slice(b"midl");
    map[3 * 4096 - 4..].copy_from_slice(b"tail");
    map.flush().unwrap();
    map.flush_range(5000, 4).unwrap();
    map.flush_async().unwrap();
    map.flush_async_range(4097, 10).unwrap();
    let on_disk = read_file(&path);
    assert_eq!(&on_disk[..4], b"head");
    assert_eq!(&on_disk[5000..5004], b"midl");
    assert_eq!(&on_disk[3 * 4096 - 4..], b"tail");
}

#[test]
fn bad_flush_ranges_are_refused() {
    let (_dir, path, file) = fixture(&pattern(8192, 5));
    // SAFETY: nothing else touches the test's file meanwhile.
    let map = unsafe { RawMmapMut::map_mut(&file) }.unwrap();
    let bad = [
        (8192, 1),
        (0, 8193),
        (8193, 0),
        (usize::MAX, 1),
        (1, usize::MAX),
        (usize::MAX, usize::MAX),
    ];
    for (offset, len) in bad {
        for result in [
            map.flush_range(offset, len),
            map.flush_async_range(offset, len),
        ] {
            let err = result.expect_err("range must be refused");
            assert_eq!(
                err.kind(),
                ErrorKind::InvalidInput,
                "({offset}, {len}): {err}"
            );
        }
    }
    drop(map);
    assert_eq!(read_file(&path), pattern(8192, 5));
}

#[test]
fn copy_on_write_maps_never_write_the_file() {
    let (_dir, path, _) = fixture(&pattern(4096, 6));
    // A read-only handle is enough, and flushing has nothing to do with it.
    let file = File::open(&path).unwrap();
    // SAFETY: nothing else touches the test's file meanwhile.
    let mut map = unsafe { RawMmapOptions::new().map_copy(&file) }.unwrap();
    map[..7].copy_from_slice(b"private");
    map.flush().unwrap();
    assert_eq!(&map[..7], b"private");
    assert_eq!(read_file(&path), pattern(4096, 6));
}

#[test]
fn anonymous_maps_are_zeroed_and_writable() {
    for mut map in [
        RawMmapMut::map_anon(10_000).unwrap(),
        RawMmapOptions::new()
            .len(10_000)
            .populate()
            .map_anon()
            .unwrap(),
    ] {
        assert_eq!(map.len(), 10_000);
        assert!(map.iter().all(|&b| b == 0));
        map.as_mut()[9_999] = 9;
        // SAFETY: offset 3 is within the map, and nothing else uses it.
        unsafe { map.as_mut_ptr().add(3).write(3) };
        assert_eq!((map[3], map[9_999]), (3, 9));
        map.flush().unwrap();
    }
}

#[test]
fn anonymous_maps_that_do_not_fit_are_refused() {
    for len in [usize::MAX, isize::MAX as usize + 1] {
        let err = RawMmapMut::map_anon(len).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
}

#[test]
fn make_read_only_and_make_mut_round_trip() {
    let (_dir, path, file) = fixture(&[0u8; 4096]);
    // SAFETY: nothing else touches the test's file meanwhile.
    let mut map = unsafe { RawMmapMut::map_mut(&file) }.unwrap();
    map[..3].copy_from_slice(b"one");
    let map = map.make_read_only().unwrap();
    assert_eq!(&map[..3], b"one");
    let mut map = map.make_mut().unwrap();
    map[3..6].copy_from_slice(b"two");
    map.flush().unwrap();
    assert_eq!(&read_file(&path)[..6], b"onetwo");
}

#[test]
fn a_map_outlives_its_file() {
    let bytes = pattern(5000, 8);
    let (_dir, path, file) = fixture(&bytes);
    // SAFETY: nothing else touches the test's file meanwhile.
    let map = unsafe { RawMmapOptions::new().offset(1000).map(&file) }.unwrap();
    // SAFETY: as above.
    let mut map_mut = unsafe { RawMmapMut::map_mut(&file) }.unwrap();
    drop(file);
    assert_eq!(&map[..], &bytes[1000..]);
    map_mut[0] = 0xAB;
    map_mut.flush().unwrap();
    assert_eq!(read_file(&path)[0], 0xAB);
}

#[cfg(any(unix, windows))]
#[test]
fn offset_granularity_is_the_page_size_or_the_allocation_granularity() {
    let granularity = mmap_io::raw::offset_granularity().unwrap();
    #[cfg(unix)]
    // SAFETY: sysconf has no preconditions.
    let expected = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    #[cfg(windows)]
    let expected = 64 * 1024;
    assert_eq!(granularity, expected);
}

// Linux only: MAP_HUGETLB and its pool are Linux's.
#[cfg(target_os = "linux")]
#[test]
fn huge_anonymous_maps_work_or_fail_with_the_os_error() {
    let len = 2 << 20;
    match RawMmapOptions::new().len(len).huge().map_anon() {
        Ok(mut map) => {
            assert_eq!(map.len(), len);
            map[len - 1] = 1;
        }
        // No huge page free in the pool (the default: an empty pool).
        Err(e) => assert_eq!(e.raw_os_error(), Some(libc::ENOMEM), "{e}"),
    }
}

// Linux only: MAP_HUGETLB and its pool are Linux's.
#[cfg(target_os = "linux")]
#[test]
fn huge_anonymous_maps_must_be_whole_huge_pages() {
    let err = RawMmapOptions::new()
        .len(4096)
        .huge()
        .map_anon()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[test]
fn populate_maps_files_too() {
    let bytes = pattern(20_000, 9);
    let (_dir, _path, file) = fixture(&bytes);
    // SAFETY: nothing else touches the test's file meanwhile.
    let map = unsafe { RawMmapOptions::new().populate().map(&file) };
    assert_eq!(&map.unwrap()[..], &bytes[..]);
}

#[cfg(feature = "advise")]
mod advise {
    use super::*;
    use mmap_io::MmapAdvice;

    #[cfg(unix)]
    #[test]
    fn advice_at_any_offset_works() {
        let map = RawMmapMut::map_anon(3 * 4096).unwrap();
        for (offset, len) in [(0, 1), (1, 4096), (4095, 2), (4097, 8000), (12_287, 1)] {
            map.advise_range(MmapAdvice::WillNeed, offset, len).unwrap();
        }
        map.advise(MmapAdvice::Random).unwrap();
        let map = map.make_read_only().unwrap();
        map.advise_range(MmapAdvice::Sequential, 4097, 100).unwrap();
    }

    #[test]
    fn bad_advice_ranges_are_refused() {
        let map = RawMmapMut::map_anon(8192).unwrap();
        for (offset, len) in [(8192, 1), (0, 8193), (usize::MAX, 1), (1, usize::MAX)] {
            let err = map
                .advise_range(MmapAdvice::Normal, offset, len)
                .unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::InvalidInput,
                "({offset}, {len}): {err}"
            );
        }
    }

    #[test]
    fn dont_need_is_refused_on_copy_and_anonymous_maps() {
        let (_dir, _path, file) = fixture(&pattern(8192, 10));
        // SAFETY: nothing else touches the test's file meanwhile.
        let mut copy = unsafe { RawMmapOptions::new().map_copy(&file) }.unwrap();
        copy[0] = 1;
        let mut anon = RawMmapMut::map_anon(8192).unwrap();
        anon[0] = 1;
        for map in [copy, anon] {
            let err = map.advise(MmapAdvice::DontNeed).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            let err = map.advise_range(MmapAdvice::DontNeed, 1, 10).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            // Made read-only, the pages are still private: still refused.
            let map = map.make_read_only().unwrap();
            let err = map.advise(MmapAdvice::DontNeed).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            assert_eq!(map[0], 1);
        }
    }

    #[cfg(unix)]
    #[test]
    fn dont_need_on_a_shared_file_map_keeps_written_bytes() {
        let (_dir, _path, file) = fixture(&[0u8; 8192]);
        // SAFETY: nothing else touches the test's file meanwhile.
        let mut map = unsafe { RawMmapMut::map_mut(&file) }.unwrap();
        map[5000] = 42;
        map.advise(MmapAdvice::DontNeed).unwrap();
        map.advise_range(MmapAdvice::DontNeed, 4999, 3).unwrap();
        assert_eq!(map[5000], 42);
        let map = map.make_read_only().unwrap();
        map.advise(MmapAdvice::DontNeed).unwrap();
        assert_eq!(map[5000], 42);
    }
}

// Linux only: the locked size is read from /proc/self/smaps.
#[cfg(all(feature = "locking", target_os = "linux"))]
#[test]
fn lock_and_unlock_pin_and_release_the_pages() {
    fn locked_kb(ptr: *const u8) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            let first = line.split_whitespace().next().unwrap_or("");
            if let Some((lo, hi)) = first.split_once('-') {
                let (lo, hi) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16));
                if let (Ok(lo), Ok(hi)) = (lo, hi) {
                    inside = (lo..hi).contains(&(ptr as usize));
                    continue;
                }
            }
            if let Some(v) = line.strip_prefix("Locked:").filter(|_| inside) {
                return v.trim().trim_end_matches("kB").trim().parse().unwrap();
            }
        }
        panic!("no smaps entry for {ptr:?}");
    }
    let map = RawMmapMut::map_anon(3 * 4096).unwrap();
    match map.lock() {
        Ok(()) => {
            assert_eq!(locked_kb(map.as_ptr()), 12);
            map.unlock().unwrap();
            assert_eq!(locked_kb(map.as_ptr()), 0);
        }
        // Only a process that may not lock memory gets here.
        Err(e) => assert!(
            matches!(e.raw_os_error(), Some(libc::EPERM | libc::ENOMEM)),
            "{e}"
        ),
    }
}

#[test]
fn the_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RawMmap>();
    assert_send_sync::<RawMmapMut>();
    assert_send_sync::<RawMmapOptions>();
}

#[test]
fn debug_shows_the_pointer_and_length() {
    let map = RawMmapMut::map_anon(4096).unwrap();
    let text = format!("{map:?}");
    assert!(text.starts_with("RawMmapMut {"), "{text}");
    assert!(text.contains("len: 4096"), "{text}");
    assert!(text.contains(&format!("{:?}", map.as_ptr())), "{text}");
    let map = map.make_read_only().unwrap();
    let text = format!("{map:?}");
    assert!(
        text.starts_with("RawMmap {") && text.contains("len: 4096"),
        "{text}"
    );

    let mut options = RawMmapOptions::default();
    options.offset(7).len(9).populate();
    let text = format!("{:?}", options.clone());
    assert!(
        text.contains("offset: 7") && text.contains("len: Some(9)"),
        "{text}"
    );
    assert_eq!(
        format!("{:?}", RawMmapOptions::new()),
        format!("{:?}", RawMmapOptions::default())
    );
}
