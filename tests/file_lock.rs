//! The file lock under hostile use: private mappings, flushes and lending while writers
//! queue, racing exclusive parties, async writes, pending counts, and a mixed stress.
mod common;

use common::{assert_child_passed, path, run_child_test_within, tempdir};
use mmap_io::MemoryMappedFile;

// --- private (copy-on-write) mappings: a write to the file reaches their pages not yet copied ---

/// A `MappedSliceMut` of a writable copy-on-write mapping whose page has not been written
/// yet still shows the file's page: a write through a read-write handle of the same file
/// waits for it (an exclusive party meets entries of other mappings unless every
/// exclusive party of the pair is private).
#[cfg(feature = "cow")]
#[test]
fn a_write_through_the_file_waits_for_a_private_writable_view_of_its_bytes() {
    let dir = tempdir();
    let p = path(&dir, "cow.bin");
    let rw = MemoryMappedFile::create_rw(&p, 4096).unwrap();
    let cow = MemoryMappedFile::open_cow_writable(&p).unwrap();
    let view = cow.as_slice_mut(0, 8).unwrap();
    let before = view.to_vec();
    // Must wait (or be refused: this thread holds the view); it goes through.
    let write = rw.update_region(0, b"CHANGED!");
    let after = view.to_vec();
    drop(view);
    assert!(
        write.is_err() && before == after,
        "write {:?}; bytes under the live MappedSliceMut changed {before:?} -> {after:?}",
        write.map(|_| "Ok")
    );
}

/// The same for a write made without a mapping: `create_rw` over the file is refused while
/// this thread holds a private `&mut [u8]` of it.
#[cfg(feature = "cow")]
#[test]
fn create_rw_keeps_out_of_a_private_writable_view() {
    let dir = tempdir();
    let p = path(&dir, "cow2.bin");
    let rw = MemoryMappedFile::create_rw(&p, 4096).unwrap();
    rw.update_region(0, b"original").unwrap();
    rw.flush().unwrap();
    let cow = MemoryMappedFile::open_cow_writable(&p).unwrap();
    let view = cow.as_slice_mut(0, 8).unwrap();
    let before = view.to_vec();
    let again = MemoryMappedFile::create_rw(&p, 4096);
    let after = view.to_vec();
    drop(view);
    assert!(
        again.is_err() && before == after,
        "create_rw {:?}; bytes under the live MappedSliceMut changed {before:?} -> {after:?}",
        again.map(|_| "Ok")
    );
}

/// A plain write through the shared mapping is refused over an atomic view of a private
/// mapping of the same bytes.
#[cfg(all(feature = "cow", feature = "atomic"))]
#[test]
fn a_plain_write_is_refused_over_a_private_atomic_view() {
    let dir = tempdir();
    let p = path(&dir, "cow3.bin");
    let rw = MemoryMappedFile::create_rw(&p, 4096).unwrap();
    let cow = MemoryMappedFile::open_cow_writable(&p).unwrap();
    let counter = cow.atomic_u64(0).unwrap();
    let before = counter.load(std::sync::atomic::Ordering::Relaxed);
    let write = rw.update_region(0, &u64::MAX.to_ne_bytes());
    let after = counter.load(std::sync::atomic::Ordering::Relaxed);
    drop(counter);
    assert!(
        write.is_err(),
        "plain write over a live atomic view went through; the view read {before} then {after}"
    );
}

// --- no wait inside the crate behind a crate mutex ---

/// `flush_range` takes the sync turn and then, inside it, a pin (`read_copy(0, 0)`). A pin
/// joins a `WAITING` resize, so a thread holding a view (allowed across `flush`) whose
/// own flush waits for that turn is not waited for in a cycle through the resize.
#[test]
fn flush_with_a_view_held_while_a_resize_and_a_flush_range_wait_does_not_hang() {
    assert_child_passed(&run_child_test_within("flush_deadlock_child", 60));
}

