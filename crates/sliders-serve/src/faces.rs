//! The "pick a test face" list: the JPEG/PNG files of `--faces DIR`, or else faces of the test
//! split of the first model's training data, found through its run folder's `resolved.toml`
//! (`[data]`: CelebA when `celeba_dir` holds images, otherwise the synthetic faces of
//! `synthetic.dir`; the split recomputed with the run's `split` settings, which is deterministic).
//! Works for synthetic smoke runs and for CelebA runs alike. Files are read into memory once, at
//! startup.

use crate::error::{Result, ServeError};
use sliders_celeba::{CelebaIndex, Part};
use sliders_config::data::DataConfig;
use sliders_config::layout::file;
use std::path::{Path, PathBuf};

/// How many test faces the page offers.
pub const MAX_FACES: usize = 12;

/// One face the page can pick.
#[derive(Debug, Clone)]
pub struct Face {
    /// File name, shown as a tooltip.
    pub name: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub mime: &'static str,
}

/// The faces and where they came from (shown on the page).
#[derive(Debug, Clone, Default)]
pub struct TestFaces {
    /// Where the faces come from, or why there are none.
    pub source: String,
    /// The faces.
    pub faces: Vec<Face>,
}

fn mime_of(path: &Path) -> Option<&'static str> {
    match path
        .extension()?
        .to_string_lossy()
        .to_ascii_lowercase()
        .as_str()
    {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        _ => None,
    }
}

fn read_faces(paths: &[PathBuf]) -> Vec<Face> {
    paths
        .iter()
        .filter_map(|p| {
            let mime = mime_of(p)?;
            let bytes = std::fs::read(p)
                .map_err(|e| tracing::warn!("test face {}: {e}", p.display()))
                .ok()?;
            Some(Face {
                name: p.file_name()?.to_string_lossy().into_owned(),
                bytes,
                mime,
            })
        })
        .take(MAX_FACES)
        .collect()
}

/// The first [`MAX_FACES`] JPEG/PNG files of `dir` (sorted by name); an error when the folder
/// cannot be read or holds none.
pub fn from_dir(dir: &Path) -> Result<TestFaces> {
    let entries = std::fs::read_dir(dir).map_err(|e| ServeError::Faces {
        path: dir.to_path_buf(),
        what: format!("cannot list it ({e})"),
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && mime_of(p).is_some())
        .collect();
    paths.sort();
    let faces = read_faces(&paths);
    if faces.is_empty() {
        return Err(ServeError::Faces {
            path: dir.to_path_buf(),
            what: "no .jpg, .jpeg or .png file in it".into(),
        });
    }
    Ok(TestFaces {
        source: format!("--faces {}", folder_name(dir)),
        faces,
    })
}

/// The last component of a folder, as the page shows it (never the absolute path on the
/// server's disk).
fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "the folder".into())
}

/// Test-split faces of the data `run`'s `resolved.toml` describes; never fails: without data
/// the list is empty and `source` says why (the page then offers upload only).
pub fn from_run(run: &Path) -> TestFaces {
    match try_from_run(run) {
        Ok(f) => f,
        Err(why) => {
            tracing::warn!("no test faces from {}: {why}", run.display());
            TestFaces {
                // The reason names paths on the server's disk: the log has it, the page not.
                source: format!(
                    "none (the data of {} was not found, see the server's log; pass --faces DIR)",
                    folder_name(run)
                ),
                faces: vec![],
            }
        }
    }
}

/// A path from `resolved.toml` as written (relative to the working directory) or, when that does
/// not exist, relative to each folder above the run (a project started from elsewhere).
fn locate(run: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() || p.exists() {
        return p.to_path_buf();
    }
    let abs = std::fs::canonicalize(run).unwrap_or_else(|_| run.to_path_buf());
    abs.ancestors()
        .map(|a| a.join(p))
        .find(|c| c.exists())
        .unwrap_or_else(|| p.to_path_buf())
}

