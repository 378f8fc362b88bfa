//! Watching a mapped file for changes made by other writers.
//!
//! `cargo run --example watch --features watch`

use mmap_io::{ChangeEvent, MemoryMappedFile};
use std::io::{Seek, SeekFrom, Write};
use std::sync::mpsc;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("shared.bin");
    let mmap = MemoryMappedFile::create_rw(&path, 4096)?;

    let (tx, rx) = mpsc::channel();
    let handle = mmap.watch(move |event: ChangeEvent| {
        let _ = tx.send(event);
    })?;

    // Another writer changes the file through its own handle.
    let mut other = std::fs::OpenOptions::new().write(true).open(&path)?;
    other.seek(SeekFrom::Start(10))?;
    other.write_all(b"written elsewhere")?;
    if let Ok(event) = rx.recv_timeout(Duration::from_secs(5)) {
        println!("event: {:?}", event.kind);
    }
    println!(
        "the mapping sees: {:?}",
        std::str::from_utf8(&mmap.as_slice(10, 17)?)?
    );

    std::fs::remove_file(&path)?;
    while let Ok(event) = rx.recv_timeout(Duration::from_secs(2)) {
        println!("event: {:?}", event.kind);
        if event.kind == mmap_io::ChangeKind::Removed {
            break;
        }
    }
    drop(handle); // stops the watch; no callback runs after this
    println!("watch stopped");
    Ok(())
}
