//! mmap-io against the floor: raw `memmap2` and `std::fs` doing the same work, in the same
//! process, on a warm 64 MiB file unless noted. Prints a table of median ratios at the end.
//!
//! `cargo bench --bench compare` (all cases) or `cargo bench --bench compare -- as_slice`
//! (cases whose name matches).
//!
//! Linux only: the floors include `mremap`, `MAP_POPULATE` and `getrusage` counters; other
//! platforms build a `main` that says so.
#[cfg(not(target_os = "linux"))]
fn main() {
    println!("the compare benchmarks run on Linux only");
}

#[cfg(target_os = "linux")]
#[path = "compare/linux.rs"]
mod linux;

#[cfg(target_os = "linux")]
fn main() {
    linux::main();
}
