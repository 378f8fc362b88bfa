//! The file (device and inode) is the unit of coordination, not the handle: views and
//! writes through different handles of one file (a hard link or a symlink included) wait
//! for or refuse each other as views and writes through one handle do. Around that: work
//! moved to another thread never hangs where the same call here is refused, a mapping works
//! from a thread-local destructor, refusals are exact (to the bytes, never to bounds that
//! cover more), a write of bytes nobody views never waits, and racing creates return a
//! mapping of the size asked for.
//!
//! Cases that could hang or die by a signal run in a child process with a deadline: the
//! `#[ignore]`d `*_child` test is run by its parent test through
//! `common::run_child_test_within`.
// Some imports and helpers serve only the tests of optional features or of Linux.
#![cfg_attr(
    not(all(
        feature = "atomic",
        feature = "async",
        feature = "watch",
        feature = "iterator",
        target_os = "linux"
    )),
    allow(unused_imports, dead_code)
)]

mod common;

use common::{
    assert_child_passed, file_with, is_invalid_mode, message, path, pattern, run_child_test_within,
    tempdir,
};
use mmap_io::{MappedSlice, MemoryMappedFile, MmapIoError};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a child test may run before it counts as hung.
const DEADLINE: u64 = 30;
const PAGE: u64 = 4096;

/// Runs the `#[ignore]`d test `name` in a child process and fails unless it passes within
/// [`DEADLINE`].
fn child(name: &str) {
    assert_child_passed(&run_child_test_within(name, DEADLINE));
}

/// Asserts that `result` is an `InvalidMode` refusal.
#[track_caller]
fn assert_refused<T>(result: Result<T, MmapIoError>, what: &str) {
    match result {
        Err(MmapIoError::InvalidMode(_)) => {}
        Err(e) => panic!("{what}: expected an InvalidMode refusal, got {e}"),
        Ok(_) => panic!("{what}: expected an InvalidMode refusal, got Ok"),
    }
}

/// A file of two pages of a recognisable pattern.
fn two_pages(dir: &tempfile::TempDir, name: &str) -> std::path::PathBuf {
    file_with(dir, name, &pattern(2 * PAGE as usize, 7))
}

// --- 1. handles of one file are coordinated ---

mod handles {
    use super::*;

    #[test]
    fn a_write_through_another_handle_waits_for_a_view_of_the_same_file() {
        child("handles::write_waits_child");
    }

