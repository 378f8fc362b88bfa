//! Serving the assets of a pack file as `bytes::Bytes`, the type hyper, tonic and most async
//! I/O take, without copying them: each response shares the read-only mapping, keeps it alive
//! after the handle drops, and holds writers of its bytes off until the last clone drops.
//!
//! The pack is a table of `(offset, len)` entries followed by the assets. Worker threads
//! turn requests into responses; a tool that rewrites one asset in place waits for the
//! response that still holds that asset's bytes, and for no other.
//!
//! Run with `cargo run --example asset_pack --features bytes`.

use bytes::Bytes;
use mmap_io::{MappedSlice, MemoryMappedFile};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ASSETS: u64 = 8;
const ASSET: u64 = 256 << 10;
const TABLE: u64 = ASSETS * 16;

/// Writes a pack of `ASSETS` assets of `ASSET` bytes, asset `i` filled with byte `i`.
fn write_pack(path: &std::path::Path) -> Result<(), mmap_io::MmapIoError> {
    let pack = mmap_io::create_mmap(path, TABLE + ASSETS * ASSET)?;
    for i in 0..ASSETS {
        let offset = TABLE + i * ASSET;
        let mut entry = [0u8; 16];
        entry[..8].copy_from_slice(&offset.to_le_bytes());
        entry[8..].copy_from_slice(&ASSET.to_le_bytes());
        pack.update_region(i * 16, &entry)?;
        pack.update_region(offset, &vec![i as u8; ASSET as usize])?;
    }
    pack.flush()
}

/// Asset `i` of the pack: its table entry is parsed from a view (released at once), then a
/// view of the asset's bytes becomes a `Bytes` that shares the mapping
/// (`pack.read_bytes(offset, len)` gives the same).
fn asset(pack: &MemoryMappedFile, i: u64) -> Result<Bytes, mmap_io::MmapIoError> {
    let entry = pack.as_slice(i * 16, 16)?;
    let (offset, len) = MappedSlice::split_at(entry, 8)?;
    let offset = u64::from_le_bytes((*offset).try_into().expect("8 bytes"));
    let len = u64::from_le_bytes((*len).try_into().expect("8 bytes"));
    Ok(Bytes::from(pack.as_slice(offset, len)?))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("assets.pack");
    write_pack(&path)?;

    let pack = MemoryMappedFile::open_ro(&path)?;
    // SAFETY: the address is only compared, to show that no byte was copied.
    let base = unsafe { pack.as_ptr() } as usize;

    // Two workers answer requests for assets; each response is a shared `Bytes`.
    let (responses, received) = mpsc::channel();
    std::thread::scope(|s| -> Result<(), mmap_io::MmapIoError> {
        let workers: Vec<_> = (0..2u64)
            .map(|worker| {
                let (pack, responses) = (&pack, responses.clone());
                s.spawn(move || -> Result<(), mmap_io::MmapIoError> {
                    for i in (worker..ASSETS).step_by(2) {
                        responses
                            .send((i, asset(pack, i)?))
                            .expect("the receiver lives");
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("a worker does not panic")?;
        }
        Ok(())
    })?;
    drop(responses);
    let mut bodies: Vec<(u64, Bytes)> = received.into_iter().collect();
    bodies.sort_by_key(|(i, _)| *i);
    for (i, body) in &bodies {
        let at = body.as_ptr() as usize - base;
        assert!(body.iter().all(|b| *b == *i as u8));
        assert_eq!(
            at as u64,
            TABLE + i * ASSET,
            "the response points into the mapping"
        );
    }
    println!(
        "{} responses of {} KiB each, all pointing into the mapping (no copy)",
        bodies.len(),
        ASSET >> 10
    );

    // The handle can go: the responses keep the mapping alive.
    drop(pack);
    println!(
        "handle dropped; asset 3 still reads {:#04x}",
        bodies[3].1[0]
    );

    // A tool rewrites asset 5 in place. It waits for the response that shares it (asset 5's
    // bytes), dropped 100 ms later on another thread; a rewrite of asset 6, whose response
    // is gone, does not wait.
    bodies.remove(6);
    let held = bodies.remove(5).1;
    let tool = MemoryMappedFile::open_rw(&path)?;
    let started = Instant::now();
    tool.update_region(TABLE + 6 * ASSET, b"new asset 6")?;
    println!(
        "rewrote asset 6 (no response holds it) in {:?}",
        started.elapsed()
    );
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        drop(held);
    });
    let started = Instant::now();
    tool.update_region(TABLE + 5 * ASSET, b"new asset 5")?;
    println!(
        "rewrote asset 5 after its last response dropped: waited {:?}",
        started.elapsed()
    );
    releaser
        .join()
        .expect("the releasing thread does not panic");
    Ok(())
}
