//! Processing a large file in chunks: zero-copy scans, page walks, and in-place rewrites.
//!
//! `cargo run --release --example chunked`

use mmap_io::{MemoryMappedFile, MmapAdvice};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("big.bin");
    let mmap = MemoryMappedFile::create_rw(&path, 64 << 20)?;

    // Fill every 64 KiB chunk in place, under one write lock for the whole loop.
    mmap.chunks_mut(64 * 1024).for_each_mut(|offset, chunk| {
        chunk.fill((offset >> 16) as u8);
        Ok(())
    })?;
    mmap.flush()?;

    // Scan it zero-copy: each chunk is a view into the mapping, no allocation.
    mmap.advise(0, mmap.len(), MmapAdvice::Sequential)?;
    let start = Instant::now();
    let sum: u64 = mmap
        .chunks(64 * 1024)
        .map(|chunk| chunk.iter().map(|&b| u64::from(b)).sum::<u64>())
        .sum();
    println!(
        "sum of 64 MiB in {} chunks: {sum} ({:?})",
        mmap.chunks(64 * 1024).len(),
        start.elapsed()
    );

    let nonzero_pages = mmap.pages().filter(|p| p.iter().any(|&b| b != 0)).count();
    println!(
        "{} of {} pages hold a non-zero byte",
        nonzero_pages,
        mmap.pages().len()
    );

    // Owned chunks, when the data must outlive the mapping.
    let first: Vec<u8> = mmap
        .chunks_owned(16)
        .next()
        .transpose()?
        .unwrap_or_default();
    println!("first 16 bytes, owned: {first:?}");
    Ok(())
}
