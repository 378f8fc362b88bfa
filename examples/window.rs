//! Windows into a file larger than the address space would comfortably hold: a 6 GiB
//! (sparse) file, read and written 1 MiB at a time through `builder(path).offset(o).len(n)`,
//! at offsets no page boundary lines up with. On a 32-bit target this is how a file past
//! 4 GiB is reached at all.
//!
//! Run with `cargo run --example window`.

use mmap_io::{MemoryMappedFile, MmapMode};

const GIB: u64 = 1 << 30;
const WINDOW: u64 = 1 << 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("huge.bin");
    std::fs::File::create(&path)?.set_len(6 * GIB)?; // sparse: no disk space used
    println!("a 6 GiB sparse file at {}", path.display());

    // Write a record in each GiB through a read-write window that starts at the record.
    for g in 0..6u64 {
        let at = g * GIB + 12_345 + g; // no alignment to speak of
        let window = MemoryMappedFile::builder(&path)
            .mode(MmapMode::ReadWrite)
            .offset(at)
            .len(WINDOW)
            .open()?;
        window.update_region(0, format!("record {g} at byte {at}").as_bytes())?;
        window.flush()?;
        println!("wrote record {g} through a 1 MiB window at byte {at}");
    }

    // Read them back through read-only windows that start a little before each record.
    for g in 0..6u64 {
        let at = g * GIB + 12_345 + g;
        let window = MemoryMappedFile::builder(&path)
            .offset(at - 100)
            .len(WINDOW)
            .open()?;
        let text = format!("record {g} at byte {at}");
        assert_eq!(window.as_slice(100, text.len() as u64)?, text.as_bytes());
        println!(
            "read  \"{text}\" at offset 100 of the window at byte {}",
            at - 100
        );
    }
    Ok(())
}
