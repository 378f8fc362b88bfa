mod common;

use common::{file_with, path, pattern, read_file, tempdir};
use mmap_io::segment::{Segment, SegmentMut};
use mmap_io::{MemoryMappedFile, MmapIoError, MmapMode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

#[test]
fn growing_keeps_the_data_and_adds_zeros() {
    let dir = tempdir();
    let p = path(&dir, "grow.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 5000).unwrap();
    let bytes = pattern(5000, 1);
    mmap.update_region(0, &bytes).unwrap();
    mmap.resize(20_000).unwrap();
    assert_eq!(mmap.len(), 20_000);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 20_000);
    assert_eq!(mmap.as_slice(0, 5000).unwrap(), bytes.as_slice());
    assert!(mmap.as_slice(5000, 15_000).unwrap().iter().all(|&b| b == 0));
    mmap.update_region(19_990, b"0123456789").unwrap();
    mmap.flush().unwrap();
    assert_eq!(&read_file(&p)[19_990..], b"0123456789");
}

#[test]
fn shrinking_keeps_the_head_and_drops_the_tail() {
    let dir = tempdir();
    let p = path(&dir, "shrink.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 20_000).unwrap();
    let bytes = pattern(20_000, 2);
    mmap.update_region(0, &bytes).unwrap();
    mmap.resize(3000).unwrap();
    assert_eq!(mmap.len(), 3000);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 3000);
    assert!(mmap.as_slice(2999, 2).is_err());
    mmap.flush().unwrap();
    assert_eq!(read_file(&p), &bytes[..3000]);
}

#[test]
fn resizing_to_the_same_size_changes_nothing() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "same.bin"), 4096).unwrap();
    mmap.update_region(0, b"same").unwrap();
    mmap.resize(4096).unwrap();
    assert_eq!(mmap.as_slice(0, 4).unwrap(), b"same");
}