    #[test]
    #[ignore = "run in a child process by a_write_through_another_handle_waits_for_a_view_of_the_same_file"]
    fn write_waits_child() {
        let dir = tempdir();
        let p = two_pages(&dir, "wait.bin");
        let h1 = MemoryMappedFile::open_rw(&p).unwrap();
        let slice = h1.as_slice(0, 8).unwrap();
        let before = slice.to_vec();
        let h2 = MemoryMappedFile::open_rw(&p).unwrap();
        let done = AtomicBool::new(false);
        let (waited, unchanged) = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let written = h2.update_region(0, &[0xAB; 8]);
                done.store(true, SeqCst);
                written
            });
            std::thread::sleep(Duration::from_millis(200));
            let waited = !done.load(SeqCst);
            let unchanged = slice[..] == before[..];
            // Asserted only once the view is gone, so that a failure never leaves the
            // writer waiting for it.
            drop(slice);
            writer.join().unwrap().unwrap();
            (waited, unchanged)
        });
        assert!(
            waited,
            "the write through the second handle did not wait for the first handle's view"
        );
        assert!(unchanged, "the bytes under the live view changed");
        assert_eq!(
            h1.as_slice(0, 8).unwrap(),
            [0xAB; 8],
            "written once the view dropped"
        );
    }

    /// With `view` (the 8 bytes at 0, alive on this thread), `writer`'s try writes from
    /// another thread are refused over the view and accepted elsewhere; once it drops, over
    /// its bytes too.
    fn try_writes_around(view: MappedSlice<'_>, writer: &MemoryMappedFile, what: &str) {
        let before = view.to_vec();
        std::thread::scope(|s| {
            s.spawn(|| {
                let r = writer.try_update_region(0, &[0xEE; 8]);
                assert!(matches!(r, Ok(false)), "{what}: over the live view: {r:?}");
                let r = writer.try_update_region(4, &[0xEE; 8]);
                assert!(matches!(r, Ok(false)), "{what}: over part of it: {r:?}");
                let r = writer.try_update_region(PAGE, &[0xEE; 8]);
                assert!(matches!(r, Ok(true)), "{what}: bytes no view covers: {r:?}");
            });
        });
        assert_eq!(view[..], before[..], "{what}: the view's bytes changed");
        drop(view);
        let r = writer.try_update_region(0, &[0xEE; 8]);
        assert!(
            matches!(r, Ok(true)),
            "{what}: once the view dropped: {r:?}"
        );
    }

    #[test]
    fn a_try_write_through_another_read_write_handle_is_refused_over_a_live_view() {
        let dir = tempdir();
        let p = two_pages(&dir, "try.bin");
        let h1 = MemoryMappedFile::open_rw(&p).unwrap();
        let h2 = MemoryMappedFile::open_rw(&p).unwrap();
        try_writes_around(h1.as_slice(0, 8).unwrap(), &h2, "open_rw view");
    }

    #[test]
    fn a_read_only_handles_view_holds_back_a_read_write_handles_try_write() {
        let dir = tempdir();
        let p = two_pages(&dir, "ro.bin");
        let ro = MemoryMappedFile::open_ro(&p).unwrap();
        let rw = MemoryMappedFile::open_rw(&p).unwrap();
        try_writes_around(ro.as_slice(0, 8).unwrap(), &rw, "open_ro view");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_reached_through_a_hard_link_is_the_same_file() {
        let dir = tempdir();
        let p = two_pages(&dir, "linked.bin");
        let link = path(&dir, "hard-link.bin");
        std::fs::hard_link(&p, &link).unwrap();
        let h1 = MemoryMappedFile::open_rw(&p).unwrap();
        let h2 = MemoryMappedFile::open_rw(&link).unwrap();
        try_writes_around(h1.as_slice(0, 8).unwrap(), &h2, "hard link");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_reached_through_a_symlink_is_the_same_file() {
        let dir = tempdir();
        let p = two_pages(&dir, "target.bin");
        let link = path(&dir, "symlink.bin");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        let h1 = MemoryMappedFile::open_ro(&link).unwrap();
        let h2 = MemoryMappedFile::open_rw(&p).unwrap();
        try_writes_around(h1.as_slice(0, 8).unwrap(), &h2, "symlink");
    }

    #[cfg(feature = "atomic")]
    #[test]
    fn an_atomic_view_through_one_handle_refuses_conflicting_access_through_another() {
        let dir = tempdir();
        let p = two_pages(&dir, "atomic.bin");
        let h1 = MemoryMappedFile::open_rw(&p).unwrap();
        let h2 = MemoryMappedFile::open_rw(&p).unwrap();
        let counter = h1.atomic_u64(0).unwrap();
        counter.store(42, SeqCst);
        assert_refused(h2.atomic_u32(0), "an atomic view of another width");
        assert_refused(h2.as_slice(0, 8), "a slice over the atomic view");
        assert_refused(
            h2.try_update_region(0, &[1; 8]),
            "a try write over the atomic view",
        );
        assert_eq!(counter.load(SeqCst), 42, "the refused write wrote nothing");
        drop(counter);
        assert!(
            h2.as_slice(0, 8).is_ok(),
            "refused only while the view lives"
        );
        assert!(
            h2.atomic_u32(0).is_ok(),
            "refused only while the view lives"
        );
    }

    #[test]
    fn bytes_lent_by_a_read_only_handle_are_not_written_until_its_last_clone_drops() {
        child("handles::lent_bytes_child");
    }

    #[test]
    #[ignore = "run in a child process by bytes_lent_by_a_read_only_handle_are_not_written_until_its_last_clone_drops"]
    fn lent_bytes_child() {
        let dir = tempdir();
        let p = two_pages(&dir, "lent.bin");
        let ro = MemoryMappedFile::open_ro(&p).unwrap();
        let rw = MemoryMappedFile::open_rw(&p).unwrap();
        let before = ro.as_slice_bytes(PAGE, 8).unwrap().to_vec();
        // The borrow has ended; the handle (and so the lending) lives on in a clone.
        let ro2 = ro.clone();
        drop(ro);
        assert_refused(
            rw.update_region(PAGE, &[1; 8]),
            "update_region of lent bytes",
        );
        assert_refused(
            rw.try_update_region(PAGE + 4, &[1; 8]),
            "try_update_region of lent bytes",
        );
        rw.update_region(0, &[2; 8])
            .expect("bytes that were not lent are written");
        assert_eq!(ro2.as_slice(PAGE, 8).unwrap(), before[..]);
        drop(ro2);
        rw.update_region(PAGE, &[1; 8])
            .expect("the last clone is gone: the bytes are free");
        assert!(rw.try_update_region(PAGE, &[3; 8]).unwrap());
    }

    #[test]
    fn a_create_never_zeroes_bytes_under_another_handles_live_view() {
        child("handles::create_under_view_child");
    }

    #[test]
    #[ignore = "run in a child process by a_create_never_zeroes_bytes_under_another_handles_live_view"]
    fn create_under_view_child() {
        let dir = tempdir();
        let p = two_pages(&dir, "created.bin");
        let mut outcomes = Vec::new();
        for (holder, size) in [("open_rw", 2 * PAGE), ("open_ro", 4 * PAGE)] {
            let handle = if holder == "open_rw" {
                MemoryMappedFile::open_rw(&p).unwrap()
            } else {
                MemoryMappedFile::open_ro(&p).unwrap()
            };
            let view = handle.as_slice(0, 8).unwrap();
            let before = view.to_vec();
            let created = MemoryMappedFile::create_rw(&p, size);
            let result = message(created);
            let unchanged = view[..] == before[..];
            drop(view);
            outcomes.push((holder, size, result, unchanged));
        }
        for (holder, size, result, unchanged) in outcomes {
            assert!(
                result != "Ok",
                "create_rw({size}) succeeded while an {holder} handle held a view"
            );
            assert!(
                unchanged,
                "create_rw({size}) changed the bytes under an {holder} handle's view ({result})"
            );
        }
    }
}

// --- 2. work moved to another thread never hangs where the same call here is refused ---

#[cfg(feature = "async")]
mod moved_work {
    use super::*;
    use futures_lite::future::block_on;

    #[test]
    fn an_async_write_over_a_view_this_thread_holds_is_refused_not_hung() {
        child("moved_work::async_write_child");
    }

    #[test]
    #[ignore = "run in a child process by an_async_write_over_a_view_this_thread_holds_is_refused_not_hung"]
    fn async_write_child() {
        let dir = tempdir();
        let m = MemoryMappedFile::create_rw(path(&dir, "async.bin"), 2 * PAGE).unwrap();
        let view = m.as_slice(0, 8).unwrap();
        let written = block_on(m.update_region_async(0, b"x"));
        let refused = matches!(written, Err(MmapIoError::InvalidMode(_)));
        let said = message(written);
        drop(view);
        assert!(refused, "expected an InvalidMode refusal, got {said}");
    }

    #[test]
    fn an_async_flush_while_this_thread_holds_a_writable_view_does_not_hang() {
        child("moved_work::async_flush_child");
    }

    #[test]
    #[ignore = "run in a child process by an_async_flush_while_this_thread_holds_a_writable_view_does_not_hang"]
    fn async_flush_child() {
        let dir = tempdir();
        let m = MemoryMappedFile::create_rw(path(&dir, "flush.bin"), 2 * PAGE).unwrap();
        let mut guard = m.as_slice_mut(0, 8).unwrap();
        guard.copy_from_slice(b"guarded!");
        let flushed = block_on(m.flush_async());
        println!("flush_async under a MappedSliceMut: {}", message(flushed));
        drop(guard);
    }

    #[test]
    fn an_async_flush_range_while_this_thread_holds_a_writable_view_does_not_hang() {
        child("moved_work::async_flush_range_child");
    }

    #[test]
    #[ignore = "run in a child process by an_async_flush_range_while_this_thread_holds_a_writable_view_does_not_hang"]
    fn async_flush_range_child() {
        let dir = tempdir();
        let m = MemoryMappedFile::create_rw(path(&dir, "flush_range.bin"), 2 * PAGE).unwrap();
        let mut guard = m.as_slice_mut(0, 8).unwrap();
        guard.copy_from_slice(b"guarded!");
        let flushed = block_on(m.flush_range_async(0, PAGE));
        println!(
            "flush_range_async under a MappedSliceMut: {}",
            message(flushed)
        );
        drop(guard);
    }
}

#[cfg(feature = "watch")]
mod watch {
    use super::*;
    use mmap_io::{ChangeEvent, WatchHandle};
    use std::io::{Seek, SeekFrom, Write};

    /// Writes `bytes` at `offset` of the file at `p` through a handle of its own.
    fn write_at(p: &std::path::Path, offset: u64, bytes: &[u8]) {
        let mut file = std::fs::OpenOptions::new().write(true).open(p).unwrap();
        file.seek(SeekFrom::Start(offset)).unwrap();
        file.write_all(bytes).unwrap();
    }

    #[test]
    fn dropping_a_watch_handle_inside_its_own_callback_neither_panics_nor_kills_the_watch_thread() {
        child("watch::drop_in_callback_child");
    }

    #[test]
    #[ignore = "run in a child process by dropping_a_watch_handle_inside_its_own_callback_neither_panics_nor_kills_the_watch_thread"]
    fn drop_in_callback_child() {
        let dir = tempdir();
        let p = path(&dir, "self_drop.bin");
        let m = MemoryMappedFile::create_rw(&p, PAGE).unwrap();
        let slot: Arc<Mutex<Option<WatchHandle>>> = Arc::default();
        let (tx, rx) = mpsc::channel::<&'static str>();
        let handle = {
            let slot = Arc::clone(&slot);
            m.watch(move |_: ChangeEvent| {
                let taken = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(handle) = taken {
                    let _ = tx.send("dropping");
                    drop(handle);
                    let _ = tx.send("dropped");
                }
            })
            .unwrap()
        };
        *slot.lock().unwrap() = Some(handle);
        write_at(&p, 0, b"poke");
        let wait = Duration::from_secs(10);
        assert_eq!(
            rx.recv_timeout(wait),
            Ok("dropping"),
            "the callback was not called"
        );
        assert_eq!(
            rx.recv_timeout(wait),
            Ok("dropped"),
            "dropping the handle inside its callback did not return (a panic killed the watch thread, or it hung)"
        );
    }

    #[test]
    fn dropping_a_watch_handle_returns_while_its_callback_waits_for_this_threads_view() {
        child("watch::drop_while_callback_waits_child");
    }

    #[test]
    #[ignore = "run in a child process by dropping_a_watch_handle_returns_while_its_callback_waits_for_this_threads_view"]
    fn drop_while_callback_waits_child() {
        let dir = tempdir();
        let p = path(&dir, "waiting_callback.bin");
        let m = MemoryMappedFile::create_rw(&p, 2 * PAGE).unwrap();
        let (tx, rx) = mpsc::channel::<()>();
        let writer = m.clone();
        let handle = m
            .watch(move |_: ChangeEvent| {
                let _ = tx.send(());
                // Waits for the view the test's thread holds.
                let _ = writer.update_region(0, b"callback");
            })
            .unwrap();
        let view = m.as_slice(0, 8).unwrap();
        write_at(&p, PAGE, b"poke");
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the callback was not called");
        std::thread::sleep(Duration::from_millis(100)); // its write now waits for `view`
        drop(handle); // must return although the callback cannot finish yet
        drop(view);
    }
}

// --- 3. a mapping first used in a thread-local destructor ---

mod thread_exit {
    use super::*;
    use std::cell::RefCell;
    use std::thread::LocalKey;

    /// Runs its closure when its thread-local is destroyed.
    struct AtExit(Option<Box<dyn FnOnce()>>);

    impl Drop for AtExit {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }

    type Slot = RefCell<Option<AtExit>>;

    thread_local! {
        static FIRST: Slot = const { RefCell::new(None) };
        static SECOND: Slot = const { RefCell::new(None) };
    }

    /// Has `f` run when `key` is destroyed on this thread; the first call on a thread
    /// registers the destructor, so the order of these calls is the reverse of the order
    /// of the destructors.
    fn at_exit(key: &'static LocalKey<Slot>, f: impl FnOnce() + 'static) {
        key.with(|slot| *slot.borrow_mut() = Some(AtExit(Some(Box::new(f)))));
    }

    /// Writes `[byte; 8]` at `offset` and reads it back; a failure panics, which in a
    /// thread-local's destructor aborts the process.
    fn write_and_check(m: &MemoryMappedFile, offset: u64, byte: u8, done: &AtomicUsize) {
        m.update_region(offset, &[byte; 8]).unwrap();
        assert_eq!(m.as_slice(offset, 8).unwrap(), [byte; 8]);
        done.fetch_add(1, SeqCst);
    }

    #[test]
    fn a_mapping_first_used_in_a_thread_local_destructor_does_not_abort() {
        child("thread_exit::first_use_at_exit_child");
    }

    #[test]
    #[ignore = "run in a child process by a_mapping_first_used_in_a_thread_local_destructor_does_not_abort"]
    fn first_use_at_exit_child() {
        static DONE: AtomicUsize = AtomicUsize::new(0);
        let dir = tempdir();
        let m = Arc::new(MemoryMappedFile::create_rw(path(&dir, "exit.bin"), PAGE).unwrap());
        let other = Arc::new(MemoryMappedFile::create_rw(path(&dir, "other.bin"), PAGE).unwrap());
        let also = Arc::new(MemoryMappedFile::create_rw(path(&dir, "also.bin"), PAGE).unwrap());
        /// Sets up a thread's destructors with the mappings `m`, `other` and `also`, and
        /// the scenario's number.
        type Scenario = fn(Arc<MemoryMappedFile>, Arc<MemoryMappedFile>, Arc<MemoryMappedFile>, u8);
        let scenarios: [Scenario; 4] = [
            // The only use of any mapping on the thread, in its destructor.
            |m, _, _, i| {
                at_exit(&FIRST, move || {
                    write_and_check(&m, u64::from(i) * 64, i, &DONE)
                })
            },
            // Two: `m`'s destructor registered first, so run last, after the other one set
            // up (and tore down) the crate's per-thread state for `other`.
            |m, other, _, i| {
                at_exit(&FIRST, move || {
                    write_and_check(&m, u64::from(i) * 64, i, &DONE)
                });
                at_exit(&SECOND, move || {
                    write_and_check(&other, u64::from(i) * 64, i, &DONE)
                });
            },
            // The same, the other way round.
            |m, other, _, i| {
                at_exit(&SECOND, move || {
                    write_and_check(&other, u64::from(i) * 64, i, &DONE)
                });
                at_exit(&FIRST, move || {
                    write_and_check(&m, u64::from(i) * 64, i, &DONE)
                });
            },
            // And with a third mapping used while the thread lives, between the two.
            |m, other, also, i| {
                at_exit(&FIRST, move || {
                    write_and_check(&m, u64::from(i) * 64, i, &DONE)
                });
                also.update_region(u64::from(i) * 64, &[i; 8]).unwrap();
                assert_eq!(also.as_slice(u64::from(i) * 64, 8).unwrap(), [i; 8]);
                at_exit(&SECOND, move || {
                    write_and_check(&other, u64::from(i) * 64, i, &DONE)
                });
            },
        ];
        let mut expected = 0;
        for (i, scenario) in scenarios.into_iter().enumerate() {
            let i = i as u8 + 1;
            let (m, other, also) = (Arc::clone(&m), Arc::clone(&other), Arc::clone(&also));
            std::thread::spawn(move || scenario(m, other, also, i))
                .join()
                .unwrap();
            expected += if i == 1 { 1 } else { 2 };
            assert_eq!(DONE.load(SeqCst), expected, "scenario {i}");
        }
        for i in 1..=4u8 {
            assert_eq!(m.as_slice(u64::from(i) * 64, 8).unwrap(), [i; 8]);
        }
        for i in 2..=4u8 {
            assert_eq!(other.as_slice(u64::from(i) * 64, 8).unwrap(), [i; 8]);
        }
        m.update_region(0, b"main").unwrap();
    }

    const EXITING_THREADS: usize = 20_000;

    /// The resident memory of this process, in kB.
    #[cfg(target_os = "linux")]
    fn rss_kb() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/self/status")
    }

    #[test]
    fn many_threads_writing_from_their_thread_local_destructors_leave_the_mapping_usable() {
        child("thread_exit::many_exiting_writers_child");
    }

    #[test]
    #[ignore = "run in a child process by many_threads_writing_from_their_thread_local_destructors_leave_the_mapping_usable"]
    fn many_exiting_writers_child() {
        static DONE: AtomicUsize = AtomicUsize::new(0);
        let dir = tempdir();
        let m = Arc::new(MemoryMappedFile::create_rw(path(&dir, "many.bin"), PAGE).unwrap());
        let other = Arc::new(MemoryMappedFile::create_rw(path(&dir, "other.bin"), PAGE).unwrap());
        #[cfg(target_os = "linux")]
        let rss_before = rss_kb();
        let started = Instant::now();
        for batch in 0..EXITING_THREADS / 8 {
            let threads: Vec<_> = (0..8)
                .map(|j| {
                    let (m, other) = (Arc::clone(&m), Arc::clone(&other));
                    std::thread::spawn(move || {
                        let k = (batch * 8 + j) as u64;
                        at_exit(&FIRST, move || {
                            m.update_region((k % 512) * 8, &k.to_ne_bytes()).unwrap();
                            DONE.fetch_add(1, SeqCst);
                        });
                        // Another mapping used while the thread lives: the crate's per-thread
                        // state is gone by the time the destructor above runs.
                        let mut buf = [0u8; 8];
                        other.read_into((k % 512) * 8, &mut buf).unwrap();
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
        }
        assert_eq!(DONE.load(SeqCst), EXITING_THREADS);
        let write = Instant::now();
        m.update_region(0, b"main").unwrap();
        println!(
            "{EXITING_THREADS} exiting writers in {:?}; then one write in {:?}",
            started.elapsed(),
            write.elapsed()
        );
        assert_eq!(m.as_slice(0, 4).unwrap(), b"main");
        #[cfg(target_os = "linux")]
        {
            let grown = rss_kb().saturating_sub(rss_before);
            assert!(
                grown < 256 * 1024,
                "{EXITING_THREADS} exited threads left {grown} kB behind"
            );
        }
    }
}

// --- 4. refusals are exact ---

#[cfg(feature = "atomic")]
mod exact_refusals {
    use super::*;

    #[test]
    fn seven_views_of_pages_0_and_3_leave_page_2_to_an_atomic_view() {
        let dir = tempdir();
        let m = MemoryMappedFile::create_rw(path(&dir, "seven.bin"), 8 * PAGE).unwrap();
        // Four views of page 0 and three of page 3, interleaved so that those past the
        // first few are of both pages.
        let views: Vec<_> = [0, 0, 0, 3, 3, 0, 3]
            .iter()
            .map(|&page| m.as_slice(page * PAGE, 8).unwrap())
            .collect();
        let r = m.atomic_u64(2 * PAGE).map(drop);
        assert!(r.is_ok(), "this thread: {}", message(r));
        std::thread::scope(|s| {
            s.spawn(|| {
                let r = m.atomic_u64(2 * PAGE).map(drop);
                assert!(r.is_ok(), "another thread: {}", message(r));
            });
        });
        // The viewed bytes themselves stay refused.
        assert!(is_invalid_mode(m.atomic_u64(0)));
        assert!(is_invalid_mode(m.atomic_u64(3 * PAGE)));
        drop(views);
    }

    #[test]
    fn a_finished_copy_does_not_keep_its_bytes_from_an_atomic_view() {
        let dir = tempdir();
        let m = MemoryMappedFile::create_rw(path(&dir, "copy.bin"), 8 * PAGE).unwrap();
        let views: Vec<_> = (0..6).map(|_| m.as_slice(0, 8).unwrap()).collect();
        let mut buf = [0u8; 8];
        m.read_into(5 * PAGE, &mut buf).unwrap();
        let r = m.atomic_u64(5 * PAGE).map(drop);
        assert!(r.is_ok(), "the copy is over: {}", message(r));
        assert!(is_invalid_mode(m.atomic_u64(0)), "page 0 is still viewed");
        drop(views);
    }

    #[test]
    fn plain_views_of_even_pages_and_atomic_views_of_odd_pages_never_refuse_each_other() {
        let dir = tempdir();
        let m = MemoryMappedFile::create_rw(path(&dir, "stress.bin"), 16 * PAGE).unwrap();
        let refusals = AtomicUsize::new(0);
        let (plain, atomic) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let sample = Mutex::new(None::<String>);
        let stop = AtomicBool::new(false);
        let refused = |e: MmapIoError| {
            refusals.fetch_add(1, SeqCst);
            sample.lock().unwrap().get_or_insert(e.to_string());
        };
        std::thread::scope(|s| {
            for t in 0..2u64 {
                let (m, stop, plain) = (&m, &stop, &plain);
                s.spawn(move || {
                    while !stop.load(SeqCst) {
                        // More views at once than a thread keeps apart, of pages that
                        // surround odd ones.
                        let mut held = Vec::new();
                        for page in [0, 2, 4, 6, 8, 0, 10, 12, 14] {
                            match m.as_slice(page * PAGE + 64 * t, 64) {
                                Ok(v) => held.push(v),
                                Err(e) => refused(e),
                            }
                        }
                        plain.fetch_add(held.len(), SeqCst);
                    }
                });
            }
            for t in 0..2u64 {
                let (m, stop, atomic) = (&m, &stop, &atomic);
                s.spawn(move || {
                    while !stop.load(SeqCst) {
                        let mut held = Vec::new();
                        for page in [1, 3, 5, 7, 9, 11, 13, 15] {
                            match m.atomic_u64(page * PAGE + 64 * t) {
                                Ok(v) => held.push(v),
                                Err(e) => refused(e),
                            }
                        }
                        atomic.fetch_add(held.len(), SeqCst);
                    }
                });
            }
            std::thread::sleep(Duration::from_secs(1));
            stop.store(true, SeqCst);
        });
        let (plain, atomic) = (plain.load(SeqCst), atomic.load(SeqCst));
        println!("{plain} plain views, {atomic} atomic views");
        assert!(plain > 0 && atomic > 0);
        assert_eq!(
            refusals.load(SeqCst),
            0,
            "disjoint views were refused, e.g.: {:?}",
            sample.lock().unwrap()
        );
    }
}

// --- 5. a writer of bytes no reader views never waits ---

mod far_writes {
    use super::*;

    #[test]
    fn a_write_far_from_a_sliding_window_of_views_never_waits_for_it() {
        child("far_writes::sliding_window_child");
    }

    #[test]
    #[ignore = "run in a child process by a_write_far_from_a_sliding_window_of_views_never_waits_for_it"]
    fn sliding_window_child() {
        const WRITES: usize = 100;
        let dir = tempdir();
        let m = MemoryMappedFile::create_rw(path(&dir, "window.bin"), 4 << 20).unwrap();
        let reading = AtomicBool::new(false);
        let written = AtomicUsize::new(0);
        let (seen, reads) = std::thread::scope(|s| {
            let reader = s.spawn(|| {
                let start = Instant::now();
                let mut held = m.as_slice(0, 64).unwrap();
                reading.store(true, SeqCst);
                let mut reads = 0u64;
                // Always one view of pages 0..4 alive: the next is taken before the last
                // is dropped.
                while written.load(SeqCst) < WRITES && start.elapsed() < Duration::from_secs(5) {
                    reads += 1;
                    held = m.as_slice((reads * 64) % (4 * PAGE), 64).unwrap();
                }
                let seen = written.load(SeqCst);
                drop(held);
                (seen, reads)
            });
            s.spawn(|| {
                while !reading.load(SeqCst) {
                    std::thread::yield_now();
                }
                for k in 0..WRITES {
                    m.update_region((1 << 20) + 64 * k as u64, &[k as u8; 64])
                        .unwrap();
                    written.fetch_add(1, SeqCst);
                }
            });
            reader.join().unwrap()
        });
        assert_eq!(
            seen, WRITES,
            "only {seen} of {WRITES} writes 1 MiB away got in while a reader kept viewing pages 0..4 ({reads} views)"
        );
        assert_eq!(m.as_slice((1 << 20) + 64 * 99, 64).unwrap(), [99; 64]);
    }
}

// --- 6. racing creates ---

mod create_race {
    use super::*;

    #[test]
    fn racing_creates_of_one_path_return_the_size_asked_for_or_an_error() {
        child("create_race::racing_creates_child");
    }

    #[test]
    #[ignore = "run in a child process by racing_creates_of_one_path_return_the_size_asked_for_or_an_error"]
    fn racing_creates_child() {
        let dir = tempdir();
        let p = path(&dir, "race.bin");
        let wrong = Mutex::new(Vec::new());
        let (made, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let (p, wrong, made, refused) = (&p, &wrong, &made, &refused);
                s.spawn(move || {
                    for round in 0..300u64 {
                        let size = PAGE * (1 + t + 4 * (round % 4));
                        match MemoryMappedFile::create_rw(p, size) {
                            Ok(m) if m.len() == size => {
                                made.fetch_add(1, SeqCst);
                            }
                            Ok(m) => wrong.lock().unwrap().push((size, m.len())),
                            Err(_) => {
                                refused.fetch_add(1, SeqCst);
                            }
                        }
                    }
                });
            }
        });
        let wrong = wrong.into_inner().unwrap();
        println!(
            "{} made, {} refused, {} of the wrong length",
            made.load(SeqCst),
            refused.load(SeqCst),
            wrong.len()
        );
        assert!(
            wrong.is_empty(),
            "create_rw returned mappings of another length (asked, got): {:?}",
            &wrong[..wrong.len().min(10)]
        );
        assert!(made.load(SeqCst) > 0);
    }
}

// --- 7. iterating a huge mapping under a live atomic view ---

// 64-bit only: a 32-bit process cannot map a 64 GiB file at all.
#[cfg(all(
    feature = "atomic",
    feature = "iterator",
    target_os = "linux",
    target_pointer_width = "64"
))]
mod huge_iteration {
    use super::*;

