//! Asking for transparent huge pages on a large mapping (best effort).
//!
//! `cargo run --release --example huge_pages --features hugepages`

use mmap_io::MemoryMappedFile;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mmap = MemoryMappedFile::builder(dir.path().join("hp.bin"))
        .size(64 << 20)
        .huge_pages(true)
        .create()?;
    println!(
        "transparent huge pages on this machine: {}",
        std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .unwrap_or_else(|_| "unknown".into())
            .trim()
    );
    mmap.touch_pages()?;
    match mmap.is_hugepage_backed() {
        Some(true) => println!("the mapping is (partly) backed by huge pages"),
        Some(false) => {
            println!("no huge pages in use: the kernel declined (the mapping works the same)")
        }
        None => println!("huge page use cannot be known on this platform"),
    }
    mmap.update_region(0, b"works either way")?;
    Ok(())
}
