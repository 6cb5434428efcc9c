//! sliders-fs: the one way sliders writes a file it must not leave half-written (models,
//! checkpoints, run records, tables, edited photos). The bytes go to a temporary sibling
//! (`.name.<pid>.tmp`, so two processes never share one), are flushed to disk, and the file is
//! renamed over its destination; then the folder itself is flushed, so the rename survives a
//! power loss. A crash or a `kill -9` at any point leaves the old file or the new one, never a
//! mix, and at worst a stray `.tmp` sibling that the next write of the same process replaces.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The temporary sibling `dir/.name.<pid>.tmp` that [`write_atomic`] writes `dir/name` through.
pub fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// The folder `path` is in (`.` for a bare file name).
fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` to `path` atomically and durably, creating its folder if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// Like [`write_atomic`], with `fill` writing the contents into the temporary file. On any error
/// the temporary file is removed and the destination is untouched.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = parent(path);
    std::fs::create_dir_all(&dir)?;
    let tmp = tmp_path(path);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        fill(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename is in the folder's entries: flush them too. Best effort: some file systems
    // cannot open a folder for syncing, and the file's own contents are already on disk.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sliders-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_write_creates_the_folder_replaces_the_file_and_leaves_no_temporary() {
        let dir = scratch("write");
        let path = dir.join("sub/a.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.join("sub"))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(names.len(), 1, "only the file, no temporary sibling");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_failed_fill_leaves_the_old_file_and_no_temporary() {
        let dir = scratch("fail");
        let path = dir.join("a.bin");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |f| {
            f.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert!(!tmp_path(&path).exists());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_temporary_is_a_hidden_sibling_named_after_the_process() {
        let t = tmp_path(Path::new("runs/x/model.safetensors"));
        assert_eq!(
            t,
            PathBuf::from(format!(
                "runs/x/.model.safetensors.{}.tmp",
                std::process::id()
            ))
        );
    }
}
