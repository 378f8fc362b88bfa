//! An atomic counter in a mapped file, incremented by threads here and by a second process.
//!
//! `cargo run --example atomic_counter --features atomic`

use mmap_io::MemoryMappedFile;
use std::sync::atomic::Ordering;

const ADDS: u64 = 100_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, role, path] = args.as_slice() {
        if role == "child" {
            let mmap = MemoryMappedFile::open_rw(path)?;
            let counter = mmap.atomic_u64(0)?;
            for _ in 0..ADDS {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            return Ok(());
        }
    }

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("counter.bin");
    let mmap = MemoryMappedFile::create_rw(&path, 64)?;

    // A second process maps the same file and adds to the same counter.
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .arg("child")
        .arg(&path)
        .spawn()?;

    // Meanwhile, two threads here do the same.
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let counter = mmap.atomic_u64(0).expect("aligned and in bounds");
                for _ in 0..ADDS {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let status = child.wait()?;
    let total = mmap.atomic_u64(0)?.load(Ordering::SeqCst);
    println!(
        "child exited with {status}; counter = {total} (expected {})",
        3 * ADDS
    );
    mmap.flush()?;
    Ok(())
}
