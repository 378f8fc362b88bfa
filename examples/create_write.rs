//! Creating a file, writing it through the mapping, and making the writes durable.
//!
//! `cargo run --example create_write`

use mmap_io::MemoryMappedFile;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("data.bin");

    let mmap = MemoryMappedFile::create_rw(&path, 64 * 1024)?;
    mmap.update_region(0, b"header v1")?; // a copy in
    {
        let mut body = mmap.as_slice_mut(4096, 16)?; // write in place under the write lock
        body.copy_from_slice(b"0123456789abcdef");
    }
    println!("{} bytes pending", mmap.pending_bytes());

    mmap.flush()?; // msync(MS_SYNC): on disk when this returns
    println!("flushed; pending now {}", mmap.pending_bytes());

    let on_disk = std::fs::read(&path)?;
    println!(
        "the file says {:?} and {:?}",
        std::str::from_utf8(&on_disk[..9])?,
        std::str::from_utf8(&on_disk[4096..4112])?
    );
    println!("a write on a read-only mapping: {}", {
        let ro = MemoryMappedFile::open_ro(&path)?;
        ro.update_region(0, b"nope").unwrap_err()
    });
    Ok(())
}
