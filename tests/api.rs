//! The 1.0 and 1.1 API, item by item: each function is coerced to the exact signature the
//! published crate has, and each auto trait is asserted, so a signature or trait that drifts
//! stops this file from compiling.
#![allow(clippy::type_complexity, clippy::extra_unused_lifetimes)]

use mmap_io::errors::Result;
use mmap_io::flush::FlushPolicy;
use mmap_io::mmap::{MemoryMappedFileBuilder, MmapReader};
use mmap_io::segment::{Segment, SegmentMut};
use mmap_io::{
    AnonymousMmap, MappedSlice, MappedSliceMut, MemoryMappedFile, MmapIoError, MmapMode, TouchHint,
};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

type P = &'static Path;

#[test]
fn memory_mapped_file_signatures() {
    let _: fn(P, u64) -> Result<MemoryMappedFile> = MemoryMappedFile::create_rw::<P>;
    let _: fn(P) -> Result<MemoryMappedFile> = MemoryMappedFile::open_ro::<P>;
    let _: fn(P) -> Result<MemoryMappedFile> = MemoryMappedFile::open_rw::<P>;
    let _: fn(P, u64) -> Result<MemoryMappedFile> = MemoryMappedFile::open_or_create::<P>;
    let _: fn(File, MmapMode, P) -> Result<MemoryMappedFile> = MemoryMappedFile::from_file::<P>;
    let _: fn(P) -> MemoryMappedFileBuilder = MemoryMappedFile::builder::<P>;
    let _: for<'a> fn(&'a MemoryMappedFile, u64, u64) -> Result<MappedSlice<'a>> =
        MemoryMappedFile::as_slice;
    let _: for<'a> fn(&'a MemoryMappedFile, u64, u64) -> Result<&'a [u8]> =
        MemoryMappedFile::as_slice_bytes;
    let _: for<'a> fn(&'a MemoryMappedFile, u64, u64) -> Result<MappedSliceMut<'a>> =
        MemoryMappedFile::as_slice_mut;
    let _: fn(&MemoryMappedFile, u64, &mut [u8]) -> Result<()> = MemoryMappedFile::read_into;
    let _: fn(&MemoryMappedFile, u64, &[u8]) -> Result<()> = MemoryMappedFile::update_region;
    let _: fn(&MemoryMappedFile) -> Result<()> = MemoryMappedFile::flush;
    let _: fn(&MemoryMappedFile, u64, u64) -> Result<()> = MemoryMappedFile::flush_range;
    let _: fn(&MemoryMappedFile, u64) -> Result<()> = MemoryMappedFile::resize;
    let _: fn(&MemoryMappedFile) -> Result<()> = MemoryMappedFile::touch_pages;
    let _: fn(&MemoryMappedFile, u64, u64) -> Result<()> = MemoryMappedFile::touch_pages_range;
    let _: fn(&MemoryMappedFile, u64, u64) -> Result<()> = MemoryMappedFile::prefetch_range;
    let _: fn(&MemoryMappedFile) -> u64 = MemoryMappedFile::len;
    let _: fn(&MemoryMappedFile) -> bool = MemoryMappedFile::is_empty;
    let _: fn(&MemoryMappedFile) -> Result<u64> = MemoryMappedFile::current_len;
    let _: fn(&MemoryMappedFile) -> &Path = MemoryMappedFile::path;
    let _: fn(&MemoryMappedFile) -> MmapMode = MemoryMappedFile::mode;
    let _: fn(&MemoryMappedFile) -> FlushPolicy = MemoryMappedFile::flush_policy;
    let _: fn(&MemoryMappedFile) -> u64 = MemoryMappedFile::pending_bytes;
    let _: for<'a> fn(&'a MemoryMappedFile) -> MmapReader<'a> = MemoryMappedFile::reader;
    let _: fn(MemoryMappedFile) -> std::result::Result<File, MemoryMappedFile> =
        MemoryMappedFile::unmap;
    let _: unsafe fn(&MemoryMappedFile) -> *const u8 = MemoryMappedFile::as_ptr;
    let _: unsafe fn(&MemoryMappedFile) -> Result<*mut u8> = MemoryMappedFile::as_mut_ptr;
}

