mod common;

use common::{file_with, path, pattern, read_file, tempdir};
use mmap_io::{MemoryMappedFile, MmapIoError};

const LEN: u64 = 3 * 4096 + 100;

/// Offsets and lengths at every edge that matters for a mapping of `LEN` bytes.
fn edges() -> Vec<u64> {
    vec![
        0,
        1,
        4095,
        4096,
        4097,
        LEN - 1,
        LEN,
        LEN + 1,
        u64::MAX / 2,
        u64::MAX - 1,
        u64::MAX,
    ]
}

fn fits(offset: u64, len: u64) -> bool {
    len == 0 || offset.checked_add(len).is_some_and(|end| end <= LEN)
}

fn is_oob(err: &MmapIoError, offset: u64, len: u64) -> bool {
    matches!(err, MmapIoError::OutOfBounds { offset: o, len: l, total } if (*o, *l, *total) == (offset, len, LEN))
}

/// A read-write and a read-only mapping of the same patterned file.
fn mappings(dir: &tempfile::TempDir) -> (MemoryMappedFile, MemoryMappedFile, Vec<u8>) {
    let bytes = pattern(LEN as usize, 11);
    let p = file_with(dir, "data.bin", &bytes);
    (
        MemoryMappedFile::open_rw(&p).unwrap(),
        MemoryMappedFile::open_ro(&p).unwrap(),
        bytes,
    )
}

#[test]
fn as_slice_returns_the_right_bytes_or_out_of_bounds_at_every_edge() {
    let dir = tempdir();
    let (rw, ro, bytes) = mappings(&dir);
    for mmap in [&rw, &ro] {
        for &offset in &edges() {
            for &len in &edges() {
                match mmap.as_slice(offset, len) {
                    Ok(s) if len == 0 => assert!(s.is_empty()),
                    Ok(s) => {
                        assert!(fits(offset, len));
                        assert_eq!(s, &bytes[offset as usize..(offset + len) as usize]);
                    }
                    Err(e) => assert!(!fits(offset, len) && is_oob(&e, offset, len), "{e}"),
                }
            }
        }
    }
}

#[test]
fn read_into_returns_the_right_bytes_or_out_of_bounds() {
    let dir = tempdir();
    let (rw, ro, bytes) = mappings(&dir);
    for mmap in [&rw, &ro] {
        for &offset in &edges() {
            for len in [0usize, 1, 64, 4096, 4097] {
                let mut buf = vec![0xAAu8; len];
                match mmap.read_into(offset, &mut buf) {
                    Ok(()) if len == 0 => {}
                    Ok(()) => assert_eq!(buf, &bytes[offset as usize..offset as usize + len]),
                    Err(e) => {
                        assert!(is_oob(&e, offset, len as u64), "{e}");
                        assert!(buf.iter().all(|&b| b == 0xAA), "buffer left untouched");
                    }
                }
            }
        }
    }
}

#[test]
fn out_of_range_writes_are_refused_and_leave_the_file_intact() {
    let dir = tempdir();
    let (rw, _ro, bytes) = mappings(&dir);
    for &offset in &edges() {
        let data = vec![0xEEu8; 8];
        let result = rw.update_region(offset, &data);
        if fits(offset, 8) {
            result.unwrap();
            rw.update_region(offset, &bytes[offset as usize..offset as usize + 8])
                .unwrap();
        } else {
            assert!(is_oob(&result.unwrap_err(), offset, 8));
        }
        for &len in &edges() {
            if let Err(e) = rw.as_slice_mut(offset, len) {
                assert!(!fits(offset, len) && is_oob(&e, offset, len), "{e}");
            }
        }
    }
    rw.flush().unwrap();
    assert_eq!(read_file(rw.path()), bytes);
}

#[test]
fn every_range_api_refuses_u64_overflow() {
    let dir = tempdir();
    let (rw, ro, _) = mappings(&dir);
    for mmap in [&rw, &ro] {
        assert!(mmap.as_slice(u64::MAX, 1).is_err());
        assert!(mmap.as_slice(1, u64::MAX).is_err());
        assert!(mmap.read_into(u64::MAX, &mut [0u8; 1]).is_err());
        assert!(mmap.flush_range(u64::MAX, 2).is_err());
        assert!(mmap.touch_pages_range(2, u64::MAX).is_err());
        assert!(mmap.prefetch_range(u64::MAX, u64::MAX).is_err());
    }
    assert!(ro.as_slice_bytes(u64::MAX, 1).is_err());
    assert!(rw.update_region(u64::MAX, b"x").is_err());
    assert!(rw.as_slice_mut(u64::MAX - 1, 2).is_err());
}

