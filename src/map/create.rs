//! Creating a file for a mapping: exclusively (never seen empty by another caller), or
//! over an existing one without cutting what another handle maps.

use super::builder::size_file;
use crate::errors::{MmapIoError, Result};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Creates the file at `path` exclusively, sized to `size` zero bytes.
///
/// The file is created and sized without a name (Linux's `O_TMPFILE`), or else under a
/// temporary name in the same directory, and then put at `path` by a link or a rename that
/// fails if anything is there: another caller never sees it empty, which it would size to
/// its own liking (see [`open_or_create`]) and so cut below this caller's mapping. Where the
/// file system can do none of these, the file is created at `path` and sized there, under
/// the registry's lock. Nothing is left behind when sizing fails; a process killed
/// meanwhile may leave a temporary file, where it has a name.
///
/// [`open_or_create`]: super::MemoryMappedFileBuilder::open_or_create
pub(super) fn create_exclusive(path: &Path, size: u64, preallocate: bool) -> io::Result<File> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(io::ErrorKind::AlreadyExists.into());
    }
    if let Some(file) = crate::os::create_unnamed(crate::os::directory_of(path))? {
        size_file(&file, 0, size, preallocate)?;
        if crate::os::link_unnamed(&file, path)? {
            return Ok(reopen(path, file));
        }
    }
    let (temp, file) = create_temporary(path)?;
    let placed = size_file(&file, 0, size, preallocate).map(|()| place(&temp, path));
    if !matches!(placed, Ok(Ok(Placed::Renamed))) {
        let _ = std::fs::remove_file(&temp);
    }
    match placed? {
        Ok(_) => Ok(reopen(path, file)),
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {
            create_in_place(path, size, preallocate)
        }
        Err(e) => Err(e),
    }
}

/// How [`place`] put the file at its path.
enum Placed {
    Renamed,
    /// Linked: the temporary name is still there, for the caller to remove.
    Linked,
}

/// Puts the file at `temp` at `path`, unless something is there (`AlreadyExists`):
/// renamed where the platform can refuse to replace, else linked; `Unsupported` where
/// neither works on this file system.
fn place(temp: &Path, path: &Path) -> io::Result<Placed> {
    match crate::os::rename_noreplace(temp, path) {
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {}
        renamed => return renamed.map(|()| Placed::Renamed),
    }
    link(temp, path)
}

/// [`place`] by a hard link (which never replaces).
fn link(temp: &Path, path: &Path) -> io::Result<Placed> {
    match std::fs::hard_link(temp, path) {
        Ok(()) => Ok(Placed::Linked),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => Err(io::ErrorKind::Unsupported.into()),
    }
}

/// The file at `path` opened again, if it still is `file` (the same file index in the same
/// directory): a handle opened by the temporary name may keep it (a linked file's mapping
/// would be called deleted in `/proc/self/maps`), and Wine gives a renamed handle another
/// volume serial number, which would hide its mappings from the registry.
fn reopen(path: &Path, file: File) -> File {
    let index = |file: &File| {
        crate::os::file_id(file)
            .ok()
            .flatten()
            .map(|(_, index)| index)
    };
    let same = |again: &File| index(&file).is_some() && index(again) == index(&file);
    match OpenOptions::new().read(true).write(true).open(path) {
        Ok(again) if same(&again) => again,
        _ => file,
    }
}

/// Creates an empty file next to `path`, under a name no other caller uses (and no longer
/// than any file system allows, whatever the length of `path`'s name).
fn create_temporary(path: &Path) -> io::Result<(std::path::PathBuf, File)> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    loop {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = path.with_file_name(format!(".mmap-io-{}-{n}.new", std::process::id()));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
}

/// Creates the file at `path` exclusively and sizes it there, under the registry's lock.
///
/// The file is visible empty until then, and another caller in this process may size it
/// first (under the same lock; see [`open_or_create`]): it is then theirs, and this call
/// returns `AlreadyExists` and leaves it alone. A file this call could not size is removed
/// again, before any other caller here could size it.
///
/// [`open_or_create`]: super::MemoryMappedFileBuilder::open_or_create
fn create_in_place(path: &Path, size: u64, preallocate: bool) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)?;
    crate::registry::exclusive(|| {
        if file.metadata()?.len() != 0 {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        size_file(&file, 0, size, preallocate).map_err(|e| {
            let _ = std::fs::remove_file(path);
            e
        })
    })?;
    Ok(file)
}