#[test]
fn builder_reader_slice_and_segment_signatures() {
    let _: fn(MemoryMappedFileBuilder, MmapMode) -> MemoryMappedFileBuilder =
        MemoryMappedFileBuilder::mode;
    let _: fn(MemoryMappedFileBuilder, u64) -> MemoryMappedFileBuilder =
        MemoryMappedFileBuilder::size;
    let _: fn(MemoryMappedFileBuilder, FlushPolicy) -> MemoryMappedFileBuilder =
        MemoryMappedFileBuilder::flush_policy;
    let _: fn(MemoryMappedFileBuilder, TouchHint) -> MemoryMappedFileBuilder =
        MemoryMappedFileBuilder::touch_hint;
    let _: fn(MemoryMappedFileBuilder) -> Result<MemoryMappedFile> =
        MemoryMappedFileBuilder::create;
    let _: fn(MemoryMappedFileBuilder) -> Result<MemoryMappedFile> = MemoryMappedFileBuilder::open;
    let _: fn(MemoryMappedFileBuilder) -> Result<MemoryMappedFile> =
        MemoryMappedFileBuilder::open_or_create;

    fn borrowed_types<'a>() {
        let _: fn(&MmapReader<'a>) -> u64 = MmapReader::<'a>::position;
        let _: fn(&mut MmapReader<'a>, u64) = MmapReader::<'a>::set_position;
        let _: for<'b> fn(&'b MappedSlice<'a>) -> &'b [u8] = MappedSlice::<'a>::as_slice;
        let _: fn(&MappedSlice<'a>) -> usize = MappedSlice::<'a>::len;
        let _: fn(&MappedSlice<'a>) -> bool = MappedSlice::<'a>::is_empty;
        let _: for<'b> fn(&'b mut MappedSliceMut<'a>) -> &'b mut [u8] =
            MappedSliceMut::<'a>::as_mut;
        let _: fn(&MappedSliceMut<'a>) -> usize = MappedSliceMut::<'a>::len;
        let _: fn(&MappedSliceMut<'a>) -> bool = MappedSliceMut::<'a>::is_empty;
    }
    borrowed_types();
    fn read_seek<T: std::io::Read + std::io::Seek>() {}
    read_seek::<MmapReader<'_>>();

    let _: fn(Arc<MemoryMappedFile>, u64, u64) -> Result<Segment> = Segment::new;
    let _: for<'a> fn(&'a Segment) -> Result<MappedSlice<'a>> = Segment::as_slice;
    let _: fn(&Segment) -> u64 = Segment::len;
    let _: fn(&Segment) -> u64 = Segment::offset;
    let _: fn(&Segment) -> bool = Segment::is_empty;
    let _: fn(&Segment) -> bool = Segment::is_valid;
    let _: fn(&Segment) -> &MemoryMappedFile = Segment::parent;
    let _: fn(Arc<MemoryMappedFile>, u64, u64) -> Result<SegmentMut> = SegmentMut::new;
    let _: for<'a> fn(&'a SegmentMut) -> Result<MappedSliceMut<'a>> = SegmentMut::as_slice_mut;
    let _: fn(&SegmentMut, &[u8]) -> Result<()> = SegmentMut::write;
    let _: fn(&SegmentMut) -> u64 = SegmentMut::len;
    let _: fn(&SegmentMut) -> u64 = SegmentMut::offset;
    let _: fn(&SegmentMut) -> bool = SegmentMut::is_empty;
    let _: fn(&SegmentMut) -> bool = SegmentMut::is_valid;
    let _: fn(&SegmentMut) -> &MemoryMappedFile = SegmentMut::parent;
}

#[test]
fn anonymous_manager_utils_and_error_signatures() {
    let _: fn(u64) -> Result<AnonymousMmap> = AnonymousMmap::new;
    let _: fn(&AnonymousMmap) -> u64 = AnonymousMmap::len;
    let _: fn(&AnonymousMmap) -> bool = AnonymousMmap::is_empty;
    let _: fn(&AnonymousMmap, u64, &mut [u8]) -> Result<()> = AnonymousMmap::read_into;
    let _: fn(&AnonymousMmap, u64, &[u8]) -> Result<()> = AnonymousMmap::update_region;
    let _: for<'a> fn(&'a AnonymousMmap, u64, u64) -> Result<MappedSlice<'a>> =
        AnonymousMmap::as_slice;
    let _: for<'a> fn(&'a AnonymousMmap, u64, u64) -> Result<MappedSliceMut<'a>> =
        AnonymousMmap::as_mut_slice;
    let _: unsafe fn(&AnonymousMmap) -> *const u8 = AnonymousMmap::as_ptr;
    let _: unsafe fn(&AnonymousMmap) -> *mut u8 = AnonymousMmap::as_mut_ptr;

    let _: fn(P, u64) -> Result<MemoryMappedFile> = mmap_io::manager::create_mmap::<P>;
    let _: fn(P, MmapMode) -> Result<MemoryMappedFile> = mmap_io::manager::load_mmap::<P>;
    let _: fn(&MemoryMappedFile, u64, &[u8]) -> Result<()> = mmap_io::manager::update_region;
    let _: fn(&MemoryMappedFile) -> Result<()> = mmap_io::manager::flush;
    let _: fn(P, P) -> Result<()> = mmap_io::manager::copy_mmap::<P>;
    let _: fn(P) -> Result<()> = mmap_io::manager::delete_mmap::<P>;
    let _: fn(P, u64, &[u8]) -> Result<()> = mmap_io::manager::write_mmap::<P>;
    let _: fn(P, u64) -> Result<MemoryMappedFile> = mmap_io::create_mmap::<P>;
    let _: fn(P, u64, &[u8]) -> Result<()> = mmap_io::write_mmap::<P>;

    let _: fn() -> usize = mmap_io::utils::page_size;
    let _: fn(u64, u64) -> u64 = mmap_io::utils::align_up;
    let _: fn(u64, u64, u64) -> Result<()> = mmap_io::utils::ensure_in_bounds;
    let _: fn(u64, u64, u64) -> Result<(usize, usize)> = mmap_io::utils::slice_range;

    let _: std::result::Result<(), MmapIoError> = mmap_io::errors::Result::<()>::Ok(());
    let _ = [
        FlushPolicy::Never,
        FlushPolicy::Manual,
        FlushPolicy::Always,
        FlushPolicy::EveryBytes(1usize),
        FlushPolicy::EveryWrites(1usize),
        FlushPolicy::EveryMillis(1u64),
    ];
    let _ = [TouchHint::Never, TouchHint::Eager, TouchHint::Lazy];
    let _ = [
        MmapMode::ReadOnly,
        MmapMode::ReadWrite,
        MmapMode::CopyOnWrite,
    ];
    assert_eq!(TouchHint::default(), TouchHint::Never);
}

#[test]
fn derived_traits_match() {
    fn copy_eq_debug<T: Copy + Eq + std::fmt::Debug>() {}
    fn with_default<T: Default>() {}
    copy_eq_debug::<MmapMode>();
    copy_eq_debug::<TouchHint>();
    copy_eq_debug::<FlushPolicy>();
    with_default::<TouchHint>();
    with_default::<FlushPolicy>();
    fn slice_traits<'a, T>()
    where
        T: std::ops::Deref<Target = [u8]>
            + AsRef<[u8]>
            + Eq
            + PartialEq<[u8]>
            + PartialEq<&'a [u8]>
            + PartialEq<[u8; 4]>
            + PartialEq<&'a [u8; 4]>
            + std::fmt::Debug,
    {
    }
    slice_traits::<MappedSlice<'_>>();
    fn deref_mut<T: std::ops::DerefMut<Target = [u8]>>() {}
    deref_mut::<MappedSliceMut<'_>>();
}

#[cfg(feature = "advise")]
#[test]
fn advise_signatures() {
    use mmap_io::advise::MmapAdvice;
    let _: fn(&MemoryMappedFile, u64, u64, MmapAdvice) -> Result<()> = MemoryMappedFile::advise;
    let _ = [
        mmap_io::MmapAdvice::Normal,
        MmapAdvice::Random,
        MmapAdvice::Sequential,
        MmapAdvice::WillNeed,
        MmapAdvice::DontNeed,
    ];
}

#[cfg(feature = "iterator")]
#[test]
fn iterator_signatures() {
    use mmap_io::iterator::{
        ChunkIterator, ChunkIteratorMut, ChunkIteratorOwned, PageIterator, PageIteratorOwned,
    };
    let _: for<'a> fn(&'a MemoryMappedFile, usize) -> ChunkIterator<'a> = MemoryMappedFile::chunks;
    let _: for<'a> fn(&'a MemoryMappedFile, usize) -> ChunkIteratorMut<'a> =
        MemoryMappedFile::chunks_mut;
    let _: for<'a> fn(&'a MemoryMappedFile, usize) -> ChunkIteratorOwned<'a> =
        MemoryMappedFile::chunks_owned;
    let _: for<'a> fn(&'a MemoryMappedFile) -> PageIterator<'a> = MemoryMappedFile::pages;
    let _: for<'a> fn(&'a MemoryMappedFile) -> PageIteratorOwned<'a> =
        MemoryMappedFile::pages_owned;
    fn exact<I: ExactSizeIterator>() {}
    exact::<mmap_io::ChunkIterator<'_>>();
    exact::<mmap_io::PageIterator<'_>>();
    exact::<ChunkIteratorOwned<'_>>();
    exact::<PageIteratorOwned<'_>>();
    fn items<'a, I: Iterator<Item = MappedSlice<'a>>, O: Iterator<Item = Result<Vec<u8>>>>() {}
    items::<ChunkIterator<'_>, ChunkIteratorOwned<'_>>();
    items::<PageIterator<'_>, PageIteratorOwned<'_>>();
    fn for_each<'a>(it: ChunkIteratorMut<'a>, legacy: ChunkIteratorMut<'a>) {
        let _: Result<()> = it.for_each_mut(|_: u64, _: &mut [u8]| Ok(()));
        let _: Result<std::result::Result<(), std::io::Error>> =
            legacy.for_each_mut_legacy(|_: u64, _: &mut [u8]| Ok::<(), std::io::Error>(()));
    }
    let _ = for_each;
}

