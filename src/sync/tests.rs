//! Model tests of the [`FileLock`] protocol (docs/CONCURRENCY.md), run by `loom` over every
//! interleaving (up to a preemption bound):
//! `RUSTFLAGS="--cfg mmap_io_loom" cargo test --release --lib sync::tests`.
//!
//! The protected bytes are `loom` cells: two accesses the protocol fails to order are
//! reported as a data race, a lost wake-up as a deadlock. Two mappings of one file are two
//! map ids under one lock; bytes `0..8` and `8..16` are two cells.

use super::file::{FileLock, Width, WOULD_BLOCK};
use loom::cell::UnsafeCell;
use loom::thread;

/// A file's lock and the bytes it guards, leaked so that guards may move between threads.
struct Shared {
    lock: FileLock,
    low: UnsafeCell<u64>,
    high: UnsafeCell<u64>,
}

fn shared() -> &'static Shared {
    Box::leak(Box::new(Shared {
        lock: FileLock::new(),
        low: UnsafeCell::new(0),
        high: UnsafeCell::new(0),
    }))
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    model_with(2, f);
}

fn model_with(preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    // Three parties that step aside for each other wake each other many times over.
    builder.max_branches = 100_000;
    builder.check(f);
}

/// Mapping ids: two handles of the file.
const A: usize = 1;
const B: usize = 2;

impl Shared {
    fn cell(&self, start: usize) -> &UnsafeCell<u64> {
        if start < 8 {
            &self.low
        } else {
            &self.high
        }
    }

    fn read(&self, start: usize) -> u64 {
        // SAFETY: the caller holds a ticket that keeps writers of these bytes out.
        self.cell(start).with(|p| unsafe { *p })
    }

    fn write(&self, start: usize) {
        // SAFETY: the caller holds a ticket that keeps every other access out.
        self.cell(start).with_mut(|p| unsafe { *p += 1 });
    }

    /// Writes `start..start + 8` through mapping `map`.
    fn write_through(&self, map: usize, start: usize) {
        let ticket = self.lock.write(map, start, start + 8).unwrap();
        self.write(start);
        drop(ticket);
    }

    /// Reads `start..start + 8` through mapping `map`.
    fn read_through(&self, map: usize, start: usize) {
        let ticket = self.lock.read(map, start, start + 8).unwrap();
        self.read(start);
        drop(ticket);
    }
}

#[test]
fn a_biased_reader_and_a_writer_of_another_handle_never_meet() {
    model(|| {
        let s = shared();
        let reader = thread::spawn(move || s.read_through(A, 0));
        s.write_through(B, 0);
        reader.join().unwrap();
    });
}

#[test]
fn a_reader_in_a_record_an_exited_thread_left_and_a_writer_never_meet() {
    model(|| {
        let s = shared();
        // A thread that read and exited leaves a free record, which writers skip.
        thread::spawn(move || {
            s.read_through(A, 0);
            s.lock.thread_exits();
        })
        .join()
        .unwrap();
        let reader = thread::spawn(move || s.read_through(A, 0));
        s.write_through(B, 0);
        reader.join().unwrap();
    });
}

#[test]
fn two_writers_of_the_same_bytes_take_turns() {
    model(|| {
        let s = shared();
        let other = thread::spawn(move || s.write_through(A, 0));
        s.write_through(B, 0);
        other.join().unwrap();
    });
}

#[test]
fn three_writers_of_overlapping_bytes_take_turns() {
    model_with(1, || {
        let s = shared();
        let one = thread::spawn(move || s.write_through(A, 0));
        let two = thread::spawn(move || s.write_through(B, 0));
        s.write_through(A, 0);
        one.join().unwrap();
        two.join().unwrap();
    });
}

#[test]
fn writers_of_other_bytes_go_while_a_view_is_held() {
    model(|| {
        let s = shared();
        let view = s.lock.read(A, 0, 8).unwrap();
        // Another thread's write of other bytes goes; this thread's too.
        let other = thread::spawn(move || s.write_through(B, 8));
        s.read(0);
        other.join().unwrap();
        s.write_through(A, 8);
        drop(view);
    });
}

#[test]
fn a_view_dropped_on_another_thread_still_excludes_the_writer() {
    model(|| {
        let s = shared();
        let view = s.lock.read(A, 0, 8).unwrap();
        let holder = thread::spawn(move || {
            s.read(0);
            drop(view);
        });
        // Another thread's write waits for the view wherever it is dropped (this thread's
        // would be refused: the view counts as its own).
        let writer = thread::spawn(move || s.write_through(B, 0));
        holder.join().unwrap();
        writer.join().unwrap();
    });
}

#[test]
fn a_thread_holding_a_view_takes_another_while_a_writer_waits() {
    model(|| {
        let s = shared();
        let first = s.lock.read(A, 0, 8).unwrap();
        let writer = thread::spawn(move || s.write_through(B, 0));
        // The writer may be waiting for `first`: this view joins instead of waiting for it.
        let second = s.lock.read(A, 0, 8).unwrap();
        s.read(0);
        drop((first, second));
        writer.join().unwrap();
    });
}

#[test]
fn a_write_over_the_callers_own_view_is_refused() {
    model(|| {
        let s = shared();
        let view = s.lock.read(A, 0, 8).unwrap();
        assert!(s.lock.write(B, 4, 12).is_err());
        assert_eq!(s.lock.try_write(B, 0, 8).err(), Some(WOULD_BLOCK));
        s.write_through(B, 8);
        drop(view);
        s.write_through(B, 0);
    });
}