#[test]
fn zero_length_requests_succeed_anywhere_and_do_nothing() {
    let dir = tempdir();
    let (rw, ro, bytes) = mappings(&dir);
    for mmap in [&rw, &ro] {
        for offset in [0, LEN, LEN + 1, u64::MAX] {
            assert!(mmap.as_slice(offset, 0).unwrap().is_empty());
            mmap.read_into(offset, &mut []).unwrap();
            mmap.flush_range(offset, 0).unwrap();
            mmap.touch_pages_range(offset, 0).unwrap();
            mmap.prefetch_range(offset, 0).unwrap();
        }
    }
    for offset in [0, LEN + 1, u64::MAX] {
        rw.update_region(offset, &[]).unwrap();
        assert!(rw.as_slice_mut(offset, 0).unwrap().is_empty());
        assert!(ro.as_slice_bytes(offset, 0).unwrap().is_empty());
    }
    assert_eq!(rw.pending_bytes(), 0);
    assert_eq!(read_file(rw.path()), bytes);
}

#[test]
fn writes_on_a_read_only_mapping_are_invalid_mode_and_change_nothing() {
    let dir = tempdir();
    let (_rw, ro, bytes) = mappings(&dir);
    let invalid = |r: Result<(), MmapIoError>| matches!(r, Err(MmapIoError::InvalidMode(_)));
    assert!(invalid(ro.update_region(0, b"nope")));
    // An empty write is an `Ok` no-op in every mode (as in 1.1).
    ro.update_region(0, b"").unwrap();
    assert!(invalid(ro.as_slice_mut(0, 4).map(drop)));
    // SAFETY: the pointer is never used; only the error is checked.
    assert!(invalid(unsafe { ro.as_mut_ptr() }.map(drop)));
    assert!(invalid(ro.resize(LEN * 2)));
    ro.flush().unwrap();
    assert_eq!(read_file(ro.path()), bytes);
}

#[test]
fn as_slice_bytes_is_plain_bytes_on_read_only_and_refused_on_read_write() {
    let dir = tempdir();
    let (rw, ro, bytes) = mappings(&dir);
    let plain: &[u8] = ro.as_slice_bytes(10, 20).unwrap();
    assert_eq!(plain, &bytes[10..30]);
    assert!(matches!(
        rw.as_slice_bytes(0, 1),
        Err(MmapIoError::InvalidMode(_))
    ));
    assert!(ro.as_slice_bytes(LEN - 1, 2).is_err());
}

#[test]
fn writes_through_every_path_are_read_back() {
    let dir = tempdir();
    let p = path(&dir, "w.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 8192).unwrap();
    mmap.update_region(0, b"update").unwrap();
    mmap.as_slice_mut(100, 5).unwrap().copy_from_slice(b"slice");
    // SAFETY: nothing else uses the mapping; the write is within its length.
    unsafe { mmap.as_mut_ptr().unwrap().add(200).write(b'p') };
    assert_eq!(mmap.as_slice(0, 6).unwrap(), b"update");
    assert_eq!(mmap.as_slice(100, 5).unwrap(), b"slice");
    let mut one = [0u8];
    mmap.read_into(200, &mut one).unwrap();
    assert_eq!(&one, b"p");
    // SAFETY: the mapping is alive and nothing writes concurrently.
    assert_eq!(unsafe { *mmap.as_ptr().add(100) }, b's');
}

#[test]
fn slices_hold_consistent_bytes_while_other_threads_write() {
    // Writers replace a whole 4 KiB record with one repeated byte; a reader's slice must
    // never see a record that is half old, half new.
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "torn.bin"), 4096).unwrap();
    let writer = {
        let mmap = mmap.clone();
        std::thread::spawn(move || {
            for i in 0..2000u32 {
                mmap.update_region(0, &[(i % 251) as u8; 4096]).unwrap();
            }
        })
    };
    while !writer.is_finished() {
        let s = mmap.as_slice(0, 4096).unwrap();
        assert!(s.iter().all(|&b| b == s[0]), "torn read");
    }
    writer.join().unwrap();
}