#[cfg(feature = "atomic")]
#[test]
fn atomic_signatures() {
    use mmap_io::atomic::{AtomicSliceView, AtomicView};
    use std::sync::atomic::{AtomicU32, AtomicU64};
    let _: for<'a> fn(&'a MemoryMappedFile, u64) -> Result<AtomicView<'a, AtomicU32>> =
        MemoryMappedFile::atomic_u32;
    let _: for<'a> fn(&'a MemoryMappedFile, u64) -> Result<AtomicView<'a, AtomicU64>> =
        MemoryMappedFile::atomic_u64;
    let _: for<'a> fn(&'a MemoryMappedFile, u64, usize) -> Result<AtomicSliceView<'a, AtomicU32>> =
        MemoryMappedFile::atomic_u32_slice;
    let _: for<'a> fn(&'a MemoryMappedFile, u64, usize) -> Result<AtomicSliceView<'a, AtomicU64>> =
        MemoryMappedFile::atomic_u64_slice;
    fn derefs<V: std::ops::Deref<Target = AtomicU64>, S: std::ops::Deref<Target = [AtomicU32]>>() {}
    derefs::<AtomicView<'_, AtomicU64>, AtomicSliceView<'_, AtomicU32>>();
}

#[cfg(feature = "locking")]
#[test]
fn locking_signatures() {
    let _: fn(&MemoryMappedFile, u64, u64) -> Result<()> = MemoryMappedFile::lock;
    let _: fn(&MemoryMappedFile, u64, u64) -> Result<()> = MemoryMappedFile::unlock;
    let _: fn(&MemoryMappedFile) -> Result<()> = MemoryMappedFile::lock_all;
    let _: fn(&MemoryMappedFile) -> Result<()> = MemoryMappedFile::unlock_all;
}

