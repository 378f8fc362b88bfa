//! The table printed after the cases: each row's medians (as criterion saved them), their
//! ratio, and the target it is held to.

use std::path::PathBuf;

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
    ("read_bytes_1MiB_ro", "ours", "memmap2_copy", Goal::AtMost(0.01)),
    ("read_bytes_1MiB_ro", "ours_from_view", "memmap2_copy", Goal::AtMost(0.01)),
    ("resize_64MiB_to_128MiB_hot", "ours", "memmap2_remap", Goal::AtMost(1.3)),
    ("resize_64MiB_to_128MiB_hot", "ours_reserved", "memmap2_remap", Goal::AtMost(1.3)),
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

pub(super) fn summary(starved_ms: Option<f64>) {
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
