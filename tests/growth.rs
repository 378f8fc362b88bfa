//! Growth that never waits for readers: `reserve`, `resize` in place, and `refresh`.
// Reservations are Unix-only; elsewhere only the fallbacks are tested.
#![cfg_attr(not(unix), allow(unused_imports, dead_code))]
mod common;

use common::{is_invalid_mode, path, pattern, read_file, tempdir};
use mmap_io::{MemoryMappedFile, MmapIoError, MmapMode};
use std::io::Write;
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

const MIB: u64 = 1 << 20;

fn reserved_rw(p: &std::path::Path, size: u64, room: u64) -> MemoryMappedFile {
    MemoryMappedFile::builder(p)
        .size(size)
        .reserve(room)
        .create()
        .expect("create with room")
}

fn reserved_ro(p: &std::path::Path, room: u64) -> MemoryMappedFile {
    MemoryMappedFile::builder(p)
        .mode(MmapMode::ReadOnly)
        .reserve(room)
        .open()
        .expect("open read-only with room")
}

fn append(p: &std::path::Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
    f.write_all(bytes).unwrap();
}

fn set_len(p: &std::path::Path, len: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
    f.set_len(len).unwrap();
}

/// Runs `f` on another thread and gives its result, or `None` if it has not returned
/// within `secs` seconds (the thread is then left behind, still waiting).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs)).ok()
}

#[cfg(unix)]
#[test]
fn growth_with_room_keeps_a_view_the_same_thread_holds() {
    let dir = tempdir();
    let p = path(&dir, "own.bin");
    let log = reserved_rw(&p, 4096, 64 * MIB);
    let head = pattern(4096, 3);
    log.update_region(0, &head).unwrap();
    let view = log.as_slice(0, 4096).unwrap();
    let at = view.as_ptr();
    // Without room this resize would wait for `view` (this thread's), and be refused.
    log.resize(MIB).unwrap();
    assert_eq!(log.len(), MIB);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), MIB);
    assert_eq!(&*view, head.as_slice());
    assert_eq!(view.as_ptr(), at);
    assert_eq!(
        // SAFETY: the address is only compared.
        unsafe { log.as_ptr() },
        at,
        "the mapping stayed where it was"
    );
    log.update_region(MIB - 5, b"tail!").unwrap();
    assert!(log
        .as_slice(4096, MIB - 4096 - 5)
        .unwrap()
        .iter()
        .all(|&b| b == 0));
    drop(view);
    log.flush().unwrap();
    assert_eq!(&read_file(&p)[(MIB - 5) as usize..], b"tail!");
    assert_eq!(
        common::dirty_kb(&log),
        0,
        "flush left dirty pages in the reservation"
    );
}

#[test]
fn growth_without_room_still_waits_for_views() {
    let dir = tempdir();
    let p = path(&dir, "no_room.bin");
    let log = reserved_rw(&p, 4096, 8192);
    let view = log.as_slice(0, 16).unwrap();
    assert!(
        is_invalid_mode(log.resize(MIB)),
        "past the room the mapping moves"
    );
    assert_eq!(log.len(), 4096);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 4096);
    drop(view);
    log.resize(MIB).unwrap();
    assert_eq!(log.len(), MIB);
}

#[cfg(unix)]
#[test]
fn a_moved_mapping_gets_room_again() {
    let dir = tempdir();
    let p = path(&dir, "moved.bin");
    let log = reserved_rw(&p, 4096, 8192);
    log.update_region(0, b"kept").unwrap();
    log.resize(3 * 8192).unwrap(); // past the room: moves, with room for twice as much
    let view = log.as_slice(0, 4).unwrap();
    log.resize(4 * 8192).unwrap(); // in place again: does not wait for `view`
    assert_eq!(&*view, b"kept");
    assert_eq!(log.len(), 4 * 8192);
}