#[cfg(feature = "cow")]
#[test]
fn cow_signatures() {
    let _: fn(P) -> Result<MemoryMappedFile> = MemoryMappedFile::open_cow::<P>;
}

#[cfg(feature = "hugepages")]
#[test]
fn hugepages_signatures() {
    let _: fn(MemoryMappedFileBuilder, bool) -> MemoryMappedFileBuilder =
        MemoryMappedFileBuilder::huge_pages;
    let _: fn(&MemoryMappedFile) -> Option<bool> = MemoryMappedFile::is_hugepage_backed;
}

#[cfg(feature = "watch")]
#[test]
fn watch_signatures() {
    use mmap_io::watch::{ChangeEvent, ChangeKind, WatchHandle};
    fn watch(m: &MemoryMappedFile) -> Result<WatchHandle> {
        m.watch(|e: ChangeEvent| {
            let _: (Option<u64>, Option<u64>, ChangeKind) = (e.offset, e.len, e.kind);
        })
    }
    let _ = watch;
    let _: fn(&WatchHandle) -> bool = WatchHandle::is_active;
    let _ = [
        mmap_io::ChangeKind::Modified,
        ChangeKind::Metadata,
        ChangeKind::Removed,
    ];
    fn copy_eq<T: Copy + Eq + std::fmt::Debug>() {}
    copy_eq::<ChangeKind>();
    fn clone_debug<T: Clone + std::fmt::Debug>() {}
    clone_debug::<ChangeEvent>();
}

