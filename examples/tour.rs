//! A tour of the main job: create, write, flush, reopen read-only, segments, a reader,
//! resize and a flush policy, on a temporary file.
//!
//! Run with `cargo run --release --example tour`.

use mmap_io::flush::FlushPolicy;
use mmap_io::segment::{Segment, SegmentMut};
use mmap_io::{MemoryMappedFile, MmapMode};
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("tour.bin");

    // 1. Create a 1 MiB file and map it read-write.
    let mmap = MemoryMappedFile::create_rw(&path, 1 << 20)?;
    println!(
        "1. created {} ({} bytes, {:?})",
        path.display(),
        mmap.len(),
        mmap.mode()
    );

    // 2. Write through two paths: a copy, and a guard over the mapped bytes.
    mmap.update_region(0, b"Hello, mmap!")?;
    mmap.as_slice_mut(4096, 5)?.copy_from_slice(b"guard");
    println!(
        "2. wrote 17 bytes; {} bytes pending a flush",
        mmap.pending_bytes()
    );

    // 3. Flush: durable on return (msync MS_SYNC).
    mmap.flush()?;
    println!("3. flushed; pending now {}", mmap.pending_bytes());

    // 4. Reopen read-only: zero-copy reads, no lock taken.
    let ro = MemoryMappedFile::open_ro(&path)?;
    let hello = ro.as_slice(0, 12)?;
    println!("4. read-only view: {:?}", std::str::from_utf8(&hello)?);

    // 5. Segments: fixed windows shared between owners.
    let shared = Arc::new(mmap);
    let header = SegmentMut::new(Arc::clone(&shared), 8192, 16)?;
    header.write(b"segment header")?;
    let view = Segment::new(Arc::clone(&shared), 8192, 14)?;
    println!(
        "5. segment at {}..{}: {:?}",
        view.offset(),
        view.offset() + view.len(),
        std::str::from_utf8(&view.as_slice()?)?
    );
    let too_long = header.write(&[0u8; 17]).unwrap_err();
    println!("   a 17-byte write into the 16-byte segment: {too_long}");

    // 6. A reader: io::Read + io::Seek over the mapping.
    let mut reader = shared.reader();
    reader.seek(SeekFrom::Start(4096))?;
    let mut word = [0u8; 5];
    reader.read_exact(&mut word)?;
    println!("6. reader at 4096 read {:?}", std::str::from_utf8(&word)?);

    // 7. Resize: waits for live views, then grows file and mapping together.
    shared.resize(4 << 20)?;
    shared.update_region((4 << 20) - 4, b"tail")?;
    println!(
        "7. resized to {} bytes; file is {} bytes; segment still valid: {}",
        shared.len(),
        std::fs::metadata(&path)?.len(),
        view.is_valid()
    );
    // Another handle of the file (the read-only one of step 4) still maps 1 MiB: cutting the
    // file below that would kill its readers with SIGBUS, so the shrink is refused.
    let refused = shared.resize(4096).unwrap_err();
    println!("   shrinking while the read-only handle maps 1 MiB: {refused}");
    drop(hello);
    drop(ro);
    shared.resize(4096)?;
    println!(
        "   shrunk to 4096: segment at 8192 valid: {}",
        view.is_valid()
    );
    drop((header, view, reader));

    // 8. A flush policy: a background thread flushes every 20 ms.
    let log = MemoryMappedFile::builder(dir.path().join("log.bin"))
        .mode(MmapMode::ReadWrite)
        .size(1 << 20)
        .flush_policy(FlushPolicy::EveryMillis(20))
        .create()?;
    for i in 0..100u64 {
        log.update_region(i * 64, format!("record {i:>4}").as_bytes())?;
    }
    let written = log.pending_bytes();
    let start = Instant::now();
    while log.pending_bytes() > 0 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "8. EveryMillis(20): {written} bytes pending, flushed in the background after {:?}",
        start.elapsed()
    );

    // 9. Someone else (another process, or a descriptor that bypasses the crate) cuts the
    //    file under a mapping: the crate's copies return an error instead of dying of SIGBUS.
    #[cfg(all(
        target_os = "linux",
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "x86")
    ))]
    {
        let cut = dir.path().join("cut.bin");
        std::fs::write(&cut, vec![7u8; 64 * 1024])?;
        let mapped = MemoryMappedFile::open_ro(&cut)?;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&cut)?
            .set_len(4096)?;
        let mut buf = vec![0u8; 16 * 1024];
        let err = mapped.read_into(0, &mut buf).unwrap_err();
        println!("9. file cut to 4096 bytes under a 64 KiB mapping: read_into says {err}");
    }

    println!("done: every step ran on {}", dir.path().display());
    Ok(())
}
