//! Model tests of record reuse: `RUSTFLAGS="--cfg mmap_io_loom" cargo test --release --lib
//! sync::records`.

use super::*;
use loom::thread;

fn leaked() -> &'static Records {
    Box::leak(Box::new(Records::new()))
}

#[test]
fn an_exited_threads_record_is_reused_once_a_view_it_sent_away_is_dropped() {
    loom::model(|| {
        let records = leaked();
        let mine = records.acquire(1, false);
        let entry = mine.claim();
        entry.fill(7, 0, 0, 8, READ);
        // The view went to another thread, which drops it while this thread exits.
        let dropper = thread::spawn(move || entry.free());
        let taker = thread::spawn(move || {
            let record = records.acquire(2, false);
            // Taken over only once nothing is published in it.
            if std::ptr::eq(record, mine) {
                assert!(record.idle());
            }
        });
        mine.orphan();
        dropper.join().unwrap();
        taker.join().unwrap();
        // Whatever raced, the record is not lost: once idle it is taken again.
        let again = records.acquire(3, false);
        assert!(again.rank <= 2, "a third record was listed");
    });
}

#[test]
fn an_ephemeral_record_is_released_by_whoever_frees_its_entry() {
    loom::model(|| {
        let records = leaked();
        let once = records.acquire(1, true);
        let entry = once.claim();
        entry.fill(7, 0, 0, 8, WRITE);
        thread::spawn(move || entry.free()).join().unwrap();
        assert!(std::ptr::eq(records.acquire(2, false), once));
    });
}
