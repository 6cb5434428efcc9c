//! Ownership of a run folder: an OS file lock on `<run_dir>/.lock`, taken when a process opens
//! the folder and held until the process no longer holds any [`RunLock`] of it (in a `sliders`
//! command: until it exits). The holder writes its PID into the file, so a second process that
//! starts on the same folder fails at once with an error naming that PID. Inside one process
//! the lock is shared: every [`crate::run_dir::RunDir`] of a folder holds the same lock.

use crate::error::TrainError;
use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

/// The lock file's name inside a run folder.
pub const LOCK_FILE: &str = sliders_config::layout::file::LOCK;

/// A held lock on one run folder; the lock is released when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct RunLock {
    held: Arc<Held>,
}

#[derive(Debug)]
struct Held {
    path: PathBuf,
    file: File,
}

/// The locks this process holds, by canonical folder.
fn held() -> &'static Mutex<HashMap<PathBuf, Weak<Held>>> {
    static HELD: std::sync::OnceLock<Mutex<HashMap<PathBuf, Weak<Held>>>> =
        std::sync::OnceLock::new();
    HELD.get_or_init(|| Mutex::new(HashMap::new()))
}

impl RunLock {
    /// Takes the lock of the existing folder `root`, or shares it when this process already
    /// holds it. Fails at once, naming the holder's PID and the folder, when another process
    /// holds it.
    pub fn acquire(root: &Path) -> Result<Self, TrainError> {
        let key = std::fs::canonicalize(root).map_err(|e| TrainError::io(root, e))?;
        let path = key.join(LOCK_FILE);
        let mut map = held().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = map.get(&key).and_then(Weak::upgrade)
            && same_file(&h.file, &path)
        {
            return Ok(Self { held: h });
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| TrainError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                return Err(in_use(root, &path, pid.trim()));
            }
            Err(TryLockError::Error(e)) => return Err(TrainError::io(&path, e)),
        }
        let write_pid = |file: &mut File| -> std::io::Result<()> {
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            writeln!(file, "{}", std::process::id())?;
            file.flush()
        };
        write_pid(&mut file).map_err(|e| TrainError::io(&path, e))?;
        let h = Arc::new(Held { path, file });
        map.retain(|_, w| w.strong_count() > 0);
        map.insert(key, Arc::downgrade(&h));
        Ok(Self { held: h })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.held.path
    }
}

/// The error for a folder another process holds.
fn in_use(root: &Path, lock: &Path, pid: &str) -> TrainError {
    let holder = if pid.is_empty() {
        "another process (its PID is not written yet)".to_string()
    } else {
        format!("process {pid}")
    };
    TrainError::Config(format!(
        "run folder {} is in use by {holder} (lock file {}): two runs must not write into one \
         folder. Fix: wait for that run to finish or stop it, or set another run_dir \
         (SLIDERS__RUN_DIR=…)",
        root.display(),
        lock.display()
    ))
}

/// Whether the open `file` is still the file at `path` (the folder was not deleted and made
/// again since it was locked).
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `ok` holds within 5 s. Another test thread of this binary may be spawning `git`
    /// (run provenance): between fork and exec the child holds a copy of every descriptor, a
    /// lock's included, so a release can show a moment late.
    fn eventually(mut ok: impl FnMut() -> bool) -> bool {
        (0..100).any(|_| {
            let done = ok();
            if !done {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            done
        })
    }

    #[test]
    fn one_process_shares_its_lock_and_writes_its_pid() {
        let dir = std::env::temp_dir().join(format!("sliders-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = RunLock::acquire(&dir).unwrap();
        let b = RunLock::acquire(&dir).unwrap();
        assert_eq!(a.path(), b.path());
        let text = std::fs::read_to_string(dir.join(LOCK_FILE)).unwrap();
        assert_eq!(text.trim(), std::process::id().to_string());
        // Another open file description of the same file cannot take it.
        let other = File::open(dir.join(LOCK_FILE)).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        drop((a, b));
        assert!(
            eventually(|| other.try_lock().is_ok()),
            "the lock was not released when its last holder was dropped"
        );
        let err = RunLock::acquire(&dir).unwrap_err().to_string();
        assert!(err.contains("is in use by process"), "{err}");
        drop(other);
        assert!(
            eventually(|| RunLock::acquire(&dir).is_ok()),
            "the lock was not free after the other holder closed it"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