/// Creates or truncates the file at `path` and sizes it to `size` zero bytes.
///
/// An existing file is first grown or shrunk to `size` (with its blocks allocated, if asked),
/// and only emptied once that succeeded, so a size the file system refuses leaves the file as
/// it was.
///
/// While another handle in this process maps the file, it is never cut below what that
/// handle maps (refused if `size` is smaller), and it is emptied by writing zeros instead of
/// going through length 0. The emptying is a write of every byte of the file: it waits for
/// the views other threads hold of the file, and is refused where the calling thread holds
/// one (or an atomic view, or bytes are lent).
///
/// Returns the file, and whether it was created (rather than truncated).
pub(super) fn create_file(path: &Path, size: u64, preallocate: bool) -> Result<(File, bool)> {
    match create_exclusive(path, size, preallocate) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let file = OpenOptions::new().read(true).write(true).open(path)?;
            let lock = crate::registry::lock_of(&file)?;
            let _writing = match &lock {
                Some(lock) => Some(lock.write(crate::sync::NO_MAP, 0, usize::MAX)?),
                None => None,
            };
            let refused = crate::registry::truncate(&file, size, |mapped| {
                // Measured under the registry's lock, so no other handle resizes it now.
                let old_len = file.metadata()?.len();
                file.set_len(size.min(old_len))?;
                // On failure this leaves the file at `old_len` (when growing) with its bytes.
                size_file(&file, size.min(old_len), size, preallocate)?;
                let emptied = if mapped {
                    zero(&file, size.min(old_len))
                } else {
                    file.set_len(0)
                        .and_then(|()| size_file(&file, 0, size, preallocate))
                };
                emptied.map_err(|e| {
                    let _ = file.set_len(old_len);
                    e
                })
            })?;
            match refused {
                Ok(()) => Ok((file, false)),
                Err(refusal) => Err(MmapIoError::ResizeFailed(refusal.message())),
            }
        }
        created => Ok((created?, true)),
    }
}

/// Overwrites the first `len` bytes of `file` with zeros.
fn zero(file: &File, len: u64) -> io::Result<()> {
    let zeros = vec![0u8; 1 << 20];
    let mut at = 0;
    while at < len {
        let n = (len - at).min(zeros.len() as u64) as usize;
        crate::os::write_all_at(file, &zeros[..n], at)?;
        at += n as u64;
    }
    Ok(())
}

/// The fallbacks of [`create_exclusive`] that the file systems tests run on never reach.
#[cfg(all(test, not(mmap_io_loom)))]
mod tests {
    use super::*;

    // Unix only: Windows always renames (and keeps an unlinked name listed while the file is
    // open, under Wine).
    #[cfg(unix)]
    #[test]
    fn a_linked_temporary_is_put_in_place_and_opened_again_by_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let (path, taken) = (dir.path().join("linked.bin"), dir.path().join("taken.bin"));
        std::fs::write(&taken, b"mine").unwrap();
        let (temp, file) = create_temporary(&path).unwrap();
        size_file(&file, 0, 4096, false).unwrap();
        assert!(matches!(link(&temp, &taken), Err(e) if e.kind() == io::ErrorKind::AlreadyExists));
        assert_eq!(std::fs::read(&taken).unwrap(), b"mine");
        assert!(matches!(link(&temp, &path), Ok(Placed::Linked)));
        std::fs::remove_file(&temp).unwrap();
        let file = reopen(&path, file);
        assert_eq!(file.metadata().unwrap().len(), 4096);
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let name = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).unwrap();
            assert_eq!(name, path, "the handle goes by the file's name");
        }
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["linked.bin", "taken.bin"]);
    }

    #[test]
    fn a_file_created_in_place_is_sized_unless_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in_place.bin");
        let file = create_in_place(&path, 8192, false).unwrap();
        assert_eq!(file.metadata().unwrap().len(), 8192);
        let again = create_in_place(&path, 4096, false);
        assert!(matches!(again, Err(e) if e.kind() == io::ErrorKind::AlreadyExists));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 8192, "left alone");
    }
}