#[test]
fn touch_and_prefetch_accept_any_in_bounds_range() {
    let dir = tempdir();
    let (rw, ro, _) = mappings(&dir);
    for mmap in [&rw, &ro] {
        mmap.touch_pages().unwrap();
        mmap.touch_pages_range(1, LEN - 1).unwrap();
        mmap.touch_pages_range(4095, 2).unwrap();
        mmap.prefetch_range(1, 10).unwrap();
        mmap.prefetch_range(4097, LEN - 4097).unwrap();
        assert!(mmap.touch_pages_range(LEN, 1).is_err());
        assert!(mmap.prefetch_range(0, LEN + 1).is_err());
    }
}

#[test]
fn mapped_slices_compare_and_deref_like_byte_slices() {
    let dir = tempdir();
    let p = file_with(&dir, "cmp.bin", b"abcdefgh");
    let mmap = MemoryMappedFile::open_ro(&p).unwrap();
    let s = mmap.as_slice(0, 3).unwrap();
    assert_eq!(s, b"abc");
    assert_eq!(s, *b"abc");
    assert_eq!(s, &b"abc"[..]);
    assert_eq!(s, b"abc"[..]);
    assert_eq!(s, mmap.as_slice(0, 3).unwrap());
    assert_ne!(s, mmap.as_slice(1, 3).unwrap());
    assert_eq!(s.as_ref(), b"abc");
    assert_eq!(s.as_slice(), b"abc");
    assert_eq!(s.len(), 3);
    assert!(!s.is_empty());
    assert_eq!(format!("{s:?}"), "[97, 98, 99]");
}

#[test]
fn current_len_tracks_the_mapping() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "len.bin"), 100).unwrap();
    assert_eq!(mmap.current_len().unwrap(), 100);
    mmap.resize(300).unwrap();
    assert_eq!(mmap.current_len().unwrap(), 300);
    assert_eq!(mmap.len(), 300);
}

// --- try_ accessors: the blocking calls' checks, without ever waiting ---

#[test]
fn try_accessors_succeed_when_nothing_holds_the_mapping() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "try.bin"), LEN).unwrap();
    assert!(mmap.try_update_region(10, b"try").unwrap());
    assert_eq!(mmap.try_as_slice(10, 3).unwrap().unwrap(), b"try");
    mmap.try_as_slice_mut(20, 2)
        .unwrap()
        .unwrap()
        .copy_from_slice(b"ok");
    assert_eq!(mmap.as_slice(20, 2).unwrap(), b"ok");
    assert!(mmap.try_update_region(u64::MAX, b"").unwrap());
    assert!(mmap.try_as_slice(u64::MAX, 0).unwrap().unwrap().is_empty());
    let ro = MemoryMappedFile::open_ro(mmap.path()).unwrap();
    assert_eq!(ro.try_as_slice(0, 4).unwrap().unwrap().len(), 4);
}

