//! Windows into files: `builder(path).offset(o).len(n)`.
mod common;

use common::{file_with, is_invalid_mode, pattern, read_file, tempdir, write_waits};
use mmap_io::{MemoryMappedFile, MmapIoError, MmapMode};
use std::io::Read;

const O: u64 = 1_000_003; // neither page- nor word-aligned

fn window(p: &std::path::Path, mode: MmapMode, offset: u64, len: Option<u64>) -> MemoryMappedFile {
    let b = MemoryMappedFile::builder(p).mode(mode).offset(offset);
    match len {
        Some(n) => b.len(n),
        None => b,
    }
    .open()
    .unwrap()
}

#[test]
fn a_window_sees_and_writes_its_part_of_the_file() {
    let dir = tempdir();
    let data = pattern(3 << 20, 1);
    let p = file_with(&dir, "w.bin", &data);
    let o = O as usize;
    for mode in [MmapMode::ReadOnly, MmapMode::ReadWrite] {
        let w = window(&p, mode, O, Some(70_000));
        assert_eq!(w.len(), 70_000);
        assert_eq!(w.as_slice(0, 100).unwrap(), &data[o..o + 100]);
        let mut buf = vec![0; 70_000];
        w.read_into(0, &mut buf).unwrap();
        assert_eq!(buf, &data[o..o + 70_000]);
        let mut all = Vec::new();
        w.reader().read_to_end(&mut all).unwrap();
        assert_eq!(all, &data[o..o + 70_000]);
        assert!(matches!(
            w.as_slice(69_999, 2),
            Err(MmapIoError::OutOfBounds { .. })
        ));
    }
    let w = window(&p, MmapMode::ReadWrite, O, Some(70_000));
    w.update_region(5, b"through the window").unwrap();
    w.flush().unwrap();
    let after = read_file(&p);
    assert_eq!(&after[o + 5..o + 23], b"through the window");
    assert_eq!(after.len(), data.len(), "the file keeps its length");
    // Without a length the window reaches the end.
    let tail = window(&p, MmapMode::ReadOnly, O, None);
    assert_eq!(tail.len(), (3 << 20) - O);
}

#[test]
fn a_window_past_the_end_is_refused_and_the_file_is_untouched() {
    let dir = tempdir();
    let data = pattern(8192, 2);
    let p = file_with(&dir, "short.bin", &data);
    for (offset, len) in [
        (8000, Some(193)),
        (9000, None),
        (u64::MAX, Some(1)),
        (1, Some(u64::MAX)),
    ] {
        for mode in [MmapMode::ReadOnly, MmapMode::ReadWrite] {
            let b = MemoryMappedFile::builder(&p).mode(mode).offset(offset);
            let b = match len {
                Some(n) => b.len(n),
                None => b,
            };
            let r = b.open();
            assert!(
                matches!(r, Err(MmapIoError::OutOfBounds { .. })),
                "{offset} {len:?}: {r:?}"
            );
        }
    }
    assert_eq!(read_file(&p), data);
    // Up to the end exactly is fine.
    assert_eq!(window(&p, MmapMode::ReadOnly, 8000, Some(192)).len(), 192);
}

#[test]
fn overlapping_windows_guard_the_same_file_bytes() {
    let dir = tempdir();
    let p = file_with(&dir, "shared.bin", &pattern(1 << 20, 3));
    let whole = MemoryMappedFile::open_rw(&p).unwrap();
    let w = window(&p, MmapMode::ReadOnly, O - 900_000, Some(4096));
    let view = w.as_slice(100, 10).unwrap(); // file bytes O - 899_900 ..+10
    let at = O - 899_900;
    assert!(
        write_waits(&whole, at + 5),
        "a write of the window's viewed bytes waits"
    );
    assert!(
        !write_waits(&whole, at + 10),
        "the byte after them does not"
    );
    assert!(
        !write_waits(&whole, 100),
        "the same offset in the file is other bytes"
    );
    assert!(
        is_invalid_mode(whole.update_region(at, b"x")),
        "own view is refused"
    );
    drop(view);
    whole.update_region(at, b"x").unwrap();
    assert_eq!(w.as_slice(100, 1).unwrap(), b"x");
}

#[test]
fn resizing_a_window_grows_the_file_and_never_cuts_it() {
    let dir = tempdir();
    let p = file_with(&dir, "grow.bin", &pattern(100_000, 4));
    let w = window(&p, MmapMode::ReadWrite, 90_001, Some(9_999));
    w.resize(50_000).unwrap();
    assert_eq!(w.len(), 50_000);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 140_001);
    w.update_region(49_990, b"0123456789").unwrap();
    w.flush().unwrap();
    assert_eq!(&read_file(&p)[139_991..], b"0123456789");
    let whole = MemoryMappedFile::open_rw(&p).unwrap();
    assert!(
        matches!(whole.resize(100_000), Err(MmapIoError::ResizeFailed(_))),
        "the window's end is registered"
    );
    w.resize(100).unwrap();
    assert_eq!(w.len(), 100);
    assert_eq!(
        std::fs::metadata(&p).unwrap().len(),
        140_001,
        "shrinking never cuts"
    );
    drop(w);
    whole.resize(100_000).unwrap();
}

