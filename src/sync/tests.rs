//! Model tests of the [`ViewLock`] protocol, run by `loom` over every interleaving (up to
//! a preemption bound): `RUSTFLAGS="--cfg mmap_io_loom" cargo test --release --lib sync::tests`.
//!
//! Each test gives the protected bytes as a `loom` cell: two accesses that the protocol
//! fails to order are reported as a data race, and a lost wake-up as a deadlock.

use super::lock::{ViewLock, Width};
use loom::cell::UnsafeCell;
use loom::thread;

/// A lock and the bytes it guards, leaked so that views may move between threads.
struct Shared {
    lock: ViewLock,
    data: UnsafeCell<u64>,
}

fn shared() -> &'static Shared {
    Box::leak(Box::new(Shared {
        lock: ViewLock::new(),
        data: UnsafeCell::new(0),
    }))
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    model_with(2, f);
}

fn model_with(preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.check(f);
}

impl Shared {
    fn read_data(&self) -> u64 {
        // SAFETY: the caller holds a ticket that excludes writers of these bytes.
        self.data.with(|p| unsafe { *p })
    }

    fn write_data(&self) {
        // SAFETY: the caller holds a ticket that excludes every other access.
        self.data.with_mut(|p| unsafe { *p += 1 });
    }
}

/// A thread that makes an atomic view of the first 8 bytes and, if it is granted, stores
/// through it.
fn spawn_atomic_store(s: &'static Shared) -> thread::JoinHandle<()> {
    thread::spawn(move || store_through_atomic(s, 0, 8, Width::U64))
}

/// Takes the write lock and writes the first 8 bytes unless an atomic view covers them.
fn write_unless_atomic(s: &Shared) {
    let writer = s.lock.write().unwrap();
    if s.lock.check_write(0, 8).is_ok() {
        s.write_data();
    }
    drop(writer);
}

/// Makes an atomic view of `start..end` and, if it is granted, stores through it.
fn store_through_atomic(s: &Shared, start: usize, end: usize, width: Width) {
    if let Ok(view) = s.lock.atomic(start, end, width) {
        s.write_data();
        drop(view);
    }
}

#[test]
fn bias_revocation_racing_a_reader_never_lets_both_in() {
    model(|| {
        let s = shared();
        let reader = thread::spawn(move || {
            let ticket = s.lock.read(0, 8).unwrap();
            s.read_data();
            drop(ticket);
        });
        let writer = s.lock.write().unwrap();
        s.write_data();
        drop(writer);
        reader.join().unwrap();
    });
}

#[test]
fn unbiased_readers_and_two_writers_stay_apart() {
    model(|| {
        let s = shared();
        drop(s.lock.write().unwrap()); // revokes the bias
        let other = thread::spawn(move || {
            let writer = s.lock.write().unwrap();
            s.write_data();
            drop(writer);
        });
        let ticket = s.lock.read(0, 8).unwrap();
        s.read_data();
        drop(ticket);
        other.join().unwrap();
    });
}

#[test]
fn a_view_dropped_on_another_thread_still_excludes_the_writer() {
    model(|| {
        let s = shared();
        let maker = thread::spawn(move || {
            let ticket = s.lock.read(0, 8).unwrap();
            let mover = thread::spawn(move || {
                s.read_data();
                drop(ticket);
            });
            mover.join().unwrap();
        });
        let writer = s.lock.write().unwrap();
        s.write_data();
        drop(writer);
        maker.join().unwrap();
    });
}

#[test]
fn a_thread_holding_a_view_can_take_another_while_a_writer_waits() {
    model(|| {
        let s = shared();
        let reader = thread::spawn(move || {
            let first = s.lock.read(0, 8).unwrap();
            let second = s.lock.read(0, 8).unwrap();
            s.read_data();
            drop(first);
            s.read_data();
            drop(second);
        });
        let writer = s.lock.write().unwrap();
        s.write_data();
        drop(writer);
        reader.join().unwrap();
    });
}

#[test]
fn a_writer_on_a_thread_that_holds_a_view_is_refused() {
    model(|| {
        let s = shared();
        let ticket = s.lock.read(0, 8).unwrap();
        assert!(s.lock.write().is_err());
        assert!(s.lock.resize().is_err());
        drop(ticket);
        assert!(s.lock.write().is_ok());
    });
}

