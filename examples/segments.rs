//! Fixed-size records as segment views, shared between threads.
//!
//! `cargo run --example segments`

use mmap_io::segment::{Segment, SegmentMut};
use mmap_io::MemoryMappedFile;
use std::sync::Arc;

const RECORD: u64 = 32;
const RECORDS: u64 = 8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mmap = Arc::new(MemoryMappedFile::create_rw(
        dir.path().join("records.bin"),
        RECORD * RECORDS,
    )?);

    // One writable segment per record; each thread owns its own.
    let writers: Vec<_> = (0..RECORDS)
        .map(|i| {
            let seg = SegmentMut::new(Arc::clone(&mmap), i * RECORD, RECORD)?;
            Ok(std::thread::spawn(move || {
                seg.write(format!("record #{i}").as_bytes())
            }))
        })
        .collect::<Result<_, mmap_io::MmapIoError>>()?;
    for w in writers {
        w.join().expect("writer thread")?;
    }
    mmap.flush()?;

    for i in 0..RECORDS {
        let seg = Segment::new(Arc::clone(&mmap), i * RECORD, RECORD)?;
        let bytes = seg.as_slice()?;
        let text = String::from_utf8_lossy(&bytes);
        println!(
            "segment {}..{}: {}",
            seg.offset(),
            seg.offset() + seg.len(),
            text.trim_end_matches('\0')
        );
    }

    let last = SegmentMut::new(Arc::clone(&mmap), (RECORDS - 1) * RECORD, RECORD)?;
    println!(
        "a write longer than the segment: {}",
        last.write(&[0u8; 33]).unwrap_err()
    );
    mmap.resize(RECORD * 4)?;
    println!(
        "after shrinking to 4 records, the last segment is valid: {}",
        last.is_valid()
    );
    Ok(())
}