    /// Caps this process's address space at what it uses now plus `extra` bytes, so that
    /// an allocation the size of a huge mapping fails (and aborts) instead of exhausting
    /// the machine.
    fn cap_address_space(extra: u64) {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let used_kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmSize:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmSize in /proc/self/status");
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain system calls on a local struct.
        unsafe {
            assert_eq!(libc::getrlimit(libc::RLIMIT_AS, &mut limit), 0);
            limit.rlim_cur = (used_kb * 1024 + extra).min(limit.rlim_max) as libc::rlim_t;
            assert_eq!(libc::setrlimit(libc::RLIMIT_AS, &limit), 0);
        }
    }

    #[test]
    fn one_chunk_of_a_huge_sparse_mapping_under_an_atomic_view_is_not_a_whole_copy() {
        child("huge_iteration::huge_chunk_child");
    }

    #[test]
    #[ignore = "run in a child process by one_chunk_of_a_huge_sparse_mapping_under_an_atomic_view_is_not_a_whole_copy"]
    fn huge_chunk_child() {
        let dir = tempdir();
        let p = path(&dir, "sparse.bin");
        std::fs::File::create(&p)
            .unwrap()
            .set_len(64 << 30)
            .unwrap();
        let m = MemoryMappedFile::open_rw(&p).unwrap();
        let counter = m.atomic_u64(0).unwrap();
        counter.store(7, SeqCst);
        cap_address_space(4 << 30);
        let first = m.chunks(usize::MAX).next();
        println!("first chunk: {:?} bytes", first.as_ref().map(|c| c.len()));
        drop(first);
        assert_eq!(counter.load(SeqCst), 7);
    }
}