fn try_from_run(run: &Path) -> std::result::Result<TestFaces, String> {
    let dir = if run.is_dir() {
        run.to_path_buf()
    } else {
        run.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let resolved = dir.join(file::RESOLVED);
    let text = std::fs::read_to_string(&resolved)
        .map_err(|e| format!("cannot read {} ({e})", resolved.display()))?;
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        // Runs written before resolved.toml put its `[run]` table last (fc05ba1) do not parse
        // as a whole (the config's top-level keys landed inside `[run]`); their `[data]` table
        // and its sub-tables still do on their own.
        Err(e) => text
            .find("\n[data]")
            .and_then(|i| text[i..].parse().ok())
            .ok_or_else(|| format!("{} does not parse ({e})", resolved.display()))?,
    };
    let data: DataConfig = match table.get("data") {
        Some(v) => v
            .clone()
            .try_into()
            .map_err(|e| format!("{} [data]: {e}", resolved.display()))?,
        None => return Err(format!("{} has no [data] section", resolved.display())),
    };
    let celeba = locate(&dir, &data.celeba_dir);
    let (source, kind) = if CelebaIndex::has_images(&celeba) {
        (celeba, "CelebA")
    } else {
        let synthetic = locate(&dir, &data.synthetic.dir);
        if !CelebaIndex::has_images(&synthetic) {
            return Err(format!(
                "neither {} nor {} holds images",
                data.celeba_dir.display(),
                data.synthetic.dir.display()
            ));
        }
        (synthetic, "synthetic faces")
    };
    let index = CelebaIndex::open(&source).map_err(|e| e.to_string())?;
    let split =
        sliders_celeba::split::compute(&index.records, &data.split).map_err(|e| e.to_string())?;
    let paths: Vec<PathBuf> = split
        .indices(Part::Test)
        .into_iter()
        .map(|i| index.image_path(&index.records[i].name))
        .collect();
    let faces = read_faces(&paths);
    if faces.is_empty() {
        return Err(format!("the test split of {} is empty", source.display()));
    }
    Ok(TestFaces {
        source: format!(
            "test split of {} ({kind}, {})",
            folder_name(&source),
            split.kind
        ),
        faces,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_faces_folder_lists_its_images_sorted_and_refuses_an_empty_one() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("b.png"), b"png").unwrap();
        std::fs::write(tmp.path().join("a.JPG"), b"jpg").unwrap();
        std::fs::write(tmp.path().join("notes.txt"), b"x").unwrap();
        let f = from_dir(tmp.path()).unwrap();
        let names: Vec<_> = f.faces.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.JPG", "b.png"]);
        assert_eq!(f.faces[0].mime, "image/jpeg");
        let empty = tempfile::tempdir().unwrap();
        let err = from_dir(empty.path()).unwrap_err();
        assert!(err.to_string().contains("--faces"), "{err}");
    }

    #[test]
    fn the_data_section_of_an_old_resolved_toml_is_still_read() {
        let tmp = tempfile::tempdir().unwrap();
        let synth = tmp.path().join("synthetic");
        sliders_celeba::synthetic::ensure(&synth, 40, 64, 0).unwrap();
        // The layout before fc05ba1: `[run]` first, so `seed` is a duplicate key of `[run]`.
        std::fs::write(
            tmp.path().join("resolved.toml"),
            format!(
                "[run]\nseed = 0\n\nkind = \"fader\"\nseed = 0\n\n[data]\nceleba_dir = \"{}\"\n\
                 [data.synthetic]\ndir = \"{}\"\n",
                tmp.path().join("none").display(),
                synth.display()
            ),
        )
        .unwrap();
        let f = from_run(tmp.path());
        assert!(!f.faces.is_empty(), "{}", f.source);
    }

    #[test]
    fn a_run_without_data_gives_no_faces_and_says_why_without_its_path() {
        let tmp = tempfile::tempdir().unwrap();
        let f = from_run(tmp.path());
        assert!(f.faces.is_empty());
        assert!(f.source.contains("--faces"), "{}", f.source);
        let abs = tmp.path().display().to_string();
        assert!(!f.source.contains(&abs), "{}", f.source);
        assert!(
            try_from_run(tmp.path())
                .unwrap_err()
                .contains("resolved.toml")
        );
    }
}