#[cfg(feature = "async")]
#[test]
fn async_signatures() {
    use std::future::Future;
    fn send<F: Future + Send>(_: F) {}
    async fn all(m: MemoryMappedFile, p: &Path) -> Result<()> {
        let _: MemoryMappedFile = mmap_io::manager::r#async::create_mmap_async(p, 1).await?;
        mmap_io::manager::r#async::copy_mmap_async(p, p).await?;
        mmap_io::manager::r#async::delete_mmap_async(p).await?;
        m.update_region_async(0, &[1u8]).await?;
        m.flush_async().await?;
        m.flush_range_async(0, 1).await
    }
    // Compiled, not run: the futures are Send, so they can be spawned on any runtime.
    if false {
        let dir = tempfile::tempdir().unwrap();
        let m = mmap_io::create_mmap(dir.path().join("x"), 1).unwrap();
        send(all(m, dir.path()));
    }
}

#[cfg(feature = "bytes")]
#[test]
fn bytes_signatures() {
    let _: fn(&MemoryMappedFile, u64, u64) -> Result<bytes::Bytes> = MemoryMappedFile::read_bytes;
    fn conversions<'a>(s: MappedSlice<'a>) -> (bytes::Bytes, bytes::Bytes) {
        (bytes::Bytes::from(&s), bytes::Bytes::from(s))
    }
    let _ = conversions;
}

// --- 1.1 ---

mod glob_import {
    // `use mmap_io::*;` must leave std's two-parameter `Result` usable: the crate root does
    // not re-export `Result`.
    #[allow(unused_imports)]
    use mmap_io::*;