#[cfg(unix)]
#[test]
fn growth_with_room_does_not_wait_for_other_threads_views() {
    let dir = tempdir();
    let p = path(&dir, "others.bin");
    let log = Arc::new(reserved_rw(&p, 4096, 256 * MIB));
    log.update_region(0, b"record").unwrap();
    let (held_tx, held_rx) = mpsc::channel();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (log, held_tx) = (Arc::clone(&log), held_tx.clone());
            std::thread::spawn(move || {
                let view = log.as_slice(0, 6).unwrap();
                held_tx.send(()).unwrap();
                std::thread::park();
                assert_eq!(&*view, b"record");
            })
        })
        .collect();
    for _ in 0..4 {
        held_rx.recv().unwrap();
    }
    let writer = Arc::clone(&log);
    let grown = within(30, move || {
        let mut len = 4096;
        while len < 256 * MIB {
            len *= 2;
            writer.resize(len).unwrap();
            writer.update_region(len - 8, &len.to_le_bytes()).unwrap();
        }
        len
    });
    assert_eq!(
        grown,
        Some(256 * MIB),
        "growth waited for the readers' views"
    );
    for r in &readers {
        r.thread().unpark();
    }
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(
        &*log.as_slice(256 * MIB - 8, 8).unwrap(),
        &(256 * MIB).to_le_bytes()
    );
}

#[test]
fn shrinking_with_room_waits_for_views_and_regrows_with_zeros() {
    let dir = tempdir();
    let p = path(&dir, "shrink.bin");
    let log = reserved_rw(&p, 3 * 4096, 16 * MIB);
    log.update_region(0, &pattern(3 * 4096, 7)).unwrap();
    let view = log.as_slice(10_000, 16).unwrap();
    assert!(
        is_invalid_mode(log.resize(4096)),
        "a shrink waits for the views it cuts"
    );
    drop(view);
    log.resize(4096).unwrap();
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 4096);
    assert!(log.as_slice(4000, 200).is_err());
    log.resize(3 * 4096).unwrap();
    assert_eq!(
        &*log.as_slice(0, 4096).unwrap(),
        &pattern(3 * 4096, 7)[..4096]
    );
    assert!(log
        .as_slice(4096, 2 * 4096)
        .unwrap()
        .iter()
        .all(|&b| b == 0));
}

#[cfg(unix)]
#[test]
fn a_read_only_follower_refreshes_in_place_while_it_holds_views() {
    let dir = tempdir();
    let p = path(&dir, "follow.bin");
    std::fs::write(&p, b"first").unwrap();
    let follower = reserved_ro(&p, 64 * MIB);
    let clone = follower.clone();
    let first = follower.as_slice(0, 5).unwrap();
    assert_eq!(follower.refresh().unwrap(), 5, "nothing to follow yet");
    let more = pattern(3 * 4096 + 11, 9);
    append(&p, &more);
    assert!(
        follower.as_slice(5, 1).is_err(),
        "growth is seen only after a refresh"
    );
    assert_eq!(follower.refresh().unwrap(), 5 + more.len() as u64);
    assert_eq!(&*first, b"first");
    assert_eq!(
        &*follower.as_slice(5, more.len() as u64).unwrap(),
        more.as_slice()
    );
    // Clones share the mapping, so they see it too.
    assert_eq!(clone.len(), 5 + more.len() as u64);
    let mut buf = vec![0; more.len()];
    clone.read_into(5, &mut buf).unwrap();
    assert_eq!(buf, more);
}

#[test]
fn a_read_only_mapping_without_room_refuses_to_refresh_and_keeps_its_length() {
    let dir = tempdir();
    let p = path(&dir, "no_follow.bin");
    std::fs::write(&p, b"first").unwrap();
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    append(&p, b" second");
    let err = ro.refresh().unwrap_err();
    assert!(matches!(err, MmapIoError::ResizeFailed(_)), "{err}");
    assert!(err.to_string().contains("reserve"), "{err}");
    assert_eq!(ro.len(), 5);
    assert_eq!(ro.as_slice(0, 5).unwrap(), b"first");
}

#[test]
fn a_read_write_handle_follows_another_handles_growth() {
    let dir = tempdir();
    let p = path(&dir, "two.bin");
    let a = MemoryMappedFile::create_rw(&p, 4096).unwrap();
    let b = MemoryMappedFile::open_rw(&p).unwrap();
    a.resize(3 * 4096).unwrap();
    a.update_region(2 * 4096, b"from a").unwrap();
    assert_eq!(b.len(), 4096);
    assert_eq!(b.refresh().unwrap(), 3 * 4096);
    assert_eq!(b.as_slice(2 * 4096, 6).unwrap(), b"from a");
    // b now maps the grown length: a cannot cut the file below it.
    assert!(matches!(a.resize(4096), Err(MmapIoError::ResizeFailed(_))));
}

