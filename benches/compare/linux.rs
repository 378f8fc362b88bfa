//! The benchmark cases and their floors; see `benches/compare.rs`.

use criterion::{black_box, BatchSize, Criterion};
use memmap2::{Mmap, MmapMut, MmapOptions};
use mmap_io::flush::FlushPolicy;
use mmap_io::{MemoryMappedFile, MmapMode};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
#[cfg(feature = "atomic")]
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[path = "loops.rs"]
mod loops;
#[path = "summary.rs"]
mod summary;
#[path = "whole_file.rs"]
mod whole_file;

const FILE_LEN: usize = 64 << 20;
const PAGE: usize = 4096;
const SMALL: usize = 64;
const BLOCK: usize = 4096;
const CHUNK: usize = 64 * 1024;

/// Random offsets into the file, 8-byte aligned, each leaving room for `room` bytes.
fn offsets(room: usize) -> Vec<usize> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..1 << 16)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x as usize % (FILE_LEN - room)) & !7
        })
        .collect()
}

/// Cycles through `offsets`, one per call.
struct Cycle<'a> {
    offsets: &'a [usize],
    at: usize,
}

impl Cycle<'_> {
    #[inline]
    fn next(&mut self) -> usize {
        self.at = (self.at + 1) & (self.offsets.len() - 1);
        self.offsets[self.at]
    }
}

fn cycle(offsets: &[usize]) -> Cycle<'_> {
    Cycle { offsets, at: 0 }
}

/// A 64 MiB file of non-zero bytes, read once so that it is in the page cache.
fn warm_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let bytes: Vec<u8> = (0..FILE_LEN).map(|i| (i % 251) as u8 + 1).collect();
    std::fs::write(&path, &bytes).unwrap();
    let _ = std::fs::read(&path).unwrap();
    path
}

fn rw_file(path: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap()
}

fn raw_ro(path: &Path) -> Mmap {
    // SAFETY: the benchmark owns the file; nothing truncates it while mapped.
    unsafe { Mmap::map(&File::open(path).unwrap()).unwrap() }
}

fn raw_rw(path: &Path) -> MmapMut {
    // SAFETY: as above.
    unsafe { MmapMut::map_mut(&rw_file(path)).unwrap() }
}

/// Touches every page of `m` for reading, as both sides' warm-up.
fn warm(m: &[u8]) {
    let mut x = 0u8;
    for i in (0..m.len()).step_by(PAGE) {
        x ^= m[i];
    }
    black_box(x);
}

/// Sums the bytes as native-endian `u64` words: the work of a scan.
#[inline]
fn sum_words(bytes: &[u8]) -> u64 {
    bytes
        .chunks_exact(8)
        .map(|w| u64::from_ne_bytes(w.try_into().unwrap()))
        .fold(0u64, u64::wrapping_add)
}

fn minor_faults() -> u64 {
    // SAFETY: getrusage fills the zeroed struct we pass it.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage.ru_minflt as u64
    }
}

