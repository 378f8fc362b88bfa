#![cfg(feature = "bytes")]
mod common;

use bytes::Bytes;
use common::{file_with, pattern, tempdir};
use mmap_io::{MemoryMappedFile, MmapIoError};

#[test]
fn read_bytes_gives_the_range_on_every_mode() {
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

#[test]
fn read_bytes_on_a_read_only_mapping_shares_it_and_keeps_it_alive() {
    let dir = tempdir();
    let data = pattern(1 << 20, 3);
    let p = file_with(&dir, "shared.bin", &data);
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    let body = ro.read_bytes(4096, 512 << 10).unwrap();
    // SAFETY: the address is only compared.
    let base = unsafe { ro.as_ptr() };
    assert_eq!(body.as_ptr(), base.wrapping_add(4096), "no copy was made");
    let part = body.slice(100..200);
    drop(ro);
    drop(body);
    assert_eq!(
        &part[..],
        &data[4196..4296],
        "the mapping outlives its handle"
    );
}

#[test]
fn shared_bytes_are_a_view_until_their_last_clone_drops() {
    let dir = tempdir();
    let p = file_with(&dir, "view.bin", &pattern(8192, 4));
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    let rw = MemoryMappedFile::open_rw(&p).unwrap();
    let body = ro.read_bytes(0, 100).unwrap();
    assert!(
        common::write_waits(&rw, 50),
        "a write under shared Bytes must wait"
    );
    assert!(!common::write_waits(&rw, 4096), "other bytes are not held");
    // The thread that made them is refused instead of waiting for itself.
    assert!(common::is_invalid_mode(rw.update_region(10, b"x")));
    let clone = body.clone();
    drop(body);
    assert!(common::write_waits(&rw, 50), "a clone still holds the view");
    // Dropped on another thread, the view is released all the same.
    std::thread::spawn(move || drop(clone)).join().unwrap();
    rw.update_region(10, b"x").unwrap();
    // A handle for `unmap`, too.
    let body = ro.read_bytes(0, 1).unwrap();
    let ro = ro.unmap().expect_err("shared Bytes count as a handle");
    drop(body);
    assert!(ro.unmap().is_ok());
}

#[test]
fn read_bytes_on_a_writable_mapping_copies_and_holds_nothing() {
    let dir = tempdir();
    let p = file_with(&dir, "copied.bin", &pattern(8192, 5));
    let rw = MemoryMappedFile::open_rw(&p).unwrap();
    let body = rw.read_bytes(0, 100).unwrap();
    // SAFETY: the address is only compared.
    assert_ne!(body.as_ptr(), unsafe { rw.as_ptr() });
    rw.update_region(0, b"new").unwrap();
    assert_eq!(&body[..3], &pattern(8192, 5)[..3]);
}

#[test]
fn a_view_of_a_read_only_mapping_becomes_bytes_without_a_copy() {
    let dir = tempdir();
    let data = pattern(8192, 6);
    let p = file_with(&dir, "from_view.bin", &data);
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    let rw = MemoryMappedFile::open_rw(&p).unwrap();
    let view = ro.as_slice(100, 200).unwrap();
    let at = view.as_ptr();
    let body = Bytes::from(view);
    assert_eq!(body.as_ptr(), at, "no copy was made");
    // The view's hold moved into the Bytes: writes wait, this thread's are refused.
    assert!(common::write_waits(&rw, 150));
    assert!(!common::write_waits(&rw, 4096));
    assert!(common::is_invalid_mode(rw.update_region(150, b"x")));
    // It counts as a handle, and keeps the mapping after the last one drops.
    let ro = ro.unmap().expect_err("the Bytes counts as a handle");
    drop(ro);
    assert_eq!(&body[..], &data[100..300]);
    std::thread::spawn(move || drop(body)).join().unwrap();
    rw.update_region(150, b"x").unwrap();
}

#[test]
fn parts_of_a_split_read_only_view_become_bytes_that_share_the_mapping() {
    let dir = tempdir();
    let data = pattern(8192, 7);
    let p = file_with(&dir, "parts.bin", &data);
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    let rw = MemoryMappedFile::open_rw(&p).unwrap();
    let view = ro.as_slice(1000, 100).unwrap();
    let at = view.as_ptr();
    let (head, tail) = mmap_io::MappedSlice::split_at(view, 40).unwrap();
    let tail = mmap_io::MappedSlice::slice(tail, 10..).unwrap();
    let (head, tail) = (Bytes::from(head), Bytes::from(tail));
    assert_eq!((head.as_ptr(), tail.as_ptr()), (at, at.wrapping_add(50)));
    assert_eq!(&tail[..], &data[1050..1100]);
    drop(ro);
    // The parts share the whole view's hold: a write anywhere in it waits for both.
    drop(head);
    assert!(
        common::write_waits(&rw, 1000),
        "the tail still holds the whole view"
    );
    drop(tail);
    assert!(!common::write_waits(&rw, 1000));
}

#[test]
fn a_read_only_copy_on_write_view_is_shared_and_a_writable_one_copied() {
    let dir = tempdir();
    let data = pattern(8192, 8);
    let p = file_with(&dir, "cow.bin", &data);
    let cow = MemoryMappedFile::open_cow(&p).unwrap();
    let view = cow.as_slice(0, 64).unwrap();
    let at = view.as_ptr();
    let shared = Bytes::from(view);
    assert_eq!(shared.as_ptr(), at);
    drop(cow);
    assert_eq!(&shared[..], &data[..64]);

    let rw = MemoryMappedFile::open_rw(&p).unwrap();
    let view = rw.as_slice(0, 64).unwrap();
    let at = view.as_ptr();
    let copied = Bytes::from(view);
    assert_ne!(
        copied.as_ptr(),
        at,
        "a view of a writable mapping is copied"
    );
    drop(shared);
    rw.update_region(0, b"new").unwrap(); // the copy holds nothing
    assert_eq!(&copied[..], &data[..64]);
}

#[test]
fn a_view_of_an_anonymous_mapping_is_copied() {
    let anon = mmap_io::AnonymousMmap::new(4096).unwrap();
    anon.update_region(0, b"anon").unwrap();
    let view = anon.as_slice(0, 4).unwrap();
    let at = view.as_ptr();
    let copied = Bytes::from(view);
    assert_ne!(copied.as_ptr(), at);
    anon.update_region(0, b"ANON").unwrap(); // released
    assert_eq!(&copied[..], b"anon");
}

#[cfg(all(feature = "atomic", feature = "iterator"))]
#[test]
fn an_owned_item_hands_its_copy_to_bytes() {
    let dir = tempdir();
    let p = file_with(&dir, "owned.bin", &[7u8; 64]);
    let rw = MemoryMappedFile::open_rw(&p).unwrap();
    let _counter = rw.atomic_u64(8).unwrap();
    // An item over bytes under an atomic view is a copy the item owns.
    let item = rw.chunks(32).next().unwrap();
    // SAFETY: the address is only compared.
    let base = unsafe { rw.as_ptr() };
    assert_ne!(item.as_ptr(), base, "the item is a copy");
    let at = item.as_ptr();
    let body = Bytes::from(item);
    assert_eq!(
        body.as_ptr(),
        at,
        "the copy was handed over, not copied again"
    );
    assert_eq!(&body[..], &[7u8; 32]);
}

#[test]
fn a_view_of_a_read_only_window_is_shared() {
    let dir = tempdir();
    let data = pattern(3 * 4096, 9);
    let p = file_with(&dir, "window.bin", &data);
    let window = MemoryMappedFile::builder(&p)
        .mode(mmap_io::MmapMode::ReadOnly)
        .offset(5000)
        .len(3000)
        .open()
        .unwrap();
    let view = window.as_slice(2900, 100).unwrap();
    let at = view.as_ptr();
    let body = Bytes::from(view);
    drop(window);
    assert_eq!(body.as_ptr(), at);
    assert_eq!(&body[..], &data[7900..8000]);
    // The hold names file bytes: a write to them through a whole-file handle waits.
    let rw = MemoryMappedFile::open_rw(&p).unwrap();
    assert!(common::write_waits(&rw, 7950));
    assert!(!common::write_waits(&rw, 2950));
}

/// Threads make `Bytes` of views through read-only handles they open and drop all along
/// (so the index of mappings changes under the look-ups), while a writer rewrites the first
/// page whole, one value at a time: every `Bytes` of it must stay one value for its life.
#[test]
fn shared_bytes_hold_their_bytes_while_handles_come_and_go() {
    let out = common::run_child_test_within("churn_child", 120);
    common::assert_child_passed(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

#[test]
#[ignore = "runs in a child process by shared_bytes_hold_their_bytes_while_handles_come_and_go"]
fn churn_child() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempdir();
    // The first page starts as one value, as every write leaves it.
    let mut data = pattern(16 * 4096, 10);
    data[..4096].fill(0);
    let p = file_with(&dir, "churn.bin", &data);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let rw = MemoryMappedFile::open_rw(&p).unwrap();
            let mut writes = 0u32;
            while !stop.load(Ordering::Relaxed) {
                rw.update_region(0, &[writes as u8; 4096]).unwrap();
                writes += 1;
            }
            writes
        });
        let readers: Vec<_> = (0..3u64)
            .map(|t| {
                let (p, data) = (&p, &data);
                s.spawn(move || {
                    let mut kept = std::collections::VecDeque::new();
                    for i in 0..3000u64 {
                        let ro = MemoryMappedFile::open_ro(p).unwrap();
                        let page = (i * 7 + t) % 16;
                        let view = ro.as_slice(page * 4096, 4096).unwrap();
                        let at = view.as_ptr();
                        let body = Bytes::from(view);
                        assert_eq!(body.as_ptr(), at, "shared");
                        drop(ro);
                        if page == 0 {
                            assert!(body.iter().all(|b| *b == body[0]), "a write tore a Bytes");
                        } else {
                            let start = page as usize * 4096;
                            assert_eq!(&body[..], &data[start..start + 4096]);
                        }
                        kept.push_back((page, body[0], body));
                        if kept.len() > 4 {
                            let (page, first, old) = kept.pop_front().unwrap();
                            if page == 0 {
                                assert!(old.iter().all(|b| *b == first), "changed while held");
                            }
                        }
                    }
                })
            })
            .collect();
        // The writer stops however the readers ended, so that a failure is not a hang.
        let ended: Vec<_> = readers.into_iter().map(|r| r.join()).collect();
        stop.store(true, Ordering::Relaxed);
        for reader in ended {
            reader.unwrap();
        }
        assert!(
            writer.join().unwrap() > 0,
            "the writer got through between the views"
        );
    });
}

#[test]
fn a_shared_bytes_keeps_the_file_from_being_cut_under_it() {
    let dir = tempdir();
    let p = file_with(&dir, "cut.bin", &pattern(3 * 4096, 11));
    let rw = MemoryMappedFile::open_rw(&p).unwrap();
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    let body = Bytes::from(ro.as_slice(2 * 4096, 100).unwrap());
    drop(ro);
    // The Bytes keeps the read-only mapping: no handle may shrink the file below it.
    assert!(matches!(rw.resize(4096), Err(MmapIoError::ResizeFailed(_))));
    // Nor may a create that truncates it, with no other handle left.
    drop(rw);
    assert!(MemoryMappedFile::create_rw(&p, 4096).is_err());
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 3 * 4096);
    assert_eq!(&body[..], &pattern(3 * 4096, 11)[2 * 4096..2 * 4096 + 100]);
    drop(body);
    MemoryMappedFile::create_rw(&p, 4096).unwrap();
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 4096);
}
