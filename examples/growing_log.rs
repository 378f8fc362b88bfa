//! An append-only log that grows from 4 KiB to 1 GiB while four reader threads hold views
//! of its records: with address space reserved up front, growth maps the new pages where
//! the mapping already is, so the writer never waits for a reader.
//!
//! Records are 1 MiB; only their 16-byte header is written (the payload stays sparse), so
//! the example writes little to disk.
//!
//! Run with `cargo run --release --example growing_log`.

use mmap_io::MemoryMappedFile;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RECORD: u64 = 1 << 20;
const MAX: u64 = 1 << 30;
const READERS: usize = 4;

fn header(seq: u64) -> [u8; 16] {
    let mut h = [0; 16];
    h[..8].copy_from_slice(&seq.to_le_bytes());
    h[8..].copy_from_slice(&(!seq).to_le_bytes());
    h
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("growing.log");
    let log = Arc::new(
        MemoryMappedFile::builder(&path)
            .size(4096)
            .reserve(MAX)
            .create()?,
    );
    println!(
        "log at {}: 4 KiB mapped, 1 GiB of address space reserved",
        path.display()
    );

    // Records written so far; a reader only looks at those.
    let written = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (log, written, done) = (Arc::clone(&log), Arc::clone(&written), Arc::clone(&done));
            std::thread::spawn(move || -> Result<(u64, usize), mmap_io::MmapIoError> {
                let (mut checked, mut most_held) = (0u64, 0usize);
                let mut held = Vec::new();
                let mut x = r as u64 + 1;
                while !done.load(Ordering::Acquire) {
                    let n = written.load(Ordering::Acquire);
                    if n == 0 {
                        std::thread::yield_now();
                        continue;
                    }
                    // A random record of those written, held while the log keeps growing.
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let seq = x % n;
                    let view = log.as_slice(seq * RECORD, 16)?;
                    assert_eq!(*view, header(seq), "record {seq} changed under its view");
                    checked += 1;
                    held.push(view);
                    most_held = most_held.max(held.len());
                    if held.len() > 64 {
                        drop(held.remove(0));
                    }
                    std::thread::sleep(Duration::from_micros(20));
                }
                // Every view held to the end still shows its record.
                for view in &held {
                    let seq = u64::from_le_bytes(view[..8].try_into().unwrap());
                    assert_eq!(**view, header(seq));
                }
                Ok((checked, most_held))
            })
        })
        .collect();

    let start = Instant::now();
    let (mut resizes, mut slowest, mut total) = (0, Duration::ZERO, Duration::ZERO);
    let mut seq = 0;
    while (seq + 1) * RECORD <= MAX {
        let end = (seq + 1) * RECORD;
        if end > log.len() {
            let t = Instant::now();
            log.resize((log.len() * 2).clamp(end, MAX))?;
            let took = t.elapsed();
            resizes += 1;
            slowest = slowest.max(took);
            total += took;
        }
        log.update_region(seq * RECORD, &header(seq))?;
        seq += 1;
        written.store(seq, Ordering::Release);
        if seq % 128 == 0 {
            // Let the readers catch up and pile up views of older records.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    log.flush()?;
    done.store(true, Ordering::Release);
    println!(
        "wrote {seq} records; the log grew to {} MiB in {resizes} resizes over {:?}",
        log.len() >> 20,
        start.elapsed()
    );
    println!("resizes took {total:?} in all, the slowest {slowest:?}: none waited for a reader");
    for (r, reader) in readers.into_iter().enumerate() {
        let (checked, most) = reader.join().expect("reader thread")?;
        println!("reader {r}: checked {checked} records, holding up to {most} views at once");
    }
    Ok(())
}