// --- 8. a thread's own views hold back only the writes that overlap them ---

mod own_views {
    use super::*;

    #[test]
    fn a_view_held_while_writing_other_bytes_on_the_same_thread_is_fine() {
        child("own_views::kv_log_child");
    }

    #[test]
    #[ignore = "run in a child process by a_view_held_while_writing_other_bytes_on_the_same_thread_is_fine"]
    fn kv_log_child() {
        let dir = tempdir();
        let m = MemoryMappedFile::create_rw(path(&dir, "log.bin"), 2 * PAGE).unwrap();
        m.update_region(0, b"key=value;seq=01").unwrap();
        // A key-value log copying a record it views to its tail.
        let copied = (|| -> Result<(), MmapIoError> {
            let v = m.as_slice(0, 16)?;
            m.update_region(PAGE, &v)?;
            Ok(())
        })();
        assert!(copied.is_ok(), "{}", message(copied));
        assert_eq!(m.as_slice(PAGE, 16).unwrap(), b"key=value;seq=01");
    }

    #[test]
    fn an_overlapping_write_under_ones_own_view_is_refused_at_once_and_a_disjoint_one_goes_through()
    {
        child("own_views::own_view_write_child");
    }

    #[test]
    #[ignore = "run in a child process by an_overlapping_write_under_ones_own_view_is_refused_at_once_and_a_disjoint_one_goes_through"]
    fn own_view_write_child() {
        let dir = tempdir();
        let m = MemoryMappedFile::create_rw(path(&dir, "own.bin"), 2 * PAGE).unwrap();
        m.update_region(0, b"original").unwrap();
        let view = m.as_slice(0, 8).unwrap();
        let overlapping = m.update_region(4, b"overlap!");
        let overlapping_refused = matches!(overlapping, Err(MmapIoError::InvalidMode(_)));
        let overlapping = message(overlapping);
        let disjoint = message(m.update_region(PAGE, b"disjoint"));
        let unchanged = view == b"original";
        drop(view);
        assert!(
            overlapping_refused,
            "a write over this thread's view: {overlapping}"
        );
        assert!(unchanged, "the refused write changed the view's bytes");
        assert_eq!(disjoint, "Ok", "a write beside this thread's view");
        assert_eq!(m.as_slice(PAGE, 8).unwrap(), b"disjoint");
    }
}
