//! Non-blocking access with the `try_` methods: a render loop reads a shared state block
//! without ever waiting for the writer thread, and skips a frame instead.
//!
//! `cargo run --release --example try_writer`

use mmap_io::MemoryMappedFile;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const STATE: u64 = 4096;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mmap = Arc::new(MemoryMappedFile::create_rw(
        dir.path().join("state.bin"),
        STATE,
    )?);
    let stop = Arc::new(AtomicBool::new(false));

    // The writer rewrites the whole state block, holding the write lock while it does.
    let writer = {
        let (mmap, stop) = (Arc::clone(&mmap), Arc::clone(&stop));
        std::thread::spawn(move || -> Result<u64, mmap_io::MmapIoError> {
            let mut generation = 0u64;
            while !stop.load(Ordering::Relaxed) {
                generation += 1;
                let mut block = mmap.as_slice_mut(0, STATE)?;
                block.fill((generation % 251) as u8);
                std::thread::sleep(Duration::from_micros(200)); // a slow update
                drop(block);
                std::thread::sleep(Duration::from_micros(300)); // then rests
            }
            Ok(generation)
        })
    };

    // The reader never waits: it takes a view if it can, and skips the frame if not.
    let (mut drawn, mut skipped, mut worst) = (0u32, 0u32, Duration::ZERO);
    let until = Instant::now() + Duration::from_millis(300);
    while Instant::now() < until {
        let start = Instant::now();
        match mmap.try_as_slice(0, STATE)? {
            Some(view) => {
                assert!(view.iter().all(|&b| b == view[0]), "never a torn block");
                drawn += 1;
            }
            None => skipped += 1,
        }
        worst = worst.max(start.elapsed());
        std::thread::sleep(Duration::from_micros(100));
    }
    // try_update_region: a best-effort note that is dropped rather than waited for.
    let noted = mmap.try_update_region(STATE - 8, b"reader!!")?;

    stop.store(true, Ordering::Relaxed);
    let generations = writer.join().expect("writer thread")?;
    println!("writer made {generations} generations of the block");
    println!("reader drew {drawn} frames, skipped {skipped}; the slowest try took {worst:?}");
    println!("best-effort note written: {noted}");
    Ok(())
}