fn bench_random_reads(c: &mut Criterion, dir: &Path) {
    let path = warm_file(dir, "reads.bin");
    let small = offsets(SMALL);
    let blocks = offsets(BLOCK);

    let ours_ro = MemoryMappedFile::open_ro(&path).unwrap();
    let ours_rw = MemoryMappedFile::open_rw(&path).unwrap();
    let raw_ro = raw_ro(&path);
    let raw_rw = raw_rw(&path);
    let file = File::open(&path).unwrap();
    ours_ro.touch_pages().unwrap();
    ours_rw.touch_pages().unwrap();
    warm(&raw_ro);
    warm(&raw_rw);

    let mut g = c.benchmark_group("as_slice_64B_ro");
    let mut at = cycle(&small);
    g.bench_function("ours", |b| {
        b.iter(|| {
            let s = ours_ro.as_slice(at.next() as u64, SMALL as u64).unwrap();
            black_box(s[0] ^ s[SMALL - 1])
        })
    });
    g.bench_function("memmap2", |b| {
        b.iter(|| {
            let o = at.next();
            let s = &raw_ro[o..o + SMALL];
            black_box(s[0] ^ s[SMALL - 1])
        })
    });
    g.finish();

    let locked_raw = parking_lot::RwLock::new(());
    let mut g = c.benchmark_group("as_slice_64B_rw");
    g.bench_function("memmap2_with_rwlock", |b| {
        b.iter(|| {
            let _guard = locked_raw.read_recursive();
            let o = at.next();
            let s = &raw_rw[o..o + SMALL];
            black_box(s[0] ^ s[SMALL - 1])
        })
    });
    g.bench_function("ours", |b| {
        b.iter(|| {
            let s = ours_rw.as_slice(at.next() as u64, SMALL as u64).unwrap();
            black_box(s[0] ^ s[SMALL - 1])
        })
    });
    g.bench_function("memmap2", |b| {
        b.iter(|| {
            let o = at.next();
            let s = &raw_rw[o..o + SMALL];
            black_box(s[0] ^ s[SMALL - 1])
        })
    });
    g.finish();

    let mut g = c.benchmark_group("read_into_4KiB");
    let mut at = cycle(&blocks);
    let mut buf = vec![0u8; BLOCK];
    g.bench_function("ours", |b| {
        b.iter(|| {
            ours_rw.read_into(at.next() as u64, &mut buf).unwrap();
            black_box(buf[0])
        })
    });
    g.bench_function("memmap2", |b| {
        b.iter(|| {
            let o = at.next();
            buf.copy_from_slice(&raw_rw[o..o + BLOCK]);
            black_box(buf[0])
        })
    });
    g.bench_function("std_fs", |b| {
        b.iter(|| {
            file.read_exact_at(&mut buf, at.next() as u64).unwrap();
            black_box(buf[0])
        })
    });
    g.finish();

    // A 1 MiB body for the bytes ecosystem: shared with a read-only mapping, or copied.
    #[cfg(feature = "bytes")]
    {
        const MIB: usize = 1 << 20;
        let mut g = c.benchmark_group("read_bytes_1MiB_ro");
        let mut at = cycle(&blocks);
        g.bench_function("ours", |b| {
            b.iter(|| {
                let o = (at.next() % (FILE_LEN - MIB)) as u64;
                let body = ours_ro.read_bytes(o, MIB as u64).unwrap();
                black_box(body[0])
            })
        });
        g.bench_function("ours_from_view", |b| {
            b.iter(|| {
                let o = (at.next() % (FILE_LEN - MIB)) as u64;
                let body = bytes::Bytes::from(ours_ro.as_slice(o, MIB as u64).unwrap());
                black_box(body[0])
            })
        });
        g.bench_function("memmap2_copy", |b| {
            b.iter(|| {
                let o = at.next() % (FILE_LEN - MIB);
                let body = bytes::Bytes::copy_from_slice(&raw_ro[o..o + MIB]);
                black_box(body[0])
            })
        });
        g.finish();
    }

    // Reads from two threads at once: time per read, per thread.
    let small_ref: &[usize] = &small;
    let two_threads = |read: &(dyn Fn(usize) -> u8 + Sync), iters: u64| {
        let start = Instant::now();
        std::thread::scope(|s| {
            for t in 0..2 {
                s.spawn(move || {
                    let mut at = Cycle {
                        offsets: small_ref,
                        at: t * 7919,
                    };
                    for _ in 0..iters {
                        black_box(read(at.next()));
                    }
                });
            }
        });
        start.elapsed()
    };
    let ours_ro_read = |o: usize| {
        let s = ours_ro.as_slice(o as u64, SMALL as u64).unwrap();
        s[0] ^ s[SMALL - 1]
    };
    let ours_rw_read = |o: usize| {
        let s = ours_rw.as_slice(o as u64, SMALL as u64).unwrap();
        s[0] ^ s[SMALL - 1]
    };
    let raw_ro_read = |o: usize| raw_ro[o] ^ raw_ro[o + SMALL - 1];
    let mut g = c.benchmark_group("as_slice_64B_ro_2_threads");
    g.bench_function("ours", |b| b.iter_custom(|n| two_threads(&ours_ro_read, n)));
    g.bench_function("memmap2", |b| {
        b.iter_custom(|n| two_threads(&raw_ro_read, n))
    });
    g.finish();
    // The same reads through the same `dyn Fn` calls on one thread: what the harness does
    // to the ratio, apart from the second thread.
    let one_thread = |read: &dyn Fn(usize) -> u8, iters: u64| {
        let start = Instant::now();
        let mut at = cycle(small_ref);
        for _ in 0..iters {
            black_box(read(at.next()));
        }
        start.elapsed()
    };
    let mut g = c.benchmark_group("as_slice_64B_ro_dyn_1_thread");
    g.bench_function("ours", |b| b.iter_custom(|n| one_thread(&ours_ro_read, n)));
    g.bench_function("memmap2", |b| {
        b.iter_custom(|n| one_thread(&raw_ro_read, n))
    });
    g.finish();
    let mut g = c.benchmark_group("as_slice_64B_rw_threads");
    g.bench_function("1_thread", |b| {
        b.iter_custom(|n| {
            let start = Instant::now();
            let mut at = cycle(&small);
            for _ in 0..n {
                black_box(ours_rw_read(at.next()));
            }
            start.elapsed()
        })
    });
    g.bench_function("2_threads", |b| {
        b.iter_custom(|n| two_threads(&ours_rw_read, n))
    });
    g.finish();
}

