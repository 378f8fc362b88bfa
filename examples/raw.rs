//! Moving from memmap2: `mmap_io::raw` has memmap2's types and methods, with the checks that
//! make bad windows errors instead of faults.
//!
//! `cargo run --example raw`

use mmap_io::raw::{RawMmap, RawMmapMut, RawMmapOptions};
use std::fs::OpenOptions;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("records.bin");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    file.set_len(64 * 1024)?;

    // memmap2's `MmapMut::map_mut`, same contract (see the module docs of `raw`).
    // SAFETY: nothing else truncates or writes the file while it is mapped.
    let mut map = unsafe { RawMmapMut::map_mut(&file)? };
    map[10_000..10_005].copy_from_slice(b"hello");
    map.flush()?; // durable, as memmap2's
    println!("wrote and flushed {} bytes of mapping", map.len());
    let map: RawMmap = map.make_read_only()?;
    println!(
        "read back: {:?}",
        std::str::from_utf8(&map[10_000..10_005])?
    );

    // A window at any offset: the OS mapping starts at the page below it.
    // SAFETY: as above.
    let window = unsafe { RawMmapOptions::new().offset(10_001).len(4).map(&file)? };
    println!(
        "window at an unaligned offset: {:?}",
        std::str::from_utf8(&window)?
    );

    // Where memmap2 would map and fault later, raw refuses up front.
    // SAFETY: as above; the call fails before mapping anything.
    let past_end = unsafe { RawMmapOptions::new().offset(60_000).len(8192).map(&file) };
    println!("window past the end of the file: {}", past_end.unwrap_err());
    // SAFETY: as above.
    let overflow = unsafe { RawMmapOptions::new().offset(u64::MAX).len(2).map(&file) };
    println!("overflowing window: {}", overflow.unwrap_err());

    // Anonymous memory, zero-filled.
    let mut scratch = RawMmapMut::map_anon(1 << 20)?;
    scratch[..4].copy_from_slice(b"anon");
    println!(
        "anonymous map of {} bytes starts with {:?}",
        scratch.len(),
        &scratch[..4]
    );
    Ok(())
}
