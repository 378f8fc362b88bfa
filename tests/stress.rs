//! Everything at once on one mapping for a bounded time: readers (`as_slice`, `read_into`,
//! iterators), writers (`update_region`, `as_slice_mut`), atomic counters, a resizer that
//! grows and shrinks, and the background flusher. Records carry checksums, so a torn or
//! foreign read is caught; counters must add up exactly; a watchdog turns a deadlock into a
//! failure instead of a hang.
// Some helpers serve only the tests of optional features.
#![cfg_attr(not(feature = "atomic"), allow(unused_imports, dead_code))]
mod common;

use common::{path, tempdir};
use mmap_io::flush::FlushPolicy;
use mmap_io::{MemoryMappedFile, MmapIoError};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RECORD: u64 = 256;
/// Records 0..MIN_RECORDS always exist; the resizer moves the end between MIN and MAX.
const MIN_RECORDS: u64 = 64;
const MAX_RECORDS: u64 = 256;
/// The first record holds the atomic counters; record payloads start after it.
const COUNTERS: u64 = 4;
const RUN_FOR: Duration = Duration::from_secs(3);
const WATCHDOG: Duration = Duration::from_secs(60);

/// A record: writer id, sequence number, filler, and a checksum of all of it.
fn record(writer: u64, seq: u64) -> [u8; RECORD as usize] {
    let mut r = [0u8; RECORD as usize];
    r[..8].copy_from_slice(&writer.to_le_bytes());
    r[8..16].copy_from_slice(&seq.to_le_bytes());
    for (i, b) in r[16..248].iter_mut().enumerate() {
        *b = (seq as u8) ^ (writer as u8).wrapping_mul(17) ^ i as u8;
    }
    let sum = checksum(&r[..248]);
    r[248..].copy_from_slice(&sum.to_le_bytes());
    r
}

fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A record slot is all zeros (never written, or grown back) or an intact record.
fn check(bytes: &[u8]) {
    assert_eq!(bytes.len() as u64, RECORD);
    if bytes.iter().all(|&b| b == 0) {
        return;
    }
    let sum = u64::from_le_bytes(bytes[248..].try_into().unwrap());
    assert_eq!(sum, checksum(&bytes[..248]), "torn or foreign record");
}

