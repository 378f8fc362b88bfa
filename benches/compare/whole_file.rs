//! Cases on whole files: touching a fresh mapping, growing one, flushing, and the flush
//! policies under a log-style writer.

use super::*;

pub(super) fn bench_touch(c: &mut Criterion, dir: &Path) {
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

pub(super) fn bench_resize(c: &mut Criterion, dir: &Path) {
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
    // Room reserved: the mapping grows where it is (and would wait for no view).
    let reserved_setup = || {
        let m = MemoryMappedFile::builder(&path)
            .size(FILE_LEN as u64)
            .reserve(4 * FILE_LEN as u64)
            .create()
            .unwrap();
        m.touch_pages().unwrap();
        m
    };
    g.bench_function("ours_reserved", |b| {
        b.iter_batched(
            reserved_setup,
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

pub(super) fn bench_flush(c: &mut Criterion, dir: &Path) {
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

pub(super) fn bench_policies(c: &mut Criterion, dir: &Path) {
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