/// Reads and writes of 64 bytes at random offsets, one write every `every` operations: the
/// read-mostly mix keeps the reader bias, the write-heavy one runs on the fair lock. The
/// third takes the same branch every 1024 operations but writes nothing there: what the
/// rare branch alone costs a loop of reads.
fn bench_mixes(c: &mut Criterion, dir: &Path) {
    let path = warm_file(dir, "mixes.bin");
    let small = offsets(SMALL);
    let data = [0x5Au8; SMALL];
    let ours = MemoryMappedFile::open_rw(&path).unwrap();
    let mut raw = raw_rw(&path);
    ours.touch_pages().unwrap();
    warm(&raw);
    for (group, every, writes) in [
        ("mix_64B_read_mostly_1024", 1024u64, true),
        ("mix_64B_write_heavy_4", 4, true),
        ("mix_64B_no_write_1024", 1024, false),
    ] {
        let mut g = c.benchmark_group(group);
        let mut at = cycle(&small);
        let mut n = 0u64;
        g.bench_function("ours", |b| {
            b.iter(|| {
                n += 1;
                let o = at.next() as u64;
                if n % every == 0 {
                    if writes {
                        ours.update_region(o, black_box(&data)).unwrap();
                    }
                    0
                } else {
                    let s = ours.as_slice(o, SMALL as u64).unwrap();
                    black_box(s[0] ^ s[SMALL - 1])
                }
            })
        });
        let locked_raw = parking_lot::RwLock::new(());
        let mut op = |n: u64, o: usize, lock: bool| {
            if n % every == 0 {
                if writes {
                    let _guard = lock.then(|| locked_raw.write());
                    raw[o..o + SMALL].copy_from_slice(black_box(&data));
                }
                0
            } else {
                let _guard = lock.then(|| locked_raw.read());
                let s = &raw[o..o + SMALL];
                black_box(s[0] ^ s[SMALL - 1])
            }
        };
        g.bench_function("memmap2_with_rwlock", |b| {
            b.iter(|| {
                n += 1;
                op(n, at.next(), true)
            })
        });
        g.bench_function("memmap2", |b| {
            b.iter(|| {
                n += 1;
                op(n, at.next(), false)
            })
        });
        g.finish();
    }
}

/// Eight threads read 64 KiB views in a loop while this one writes: the worst time one
/// `update_region` waited, in milliseconds, over 100 writes.
fn starvation(dir: &Path) -> f64 {
    let path = warm_file(dir, "starvation.bin");
    let ours = MemoryMappedFile::open_rw(&path).unwrap();
    ours.touch_pages().unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let worst = std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let view = ours.as_slice(0, CHUNK as u64).unwrap();
                    black_box(view.iter().map(|&b| u64::from(b)).sum::<u64>());
                }
            });
        }
        let mut worst = Duration::ZERO;
        for i in 0..100u64 {
            std::thread::sleep(Duration::from_millis(2));
            let t = Instant::now();
            ours.update_region(i * PAGE as u64, &[1; SMALL]).unwrap();
            worst = worst.max(t.elapsed());
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        worst
    });
    worst.as_secs_f64() * 1e3
}