#[test]
fn everything_at_once_stays_consistent() {
    let dir = tempdir();
    let mmap = Arc::new(
        MemoryMappedFile::builder(path(&dir, "stress.bin"))
            .size(MAX_RECORDS * RECORD)
            .flush_policy(FlushPolicy::EveryMillis(5))
            .create()
            .unwrap(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    {
        let finished = Arc::clone(&finished);
        std::thread::spawn(move || {
            let start = Instant::now();
            while !finished.load(Ordering::Relaxed) {
                if start.elapsed() > WATCHDOG {
                    eprintln!("watchdog: the stress test is deadlocked");
                    std::process::abort();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
    }
    let adds = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    let spawn = |threads: &mut Vec<std::thread::JoinHandle<()>>, f: Box<dyn FnOnce() + Send>| {
        threads.push(std::thread::spawn(f));
    };

    // Writers: whole records, through update_region and through as_slice_mut.
    for writer in 0..2u64 {
        let (mmap, stop) = (Arc::clone(&mmap), Arc::clone(&stop));
        spawn(
            &mut threads,
            Box::new(move || {
                let mut seq = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let slot = 1 + (seq * 7 + writer) % (MIN_RECORDS - 1);
                    let rec = record(writer, seq);
                    if seq % 2 == 0 {
                        mmap.update_region(slot * RECORD, &rec).unwrap();
                    } else {
                        mmap.as_slice_mut(slot * RECORD, RECORD)
                            .unwrap()
                            .copy_from_slice(&rec);
                    }
                    // Past the always-present records, the resizer may have cut the slot off.
                    let far = MIN_RECORDS + seq % (MAX_RECORDS - MIN_RECORDS);
                    let _ = mmap.update_region(far * RECORD, &rec);
                    seq += 1;
                }
            }),
        );
    }
    // Readers: slices, copies and iterators; every record they see is whole.
    for reader in 0..2u64 {
        let (mmap, stop) = (Arc::clone(&mmap), Arc::clone(&stop));
        spawn(
            &mut threads,
            Box::new(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let slot = 1 + (i + reader) % (MAX_RECORDS - 1);
                    if let Ok(s) = mmap.as_slice(slot * RECORD, RECORD) {
                        check(&s);
                    }
                    let mut buf = [0u8; RECORD as usize];
                    if mmap.read_into(slot * RECORD, &mut buf).is_ok() {
                        check(&buf);
                    }
                    if i % 64 == 0 {
                        #[cfg(feature = "iterator")]
                        for chunk in mmap.chunks(RECORD as usize).skip(1) {
                            if chunk.len() as u64 == RECORD {
                                check(&chunk);
                            }
                        }
                    }
                    i += 1;
                }
            }),
        );
    }
    // Atomic counters in record 0, hammered from two threads.
    #[cfg(feature = "atomic")]
    for _ in 0..2 {
        let (mmap, stop, adds) = (Arc::clone(&mmap), Arc::clone(&stop), Arc::clone(&adds));
        spawn(
            &mut threads,
            Box::new(move || {
                while !stop.load(Ordering::Relaxed) {
                    // Refused while an iterator's item views record 0: those bytes cannot
                    // be viewed plainly and atomically at once.
                    let counters = match mmap.atomic_u64_slice(0, COUNTERS as usize) {
                        Ok(counters) => counters,
                        Err(MmapIoError::InvalidMode(_)) => continue,
                        Err(e) => panic!("{e}"),
                    };
                    for c in counters.iter() {
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                    adds.fetch_add(1, Ordering::Relaxed);
                }
            }),
        );
    }
    // One view per counter, all held at once: more than a thread's slot keeps, so some are
    // kept in the registry; dropped together, on another thread every other round.
    #[cfg(feature = "atomic")]
    {
        let (mmap, stop, adds) = (Arc::clone(&mmap), Arc::clone(&stop), Arc::clone(&adds));
        spawn(
            &mut threads,
            Box::new(move || {
                let mut round = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let views: Result<Vec<_>, _> =
                        (0..COUNTERS).map(|i| mmap.atomic_u64(i * 8)).collect();
                    let views = match views {
                        Ok(views) => views,
                        Err(MmapIoError::InvalidMode(_)) => continue,
                        Err(e) => panic!("{e}"),
                    };
                    for v in &views {
                        v.fetch_add(1, Ordering::Relaxed);
                    }
                    adds.fetch_add(1, Ordering::Relaxed);
                    if round % 2 == 0 {
                        std::thread::scope(|s| {
                            s.spawn(move || drop(views));
                        });
                    }
                    round += 1;
                }
            }),
        );
    }
    // The resizer grows and shrinks the end; the user-facing flush runs alongside.
    {
        let (mmap, stop) = (Arc::clone(&mmap), Arc::clone(&stop));
        spawn(
            &mut threads,
            Box::new(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let records = MIN_RECORDS + (n * 37) % (MAX_RECORDS - MIN_RECORDS + 1);
                    mmap.resize(records * RECORD).unwrap();
                    if n % 8 == 0 {
                        mmap.flush().unwrap();
                    }
                    n += 1;
                }
            }),
        );
    }

    std::thread::sleep(RUN_FOR);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("a stress thread failed");
    }
    finished.store(true, Ordering::Relaxed);

    mmap.flush().unwrap();
    #[cfg(feature = "atomic")]
    {
        let counters = mmap.atomic_u64_slice(0, COUNTERS as usize).unwrap();
        for c in counters.iter() {
            assert_eq!(
                c.load(Ordering::SeqCst),
                adds.load(Ordering::SeqCst),
                "lost atomic adds"
            );
        }
    }
    let _ = &adds;
    for slot in 1..mmap.len() / RECORD {
        check(&mmap.as_slice(slot * RECORD, RECORD).unwrap());
    }
    let on_disk = std::fs::read(mmap.path()).unwrap();
    assert_eq!(on_disk.len() as u64, mmap.len());
    for slot in on_disk.chunks(RECORD as usize).skip(1) {
        check(slot);
    }
}