#[test]
#[ignore = "run in a child process"]
fn flush_deadlock_child() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::{mpsc, Arc};
    use std::time::Duration;
    let dir = tempdir();
    for attempt in 0..20 {
        let mmap = Arc::new(
            MemoryMappedFile::create_rw(path(&dir, &format!("dl{attempt}.bin")), 1 << 20).unwrap(),
        );
        let stop = Arc::new(AtomicBool::new(false));
        // T: holds a view, later flushes.
        let (held_tx, held_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel();
        let t = {
            let mmap = Arc::clone(&mmap);
            std::thread::spawn(move || {
                let view = mmap.as_slice(0, 8).unwrap();
                held_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                mmap.flush().unwrap();
                done_tx.send(()).unwrap();
                drop(view);
            })
        };
        held_rx.recv().unwrap();
        // U1, U2: flush_range in a loop, holding nothing.
        let us: Vec<_> = (0..2)
            .map(|_| {
                let (mmap, stop) = (Arc::clone(&mmap), Arc::clone(&stop));
                std::thread::spawn(move || {
                    while !stop.load(SeqCst) {
                        mmap.flush_range(0, 4096).unwrap();
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        // R: a resize, which waits for T's view.
        let r = {
            let mmap = Arc::clone(&mmap);
            std::thread::spawn(move || mmap.resize(2 << 20).unwrap())
        };
        std::thread::sleep(Duration::from_millis(100));
        go_tx.send(()).unwrap();
        if done_rx.recv_timeout(Duration::from_secs(5)).is_err() {
            panic!(
                "attempt {attempt}: flush() by the thread holding a view hung for 5 s \
                 (flush_range holds the sync turn and waits for the WAITING resize, which \
                 waits for the view)"
            );
        }
        stop.store(true, SeqCst);
        t.join().unwrap();
        r.join().unwrap();
        for u in us {
            u.join().unwrap();
        }
    }
}

// --- refusals only for parties that are in ---

/// A write and an atomic view of the same bytes, made at once by two threads, never both
/// fail: a party still deciding (`PENDING`, `WAITING`) is waited for, not refused on.
#[cfg(feature = "atomic")]
#[test]
fn a_racing_write_and_atomic_view_are_never_both_refused() {
    use std::sync::Barrier;
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "race.bin"), 4096).unwrap();
    let barrier = Barrier::new(2);
    let mut both = 0;
    for _ in 0..20_000 {
        let (w, a) = std::thread::scope(|s| {
            let w = s.spawn(|| {
                barrier.wait();
                mmap.update_region(0, &[1; 8]).is_err()
            });
            barrier.wait();
            let a = mmap.atomic_u64(0).map(drop).is_err();
            (w.join().unwrap(), a)
        });
        if w && a {
            both += 1;
        }
    }
    assert_eq!(
        both, 0,
        "{both} rounds refused both the write and the atomic view"
    );
}

/// An atomic view is not refused by a write that is only queued (`WAITING` for a view of
/// other bytes): nothing live overlaps its range.
#[cfg(feature = "atomic")]
#[test]
fn an_atomic_view_is_not_refused_by_a_write_that_only_waits() {
    use std::time::Duration;
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "queued.bin"), 4096).unwrap();
    let view = mmap.as_slice(0, 8).unwrap(); // bytes 0..8 only
    std::thread::scope(|s| {
        let writer = s.spawn(|| mmap.update_region(0, &[9; 16]));
        std::thread::sleep(Duration::from_millis(200)); // the write waits for `view`
        let atomic = mmap.atomic_u64(8).map(drop); // bytes 8..16: nothing live there
        let msg = format!("{atomic:?}");
        drop(view);
        let _ = writer.join().unwrap();
        assert!(atomic.is_ok(), "atomic view of bytes 8..16 refused: {msg}");
    });
}

// --- stress: no hang when readers hold several views and writers hold nothing ---

#[cfg(feature = "atomic")]
#[test]
fn mixed_stress_never_hangs() {
    assert_child_passed(&run_child_test_within("mixed_stress_child", 120));
}

#[cfg(feature = "atomic")]
#[test]
#[ignore = "run in a child process"]
fn mixed_stress_child() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    let dir = tempdir();
    let p = path(&dir, "stress.bin");
    let a = Arc::new(MemoryMappedFile::create_rw(&p, 8192).unwrap());
    let b = Arc::new(MemoryMappedFile::open_rw(&p).unwrap());
    let c = Arc::new(MemoryMappedFile::open_ro(&p).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(AtomicU64::new(0));
    let mut rng_seed = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        rng_seed ^= rng_seed << 13;
        rng_seed ^= rng_seed >> 7;
        rng_seed ^= rng_seed << 17;
        rng_seed
    };
    let mut workers = Vec::new();
    for w in 0..6u64 {
        let (a, b, c, stop, progress) = (
            a.clone(),
            b.clone(),
            c.clone(),
            stop.clone(),
            progress.clone(),
        );
        let mut seed = next() ^ w;
        workers.push(std::thread::spawn(move || {
            let mut rnd = move |n: u64| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed % n
            };
            while !stop.load(SeqCst) {
                let role = rnd(10);
                let work = |rnd: &mut dyn FnMut(u64) -> u64| {
                    let h = |r: u64| match r {
                        0 => &*a,
                        1 => &*b,
                        _ => &*c,
                    };
                    if role < 5 {
                        // reader: hold several views, maybe send one away
                        let mut views = Vec::new();
                        for _ in 0..1 + rnd(4) {
                            let (off, len) = (rnd(4000), 1 + rnd(96));
                            if let Ok(v) = h(rnd(3)).as_slice(off, len) {
                                views.push(v);
                            }
                            let mut buf = [0u8; 16];
                            let _ = h(rnd(3)).read_into(rnd(4000), &mut buf);
                            let _ = h(rnd(2)).try_update_region(rnd(4000), &[1; 8]);
                            let _ = h(rnd(2)).try_as_slice(rnd(4000), 8);
                        }
                        if rnd(3) == 0 {
                            if let Some(v) = views.pop() {
                                std::thread::scope(|s| {
                                    s.spawn(move || drop(v));
                                });
                            }
                        }
                        drop(views);
                    } else if role < 8 {
                        // writer, holding nothing
                        let (off, len) = (rnd(4000), 1 + rnd(96));
                        match rnd(5) {
                            0 => {
                                let _ = h(rnd(2)).update_region(off, &vec![7; len as usize]);
                            }
                            1 => {
                                if let Ok(mut m) = h(rnd(2)).as_slice_mut(off, len) {
                                    m.as_mut().fill(3);
                                }
                            }
                            2 => {
                                if let Ok(v) = h(rnd(2)).atomic_u64(rnd(500) * 8) {
                                    v.fetch_add(1, SeqCst);
                                }
                            }
                            3 => {
                                let _ = h(rnd(2)).flush();
                            }
                            _ => {
                                let _ = h(rnd(2)).try_as_slice_mut(off, len);
                            }
                        }
                    } else {
                        let _ = h(rnd(2)).resize(if rnd(2) == 0 { 4096 } else { 8192 });
                    }
                };
                if rnd(8) == 0 {
                    // a short-lived thread: its record is orphaned and reused
                    let mut s2 = rnd(u64::MAX);
                    std::thread::scope(|s| {
                        s.spawn(|| {
                            let mut r2 = move |n: u64| {
                                s2 ^= s2 << 13;
                                s2 ^= s2 >> 7;
                                s2 ^= s2 << 17;
                                s2 % n
                            };
                            work(&mut r2)
                        });
                    });
                } else {
                    work(&mut rnd);
                }
                progress.fetch_add(1, SeqCst);
            }
        }));
    }
    let start = Instant::now();
    let (mut last, mut since) = (0, Instant::now());
    while start.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(100));
        let now = progress.load(SeqCst);
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() > Duration::from_secs(10) {
            panic!("no progress for 10 s after {now} operations: hang");
        }
    }
    stop.store(true, SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    println!("operations: {}", progress.load(SeqCst));
}