fn bench_random_writes(c: &mut Criterion, dir: &Path) {
    let path = warm_file(dir, "writes.bin");
    let small = offsets(SMALL);
    let data = [0xA5u8; SMALL];

    let ours = MemoryMappedFile::open_rw(&path).unwrap();
    let mut raw = raw_rw(&path);
    let file = rw_file(&path);
    ours.touch_pages().unwrap();
    warm(&raw);

    let mut g = c.benchmark_group("update_region_64B");
    let mut at = cycle(&small);
    let locked_raw = parking_lot::RwLock::new(());
    g.bench_function("memmap2_with_rwlock", |b| {
        b.iter(|| {
            let _guard = locked_raw.write();
            let o = at.next();
            raw[o..o + SMALL].copy_from_slice(black_box(&data));
        })
    });
    g.bench_function("ours", |b| {
        b.iter(|| {
            ours.update_region(at.next() as u64, black_box(&data))
                .unwrap()
        })
    });
    g.bench_function("memmap2", |b| {
        b.iter(|| {
            let o = at.next();
            raw[o..o + SMALL].copy_from_slice(black_box(&data));
        })
    });
    g.bench_function("std_fs", |b| {
        b.iter(|| {
            file.write_all_at(black_box(&data), at.next() as u64)
                .unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("as_slice_mut_64B");
    g.bench_function("ours", |b| {
        b.iter(|| {
            ours.as_slice_mut(at.next() as u64, SMALL as u64)
                .unwrap()
                .copy_from_slice(black_box(&data))
        })
    });
    g.bench_function("memmap2", |b| {
        b.iter(|| {
            let o = at.next();
            raw[o..o + SMALL].copy_from_slice(black_box(&data));
        })
    });
    g.finish();

    #[cfg(feature = "atomic")]
    {
        let mut g = c.benchmark_group("atomic_u64_fetch_add");
        g.bench_function("ours", |b| {
            b.iter(|| {
                let v = ours.atomic_u64(at.next() as u64).unwrap();
                black_box(v.fetch_add(1, Ordering::Relaxed))
            })
        });
        let base = raw.as_mut_ptr();
        let locked_raw = parking_lot::RwLock::new(());
        g.bench_function("memmap2_with_rwlock", |b| {
            b.iter(|| {
                let _guard = locked_raw.read_recursive();
                // SAFETY: as below.
                let v = unsafe { &*base.add(at.next()).cast::<AtomicU64>() };
                black_box(v.fetch_add(1, Ordering::Relaxed))
            })
        });
        g.bench_function("memmap2", |b| {
            b.iter(|| {
                // SAFETY: the offset is 8-aligned and in bounds of the live mapping, whose
                // base is page-aligned; nothing else accesses these bytes meanwhile.
                let v = unsafe { &*base.add(at.next()).cast::<AtomicU64>() };
                black_box(v.fetch_add(1, Ordering::Relaxed))
            })
        });
        g.finish();
    }
}

fn bench_scans(c: &mut Criterion, dir: &Path) {
    let path = warm_file(dir, "scan.bin");
    let ours = MemoryMappedFile::open_rw(&path).unwrap();
    let raw = raw_rw(&path);
    ours.touch_pages().unwrap();
    warm(&raw);
    let mut g = c.benchmark_group("scan_64MiB_chunks_64KiB");
    g.sample_size(20);
    #[cfg(feature = "iterator")]
    g.bench_function("ours", |b| {
        b.iter(|| {
            ours.chunks(CHUNK)
                .map(|c| sum_words(&c))
                .fold(0, u64::wrapping_add)
        })
    });
    #[cfg(feature = "iterator")]
    g.bench_function("ours_pages", |b| {
        b.iter(|| {
            ours.pages()
                .map(|p| sum_words(&p))
                .fold(0, u64::wrapping_add)
        })
    });
    g.bench_function("memmap2", |b| {
        b.iter(|| raw.chunks(CHUNK).map(sum_words).fold(0, u64::wrapping_add))
    });
    g.finish();
}

pub(crate) fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    bench_random_reads(&mut c, dir.path());
    bench_mixes(&mut c, dir.path());
    bench_random_writes(&mut c, dir.path());
    bench_scans(&mut c, dir.path());
    whole_file::bench_touch(&mut c, dir.path());
    whole_file::bench_resize(&mut c, dir.path());
    whole_file::bench_flush(&mut c, dir.path());
    whole_file::bench_policies(&mut c, dir.path());
    c.final_summary();
    // Not a criterion case: run when the filter (the first free argument) allows it.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let starved = filter
        .as_ref()
        .map_or(true, |f| "starvation".contains(f.as_str()))
        .then(|| starvation(dir.path()));
    summary::summary(starved);
    if filter.map_or(true, |f| "loops".contains(f.as_str())) {
        loops::main(dir.path());
    }
}