#[test]
fn a_window_with_a_length_does_not_follow_the_file() {
    let dir = tempdir();
    let p = file_with(&dir, "follow.bin", &pattern(10_000, 5));
    let fixed = window(&p, MmapMode::ReadWrite, 5_001, Some(1_000));
    let open = window(&p, MmapMode::ReadWrite, 5_001, None);
    let grower = MemoryMappedFile::open_rw(&p).unwrap();
    grower.resize(20_000).unwrap();
    assert_eq!(fixed.refresh().unwrap(), 1_000);
    assert_eq!(open.refresh().unwrap(), 15_000 - 1);
}

#[cfg(unix)]
#[test]
fn a_window_with_room_grows_in_place() {
    let dir = tempdir();
    let p = file_with(&dir, "room.bin", &pattern(10_000, 6));
    let w = MemoryMappedFile::builder(&p)
        .offset(5_001)
        .len(2_000)
        .reserve(1 << 20)
        .open_or_create()
        .unwrap();
    let view = w.as_slice(0, 100).unwrap();
    w.resize(500_000).unwrap(); // in place: does not wait for `view`
    assert_eq!(&*view, &pattern(10_000, 6)[5_001..5_101]);
    w.update_region(499_000, b"end").unwrap();
    w.flush().unwrap();
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 505_001);
    assert_eq!(&read_file(&p)[504_001..504_004], b"end");
    drop(view);
    w.resize(1_000).unwrap();
    assert_eq!(
        w.as_slice(0, 100).unwrap(),
        &pattern(10_000, 6)[5_001..5_101]
    );
}

#[cfg(feature = "atomic")]
#[test]
fn atomic_views_are_aligned_in_the_file_and_copies_across_windows_see_them() {
    use std::sync::atomic::Ordering;
    let dir = tempdir();
    let p = file_with(&dir, "atomic.bin", &vec![0; 65_536]);
    let whole = MemoryMappedFile::open_rw(&p).unwrap();
    let w = window(&p, MmapMode::ReadWrite, 4_099, Some(8_192)); // 3 bytes into a word
                                                                 // Offset 5 of the window is byte 4_104 of the file: aligned.
    assert!(matches!(
        w.atomic_u64(0),
        Err(MmapIoError::Misaligned { .. })
    ));
    let counter = w.atomic_u64(5).unwrap();
    counter.store(0x0102_0304_0506_0708, Ordering::SeqCst);
    // A copy through the whole file, and through another window that starts inside the word.
    let mut buf = [0u8; 8];
    whole.read_into(4_104, &mut buf).unwrap();
    assert_eq!(u64::from_ne_bytes(buf), 0x0102_0304_0506_0708);
    let inside = window(&p, MmapMode::ReadOnly, 4_107, Some(100));
    let mut part = [0u8; 5];
    inside.read_into(0, &mut part).unwrap();
    assert_eq!(part, 0x0102_0304_0506_0708u64.to_ne_bytes()[3..]);
    drop(counter);
    // An atomic view through the whole file, copied through the window.
    let c = whole.atomic_u32(8_200).unwrap();
    c.store(7, Ordering::SeqCst);
    let mut four = [0u8; 4];
    w.read_into(8_200 - 4_099, &mut four).unwrap();
    assert_eq!(u32::from_ne_bytes(four), 7);
}

#[cfg(feature = "pod")]
#[test]
fn typed_views_are_aligned_in_the_file() {
    let dir = tempdir();
    let mut bytes = vec![0u8; 8192];
    bytes[4_104..4_112].copy_from_slice(&42u64.to_ne_bytes());
    let p = file_with(&dir, "pod.bin", &bytes);
    let w = window(&p, MmapMode::ReadOnly, 4_099, Some(1_000));
    assert!(matches!(
        w.as_pod::<u64>(0),
        Err(MmapIoError::Misaligned { .. })
    ));
    assert_eq!(*w.as_pod::<u64>(5).unwrap(), 42);
}

#[cfg(feature = "cow")]
#[test]
fn copy_on_write_windows_keep_writes_private() {
    let dir = tempdir();
    let data = pattern(20_000, 7);
    let p = file_with(&dir, "cow.bin", &data);
    let w = MemoryMappedFile::builder(&p)
        .mode(MmapMode::CopyOnWrite)
        .cow_writable(true)
        .offset(10_001)
        .len(5_000)
        .open()
        .unwrap();
    assert_eq!(w.as_slice(0, 10).unwrap(), &data[10_001..10_011]);
    w.update_region(0, b"private").unwrap();
    assert_eq!(w.as_slice(0, 7).unwrap(), b"private");
    assert_eq!(read_file(&p), data);
}