// --- async helpers: refused up front for the awaiting thread's views, else run as the pool's ---

/// `update_region_async` refuses, on the polling thread, a write over a view that thread
/// holds, and otherwise runs on the pool as the pool thread's own: the polling thread's
/// plain `as_slice` of the bytes meanwhile is not refused as if it held a writable view.
#[cfg(feature = "async")]
#[test]
fn a_read_on_the_polling_thread_is_not_refused_while_an_async_write_runs() {
    use std::future::Future;
    let dir = tempdir();
    const LEN: usize = 64 << 20;
    let mmap = MemoryMappedFile::create_rw(path(&dir, "async.bin"), LEN as u64).unwrap();
    let data = vec![5u8; LEN];
    let mut refused = None;
    for _ in 0..5 {
        let mut fut = Box::pin(mmap.update_region_async(0, &data));
        // One poll starts the job on the pool; this thread goes on with other work.
        let mut first =
            futures_lite::future::block_on(futures_lite::future::poll_once(fut.as_mut()));
        while first.is_none() {
            if let Err(e) = mmap.as_slice(LEN as u64 / 2, 8) {
                refused.get_or_insert(e.to_string());
            }
            first = futures_lite::future::block_on(futures_lite::future::poll_once(fut.as_mut()));
        }
        let _: &dyn Future<Output = _> = &fut;
        if let Err(e) = first.unwrap() {
            // The job also sees the polling thread's short reads as "own" views.
            refused.get_or_insert(format!("the async write itself: {e}"));
        }
    }
    assert!(refused.is_none(), "refused: {}", refused.unwrap());
}