#[test]
fn resize_to_zero_is_refused_and_leaves_the_file_intact() {
    let dir = tempdir();
    let bytes = pattern(4096, 3);
    let p = file_with(&dir, "zero.bin", &bytes);
    let mmap = MemoryMappedFile::open_rw(&p).unwrap();
    let err = mmap.resize(0).unwrap_err();
    assert!(
        matches!(&err, MmapIoError::ResizeFailed(m) if m == "Size must be greater than zero"),
        "{err}"
    );
    assert_eq!(mmap.len(), 4096);
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn resize_the_file_system_refuses_keeps_the_old_length() {
    let dir = tempdir();
    let bytes = pattern(4096, 4);
    let p = file_with(&dir, "huge.bin", &bytes);
    let mmap = MemoryMappedFile::open_rw(&p).unwrap();
    let limit: u64 = if cfg!(target_pointer_width = "64") {
        1 << 47
    } else {
        1 << 31
    };
    for size in [limit + 1, 1 << 62, u64::MAX] {
        let err = mmap.resize(size).unwrap_err();
        let expected = format!("New size {size} exceeds maximum safe limit of {limit} bytes");
        assert!(
            matches!(&err, MmapIoError::ResizeFailed(m) if *m == expected),
            "{err}"
        );
        assert_eq!(mmap.len(), 4096);
        assert_eq!(read_file(&p), bytes);
    }
    assert_eq!(mmap.as_slice(0, 4096).unwrap(), bytes.as_slice());
}

#[test]
fn resize_of_a_read_only_mapping_is_invalid_mode() {
    let dir = tempdir();
    let bytes = pattern(4096, 5);
    let p = file_with(&dir, "ro.bin", &bytes);
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    assert!(matches!(ro.resize(8192), Err(MmapIoError::InvalidMode(_))));
    assert!(matches!(ro.resize(0), Err(MmapIoError::InvalidMode(_))));
    assert_eq!(read_file(&p), bytes);
}

#[cfg(feature = "cow")]
#[test]
fn resize_of_a_copy_on_write_mapping_is_invalid_mode() {
    let dir = tempdir();
    let bytes = pattern(4096, 6);
    let p = file_with(&dir, "cow.bin", &bytes);
    let cow = mmap_io::load_mmap(&p, MmapMode::CopyOnWrite).unwrap();
    assert!(matches!(cow.resize(8192), Err(MmapIoError::InvalidMode(_))));
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn resize_waits_for_a_live_slice_on_another_thread() {
    let dir = tempdir();
    let p = path(&dir, "wait.bin");
    let mmap = Arc::new(MemoryMappedFile::create_rw(&p, 4096).unwrap());
    mmap.update_region(0, b"live").unwrap();
    let slice = mmap.as_slice(0, 4096).unwrap();

    let resizer = common::BackgroundResize::start(&mmap, 1 << 20);
    assert!(
        !resizer.is_done(),
        "resize must wait while a slice is alive"
    );
    assert_eq!(
        std::fs::metadata(&p).unwrap().len(),
        4096,
        "file untouched meanwhile"
    );
    assert_eq!(&slice[..4], b"live");
    drop(slice);
    resizer.join();
    assert_eq!(mmap.len(), 1 << 20);
}

#[test]
fn resize_waits_for_a_write_guard() {
    let dir = tempdir();
    let mmap = Arc::new(MemoryMappedFile::create_rw(path(&dir, "wg.bin"), 4096).unwrap());
    let guard = mmap.as_slice_mut(0, 16).unwrap();
    let resizer = common::BackgroundResize::start(&mmap, 2);
    assert!(!resizer.is_done());
    drop(guard);
    resizer.join();
    assert_eq!(mmap.len(), 2);
}

#[test]
fn a_reader_can_take_a_second_slice_while_a_resize_is_queued() {
    let dir = tempdir();
    let mmap = Arc::new(MemoryMappedFile::create_rw(path(&dir, "rec.bin"), 4096).unwrap());
    let (first_taken_tx, first_taken) = mpsc::channel();
    let (go_tx, go) = mpsc::channel::<()>();
    let (second_taken_tx, second_taken) = mpsc::channel();
    let reader = {
        let mmap = Arc::clone(&mmap);
        std::thread::spawn(move || {
            let first = mmap.as_slice(0, 8).unwrap();
            first_taken_tx.send(()).unwrap();
            go.recv().unwrap();
            let second = mmap.as_slice(8, 8).unwrap();
            second_taken_tx.send(()).unwrap();
            drop((first, second));
        })
    };
    first_taken.recv().unwrap();
    let resizer = {
        let mmap = Arc::clone(&mmap);
        std::thread::spawn(move || mmap.resize(8192).unwrap())
    };
    std::thread::sleep(Duration::from_millis(100)); // let the resize queue up
    go_tx.send(()).unwrap();
    assert!(
        second_taken.recv_timeout(Duration::from_secs(10)).is_ok(),
        "a second read guard on the same thread deadlocked behind a queued resize"
    );
    reader.join().unwrap();
    resizer.join().unwrap();
    assert_eq!(mmap.len(), 8192);
}

#[test]
fn segments_that_no_longer_fit_report_invalid_and_out_of_bounds() {
    let dir = tempdir();
    let mmap = Arc::new(MemoryMappedFile::create_rw(path(&dir, "seg.bin"), 8192).unwrap());
    let tail = Segment::new(Arc::clone(&mmap), 6000, 100).unwrap();
    let tail_mut = SegmentMut::new(Arc::clone(&mmap), 6000, 100).unwrap();
    let head = Segment::new(Arc::clone(&mmap), 0, 100).unwrap();
    mmap.resize(4096).unwrap();
    assert!(!tail.is_valid() && !tail_mut.is_valid());
    assert!(head.is_valid());
    assert!(matches!(
        tail.as_slice(),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    assert!(matches!(
        tail_mut.as_slice_mut(),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    assert!(matches!(
        tail_mut.write(b"x"),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    mmap.resize(8192).unwrap();
    assert!(tail.is_valid());
    assert_eq!(tail.as_slice().unwrap().len(), 100);
}

#[test]
fn a_segment_cut_short_refuses_writes_that_would_still_fit_with_mapping_relative_errors() {
    let dir = tempdir();
    let mmap = Arc::new(MemoryMappedFile::create_rw(path(&dir, "cut.bin"), 8192).unwrap());
    let seg = SegmentMut::new(Arc::clone(&mmap), 4000, 200).unwrap();
    let zero = SegmentMut::new(Arc::clone(&mmap), 4096, 0).unwrap();
    mmap.resize(4096).unwrap();
    // 96 bytes of the window are left: a 10-byte write would fit the mapping, but the
    // window no longer does. As in 1.1, the error names the window and the mapping.
    let cut = |total| move |r: Result<(), MmapIoError>| matches!(r, Err(MmapIoError::OutOfBounds { offset: 4000, len: 200, total: t }) if t == total);
    assert!(cut(4096)(seg.write(&[1; 10])), "{:?}", seg.write(&[1; 10]));
    // Empty data is `Ok` and data longer than the window is refused first, window-relative.
    seg.write(b"").unwrap();
    let err = seg.write(&[1; 300]).unwrap_err();
    assert!(
        matches!(
            err,
            MmapIoError::OutOfBounds {
                offset: 0,
                len: 300,
                total: 200
            }
        ),
        "{err}"
    );
    zero.write(b"").unwrap();
    assert!(mmap.as_slice(4000, 96).unwrap().iter().all(|&b| b == 0));
    mmap.resize(3000).unwrap();
    assert!(cut(3000)(seg.write(&[1; 10])));
}

#[test]
fn concurrent_readers_writers_and_resizers_stay_consistent() {
    // Each record is 64 bytes of one value; readers check they never see a torn or
    // out-of-range record while another thread grows and shrinks the mapping.
    let dir = tempdir();
    let mmap = Arc::new(MemoryMappedFile::create_rw(path(&dir, "mix.bin"), 64 * 64).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for t in 0..2u8 {
        let (mmap, stop) = (Arc::clone(&mmap), Arc::clone(&stop));
        threads.push(std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let rec = (i * 7 + u64::from(t)) % 64;
                let _ = mmap.update_region(rec * 64, &[(rec as u8) | 0x80; 64]);
                if let Ok(s) = mmap.as_slice(rec * 64, 64) {
                    assert!(s.iter().all(|&b| b == s[0]), "torn record");
                }
                i += 1;
            }
        }));
    }
    for round in 0..200u64 {
        let size = 64 * (32 + round % 33);
        mmap.resize(size).unwrap();
        assert_eq!(mmap.len(), size);
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn mode_is_unchanged_by_resize() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "m.bin"), 10).unwrap();
    mmap.resize(20).unwrap();
    assert_eq!(mmap.mode(), MmapMode::ReadWrite);
}