    #[test]
    fn a_glob_import_leaves_std_result_alone() {
        let parsed: Result<u8, std::num::ParseIntError> = "7".parse();
        assert_eq!(parsed, Ok(7));
        let _: fn(&std::path::Path, u64) -> Result<MemoryMappedFile, MmapIoError> =
            |p, n| create_mmap(p, n);
        let _: fn(&std::path::Path, MmapMode) -> Result<MemoryMappedFile, MmapIoError> =
            |p, m| load_mmap(p, m);
        let _: fn(&MemoryMappedFile, u64, &[u8]) -> Result<(), MmapIoError> = update_region;
        let _: fn(&MemoryMappedFile) -> Result<(), MmapIoError> = flush;
        let _: fn(&std::path::Path, &std::path::Path) -> Result<(), MmapIoError> =
            |a, b| copy_mmap(a, b);
        let _: fn(&std::path::Path) -> Result<(), MmapIoError> = |p| delete_mmap(p);
        let _: Option<(
            TouchHint,
            MappedSlice<'_>,
            MappedSliceMut<'_>,
            AnonymousMmap,
        )> = None;
        #[cfg(feature = "iterator")]
        let _: Option<(ChunkIterator<'_>, PageIterator<'_>)> = None;
        #[cfg(feature = "advise")]
        let _: Option<MmapAdvice> = None;
        #[cfg(feature = "watch")]
        let _: Option<(ChangeEvent, ChangeKind, WatchHandle)> = None;
    }
}

#[test]
fn memory_mapped_file_1_1_signatures() {
    let _: for<'a> fn(&'a MemoryMappedFile, u64, u64) -> Result<Option<MappedSlice<'a>>> =
        MemoryMappedFile::try_as_slice;
    let _: for<'a> fn(&'a MemoryMappedFile, u64, u64) -> Result<Option<MappedSliceMut<'a>>> =
        MemoryMappedFile::try_as_slice_mut;
    let _: fn(&MemoryMappedFile, u64, &[u8]) -> Result<bool> = MemoryMappedFile::try_update_region;
    let _: fn(&MemoryMappedFile) -> Result<()> = MemoryMappedFile::schedule_flush;
    let _: fn(&MemoryMappedFile, u64, u64) -> Result<()> = MemoryMappedFile::schedule_flush_range;
    let _: fn(MemoryMappedFileBuilder) -> Result<MemoryMappedFile> =
        MemoryMappedFileBuilder::create_new;
    let _: for<'a> fn(&'a AnonymousMmap, u64, u64) -> Result<Option<MappedSlice<'a>>> =
        AnonymousMmap::try_as_slice;
    let _: for<'a> fn(&'a AnonymousMmap, u64, u64) -> Result<Option<MappedSliceMut<'a>>> =
        AnonymousMmap::try_as_mut_slice;
    let _: fn(&AnonymousMmap, u64, &[u8]) -> Result<bool> = AnonymousMmap::try_update_region;
    let _: fn(&AnonymousMmap) -> Option<bool> = AnonymousMmap::is_hugepage_backed;
    fn buf_read<'a>() {
        fn is_buf_read<R: std::io::BufRead>() {}
        is_buf_read::<MmapReader<'a>>();
        let _: for<'b> fn(&'b mut MmapReader<'a>) -> std::io::Result<&'b [u8]> =
            <MmapReader<'a> as std::io::BufRead>::fill_buf;
        let _: fn(&mut MmapReader<'a>, usize) = <MmapReader<'a> as std::io::BufRead>::consume;
    }
    let _ = buf_read;
    fn debug<T: std::fmt::Debug>() {}
    debug::<MappedSliceMut<'_>>();
    assert!(!std::mem::needs_drop::<MmapReader<'_>>());
}

#[cfg(feature = "cow")]
#[test]
fn cow_1_1_signatures() {
    let _: fn(P) -> Result<MemoryMappedFile> = MemoryMappedFile::open_cow_writable::<P>;
    let _: fn(&MemoryMappedFile) -> bool = MemoryMappedFile::is_cow_writable;
    let _: fn(MemoryMappedFileBuilder, bool) -> MemoryMappedFileBuilder =
        MemoryMappedFileBuilder::cow_writable;
}

#[cfg(feature = "hugepages")]
#[test]
fn hugepages_1_1_signatures() {
    let _: fn(u64) -> Result<AnonymousMmap> = AnonymousMmap::with_huge_pages;
}