// --- per-record write counts: no count lost across slots, threads and forgotten maps ---

#[test]
fn pending_bytes_are_exact_across_many_mappings_and_threads() {
    let dir = tempdir();
    for round in 0..4 {
        let maps: Vec<_> = (0..7)
            .map(|i| {
                MemoryMappedFile::create_rw(path(&dir, &format!("c{round}-{i}.bin")), 1 << 16)
                    .unwrap()
            })
            .collect();
        std::thread::scope(|s| {
            for t in 0..4 {
                let maps = &maps;
                s.spawn(move || {
                    for k in 0..200 {
                        for (i, m) in maps.iter().enumerate() {
                            let len = 1 + (t + i + k) % 13;
                            if k % 50 == 0 {
                                std::thread::scope(|s| {
                                    s.spawn(|| m.update_region(0, &vec![1; len]).unwrap());
                                });
                            } else if k % 3 == 0 {
                                let mut v = m.as_slice_mut(100, len as u64).unwrap();
                                v.as_mut().fill(2);
                            } else {
                                m.update_region(200, &vec![3; len]).unwrap();
                            }
                        }
                    }
                });
            }
        });
        for (i, m) in maps.iter().enumerate() {
            let expected: u64 = (0..4)
                .flat_map(|t| (0..200).map(move |k| 1 + ((t + i + k) % 13) as u64))
                .sum();
            assert_eq!(m.pending_bytes(), expected, "round {round} map {i}");
        }
        // Dropped maps free their slots for the next round's.
    }
}

// --- lending waits outside the handle's mutex ---

/// `lend` publishes its entry (which may wait for a `WAITING` write) outside `inner.lent`:
/// a thread that holds a view and calls `as_slice_bytes` on the same handle is not stuck
/// behind a caller that waits there.
#[test]
fn as_slice_bytes_with_a_view_held_does_not_hang() {
    assert_child_passed(&run_child_test_within("lent_deadlock_child", 30));
}

#[test]
#[ignore = "run in a child process"]
fn lent_deadlock_child() {
    use std::sync::mpsc;
    use std::time::Duration;
    let dir = tempdir();
    let p = path(&dir, "lent.bin");
    let rw = MemoryMappedFile::create_rw(&p, 4096).unwrap();
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    let view = ro.as_slice(0, 8).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| rw.update_region(0, b"12345678").unwrap()); // WAITING on `view`
        std::thread::sleep(Duration::from_millis(100));
        s.spawn(|| ro.as_slice_bytes(0, 8).map(|b| b.len()).unwrap()); // waits, holding `lent`
        std::thread::sleep(Duration::from_millis(100));
        let (tx, rx) = mpsc::channel();
        let got = std::thread::scope(|s2| {
            // On this thread's behalf, but it holds `view`: run here, watch from a helper.
            s2.spawn(move || {
                if rx.recv_timeout(Duration::from_secs(5)).is_err() {
                    eprintln!(
                        "as_slice_bytes by the thread holding a view hung for 5 s: \
                         another thread holds `lent` waiting for a write that waits for the view"
                    );
                    std::process::exit(1);
                }
            });
            let got = ro.as_slice_bytes(100, 8).map(|b| b.len());
            tx.send(()).unwrap();
            got
        });
        got.unwrap();
        drop(view);
    });
}

/// `as_slice_bytes` keeps the smallest range that covers every range a handle lent from
/// writes (one entry per handle, however many calls): a request for bytes of their own is
/// refused for an atomic view between two lent ranges, as its documentation says.
#[cfg(feature = "atomic")]
#[test]
fn as_slice_bytes_lends_the_hull_of_what_a_handle_lent() {
    let dir = tempdir();
    let p = path(&dir, "union.bin");
    let rw = MemoryMappedFile::create_rw(&p, 8192).unwrap();
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    ro.as_slice_bytes(0, 8).unwrap();
    let counter = rw.atomic_u64(2048).unwrap();
    assert!(common::is_invalid_mode(ro.as_slice_bytes(4096, 8)));
    drop(counter);
    assert_eq!(ro.as_slice_bytes(4096, 8).unwrap().len(), 8);
    // The hull is kept from writes until the handle drops; bytes past it are not.
    assert!(common::is_invalid_mode(rw.update_region(2048, b"x")));
    rw.update_region(5000, b"x").unwrap();
    drop(ro);
    rw.update_region(2048, b"x").unwrap();
}
