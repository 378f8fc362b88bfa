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

fn bench_touch(c: &mut Criterion, dir: &Path) {
    // Written in one `write`, the page cache usually holds the file in 2 MiB folios that
    // the kernel maps with 2 MiB entries; written in 1 MiB pieces, in small folios mapped
    // with 4 KiB entries.
    let one_write = warm_file(dir, "touch.bin");
    let pieces = dir.join("touch-pieces.bin");
    {
        let bytes = std::fs::read(&one_write).unwrap();
        let file = File::create(&pieces).unwrap();
        for (i, piece) in bytes.chunks(1 << 20).enumerate() {
            file.write_all_at(piece, (i << 20) as u64).unwrap();
        }
        let _ = std::fs::read(&pieces).unwrap();
    }
    bench_touch_file(c, &one_write, "touch_pages_fresh_64MiB");
    bench_touch_file(c, &pieces, "touch_pages_fresh_64MiB_pieces");
}

fn bench_touch_file(c: &mut Criterion, path: &Path, group: &str) {
    // Every iteration maps the cached file afresh, so each measures first faults.
    let path = path.to_path_buf();
    let ours = || {
        let m = MemoryMappedFile::open_ro(&path).unwrap();
        m.touch_pages().unwrap();
        m
    };
    let loop_floor = || {
        let m = raw_ro(&path);
        let mut x = 0u8;
        for i in (0..m.len()).step_by(PAGE) {
            // SAFETY: in bounds of the live mapping.
            x ^= unsafe { std::ptr::read_volatile(m.as_ptr().add(i)) };
        }
        black_box(x);
        m
    };
    let populate_floor = || {
        // SAFETY: as in `raw_ro`.
        unsafe {
            MmapOptions::new()
                .populate()
                .map(&File::open(&path).unwrap())
                .unwrap()
        }
    };
    println!("{group}: minor faults for one fresh 64 MiB mapping, touched:");
    for (name, run) in [
        ("ours", &(|| drop(ours())) as &dyn Fn()),
        ("read-one-byte-per-page loop", &|| drop(loop_floor())),
        ("MAP_POPULATE", &|| drop(populate_floor())),
    ] {
        let before = minor_faults();
        run();
        println!("  {name:<30} {:>8}", minor_faults() - before);
    }
    let mut g = c.benchmark_group(group);
    g.sample_size(20);
    g.bench_function("ours", |b| b.iter_with_large_drop(ours));
    g.bench_function("memmap2_loop", |b| b.iter_with_large_drop(loop_floor));
    g.bench_function("memmap2_populate", |b| {
        b.iter_with_large_drop(populate_floor)
    });
    g.finish();
}

