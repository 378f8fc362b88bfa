//! The process-wide table of live file mappings, by device and inode.
//!
//! Shrinking a file under another mapping of it makes every access to the cut pages
//! raise `SIGBUS`. Within the process, every mapping of a file is registered here with the
//! length it maps, and whatever shrinks a file (a `resize` to a smaller size, a create that
//! truncates) first checks, under the table's lock and for as long as it changes the
//! file's length, that no other live mapping reaches past the new end. Growing is always
//! allowed; a mapping registers its new length before it grows, so that no shrink can cut
//! below it meanwhile.

use crate::sync::FileLock;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::sync::{Arc, Weak};

/// A file's identity: device and inode.
type FileId = (u64, u64);

struct Table {
    /// Ids start at 1: 0 names the mappings of files without identity, never registered.
    next_id: u64,
    files: HashMap<FileId, Mapped>,
}

/// The live mappings of one file: their ids and lengths, what follows growth among them,
/// and the lock they share.
#[derive(Default)]
struct Mapped {
    maps: Vec<(u64, u64)>,
    followers: Vec<(u64, Weak<dyn Follow>)>,
    lock: Weak<FileLock>,
}

/// A mapping that follows, where it can without waiting, a file another mapping of it in the
/// process grew.
pub(crate) trait Follow: Send + Sync {
    /// The file is now `len` bytes long.
    fn follow(&self, len: u64);

    /// A new handle of the mapping; `None` once its last handle is gone.
    #[cfg_attr(not(feature = "bytes"), allow(dead_code))]
    fn handle(self: Arc<Self>) -> Option<crate::MemoryMappedFile>;
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);

/// The followers of every registered mapping, by the mapping's id: reached without the
/// table's lock, which is held across system calls (a create zero-fills a file under it).
static BY_ID: RwLock<Option<HashMap<u64, Weak<dyn Follow>>>> = RwLock::new(None);

/// Why a shrink was refused: another live mapping of the file reaches past the new end.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) new_len: u64,
    pub(crate) mapped: u64,
}

impl Refusal {
    pub(crate) fn message(&self) -> String {
        format!(
            "cannot shrink the file to {} bytes: another handle of it in this process maps {} bytes",
            self.new_len, self.mapped
        )
    }
}

/// A mapping's entry in the table; dropping it removes the entry.
#[derive(Debug)]
pub(crate) struct Registration {
    file: FileId,
    id: u64,
}

fn with_table<R>(f: impl FnOnce(&mut Table) -> R) -> R {
    let mut table = TABLE.lock();
    f(table.get_or_insert_with(|| Table {
        next_id: 1,
        files: HashMap::new(),
    }))
}

impl Table {
    /// Drops the entries of files no longer mapped nor locked, whenever the table has
    /// doubled (so that it does not keep one for every file ever mapped).
    fn prune(&mut self) {
        let n = self.files.len();
        if n >= 64 && n.is_power_of_two() {
            self.files
                .retain(|_, mapped| !mapped.maps.is_empty() || mapped.lock.strong_count() > 0);
        }
    }

    /// The largest length any mapping of `file` other than `except` maps.
    fn others(&self, file: FileId, except: Option<u64>) -> u64 {
        self.files.get(&file).map_or(0, |mapped| {
            mapped
                .maps
                .iter()
                .filter(|(id, _)| Some(*id) != except)
                .map(|(_, len)| *len)
                .max()
                .unwrap_or(0)
        })
    }

    fn set(&mut self, file: FileId, id: u64, len: u64) {
        if let Some(entry) = self
            .files
            .get_mut(&file)
            .and_then(|mapped| mapped.maps.iter_mut().find(|(i, _)| *i == id))
        {
            entry.1 = len;
        }
    }
}

/// A new mapping's place among the mappings of its file.
pub(crate) struct Registered {
    /// `None` where files have no identity (then no shrink is checked).
    pub(crate) registration: Option<Registration>,
    /// The length to map.
    pub(crate) len: u64,
    /// The lock every mapping of the file shares, and this mapping's id under it.
    pub(crate) lock: Arc<FileLock>,
    pub(crate) id: usize,
}

/// Registers a new mapping of `file`, with the length `len` returns (called under the
/// table's lock, so no shrink runs between measuring and registering): map exactly that
/// many bytes.
pub(crate) fn register(
    file: &File,
    len: impl FnOnce() -> io::Result<u64>,
) -> io::Result<Registered> {
    // Every file mapping is made here: the crate's copies in and out of it are protected
    // from here on (`docs/FAULTS.md`).
    crate::fault::install();
    let Some(id) = crate::os::file_id(file)? else {
        return Ok(Registered {
            registration: None,
            len: len()?,
            lock: Arc::new(FileLock::new()),
            id: 0,
        });
    };
    with_table(|table| {
        let len = len()?;
        let entry = table.next_id;
        table.next_id += 1;
        table.prune();
        let mapped = table.files.entry(id).or_default();
        let lock = mapped.lock.upgrade().unwrap_or_else(|| {
            let lock = Arc::new(FileLock::new());
            mapped.lock = Arc::downgrade(&lock);
            lock
        });
        mapped.maps.push((entry, len));
        Ok(Registered {
            registration: Some(Registration {
                file: id,
                id: entry,
            }),
            len,
            lock,
            id: entry as usize,
        })
    })
}