#[test]
fn a_reader_waits_for_an_exclusive_party_that_waits_for_nobody() {
    model(|| {
        let s = shared();
        let writer = thread::spawn(move || {
            let ticket = s.lock.write(A, 0, 16).unwrap();
            s.write(0);
            s.write(8);
            drop(ticket);
        });
        // This thread holds no view: its reads wait for the writer's turn.
        s.read_through(B, 8);
        s.read_through(B, 0);
        writer.join().unwrap();
    });
}

#[test]
fn a_reader_that_holds_views_joins_a_waiting_writer_without_racing_it() {
    model_with(3, || {
        let s = shared();
        let held = s.lock.read(A, 8, 16).unwrap();
        let writer = thread::spawn(move || {
            let ticket = s.lock.write(B, 0, 16).unwrap();
            s.write(0);
            s.write(8);
            drop(ticket);
        });
        s.read_through(A, 0);
        drop(held);
        writer.join().unwrap();
    });
}

#[test]
fn atomic_and_plain_views_of_the_same_bytes_never_live_together() {
    model(|| {
        let s = shared();
        let atomic = thread::spawn(move || {
            if let Ok(view) = s.lock.atomic(A, 0, 8, Width::U64) {
                s.write(0);
                drop(view);
            }
        });
        if let Ok(view) = s.lock.read(B, 0, 8) {
            s.read(0);
            drop(view);
        }
        atomic.join().unwrap();
    });
}

#[test]
fn a_write_never_meets_a_live_atomic_view_of_its_bytes() {
    model(|| {
        let s = shared();
        let atomic = thread::spawn(move || {
            if let Ok(view) = s.lock.atomic(A, 0, 8, Width::U64) {
                s.write(0);
                drop(view);
            }
        });
        if let Ok(ticket) = s.lock.write(B, 0, 8) {
            s.write(0);
            drop(ticket);
        }
        atomic.join().unwrap();
    });
}

#[test]
fn a_copy_is_never_refused_and_lists_the_atomic_views_it_meets() {
    model(|| {
        let s = shared();
        let atomic = thread::spawn(move || {
            if let Ok(view) = s.lock.atomic(A, 0, 8, Width::U64) {
                // Stores through an atomic view: a copy that overlaps it loads atomically.
                drop(view);
            }
        });
        let (ticket, spans) = s.lock.copy(B, 0, 16).unwrap();
        if spans.is_empty() {
            s.read(0);
        }
        s.read(8);
        drop(ticket);
        atomic.join().unwrap();
    });
}

#[test]
fn atomic_views_of_two_widths_never_live_together() {
    model(|| {
        let s = shared();
        let wide = thread::spawn(move || {
            if let Ok(view) = s.lock.atomic(A, 0, 8, Width::U64) {
                s.write(0);
                drop(view);
            }
        });
        if let Ok(view) = s.lock.atomic(B, 0, 4, Width::U32) {
            s.write(0);
            drop(view);
        }
        wide.join().unwrap();
    });
}

#[test]
fn the_bias_is_never_restored_under_a_live_atomic_view() {
    model(|| {
        let s = shared();
        let view = s.lock.atomic(A, 0, 8, Width::U64).unwrap();
        let reader = thread::spawn(move || {
            // Slow reads of other bytes, enough to try to restore the bias.
            s.read_through(B, 8);
            s.read_through(B, 8);
            assert!(s.lock.read(B, 0, 8).is_err());
        });
        s.write(0);
        reader.join().unwrap();
        drop(view);
    });
}

#[test]
fn resize_waits_for_the_views_of_its_mapping_only() {
    model(|| {
        let s = shared();
        let view = s.lock.read(A, 0, 8).unwrap();
        let other = s.lock.read(B, 8, 16).unwrap();
        let resizer = thread::spawn(move || {
            let ticket = s.lock.resize(B).unwrap();
            // Under a resize of B, nothing of B is viewed: its cells stand for B's pages.
            s.write(8);
            drop(ticket);
        });
        s.read(0);
        drop(view);
        s.read(8);
        drop(other);
        resizer.join().unwrap();
    });
}

/// Growth in place: a pin keeps a moving resize out (the cell `low` stands for the mapping
/// itself, borrowed shared by the grower and mutably by the resize), and waits for no view,
/// even while that resize waits for one.
#[test]
fn growth_under_a_pin_takes_turns_with_a_resize_and_waits_for_no_view() {
    model(|| {
        let s = shared();
        let view = s.lock.read(A, 8, 16).unwrap();
        let mover = thread::spawn(move || {
            let ticket = s.lock.resize(A).unwrap();
            s.write(0);
            drop(ticket);
        });
        let grower = thread::spawn(move || {
            let (pin, _) = s.lock.copy(A, 0, 0).unwrap();
            s.read(0);
            drop(pin);
        });
        // The growth ends while the view is still held.
        grower.join().unwrap();
        s.read(8);
        drop(view);
        mover.join().unwrap();
    });
}

#[test]
fn resize_and_an_atomic_view_of_its_mapping_take_turns() {
    model(|| {
        let s = shared();
        let atomic = thread::spawn(move || {
            let view = s.lock.atomic(A, 0, 8, Width::U64).unwrap();
            s.write(0);
            drop(view);
        });
        let ticket = s.lock.resize(A).unwrap();
        s.write(0);
        drop(ticket);
        atomic.join().unwrap();
    });
}

#[test]
fn try_reads_and_try_writes_never_wait_and_never_meet() {
    model(|| {
        let s = shared();
        let writer = thread::spawn(move || {
            if let Ok(ticket) = s.lock.try_write(A, 0, 8) {
                s.write(0);
                drop(ticket);
            }
        });
        if let Ok(ticket) = s.lock.try_read(B, 0, 8) {
            s.read(0);
            drop(ticket);
        }
        writer.join().unwrap();
        // Nothing was left behind.
        s.write_through(A, 0);
    });
}