fn bench_resize(c: &mut Criterion, dir: &Path) {
    let path = dir.join("resize.bin");
    let ours_setup = || {
        let m = MemoryMappedFile::create_rw(&path, FILE_LEN as u64).unwrap();
        m.touch_pages().unwrap();
        m
    };
    let raw_setup = || {
        let file = rw_file_new(&path, FILE_LEN as u64);
        // SAFETY: as in `raw_rw`.
        let m = unsafe { MmapMut::map_mut(&file).unwrap() };
        warm(&m);
        (file, m)
    };
    let mut g = c.benchmark_group("resize_64MiB_to_128MiB_hot");
    g.sample_size(20);
    g.bench_function("ours", |b| {
        b.iter_batched(
            ours_setup,
            |m| {
                m.resize(2 * FILE_LEN as u64).unwrap();
                m.touch_pages_range(0, FILE_LEN as u64).unwrap();
                m
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("memmap2_remap", |b| {
        b.iter_batched(
            raw_setup,
            |(file, mut m)| {
                file.set_len(2 * FILE_LEN as u64).unwrap();
                // SAFETY: no reference into the mapping is alive.
                unsafe {
                    m.remap(2 * FILE_LEN, memmap2::RemapOptions::new().may_move(true))
                        .unwrap()
                };
                warm(&m[..FILE_LEN]);
                (file, m)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn rw_file_new(path: &Path, len: u64) -> File {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap();
    file.set_len(len).unwrap();
    file
}

fn bench_flush(c: &mut Criterion, dir: &Path) {
    let path = warm_file(dir, "flush.bin");
    let ours = MemoryMappedFile::open_rw(&path).unwrap();
    let mut raw = raw_rw(&path);
    ours.flush().unwrap();
    let mut g = c.benchmark_group("flush_range_4KiB_dirty");
    g.sample_size(30);
    let mut n = 0u8;
    g.bench_function("ours", |b| {
        b.iter(|| {
            n = n.wrapping_add(1);
            ours.update_region(5 * PAGE as u64, &[n]).unwrap();
            ours.flush_range(5 * PAGE as u64, PAGE as u64).unwrap();
        })
    });
    g.bench_function("memmap2", |b| {
        b.iter(|| {
            n = n.wrapping_add(1);
            raw[7 * PAGE] = n;
            raw.flush_range(7 * PAGE, PAGE).unwrap();
        })
    });
    g.finish();
}

fn bench_policies(c: &mut Criterion, dir: &Path) {
    // A log-style writer: 64 B records one after another, wrapping at the end of the file.
    // Once on a file written with write(2) (the page cache holds large folios, which the
    // kernel write-protects and re-dirties 2 MiB at a time), once on a fresh sparse file
    // from `create()` (dirtiness is tracked per 4 KiB page).
    for (group, sparse) in [("policy_written_file", false), ("policy_sparse_file", true)] {
        let mut g = c.benchmark_group(group);
        for (name, policy) in [
            ("manual", FlushPolicy::Manual),
            ("every_bytes_1MiB", FlushPolicy::EveryBytes(1 << 20)),
            ("every_millis_10", FlushPolicy::EveryMillis(10)),
        ] {
            let builder = MemoryMappedFile::builder(dir.join(format!("{group}-{name}.bin")))
                .mode(MmapMode::ReadWrite)
                .flush_policy(policy);
            let m = if sparse {
                builder.size(FILE_LEN as u64).create().unwrap()
            } else {
                warm_file(dir, &format!("{group}-{name}.bin"));
                builder.open().unwrap()
            };
            m.touch_pages().unwrap();
            let data = [0x5Au8; SMALL];
            let mut at = 0u64;
            let writes = 4_000_000u64;
            let before = minor_faults();
            for _ in 0..writes {
                m.update_region(at, &data).unwrap();
                at = (at + SMALL as u64) % FILE_LEN as u64;
            }
            println!(
                "{group}/{name}: {:.3} page faults per 4 KiB page written",
                (minor_faults() - before) as f64 / (writes * SMALL as u64 / PAGE as u64) as f64
            );
            g.bench_function(name, |b| {
                b.iter(|| {
                    m.update_region(at, black_box(&data)).unwrap();
                    at = (at + SMALL as u64) % FILE_LEN as u64;
                })
            });
            m.flush().unwrap();
        }
        g.finish();
    }
}

/// The median estimate criterion saved for `group/function`, in nanoseconds.
fn median_ns(group: &str, function: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let json = std::fs::read_to_string(
        dir.join("criterion")
            .join(group)
            .join(function)
            .join("new/estimates.json"),
    )
    .ok()?;
    let median = &json[json.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + 17..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

/// What a summary row is held to.
#[derive(Clone, Copy)]
enum Goal {
    /// ours / floor at most this.
    AtMost(f64),
    /// Throughput of two threads over one, 2 * t(1 thread) / t(2 threads), at least this.
    ScalesBy(f64),
    /// A reference row (what a bare lock costs), not a target.
    Reference,
}

#[rustfmt::skip]
const ROWS: &[(&str, &str, &str, Goal)] = &[
    ("as_slice_64B_ro", "ours", "memmap2", Goal::AtMost(1.3)),
    ("as_slice_64B_rw", "ours", "memmap2", Goal::AtMost(1.5)),
    ("as_slice_64B_rw", "memmap2_with_rwlock", "memmap2", Goal::Reference),
    ("as_slice_64B_rw", "ours", "memmap2_with_rwlock", Goal::Reference),
    ("read_into_4KiB", "ours", "memmap2", Goal::AtMost(1.2)),
    ("read_into_4KiB", "ours", "std_fs", Goal::AtMost(1.2)),
    ("update_region_64B", "ours", "memmap2", Goal::AtMost(2.5)),
    ("update_region_64B", "ours", "std_fs", Goal::AtMost(2.5)),
    ("update_region_64B", "memmap2_with_rwlock", "memmap2", Goal::Reference),
    ("update_region_64B", "ours", "memmap2_with_rwlock", Goal::Reference),
    ("as_slice_mut_64B", "ours", "memmap2", Goal::AtMost(4.0)),
    ("atomic_u64_fetch_add", "ours", "memmap2", Goal::AtMost(3.0)),
    ("atomic_u64_fetch_add", "memmap2_with_rwlock", "memmap2", Goal::Reference),
    ("scan_64MiB_chunks_64KiB", "ours", "memmap2", Goal::AtMost(1.1)),
    ("scan_64MiB_chunks_64KiB", "ours_pages", "memmap2", Goal::AtMost(1.1)),
    ("touch_pages_fresh_64MiB", "ours", "memmap2_loop", Goal::Reference),
    ("touch_pages_fresh_64MiB", "ours", "memmap2_populate", Goal::Reference),
    ("touch_pages_fresh_64MiB", "ours", "fastest", Goal::AtMost(1.1)),
    ("touch_pages_fresh_64MiB_pieces", "ours", "memmap2_loop", Goal::Reference),
    ("touch_pages_fresh_64MiB_pieces", "ours", "memmap2_populate", Goal::Reference),
    ("touch_pages_fresh_64MiB_pieces", "ours", "fastest", Goal::AtMost(1.1)),
    ("mix_64B_read_mostly_1024", "ours", "memmap2", Goal::AtMost(1.5)),
    ("mix_64B_read_mostly_1024", "memmap2_with_rwlock", "memmap2", Goal::Reference),
    ("mix_64B_write_heavy_4", "ours", "memmap2", Goal::Reference),
    ("mix_64B_write_heavy_4", "ours", "memmap2_with_rwlock", Goal::Reference),
    ("mix_64B_write_heavy_4", "memmap2_with_rwlock", "memmap2", Goal::Reference),
    ("mix_64B_no_write_1024", "ours", "memmap2", Goal::Reference),
    ("resize_64MiB_to_128MiB_hot", "ours", "memmap2_remap", Goal::AtMost(1.3)),
    ("flush_range_4KiB_dirty", "ours", "memmap2", Goal::AtMost(1.1)),
    ("policy_written_file", "every_bytes_1MiB", "manual", Goal::AtMost(1.1)),
    ("policy_written_file", "every_millis_10", "manual", Goal::AtMost(1.1)),
    ("policy_sparse_file", "every_bytes_1MiB", "manual", Goal::AtMost(1.1)),
    ("policy_sparse_file", "every_millis_10", "manual", Goal::AtMost(1.1)),
    ("as_slice_64B_ro_2_threads", "ours", "memmap2", Goal::AtMost(1.2)),
    ("as_slice_64B_ro_dyn_1_thread", "ours", "memmap2", Goal::Reference),
    ("as_slice_64B_rw_threads", "1_thread", "2_threads", Goal::ScalesBy(1.6)),
];

/// The median of `group/function`, where `fastest` is the faster of the two floors.
fn median_or_fastest(group: &str, function: &str) -> Option<f64> {
    match function {
        "fastest" => match (
            median_ns(group, "memmap2_loop"),
            median_ns(group, "memmap2_populate"),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
        _ => median_ns(group, function),
    }
}

fn summary(starved_ms: Option<f64>) {
    println!(
        "\n{:<28} {:>36} {:>12} {:>12} {:>7} {:>8}",
        "case", "ours / floor", "ours ns", "floor ns", "ratio", "target"
    );
    for &(group, ours_id, floor_id, goal) in ROWS {
        let (Some(ours), Some(floor)) = (
            median_or_fastest(group, ours_id),
            median_or_fastest(group, floor_id),
        ) else {
            continue;
        };
        let (ratio, target, met) = match goal {
            Goal::AtMost(t) => (ours / floor, format!("<={t}"), ours / floor <= t),
            Goal::ScalesBy(t) => (
                2.0 * ours / floor,
                format!(">={t}"),
                2.0 * ours / floor >= t,
            ),
            Goal::Reference => (ours / floor, "(ref)".to_owned(), true),
        };
        println!(
            "{group:<28} {:>36} {ours:>12.1} {floor:>12.1} {ratio:>7.2} {target:>8}{}",
            format!("{ours_id} / {floor_id}"),
            if met { "" } else { "  MISSED" }
        );
    }
    if let Some(ms) = starved_ms {
        println!(
            "{:<65} {ms:>12.1} {:>12} {:>7} {:>8}{}",
            "worst update_region wait among 8 reading threads (ms)",
            "",
            "",
            "<50",
            if ms < 50.0 { "" } else { "  MISSED" }
        );
    }
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
    bench_touch(&mut c, dir.path());
    bench_resize(&mut c, dir.path());
    bench_flush(&mut c, dir.path());
    bench_policies(&mut c, dir.path());
    c.final_summary();
    // Not a criterion case: run when the filter (the first free argument) allows it.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let starved = filter
        .map_or(true, |f| "starvation".contains(f.as_str()))
        .then(|| starvation(dir.path()));
    summary(starved);
}