#[test]
fn atomic_and_plain_views_of_the_same_bytes_never_live_together() {
    model(|| {
        let s = shared();
        let plain = thread::spawn(move || {
            if let Ok(ticket) = s.lock.read(0, 8) {
                s.read_data();
                drop(ticket);
            }
        });
        // The store through the view must not meet the plain read.
        store_through_atomic(s, 0, 8, Width::U64);
        plain.join().unwrap();
    });
}

#[test]
fn a_write_never_meets_a_live_atomic_view_of_its_bytes() {
    model(|| {
        let s = shared();
        let atomic = spawn_atomic_store(s);
        write_unless_atomic(s);
        atomic.join().unwrap();
    });
}

#[test]
fn the_bias_is_never_restored_under_a_live_atomic_view() {
    model(|| {
        let s = shared();
        drop(s.lock.write().unwrap()); // revokes the bias; one slow read restores it
        let atomic = spawn_atomic_store(s);
        for _ in 0..2 {
            if let Ok(ticket) = s.lock.read(0, 8) {
                s.read_data();
                drop(ticket);
            }
        }
        atomic.join().unwrap();
    });
}

#[test]
fn resize_waits_for_atomic_views_on_other_threads() {
    model(|| {
        let s = shared();
        let atomic = spawn_atomic_store(s);
        let resize = s.lock.resize().unwrap();
        s.write_data();
        drop(resize);
        atomic.join().unwrap();
    });
}

#[test]
fn a_reader_juggling_views_never_waits_for_a_writer_that_waits_for_it() {
    model_with(3, || {
        let s = shared();
        drop(s.lock.write().unwrap()); // unbiased: views join without queuing
        let reader = thread::spawn(move || {
            let a = s.lock.read(0, 8).unwrap();
            let b = s.lock.read(0, 8).unwrap();
            drop(a);
            let c = s.lock.read(0, 8).unwrap();
            s.read_data();
            drop((b, c));
        });
        let writer = s.lock.write().unwrap();
        s.write_data();
        drop(writer);
        reader.join().unwrap();
    });
}

#[test]
fn resize_by_a_writer_is_refused_while_an_atomic_view_is_being_made() {
    model(|| {
        let s = shared();
        let atomic = thread::spawn(move || {
            if let Ok(view) = s.lock.atomic(0, 8, Width::U64) {
                drop(view);
            }
        });
        let writer = s.lock.write().unwrap();
        assert!(s.lock.resize().is_err());
        drop(writer);
        atomic.join().unwrap();
    });
}

#[test]
fn a_writer_lets_in_a_thread_that_was_sent_the_view_it_waits_for() {
    model(|| {
        let s = shared();
        drop(s.lock.write().unwrap()); // unbiased: new views queue behind a writer
        let maker = thread::spawn(move || {
            let sent = s.lock.read(0, 8).unwrap();
            thread::spawn(move || {
                let another = s.lock.read(0, 8).unwrap();
                s.read_data();
                drop((sent, another));
            })
            .join()
            .unwrap();
        });
        let writer = s.lock.write().unwrap();
        s.write_data();
        drop(writer);
        maker.join().unwrap();
    });
}

// --- the `try_` paths ---

#[test]
fn a_try_write_racing_a_reader_never_lets_both_in_and_leaves_the_lock_usable() {
    model(|| {
        let s = shared();
        let reader = thread::spawn(move || {
            let ticket = s.lock.read(0, 8).unwrap();
            s.read_data();
            drop(ticket);
        });
        if let Ok(writer) = s.lock.try_write() {
            s.write_data();
            drop(writer);
        }
        reader.join().unwrap();
        // A failed try left no owner, no `writer_in` and no held lock behind.
        let writer = s.lock.write().unwrap();
        s.write_data();
        drop(writer);
        let ticket = s.lock.read(0, 8).unwrap();
        s.read_data();
        drop(ticket);
    });
}

