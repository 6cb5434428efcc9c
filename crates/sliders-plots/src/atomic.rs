//! Atomic file writes: every file this crate produces goes through [`sliders_fs`] (a temporary
//! sibling, flushed and renamed over the destination), so a crash never leaves a half-written
//! figure or table behind.

use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{PlotsError, Result};

/// Writes `path` atomically: `fill` writes the content into a temporary file in the same folder,
/// which is flushed, synced and renamed to `path` only when `fill` succeeded. On error the
/// temporary file is removed and `path` is left as it was.
pub fn write_atomic<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()>,
{
    if path.file_name().is_none() {
        return Err(PlotsError::io(
            path,
            "write",
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file"),
        ));
    }
    // `fill`'s own error, kept whole (the temporary file only sees that it failed).
    let mut failed = None;
    let written = sliders_fs::write_atomic_with(path, |f| {
        let mut writer = BufWriter::new(f);
        if let Err(e) = fill(&mut writer) {
            failed = Some(e);
            return Err(std::io::Error::other("the content could not be written"));
        }
        writer.flush()
    });
    match (failed, written) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(PlotsError::io(path, "write", e)),
        (None, Ok(())) => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically (see [`write_atomic`]).
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |w| {
        w.write_all(bytes)
            .map_err(|e| PlotsError::io(path, "write", e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        write_bytes_atomic(&path, b"old").unwrap();
        let err = write_atomic(&path, |_| Err(PlotsError::input("test", "boom"))).unwrap_err();
        assert!(matches!(err, PlotsError::Input { .. }));
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn written_files_are_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        write_bytes_atomic(&path, b"x").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o044, 0o044, "{mode:o}");
    }

    #[test]
    fn a_missing_folder_is_made_and_an_unwritable_one_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("t.txt");
        write_bytes_atomic(&path, b"x").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
        // A "folder" that is a file cannot hold one.
        let blocked = path.join("t.txt");
        let err = write_bytes_atomic(&blocked, b"x").unwrap_err();
        assert!(err.to_string().contains("t.txt"), "{err}");
    }
}