// Windows refuses to cut a mapped file.
#[cfg(unix)]
#[test]
fn refresh_leaves_a_file_cut_under_the_mapping_alone() {
    let dir = tempdir();
    let p = path(&dir, "cut.bin");
    std::fs::write(&p, pattern(8192, 1)).unwrap();
    let ro = reserved_ro(&p, MIB);
    set_len(&p, 4096);
    assert_eq!(
        ro.refresh().unwrap(),
        8192,
        "refresh never shrinks the mapping"
    );
    set_len(&p, 8192);
}

#[test]
fn copy_on_write_mappings_do_not_follow() {
    if cfg!(not(feature = "cow")) {
        return;
    }
    let dir = tempdir();
    let p = path(&dir, "cow.bin");
    std::fs::write(&p, b"first").unwrap();
    let cow = MemoryMappedFile::builder(&p)
        .mode(MmapMode::CopyOnWrite)
        .reserve(MIB)
        .open()
        .unwrap();
    append(&p, b" second");
    assert!(matches!(cow.refresh(), Err(MmapIoError::ResizeFailed(_))));
    assert_eq!(cow.len(), 5);
}

#[cfg(unix)]
#[test]
fn many_threads_grow_refresh_and_read_one_reserved_file() {
    let dir = tempdir();
    let p = path(&dir, "many.bin");
    let writer = Arc::new(reserved_rw(&p, 4096, 64 * MIB));
    let follower = Arc::new(reserved_ro(&p, 64 * MIB));
    let start = Arc::new(Barrier::new(5));
    let mut threads = Vec::new();
    let (w, go) = (Arc::clone(&writer), Arc::clone(&start));
    threads.push(std::thread::spawn(move || {
        go.wait();
        for step in 2..=400u64 {
            w.resize(4096 * step).unwrap_or_else(|e| panic!("{e}"));
        }
    }));
    let (w, go) = (Arc::clone(&writer), Arc::clone(&start));
    threads.push(std::thread::spawn(move || {
        go.wait();
        for _ in 0..2000 {
            let len = w.len();
            w.update_region(len / 2, &[0]).unwrap();
        }
    }));
    for _ in 0..3 {
        let (f, w, start) = (
            Arc::clone(&follower),
            Arc::clone(&writer),
            Arc::clone(&start),
        );
        threads.push(std::thread::spawn(move || {
            start.wait();
            let first = f.as_slice(0, 16).unwrap();
            for _ in 0..500 {
                let len = f.refresh().unwrap();
                assert!(len >= 4096);
                let tail = f.as_slice(len - 1, 1).unwrap();
                assert_eq!(tail[0], 0);
                let wl = w.len();
                assert_eq!(w.as_slice(wl - 1, 1).unwrap()[0], 0);
            }
            drop(first);
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(follower.refresh().unwrap(), writer.len());
}

#[cfg(unix)]
#[test]
fn handles_with_room_follow_each_others_growth_without_refresh() {
    let dir = tempdir();
    let p = path(&dir, "followed.bin");
    let writer = reserved_rw(&p, 4096, 64 * MIB);
    let reader = reserved_ro(&p, 64 * MIB);
    let other_rw = MemoryMappedFile::builder(&p)
        .reserve(64 * MIB)
        .open_or_create()
        .unwrap();
    let no_room = MemoryMappedFile::open_ro(&p).unwrap();
    let held = reader.as_slice(0, 4096).unwrap();
    writer.resize(3 * MIB).unwrap();
    writer.update_region(3 * MIB - 4, b"tail").unwrap();
    assert_eq!(reader.len(), 3 * MIB);
    assert_eq!(reader.as_slice(3 * MIB - 4, 4).unwrap(), b"tail");
    assert_eq!(other_rw.len(), 3 * MIB);
    other_rw.update_region(3 * MIB - 8, b"head").unwrap();
    assert_eq!(
        no_room.len(),
        4096,
        "without room a handle keeps its length"
    );
    // Growth through the other handle reaches the first one too.
    other_rw.resize(4 * MIB).unwrap();
    assert_eq!(writer.len(), 4 * MIB);
    assert_eq!(reader.len(), 4 * MIB);
    drop(held);
    // The followers now map the grown length: nothing may cut the file below it.
    drop(other_rw);
    assert!(matches!(
        writer.resize(4096),
        Err(MmapIoError::ResizeFailed(_))
    ));
    drop(reader);
    drop(no_room);
    writer.resize(4096).unwrap();
}

#[cfg(unix)]
#[test]
fn a_resize_to_the_length_a_follower_already_reached_waits_for_nothing() {
    let dir = tempdir();
    let p = path(&dir, "same.bin");
    let a = reserved_rw(&p, 4096, 16 * MIB);
    let b = MemoryMappedFile::builder(&p)
        .reserve(16 * MIB)
        .open_or_create()
        .unwrap();
    a.resize(2 * MIB).unwrap();
    let view = b.as_slice(0, 16).unwrap();
    // `b` followed already: a resize to its own length has nothing to wait for.
    b.resize(2 * MIB).unwrap();
    a.resize(2 * MIB).unwrap();
    drop(view);
}

#[cfg(all(unix, feature = "hugepages"))]
#[test]
fn growth_in_place_with_huge_pages_waits_for_no_writer() {
    let dir = tempdir();
    let p = path(&dir, "huge.bin");
    let log = Arc::new(
        MemoryMappedFile::builder(&p)
            .size(4096)
            .reserve(64 * MIB)
            .huge_pages(true)
            .create()
            .unwrap(),
    );
    let (held_tx, held_rx) = mpsc::channel();
    let (grown_tx, grown_rx) = mpsc::channel::<()>();
    let writer = {
        let log = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut view = log.as_slice_mut(0, 8).unwrap();
            held_tx.send(()).unwrap();
            // Holds the writable view until the growth is done (or the test gave up).
            let _ = grown_rx.recv_timeout(Duration::from_secs(30));
            view.copy_from_slice(b"written!");
        })
    };
    held_rx.recv().unwrap();
    let grower = Arc::clone(&log);
    let grown = within(30, move || {
        grower.resize(8 * MIB).map_err(|e| e.to_string())
    });
    let _ = grown_tx.send(());
    assert_eq!(grown, Some(Ok(())), "growth waited for a writable view");
    writer.join().unwrap();
    assert_eq!(log.as_slice(0, 8).unwrap(), b"written!");
}

#[cfg(unix)]
#[test]
fn the_last_handle_unmaps_while_another_mapping_keeps_growing_the_file() {
    use mmap_io::flush::FlushPolicy;
    let dir = tempdir();
    let p = path(&dir, "unmap.bin");
    let grower = Arc::new(reserved_rw(&p, 4096, 256 * MIB));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let thread = {
        let (grower, stop) = (Arc::clone(&grower), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut len = 4096;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && len < 256 * MIB {
                len += 4096;
                grower.resize(len).unwrap();
            }
        })
    };
    for _ in 0..200 {
        let follower = MemoryMappedFile::builder(&p)
            .reserve(256 * MIB)
            .flush_policy(FlushPolicy::EveryMillis(1))
            .open_or_create()
            .unwrap();
        assert!(follower.unmap().is_ok(), "the last handle must unmap");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    thread.join().unwrap();
}

#[cfg(unix)]
#[test]
fn room_past_the_address_space_is_an_error_that_leaves_no_file_behind() {
    let dir = tempdir();
    let p = path(&dir, "too_much.bin");
    let r = MemoryMappedFile::builder(&p)
        .size(4096)
        .reserve(u64::MAX)
        .create();
    assert!(matches!(r, Err(MmapIoError::Io(_))), "{r:?}");
    assert!(!p.exists(), "the created file was left behind");
    std::fs::write(&p, b"kept").unwrap();
    let r = MemoryMappedFile::builder(&p)
        .mode(MmapMode::ReadOnly)
        .reserve(u64::MAX)
        .open();
    assert!(matches!(r, Err(MmapIoError::Io(_))), "{r:?}");
    assert_eq!(read_file(&p), b"kept");
}