#[test]
fn a_failed_try_write_never_loses_a_queued_writers_wake_up() {
    model(|| {
        let s = shared();
        drop(s.lock.write().unwrap()); // readers queue on the fair lock
        let ticket = s.lock.read(0, 8).unwrap();
        let writer = thread::spawn(move || {
            let w = s.lock.write().unwrap();
            s.write_data();
            drop(w);
        });
        // This thread holds a view, so its try fails, whatever the queued writer is doing;
        // and failing must not swallow the wake-up the writer waits for.
        assert!(s.lock.try_write().is_err());
        s.read_data();
        drop(ticket);
        writer.join().unwrap();
    });
}

#[test]
fn a_thread_holding_a_view_always_gets_another_by_try() {
    model(|| {
        let s = shared();
        drop(s.lock.write().unwrap()); // unbiased: try reads go through the fair lock
        let reader = thread::spawn(move || {
            let first = s.lock.read(0, 8).unwrap();
            let second = s
                .lock
                .try_read(0, 8)
                .expect("a second view is never refused");
            s.read_data();
            drop((first, second));
        });
        let writer = s.lock.write().unwrap();
        s.write_data();
        drop(writer);
        reader.join().unwrap();
    });
}

#[test]
fn try_reads_and_try_writes_never_wait_for_each_other() {
    model_with(3, || {
        let s = shared();
        let reader = thread::spawn(move || {
            if let Ok(ticket) = s.lock.try_read(0, 8) {
                s.read_data();
                drop(ticket);
            }
        });
        if let Ok(writer) = s.lock.try_write() {
            s.write_data();
            drop(writer);
        }
        reader.join().unwrap();
    });
}

#[test]
fn a_view_counted_beyond_the_entries_still_excludes_atomic_views_of_its_bytes() {
    model(|| {
        let s = shared();
        let plain = thread::spawn(move || {
            // Fill the thread's entries with views of other bytes, so the next one is
            // counted with bounds instead.
            let others: Vec<_> = (1..=5)
                .map(|i| s.lock.read(i * 64, i * 64 + 8).unwrap())
                .collect();
            if let Ok(ticket) = s.lock.read(0, 8) {
                s.read_data();
                drop(ticket);
            }
            drop(others);
        });
        if let Ok(atomic) = s.lock.atomic(0, 8, Width::U64) {
            s.write_data();
            drop(atomic);
        }
        plain.join().unwrap();
    });
}

#[test]
fn an_atomic_view_in_the_registry_still_excludes_writes_of_its_bytes() {
    model(|| {
        let s = shared();
        let atomic = thread::spawn(move || {
            // The model's slots have one atomic entry: the second view is registered.
            let first = s.lock.atomic(64, 72, Width::U64).unwrap();
            store_through_atomic(s, 0, 8, Width::U64);
            drop(first);
        });
        write_unless_atomic(s);
        atomic.join().unwrap();
    });
}

#[test]
fn atomic_views_of_two_widths_never_live_together() {
    model(|| {
        let s = shared();
        let narrow = thread::spawn(move || store_through_atomic(s, 0, 4, Width::U32));
        store_through_atomic(s, 0, 8, Width::U64);
        narrow.join().unwrap();
    });
}

#[test]
fn an_atomic_view_dropped_on_another_thread_lets_a_plain_view_in_after_it() {
    model(|| {
        let s = shared();
        let view = s.lock.atomic(0, 8, Width::U64).unwrap();
        s.write_data();
        let dropper = thread::spawn(move || drop(view));
        if let Ok(ticket) = s.lock.read(0, 8) {
            s.read_data();
            drop(ticket);
        }
        dropper.join().unwrap();
        let ticket = s.lock.read(0, 8).unwrap();
        s.read_data();
        drop(ticket);
    });
}

#[test]
fn a_writer_done_waiting_never_misses_a_view_joined_while_the_held_one_went_away() {
    model(|| {
        let s = shared();
        drop(s.lock.write().unwrap()); // unbiased: a thread that holds a view joins at once
        let reader = thread::spawn(move || {
            let held = s.lock.read(0, 8).unwrap();
            let dropper = thread::spawn(move || drop(held));
            // Joins while a writer may wait for `held`, which goes away on another thread:
            // the writer, done waiting, must see this view before it goes in.
            let joined = s.lock.read(0, 8).unwrap();
            s.read_data();
            drop(joined);
            dropper.join().unwrap();
        });
        let writer = s.lock.write().unwrap();
        s.write_data();
        drop(writer);
        reader.join().unwrap();
    });
}