#[cfg(feature = "atomic")]
#[test]
fn anonymous_atomic_signatures() {
    use mmap_io::atomic::{AtomicSliceView, AtomicView};
    use std::sync::atomic::{AtomicU32, AtomicU64};
    let _: for<'a> fn(&'a AnonymousMmap, u64) -> Result<AtomicView<'a, AtomicU32>> =
        AnonymousMmap::atomic_u32;
    let _: for<'a> fn(&'a AnonymousMmap, u64) -> Result<AtomicView<'a, AtomicU64>> =
        AnonymousMmap::atomic_u64;
    let _: for<'a> fn(&'a AnonymousMmap, u64, usize) -> Result<AtomicSliceView<'a, AtomicU32>> =
        AnonymousMmap::atomic_u32_slice;
    let _: for<'a> fn(&'a AnonymousMmap, u64, usize) -> Result<AtomicSliceView<'a, AtomicU64>> =
        AnonymousMmap::atomic_u64_slice;
    fn derefs<V: std::ops::Deref<Target = AtomicU32>, S: std::ops::Deref<Target = [AtomicU64]>>() {}
    derefs::<AtomicView<'_, AtomicU32>, AtomicSliceView<'_, AtomicU64>>();
}

#[cfg(feature = "watch")]
#[test]
fn watch_takes_an_fn_mut() {
    fn watch(m: &MemoryMappedFile) -> Result<mmap_io::WatchHandle> {
        let mut seen = Vec::new();
        m.watch(move |e| {
            seen.push(e.kind);
            assert!(!seen.is_empty());
        })
    }
    let _ = watch;
}

/// Auto traits as the published 1.1 has them: values move into `thread::scope`, rayon
/// pools and async tasks, and guards may be released on another thread.
#[test]
fn auto_traits_match() {
    use std::panic::{RefUnwindSafe, UnwindSafe};
    fn send_sync<T: Send + Sync>() {}
    fn unpin<T: Unpin>() {}
    fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}
    send_sync::<MemoryMappedFile>();
    send_sync::<AnonymousMmap>();
    send_sync::<MappedSlice<'_>>();
    send_sync::<MappedSliceMut<'_>>();
    send_sync::<MmapReader<'_>>();
    send_sync::<MemoryMappedFileBuilder>();
    send_sync::<Segment>();
    send_sync::<SegmentMut>();
    send_sync::<MmapIoError>();
    unpin::<MemoryMappedFile>();
    unpin::<MappedSlice<'_>>();
    unpin::<MappedSliceMut<'_>>();
    unpin::<MmapReader<'_>>();
    unwind_safe::<MemoryMappedFileBuilder>();
    unwind_safe::<MmapMode>();
    unwind_safe::<MemoryMappedFile>();
    unwind_safe::<AnonymousMmap>();
    #[cfg(feature = "iterator")]
    {
        use mmap_io::iterator::{
            ChunkIterator, ChunkIteratorMut, ChunkIteratorOwned, PageIterator, PageIteratorOwned,
        };
        send_sync::<ChunkIterator<'_>>();
        send_sync::<ChunkIteratorMut<'_>>();
        send_sync::<ChunkIteratorOwned<'_>>();
        send_sync::<PageIterator<'_>>();
        send_sync::<PageIteratorOwned<'_>>();
    }
    #[cfg(feature = "atomic")]
    {
        use mmap_io::atomic::{AtomicSliceView, AtomicView};
        use std::sync::atomic::{AtomicU32, AtomicU64};
        send_sync::<AtomicView<'_, AtomicU64>>();
        send_sync::<AtomicView<'_, AtomicU32>>();
        send_sync::<AtomicSliceView<'_, AtomicU64>>();
        send_sync::<AtomicSliceView<'_, AtomicU32>>();
    }
    #[cfg(feature = "watch")]
    send_sync::<mmap_io::WatchHandle>();
}
