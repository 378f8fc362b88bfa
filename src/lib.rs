//! Memory-mapped file I/O: zero-copy reads, safe concurrent writes, durable flushing.
//!
//! [`MemoryMappedFile`] maps a file read-only, read-write or copy-on-write and gives out
//! bounds-checked views of it. Views of every mode are published to the file's lock (with
//! plain stores while reads dominate), so that no view ever outlives the pages it borrows
//! or sees a write, even across [`resize`](MemoryMappedFile::resize). A mapping may be a
//! window of its file (the builder's `offset` and `len`), grow where it is within address
//! space reserved for it (`reserve`, Unix) without waiting for any view, and follow a file
//! others append to ([`refresh`](MemoryMappedFile::refresh)).
//! [`flush`](MemoryMappedFile::flush) is durable on every call, and a [`FlushPolicy`](flush::FlushPolicy) adds automatic flushing.
//! [`raw`] has memmap2's shapes with checked windows, for code that wants a plain map.
//!
//! The API is that of `mmap-io` 1.1, item for item, so code written for it compiles
//! unchanged.
//!
//! ```
//! use mmap_io::MemoryMappedFile;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("data.bin");
//!
//! let mmap = MemoryMappedFile::create_rw(&path, 1 << 20)?;
//! mmap.update_region(100, b"Hello, mmap!")?;
//! mmap.flush()?;
//!
//! let ro = MemoryMappedFile::open_ro(&path)?;
//! assert_eq!(ro.as_slice(100, 12)?, b"Hello, mmap!");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `advise` (default) | `advise(offset, len, MmapAdvice)` access-pattern hints |
//! | `iterator` (default) | `chunks`, `pages`, `chunks_mut` iterators |
//! | `atomic` | `AtomicU32`/`AtomicU64` views into a mapping |
//! | `locking` | `lock`/`unlock` pages in RAM |
//! | `cow` | copy-on-write mappings (`open_cow`, `open_cow_writable`, `MmapMode::CopyOnWrite`) |
//! | `hugepages` | best-effort transparent huge pages, `AnonymousMmap::with_huge_pages` |
//! | `watch` | file change notifications |
//! | `async` | executor-agnostic async helpers |
//! | `bytes` | `bytes::Bytes` conversions |
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    clippy::undocumented_unsafe_blocks,
    clippy::missing_errors_doc,
    clippy::missing_panics_doc,
    clippy::missing_safety_doc
)]
#![doc(test(attr(deny(warnings))))]

mod fault;
mod guarded;
mod map;
mod os;
mod range;
mod reader;
mod registry;
mod slice;
mod sync;
mod thread_exit;

#[cfg(feature = "advise")]
#[cfg_attr(docsrs, doc(cfg(feature = "advise")))]
pub mod advise;
#[cfg(feature = "bytes")]
mod bytes;
#[cfg(feature = "cow")]
mod cow;
#[cfg(feature = "hugepages")]
mod huge;

pub mod anonymous;
#[cfg(feature = "atomic")]
#[cfg_attr(docsrs, doc(cfg(feature = "atomic")))]
pub mod atomic;
pub mod errors;
pub mod flush;
#[cfg(feature = "iterator")]
#[cfg_attr(docsrs, doc(cfg(feature = "iterator")))]
pub mod iterator;
#[cfg(feature = "locking")]
#[cfg_attr(docsrs, doc(cfg(feature = "locking")))]
pub mod lock;
pub mod manager;
pub mod mmap;
#[cfg(feature = "pod")]
#[cfg_attr(docsrs, doc(cfg(feature = "pod")))]
pub mod pod;
pub mod raw;
pub mod segment;
pub mod utils;
#[cfg(feature = "watch")]
#[cfg_attr(docsrs, doc(cfg(feature = "watch")))]
pub mod watch;

#[cfg(feature = "advise")]
pub use advise::MmapAdvice;
pub use anonymous::AnonymousMmap;
pub use errors::MmapIoError;
#[cfg(feature = "iterator")]
pub use iterator::{ChunkIterator, PageIterator};
pub use manager::{
    copy_mmap, create_mmap, delete_mmap, flush, load_mmap, update_region, write_mmap,
};
pub use mmap::{MappedSlice, MappedSliceMut, MemoryMappedFile, MmapMode, TouchHint};
#[cfg(feature = "watch")]
pub use watch::{ChangeEvent, ChangeKind, WatchHandle};