#[test]
fn whole_mapping_calls_on_a_window_stay_in_the_window() {
    let dir = tempdir();
    let data = pattern(64 << 10, 8);
    let p = file_with(&dir, "calls.bin", &data);
    let w = window(&p, MmapMode::ReadWrite, 8, Some(20_000));
    // Each asks the lock for a range before its bounds check (up to the address space's end).
    w.touch_pages().unwrap();
    assert!(w.read_into(u64::MAX - 4, &mut [0; 8]).is_err());
    assert!(w.update_region(u64::MAX - 4, b"x").is_err());
    w.flush().unwrap();
    w.schedule_flush_range(0, 100).unwrap();
    assert_eq!(w.as_slice(0, 8).unwrap(), &data[8..16]);
}

#[test]
fn a_create_whose_window_does_not_fit_touches_no_file() {
    let dir = tempdir();
    let data = pattern(4096, 9);
    let p = file_with(&dir, "kept.bin", &data);
    for builder in [
        MemoryMappedFile::builder(&p).size(100).offset(200),
        MemoryMappedFile::builder(&p).size(100).offset(50).len(51),
    ] {
        let r = builder.clone().create();
        assert!(matches!(r, Err(MmapIoError::OutOfBounds { .. })), "{r:?}");
        assert_eq!(
            read_file(&p),
            data,
            "create truncated the file before refusing"
        );
    }
    let r = MemoryMappedFile::builder(&p).len(0).open_or_create();
    assert!(
        matches!(&r, Err(MmapIoError::ResizeFailed(m)) if m.contains("window")),
        "{r:?}"
    );
    assert_eq!(window(&p, MmapMode::ReadOnly, 10, Some(0)).len(), 0);
}

#[cfg(all(feature = "cow", feature = "advise"))]
#[test]
fn discarding_private_pages_of_a_window_spares_views_of_other_pages() {
    use mmap_io::MmapAdvice;
    let dir = tempdir();
    let p = file_with(&dir, "discard.bin", &pattern(16_384, 10));
    let w = MemoryMappedFile::builder(&p)
        .mode(MmapMode::CopyOnWrite)
        .cow_writable(true)
        .offset(100)
        .len(8192)
        .open()
        .unwrap();
    w.update_region(5000, b"private!").unwrap();
    let view = w.as_slice(5000, 8).unwrap(); // in the window's second page of the file
    w.advise(0, 1, MmapAdvice::DontNeed).unwrap();
    assert_eq!(
        &*view, b"private!",
        "a page under a live view was discarded"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_window_that_fails_to_grow_leaves_the_file_as_it_was() {
    let out = common::run_child_test_within("failed_growth_child", 60);
    common::assert_child_passed(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "runs in a child process: it caps the process's address space"]
fn failed_growth_child() {
    let dir = tempdir();
    let p = file_with(&dir, "failed.bin", &pattern(1 << 20, 11));
    // The window is the file's only mapping: nothing else keeps its tail registered.
    let w = window(&p, MmapMode::ReadWrite, 4096, Some(4096));
    common::cap_address_space(64 << 20);
    assert!(w.resize(512 << 20).is_err(), "mapping 512 MiB past the cap");
    assert_eq!(
        read_file(&p),
        pattern(1 << 20, 11),
        "the file lost its tail"
    );
    assert_eq!(w.len(), 4096);
}

#[cfg(feature = "async")]
#[test]
fn an_async_write_over_a_view_the_awaiting_thread_holds_through_a_window_is_refused() {
    let dir = tempdir();
    let p = file_with(&dir, "async.bin", &pattern(16_384, 12));
    let whole = MemoryMappedFile::open_rw(&p).unwrap();
    let w = window(&p, MmapMode::ReadWrite, 5_000, Some(4_000));
    let view = w.as_slice(100, 10).unwrap(); // file bytes 5_100..5_110
    let write = |m: &MemoryMappedFile, at: u64| {
        futures_lite::future::block_on(m.update_region_async(at, b"x"))
    };
    assert!(
        is_invalid_mode(write(&whole, 5_105)),
        "the same file bytes, another handle"
    );
    assert!(is_invalid_mode(write(&w, 105)), "through the window itself");
    write(&whole, 105).unwrap(); // the window's offset, but other file bytes
    write(&w, 200).unwrap();
    drop(view);
    write(&whole, 5_105).unwrap();
    assert_eq!(w.as_slice(105, 1).unwrap(), b"x");
}