#[test]
fn try_accessors_refuse_what_the_blocking_calls_refuse_and_write_nothing() {
    let dir = tempdir();
    let bytes = pattern(LEN as usize, 3);
    let p = file_with(&dir, "try_bad.bin", &bytes);
    let mmap = MemoryMappedFile::open_rw(&p).unwrap();
    let oob = |e: MmapIoError| matches!(e, MmapIoError::OutOfBounds { .. });
    assert!(oob(mmap.try_update_region(LEN - 1, b"xy").unwrap_err()));
    assert!(oob(mmap.try_update_region(u64::MAX, b"x").unwrap_err()));
    assert!(oob(mmap.try_as_slice(LEN, 1).unwrap_err()));
    assert!(oob(mmap.try_as_slice_mut(1, u64::MAX).unwrap_err()));
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    let invalid = |e: MmapIoError| matches!(e, MmapIoError::InvalidMode(_));
    assert!(invalid(ro.try_update_region(0, b"x").unwrap_err()));
    assert!(ro.try_update_region(0, b"").unwrap());
    assert!(invalid(ro.try_as_slice_mut(0, 1).unwrap_err()));
    assert!(oob(ro.try_as_slice(LEN, 1).unwrap_err()));
    drop(mmap);
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn try_accessors_on_a_thread_that_holds_views_return_none_instead_of_waiting() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "own.bin"), LEN).unwrap();
    mmap.update_region(0, b"before").unwrap();
    {
        let view = mmap.as_slice(0, 6).unwrap();
        // Another read view is always possible; a write of its bytes is not; other bytes
        // are free.
        assert_eq!(mmap.try_as_slice(0, 6).unwrap().unwrap(), b"before");
        assert!(!mmap.try_update_region(0, b"after!").unwrap());
        assert!(mmap.try_as_slice_mut(5, 1).unwrap().is_none());
        assert!(mmap.try_as_slice_mut(100, 1).unwrap().is_some());
        assert_eq!(view, b"before");
    }
    {
        let guard = mmap.as_slice_mut(0, 6).unwrap();
        assert!(mmap.try_as_slice(5, 1).unwrap().is_none());
        assert!(mmap.try_as_slice_mut(0, 1).unwrap().is_none());
        assert!(!mmap.try_update_region(3, b"x").unwrap());
        assert!(mmap.try_as_slice(100, 1).unwrap().is_some());
        drop(guard);
    }
    assert_eq!(mmap.as_slice(0, 6).unwrap(), b"before");
    assert_eq!(mmap.as_slice(100, 1).unwrap(), &[0]);
    // The writable views taken count their length: 1 at 100, then 6 at 0.
    assert_eq!(
        mmap.pending_bytes(),
        6 + 1 + 6,
        "refused tries count nothing"
    );
}

#[test]
fn try_accessors_do_not_wait_for_another_thread() {
    use std::sync::mpsc;
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "other.bin"), LEN).unwrap();
    let (held_tx, held_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        // Another thread holds a read view: reads go on, writes of its bytes would wait,
        // writes of other bytes do not.
        let mmap = &mmap;
        s.spawn(move || {
            let _view = mmap.as_slice(0, 8).unwrap();
            held_tx.send(()).unwrap();
            done_rx.recv().unwrap();
        });
        held_rx.recv().unwrap();
        assert!(mmap.try_as_slice(0, 8).unwrap().is_some());
        assert!(!mmap.try_update_region(0, b"x").unwrap());
        assert!(mmap.try_as_slice_mut(7, 1).unwrap().is_none());
        assert!(mmap.try_as_slice_mut(LEN - 1, 1).unwrap().is_some());
        done_tx.send(()).unwrap();
    });
    let (held_tx, held_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        // Another thread holds a writable view: everything of its bytes would wait, other
        // bytes do not.
        let mmap = &mmap;
        s.spawn(move || {
            let _guard = mmap.as_slice_mut(0, 8).unwrap();
            held_tx.send(()).unwrap();
            done_rx.recv().unwrap();
        });
        held_rx.recv().unwrap();
        assert!(mmap.try_as_slice(4, 8).unwrap().is_none());
        assert!(!mmap.try_update_region(7, b"x").unwrap());
        assert!(mmap.try_as_slice_mut(0, 1).unwrap().is_none());
        assert!(mmap.try_as_slice(100, 8).unwrap().is_some());
        assert!(mmap.try_update_region(100, b"x").unwrap());
        done_tx.send(()).unwrap();
    });
    assert!(mmap.try_update_region(100, b"x").unwrap());
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn try_update_region_applies_the_flush_policy() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::builder(path(&dir, "policy.bin"))
        .size(LEN)
        .flush_policy(mmap_io::flush::FlushPolicy::Always)
        .create()
        .unwrap();
    assert!(mmap.try_update_region(0, b"durable").unwrap());
    assert_eq!(mmap.pending_bytes(), 0);
    assert_eq!(common::dirty_kb(&mmap), 0);
}

#[cfg(feature = "atomic")]
#[test]
fn try_accessors_refuse_bytes_under_an_atomic_view() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "atomic.bin"), LEN).unwrap();
    let _counter = mmap.atomic_u64(64).unwrap();
    let invalid = |e: MmapIoError| matches!(e, MmapIoError::InvalidMode(_));
    assert!(invalid(mmap.try_as_slice(60, 8).unwrap_err()));
    assert!(invalid(mmap.try_update_region(70, b"x").unwrap_err()));
    assert!(invalid(mmap.try_as_slice_mut(64, 8).unwrap_err()));
    assert!(mmap.try_update_region(72, b"next door").unwrap());
}