/// The lock every mapping of `file` in the process shares (made now if none is alive): what
/// a crate function that writes the file without a mapping of its own coordinates with.
/// `None` where files have no identity.
pub(crate) fn lock_of(file: &File) -> io::Result<Option<Arc<FileLock>>> {
    let Some(id) = crate::os::file_id(file)? else {
        return Ok(None);
    };
    Ok(Some(with_table(|table| {
        table.prune();
        let mapped = table.files.entry(id).or_default();
        mapped.lock.upgrade().unwrap_or_else(|| {
            let lock = Arc::new(FileLock::new());
            mapped.lock = Arc::downgrade(&lock);
            lock
        })
    })))
}

/// A new handle of the live registered mapping `id` (its id under its file's lock), if it
/// has one.
#[cfg_attr(not(feature = "bytes"), allow(dead_code))]
pub(crate) fn handle_of(id: usize) -> Option<crate::MemoryMappedFile> {
    let mapping = BY_ID.read().as_ref()?.get(&(id as u64))?.upgrade()?;
    // Outside the lock: a mapping whose last handle dropped meanwhile is dropped here.
    mapping.handle()
}

/// Runs `f` under the table's lock: no mapping registers, grows or shrinks meanwhile.
pub(crate) fn exclusive<R>(f: impl FnOnce() -> R) -> R {
    with_table(|_| f())
}

/// Runs `shrink`, which changes `file`'s length to `new_len`, unless another live mapping
/// of it maps more than that; holds the table's lock meanwhile.
pub(crate) fn truncate<R>(
    file: &File,
    new_len: u64,
    shrink: impl FnOnce(bool) -> io::Result<R>,
) -> io::Result<Result<R, Refusal>> {
    let Some(id) = crate::os::file_id(file)? else {
        return shrink(false).map(Ok);
    };
    with_table(|table| {
        let mapped = table.others(id, None);
        if mapped > new_len {
            return Ok(Err(Refusal { new_len, mapped }));
        }
        shrink(mapped > 0).map(Ok)
    })
}

impl Registration {
    /// Runs `shrink`, which cuts this mapping and its file to `new_len`, unless another
    /// live mapping of the file maps more; on success records the new length.
    pub(crate) fn shrink<R>(
        &self,
        new_len: u64,
        shrink: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<Result<R, Refusal>> {
        with_table(|table| {
            let mapped = table.others(self.file, Some(self.id));
            if mapped > new_len {
                return Ok(Err(Refusal { new_len, mapped }));
            }
            let done = shrink()?;
            table.set(self.file, self.id, new_len);
            Ok(Ok(done))
        })
    }

    /// Grows `file` to at least `new_len` with `grow` (given the file's length now; not
    /// called if another handle already grew it that far) and records that this mapping is
    /// about to map `new_len` bytes, all under the table's lock, so that no shrink runs
    /// between measuring the file and growing it, nor cuts below the new end afterwards.
    pub(crate) fn grow(
        &self,
        file: &File,
        new_len: u64,
        grow: impl FnOnce(u64) -> io::Result<()>,
    ) -> io::Result<()> {
        with_table(|table| {
            let now = file.metadata()?.len();
            if now < new_len {
                grow(now)?;
            }
            table.set(self.file, self.id, new_len);
            Ok(())
        })
    }

    /// Names what follows growth of the file for this mapping.
    pub(crate) fn set_follower(&self, follower: Weak<dyn Follow>) {
        with_table(|table| {
            if let Some(mapped) = table.files.get_mut(&self.file) {
                mapped.followers.push((self.id, follower.clone()));
            }
        });
        BY_ID
            .write()
            .get_or_insert_with(HashMap::new)
            .insert(self.id, follower);
    }

    /// Tells the other live mappings of the file that it is now `len` bytes long. Called
    /// with no guard held; they follow outside the table's lock.
    pub(crate) fn grown(&self, len: u64) {
        let others: Vec<_> = with_table(|table| {
            table.files.get(&self.file).map_or_else(Vec::new, |mapped| {
                mapped
                    .followers
                    .iter()
                    .filter(|(id, _)| *id != self.id)
                    .filter_map(|(_, f)| f.upgrade())
                    .collect()
            })
        });
        // A follower whose last handle dropped meanwhile is dropped here, after the lock.
        for other in others {
            other.follow(len);
        }
    }

    /// Records that this mapping maps `len` bytes again, after a [`grow`](Self::grow) of a
    /// mapping that must not cut the file back (it grew the file by no call of its own).
    pub(crate) fn set_len(&self, len: u64) {
        with_table(|table| table.set(self.file, self.id, len));
    }

    /// Undoes a [`grow`](Self::grow) whose mapping failed: this mapping maps `old_len`
    /// bytes again, and if the grow lengthened the file (from `was` bytes), the file is cut
    /// back to that, or to what another handle maps, whichever is longer.
    pub(crate) fn grow_failed(&self, file: &File, old_len: u64, was: Option<u64>) {
        with_table(|table| {
            table.set(self.file, self.id, old_len);
            let Some(was) = was else { return };
            let keep = table.others(self.file, Some(self.id)).max(old_len).max(was);
            if file.metadata().is_ok_and(|m| m.len() > keep) {
                let _ = file.set_len(keep);
            }
        });
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(by_id) = BY_ID.write().as_mut() {
            by_id.remove(&self.id);
        }
        with_table(|table| {
            if let Some(mapped) = table.files.get_mut(&self.file) {
                mapped.maps.retain(|(id, _)| *id != self.id);
                mapped.followers.retain(|(id, _)| *id != self.id);
                // Kept while its lock may still be held (by this mapping's handle, being
                // dropped, or by a function writing the file): see `prune`.
                if mapped.maps.is_empty() && mapped.lock.strong_count() == 0 {
                    table.files.remove(&self.file);
                }
            }
        });
    }
}
