//! Scanning a mapped log line by line with `BufRead`: on a read-only mapping `lines()`,
//! `read_until` and `split` run on the mapped bytes themselves (lent until the mapping
//! drops); on a read-write mapping the reader copies 4 KiB at a time and holds no lock
//! between calls, so writers go on.
//!
//! `cargo run --example log_lines`

use mmap_io::MemoryMappedFile;
use std::io::{BufRead, Seek, SeekFrom};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.log");
    let log: String = (0..10_000)
        .map(|i| match i % 100 {
            0 => format!("{i:05} ERROR disk {} is slow\n", i / 100),
            _ => format!("{i:05} INFO request served\n"),
        })
        .collect();
    std::fs::write(&path, &log)?;

    // Read-only: the reader lends the mapped bytes; nothing is copied into a buffer.
    let mmap = MemoryMappedFile::open_ro(&path)?;
    let errors: Vec<String> = mmap
        .reader()
        .lines()
        .filter_map(|line| line.ok().filter(|l| l.contains("ERROR")))
        .collect();
    println!(
        "{} lines, {} errors; the first: {:?}",
        10_000,
        errors.len(),
        errors[0]
    );

    // Jump into the middle and find the next record boundary with read_until.
    let mut reader = mmap.reader();
    reader.seek(SeekFrom::Start(mmap.len() / 2))?;
    let mut partial = Vec::new();
    reader.read_until(b'\n', &mut partial)?;
    let mut next = String::new();
    reader.read_line(&mut next)?;
    println!(
        "skipped {} bytes to a line start: {:?}",
        partial.len(),
        next.trim_end()
    );

    // The read-only reader lent its bytes: no handle of the file writes them until the
    // read-only mapping drops.
    drop(mmap);

    // Read-write: a writer appends to the mapping between reads, never held up by the reader.
    let rw = MemoryMappedFile::open_rw(&path)?;
    let mut reader = rw.reader();
    let mut first = String::new();
    reader.read_line(&mut first)?;
    rw.update_region(0, b"00000 DEBUG")?; // no lock is held by the reader between calls
    let fields: Vec<Vec<u8>> = rw.reader().split(b' ').take(3).collect::<Result<_, _>>()?;
    println!(
        "first line before the write: {:?}; its first fields now: {:?}",
        first.trim_end(),
        fields
            .iter()
            .map(|f| String::from_utf8_lossy(f))
            .collect::<Vec<_>>()
    );
    Ok(())
}
