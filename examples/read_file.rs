//! Reading a file through a read-only mapping: zero-copy slices, a reader, copies.
//!
//! `cargo run --example read_file`

use mmap_io::MemoryMappedFile;
use std::io::BufRead;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("config.txt");
    std::fs::write(&path, "name = mmap-io\nmode = read-only\nlock = none\n")?;

    let mmap = MemoryMappedFile::open_ro(&path)?;
    println!("mapped {} bytes of {}", mmap.len(), path.display());

    // Zero-copy: the slice points into the mapping; no lock, no copy.
    let first_line = mmap.as_slice(0, 14)?;
    println!(
        "first line, zero-copy: {:?}",
        std::str::from_utf8(&first_line)?
    );

    // As an io::BufRead: `lines()` runs on the mapped bytes, with no buffer in between.
    for line in mmap.reader().lines() {
        println!("  line: {}", line?);
    }

    // A copy into a buffer of your own.
    let mut word = [0u8; 9];
    mmap.read_into(22, &mut word)?;
    println!("copied: {:?}", std::str::from_utf8(&word)?);

    // Out-of-range reads are errors, never panics.
    println!("past the end: {}", mmap.as_slice(40, 100).unwrap_err());
    Ok(())
}
