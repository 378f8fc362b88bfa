//! The hot paths as a user's loop runs them: 65,536 precomputed random 8-aligned offsets into
//! a warm 64 MiB file whose pages are mapped, one view per offset, one byte read (or written)
//! per view, the sum passed to `black_box` once per loop. Raw `memmap2` does the same in the
//! same process; each row is the median of 7 interleaved runs, in ns per operation, on both
//! file layouts (written in one `write`, usually mapped with 2 MiB entries; written in 1 MiB
//! pieces, mapped with 4 KiB entries).
//!
//! `cargo bench --bench compare -- loops`

use super::{offsets, raw_ro, raw_rw, warm, FILE_LEN};
use criterion::black_box;
use mmap_io::MemoryMappedFile;
use std::path::{Path, PathBuf};
use std::time::Instant;

const RUNS: usize = 7;
const LEN: u64 = 64;

/// Nanoseconds per operation of one pass of `f` over `offsets`.
fn per_op(offsets: &[usize], mut f: impl FnMut(&[usize]) -> u64) -> f64 {
    let start = Instant::now();
    black_box(f(offsets));
    start.elapsed().as_nanos() as f64 / offsets.len() as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A 64 MiB file written whole, or in 1 MiB pieces.
fn file(dir: &Path, pieces: bool) -> PathBuf {
    let path = dir.join(if pieces {
        "loops_4k.bin"
    } else {
        "loops_2m.bin"
    });
    let bytes: Vec<u8> = (0..FILE_LEN).map(|i| (i % 251) as u8 + 1).collect();
    if pieces {
        use std::io::Write;
        let mut f = std::fs::File::create(&path).unwrap();
        for piece in bytes.chunks(1 << 20) {
            f.write_all(piece).unwrap();
        }
    } else {
        std::fs::write(&path, &bytes).unwrap();
    }
    path
}

/// One row: ours and the floor, interleaved, `RUNS` times each.
fn row(
    name: &str,
    layout: &str,
    offsets: &[usize],
    mut ours: impl FnMut(&[usize]) -> u64,
    mut raw: impl FnMut(&[usize]) -> u64,
    target: f64,
) {
    // Untimed first passes: caches, branch predictors, page tables.
    black_box(ours(offsets));
    black_box(raw(offsets));
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        a.push(per_op(offsets, &mut ours));
        b.push(per_op(offsets, &mut raw));
    }
    let (a, b) = (median(a), median(b));
    println!(
        "{name:<28} {layout:<4} {a:>7.1} {b:>7.1} {:>6.2}x  (target <= {target})",
        a / b
    );
}

pub(crate) fn main(dir: &Path) {
    println!("\ntight loops, ns/op (ours, memmap2, ratio), medians of {RUNS} interleaved runs");
    let offs = offsets(LEN as usize);
    for (layout, pieces) in [("2M", false), ("4K", true)] {
        let path = file(dir, pieces);
        let ro = MemoryMappedFile::open_ro(&path).unwrap();
        let rw = MemoryMappedFile::open_rw(&path).unwrap();
        let raw = raw_ro(&path);
        let mut raw_mut = raw_rw(&path);
        ro.touch_pages().unwrap();
        rw.touch_pages().unwrap();
        warm(&raw);
        warm(&raw_mut);

        row(
            "as_slice 64B RO",
            layout,
            &offs,
            |o| {
                o.iter()
                    .fold(0, |s, &i| s + ro.as_slice(i as u64, LEN).unwrap()[0] as u64)
            },
            |o| {
                o.iter()
                    .fold(0, |s, &i| s + raw[i..i + LEN as usize][0] as u64)
            },
            1.5,
        );
        row(
            "as_slice 64B RW",
            layout,
            &offs,
            |o| {
                o.iter()
                    .fold(0, |s, &i| s + rw.as_slice(i as u64, LEN).unwrap()[0] as u64)
            },
            |o| {
                o.iter()
                    .fold(0, |s, &i| s + raw_mut[i..i + LEN as usize][0] as u64)
            },
            1.5,
        );
        let data = [7u8; LEN as usize];
        row(
            "update_region 64B",
            layout,
            &offs,
            |o| {
                for &i in o {
                    rw.update_region(i as u64, &data).unwrap();
                }
                0
            },
            |o| {
                for &i in o {
                    raw_mut[i..i + LEN as usize].copy_from_slice(&data);
                }
                0
            },
            2.5,
        );
        row(
            "as_slice_mut 64B",
            layout,
            &offs,
            |o| {
                for &i in o {
                    rw.as_slice_mut(i as u64, LEN).unwrap()[0] = 1;
                }
                0
            },
            |o| {
                for &i in o {
                    raw_mut[i..i + LEN as usize][0] = 1;
                }
                0
            },
            3.0,
        );
        #[cfg(feature = "atomic")]
        {
            use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
            let base = raw_mut.as_mut_ptr();
            row(
                "atomic_u64 + fetch_add",
                layout,
                &offs,
                |o| {
                    o.iter().fold(0, |s, &i| {
                        s + rw.atomic_u64(i as u64).unwrap().fetch_add(1, Relaxed)
                    })
                },
                |o| {
                    o.iter().fold(0, |s, &i| {
                        // SAFETY: `i` is 8-aligned and in bounds of the live mapping.
                        let v = unsafe { AtomicU64::from_ptr(base.add(i).cast::<u64>()) };
                        s + v.fetch_add(1, Relaxed)
                    })
                },
                3.0,
            );
        }
        let _ = &mut raw_mut;
    }
}
