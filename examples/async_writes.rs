//! Durable writes from async code, on any executor (smol here; tokio works the same).
//!
//! `cargo run --example async_writes --features async`

use mmap_io::manager::r#async::{copy_mmap_async, create_mmap_async};
use mmap_io::MemoryMappedFile;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("async.bin");
    let backup = dir.path().join("backup.bin");

    smol::block_on(async {
        let mmap = create_mmap_async(&path, 4096).await?;
        for i in 0..4u64 {
            // Each write is flushed before the await completes.
            mmap.update_region_async(i * 16, format!("async write {i}").as_bytes())
                .await?;
        }
        let fresh = MemoryMappedFile::open_ro(&path)?;
        println!(
            "a fresh mapping sees {:?}",
            std::str::from_utf8(&fresh.as_slice(48, 13)?)?
        );
        copy_mmap_async(&path, &backup).await?;
        println!("copied to {}", backup.display());
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    Ok(())
}
