// Some imports serve only the Linux-only tests.
#![cfg_attr(not(target_os = "linux"), allow(unused_imports))]
mod common;

use common::{dirty_kb, eventually, path, pattern, read_file, tempdir};
use mmap_io::flush::FlushPolicy;
use mmap_io::segment::SegmentMut;
use mmap_io::{MemoryMappedFile, MmapMode};
use std::sync::Arc;

const SIZE: u64 = 8 << 20;
const PAGE: u64 = 4096;

fn rw(dir: &tempfile::TempDir, name: &str, policy: FlushPolicy) -> MemoryMappedFile {
    MemoryMappedFile::builder(path(dir, name))
        .size(SIZE)
        .flush_policy(policy)
        .create()
        .unwrap()
}

#[cfg(target_os = "linux")]
/// Dirties one byte in every page of `mmap` through `write`, checks that the pages are
/// dirty, flushes, and checks that none is left dirty and that the file holds the bytes.
fn assert_flush_cleans(mmap: &MemoryMappedFile, write: impl Fn(u64, u8)) {
    dirty_then_flush(mmap, write, true);
}

#[cfg(target_os = "linux")]
/// As [`assert_flush_cleans`]; `check_dirty` false skips the check that the writes left
/// dirty pages (a background flusher may already have cleaned some).
fn dirty_then_flush(mmap: &MemoryMappedFile, write: impl Fn(u64, u8), check_dirty: bool) {
    for page in 0..SIZE / PAGE {
        write(page * PAGE + 7, (page % 250) as u8 + 1);
    }
    assert!(
        !check_dirty || dirty_kb(mmap) >= SIZE / 1024 / 2,
        "the writes should have dirtied the mapping (dirty: {} kB)",
        dirty_kb(mmap)
    );
    mmap.flush().unwrap();
    assert_eq!(dirty_kb(mmap), 0, "flush() left dirty pages");
    assert_eq!(mmap.pending_bytes(), 0);
    let on_disk = read_file(mmap.path());
    for page in 0..SIZE / PAGE {
        assert_eq!(on_disk[(page * PAGE + 7) as usize], (page % 250) as u8 + 1);
    }
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn flush_leaves_no_dirty_page_after_update_region() {
    let dir = tempdir();
    let mmap = rw(&dir, "update.bin", FlushPolicy::Manual);
    assert_flush_cleans(&mmap, |off, b| mmap.update_region(off, &[b]).unwrap());
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn flush_leaves_no_dirty_page_after_as_slice_mut() {
    let dir = tempdir();
    let mmap = rw(&dir, "slice.bin", FlushPolicy::Manual);
    assert_flush_cleans(&mmap, |off, b| mmap.as_slice_mut(off, 1).unwrap()[0] = b);
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn flush_leaves_no_dirty_page_after_segment_writes() {
    let dir = tempdir();
    let mmap = Arc::new(rw(&dir, "segment.bin", FlushPolicy::Manual));
    assert_flush_cleans(&mmap, |off, b| {
        let seg = SegmentMut::new(Arc::clone(&mmap), off, 1).unwrap();
        if b % 2 == 0 {
            seg.write(&[b]).unwrap();
        } else {
            seg.as_slice_mut().unwrap()[0] = b;
        }
    });
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn flush_leaves_no_dirty_page_after_raw_pointer_writes() {
    let dir = tempdir();
    let mmap = rw(&dir, "raw.bin", FlushPolicy::Manual);
    // SAFETY: writes stay within the mapping and nothing else uses it meanwhile.
    let base = unsafe { mmap.as_mut_ptr().unwrap() };
    assert_flush_cleans(&mmap, |off, b| unsafe { base.add(off as usize).write(b) });
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn flush_range_cleans_the_range_it_covers() {
    let dir = tempdir();
    let mmap = rw(&dir, "range.bin", FlushPolicy::Manual);
    let half = SIZE / 2;
    for page in 0..SIZE / PAGE {
        mmap.update_region(page * PAGE, &[9]).unwrap();
    }
    let before = dirty_kb(&mmap);
    // An unaligned range: it is widened to whole pages.
    mmap.flush_range(1, half - 1).unwrap();
    let after = dirty_kb(&mmap);
    assert!(
        after <= before - half / 1024 + 4,
        "flush_range({half}) should clean about half: {before} kB -> {after} kB"
    );
    assert!(after >= half / 1024 / 2, "the other half stays dirty");
    mmap.flush().unwrap();
    assert_eq!(dirty_kb(&mmap), 0);
}

#[test]
fn flushed_bytes_are_seen_by_a_fresh_read_only_mapping() {
    let dir = tempdir();
    let p = path(&dir, "fresh.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 64 * 1024).unwrap();
    mmap.update_region(100, b"first").unwrap();
    mmap.update_region(60_000, b"second").unwrap();
    mmap.flush_range(100, 5).unwrap();
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    assert_eq!(ro.as_slice(100, 5).unwrap(), b"first");
    mmap.flush().unwrap();
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    assert_eq!(ro.as_slice(60_000, 6).unwrap(), b"second");
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn flush_is_durable_even_when_nothing_was_counted() {
    // A second flush, with the counter already at zero, must still write back pages
    // dirtied behind the counter's back (here by a pointer taken before the last flush).
    let dir = tempdir();
    let mmap = rw(&dir, "uncounted.bin", FlushPolicy::Manual);
    // SAFETY: only written below, in bounds, while nothing else uses the mapping.
    let ptr = unsafe { mmap.as_mut_ptr().unwrap() };
    assert_eq!(
        mmap.pending_bytes(),
        SIZE,
        "a raw pointer counts the whole mapping"
    );
    mmap.flush().unwrap();
    assert_eq!(mmap.pending_bytes(), 0);
    // SAFETY: as above.
    unsafe { ptr.write(1) };
    assert_eq!(mmap.pending_bytes(), 0);
    assert!(dirty_kb(&mmap) > 0);
    mmap.flush().unwrap();
    assert_eq!(dirty_kb(&mmap), 0);
}

#[test]
fn pending_bytes_counts_every_write_path() {
    let dir = tempdir();
    let mmap = Arc::new(rw(&dir, "pending.bin", FlushPolicy::Manual));
    mmap.update_region(0, &[1; 10]).unwrap();
    assert_eq!(mmap.pending_bytes(), 10);
    let view = mmap.as_slice_mut(100, 20).unwrap();
    assert_eq!(
        mmap.pending_bytes(),
        10,
        "a writable view counts when it drops"
    );
    drop(view);
    assert_eq!(mmap.pending_bytes(), 30);
    drop(mmap.try_as_slice_mut(100, 6).unwrap().unwrap());
    assert!(mmap.try_update_region(100, &[5; 4]).unwrap());
    assert_eq!(mmap.pending_bytes(), 40);
    mmap.flush().unwrap();
    mmap.update_region(0, &[1; 10]).unwrap();
    drop(mmap.as_slice_mut(100, 20).unwrap());
    assert_eq!(mmap.pending_bytes(), 30);
    SegmentMut::new(Arc::clone(&mmap), 200, 8)
        .unwrap()
        .write(&[2; 5])
        .unwrap();
    assert_eq!(mmap.pending_bytes(), 35);
    mmap_io::update_region(&mmap, 300, &[3; 5]).unwrap();
    assert_eq!(mmap.pending_bytes(), 40);
    mmap.flush_range(0, PAGE).unwrap();
    assert_eq!(
        mmap.pending_bytes(),
        40,
        "a flush of part of the mapping cannot tell which writes it covered"
    );
    mmap.flush_range(0, mmap.len()).unwrap();
    assert_eq!(
        mmap.pending_bytes(),
        0,
        "a flush of every page covers them all"
    );
    mmap.update_region(0, &[4; 3]).unwrap();
    mmap.flush().unwrap();
    assert_eq!(mmap.pending_bytes(), 0);
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn always_flushes_after_every_write() {
    let dir = tempdir();
    let mmap = rw(&dir, "always.bin", FlushPolicy::Always);
    for i in 0..5 {
        mmap.update_region(i * PAGE * 10, b"x").unwrap();
        assert_eq!(mmap.pending_bytes(), 0);
        assert_eq!(dirty_kb(&mmap), 0);
    }
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn every_bytes_flushes_once_the_threshold_is_reached() {
    let dir = tempdir();
    let mmap = rw(&dir, "bytes.bin", FlushPolicy::EveryBytes(100));
    mmap.update_region(0, &[1; 60]).unwrap();
    assert_eq!(mmap.pending_bytes(), 60);
    assert!(dirty_kb(&mmap) > 0);
    mmap.update_region(PAGE, &[1; 40]).unwrap();
    assert_eq!(mmap.pending_bytes(), 0);
    assert_eq!(dirty_kb(&mmap), 0);
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn every_writes_flushes_on_the_nth_write() {
    let dir = tempdir();
    let mmap = rw(&dir, "writes.bin", FlushPolicy::EveryWrites(3));
    mmap.update_region(0, b"a").unwrap();
    mmap.update_region(PAGE, b"b").unwrap();
    assert_eq!(mmap.pending_bytes(), 2);
    mmap.update_region(2 * PAGE, b"c").unwrap();
    assert_eq!(mmap.pending_bytes(), 0);
    assert_eq!(dirty_kb(&mmap), 0);
    mmap.update_region(0, b"d").unwrap();
    assert_eq!(
        mmap.pending_bytes(),
        1,
        "the count starts over after a flush"
    );
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn every_millis_flushes_in_the_background() {
    let dir = tempdir();
    let mmap = rw(&dir, "millis.bin", FlushPolicy::EveryMillis(10));
    for page in 0..64 {
        mmap.update_region(page * PAGE, b"background").unwrap();
    }
    drop(mmap.as_slice_mut(SIZE - 10, 10).unwrap());
    assert!(
        eventually(30, || mmap.pending_bytes() == 0 && dirty_kb(&mmap) == 0),
        "the background flusher did not flush (pending {}, dirty {} kB)",
        mmap.pending_bytes(),
        dirty_kb(&mmap)
    );
    assert_eq!(&read_file(mmap.path())[..10], b"background");
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn a_zero_count_policy_behaves_as_manual() {
    let dir = tempdir();
    for policy in [
        FlushPolicy::EveryBytes(0),
        FlushPolicy::EveryWrites(0),
        FlushPolicy::EveryMillis(0),
        FlushPolicy::Never,
        FlushPolicy::Manual,
    ] {
        let mmap = rw(&dir, "zero.bin", policy);
        mmap.update_region(0, b"x").unwrap();
        mmap.update_region(PAGE, b"y").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert_eq!(mmap.pending_bytes(), 2, "{policy:?} flushed on its own");
        assert!(dirty_kb(&mmap) > 0);
    }
}

#[test]
fn flush_policy_defaults_to_never() {
    assert_eq!(FlushPolicy::default(), FlushPolicy::Never);
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "d.bin"), 10).unwrap();
    assert_eq!(mmap.flush_policy(), FlushPolicy::Never);
}

#[test]
fn read_only_flush_is_a_no_op() {
    let dir = tempdir();
    let bytes = pattern(8192, 1);
    let p = common::file_with(&dir, "ro.bin", &bytes);
    let ro = MemoryMappedFile::builder(&p)
        .mode(MmapMode::ReadOnly)
        .flush_policy(FlushPolicy::Always)
        .open()
        .unwrap();
    ro.flush().unwrap();
    ro.flush_range(0, 8192).unwrap();
    assert!(ro.flush_range(0, 8193).is_err());
    assert_eq!(ro.pending_bytes(), 0);
    assert_eq!(read_file(&p), bytes);
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn under_every_millis_flush_still_cleans_every_write_path() {
    let dir = tempdir();
    let policy = FlushPolicy::EveryMillis(10);
    let mmap = Arc::new(rw(&dir, "millis-paths.bin", policy));
    // SAFETY: writes stay within the mapping; no view of it is alive meanwhile.
    let base = unsafe { mmap.as_mut_ptr().unwrap() } as usize;
    let write = |off: u64, b: u8| match off / PAGE % 4 {
        0 => mmap.update_region(off, &[b]).unwrap(),
        1 => mmap.as_slice_mut(off, 1).unwrap()[0] = b,
        2 => SegmentMut::new(Arc::clone(&mmap), off, 1)
            .unwrap()
            .write(&[b])
            .unwrap(),
        // SAFETY: as above.
        _ => unsafe { (base as *mut u8).add(off as usize).write(b) },
    };
    for _ in 0..5 {
        dirty_then_flush(&mmap, write, false);
    }
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn an_every_millis_flusher_writes_back_raw_pointer_stores() {
    let dir = tempdir();
    let mmap = rw(&dir, "raw_millis.bin", FlushPolicy::EveryMillis(10));
    mmap.flush().unwrap();
    // SAFETY: in bounds, and nothing else uses the mapping.
    unsafe { mmap.as_mut_ptr().unwrap().add(5 * PAGE as usize).write(9) };
    assert!(
        eventually(30, || mmap.pending_bytes() == 0 && dirty_kb(&mmap) == 0),
        "the flusher wrote the page back"
    );
    assert_eq!(read_file(mmap.path())[5 * PAGE as usize], 9);
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn schedule_flush_starts_write_back_without_touching_pending_bytes() {
    let dir = tempdir();
    let mmap = rw(&dir, "schedule.bin", FlushPolicy::Manual);
    for page in 0..64 {
        mmap.update_region(page * PAGE, &[7; 16]).unwrap();
    }
    assert!(dirty_kb(&mmap) >= 64 * 4);
    mmap.schedule_flush().unwrap();
    assert_eq!(mmap.pending_bytes(), 64 * 16, "scheduling is not a flush");
    assert!(
        eventually(30, || dirty_kb(&mmap) == 0),
        "the scheduled write-back cleaned the pages"
    );
    // A range: only its pages are started (pages 6 MiB apart: never in one 2 MiB folio of
    // the page cache, which is written back whole).
    mmap.update_region(0, &[8; 16]).unwrap();
    mmap.update_region(6 << 20, &[8; 16]).unwrap();
    mmap.schedule_flush_range((6 << 20) + 3, 1).unwrap();
    assert!(
        eventually(30, || dirty_kb(&mmap) == 4),
        "{} kB dirty",
        dirty_kb(&mmap)
    );
    assert_eq!(mmap.pending_bytes(), 64 * 16 + 32);
    mmap.flush().unwrap();
    assert_eq!(mmap.pending_bytes(), 0);
}

#[test]
fn schedule_flush_validates_ranges_on_every_mode_and_is_a_no_op_where_nothing_is_written() {
    use mmap_io::MmapIoError;
    let dir = tempdir();
    let mmap = rw(&dir, "sched_range.bin", FlushPolicy::Manual);
    mmap.update_region(0, b"kept").unwrap();
    let oob = |r: mmap_io::errors::Result<()>| matches!(r, Err(MmapIoError::OutOfBounds { .. }));
    assert!(oob(mmap.schedule_flush_range(SIZE, 1)));
    assert!(oob(mmap.schedule_flush_range(1, u64::MAX)));
    assert!(oob(mmap.schedule_flush_range(u64::MAX, 2)));
    mmap.schedule_flush_range(SIZE, 0).unwrap();
    mmap.schedule_flush_range(u64::MAX, 0).unwrap();
    assert_eq!(mmap.pending_bytes(), 4);
    let ro = MemoryMappedFile::open_ro(mmap.path()).unwrap();
    ro.schedule_flush().unwrap();
    ro.schedule_flush_range(0, SIZE).unwrap();
    assert!(oob(ro.schedule_flush_range(SIZE - 1, 2)));
    let view = mmap.as_slice(0, 4).unwrap();
    mmap.schedule_flush().unwrap(); // a read view does not hold it up
    drop(view);
    let guard = mmap.as_slice_mut(0, 4).unwrap();
    assert!(matches!(
        mmap.schedule_flush(),
        Err(MmapIoError::InvalidMode(_))
    ));
    drop(guard);
}

#[test]
fn a_zero_length_schedule_is_a_no_op_at_any_offset() {
    // Only observable where write-back can be watched: nothing may start.
    let dir = tempdir();
    let mmap = rw(&dir, "sched_zero.bin", FlushPolicy::Manual);
    mmap.update_region(4096, b"dirty").unwrap();
    for offset in [4096 + 3, 4096, SIZE, 0] {
        mmap.schedule_flush_range(offset, 0).unwrap();
    }
    #[cfg(target_os = "linux")]
    {
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(
            dirty_kb(&mmap) >= 4,
            "a zero-length schedule started write-back"
        );
    }
    assert_eq!(mmap.pending_bytes(), 5);
}

#[test]
fn dropping_the_last_handle_returns_after_a_writable_view_was_leaked() {
    // A failure hangs: run in a child.
    common::assert_child_passed(&common::run_child_test_within("leaked_write_child", 60));
}

#[test]
#[ignore = "run in a child process by dropping_the_last_handle_returns_after_a_writable_view_was_leaked"]
fn leaked_write_child() {
    let dir = tempdir();
    for pending in [false, true] {
        // A file each: the leaked view is a live view of its file for good.
        let mmap = rw(
            &dir,
            &format!("leaked{pending}.bin"),
            FlushPolicy::EveryMillis(5),
        );
        if pending {
            mmap.update_region(100, b"pending").unwrap();
        }
        std::mem::forget(mmap.as_slice_mut(0, 8).unwrap());
        // The flusher meets the leaked guard in its next period, or in its last run.
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(mmap);
    }
}
