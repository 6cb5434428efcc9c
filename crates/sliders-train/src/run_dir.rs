//! A run folder: `resolved.toml` (the config with git commit, seed, device and versions),
//! `metrics.csv` (appended as training goes, read back by [`MetricsTable`], which sliders-config
//! owns with [`Provenance`] so that tch-free readers share them), `checkpoints/` and
//! `samples/`. Files are written to a temporary name and renamed, so a crash never leaves half a
//! file. Opening a folder takes its lock ([`crate::run_lock`]): one process writes into it at a
//! time.

use crate::error::TrainError;
use crate::run_lock::{LOCK_FILE, RunLock};
use sliders_config::layout::{file, folder};
use sliders_config::run_record::Phase;
pub use sliders_config::run_record::{MetricsTable, Provenance};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub use sliders_fs::tmp_path;

/// Writes `bytes` to `path` atomically and durably ([`sliders_fs::write_atomic`]).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    sliders_fs::write_atomic(path, bytes).map_err(|e| TrainError::io(path, e))
}

/// The folder of one training run, owned by this process while the value (or a clone) lives.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
    lock: RunLock,
}

impl RunDir {
    /// Opens (creating as needed) the run folder, takes its lock (an error naming the holder's
    /// PID when another process has it), and makes its `checkpoints/` and `samples/`.
    pub fn create(root: &Path) -> Result<Self, TrainError> {
        std::fs::create_dir_all(root).map_err(|e| TrainError::io(root, e))?;
        let lock = RunLock::acquire(root)?;
        for dir in [root.join(folder::CHECKPOINTS), root.join(folder::SAMPLES)] {
            std::fs::create_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
        }
        // Fail now, not after an hour of training, if the folder cannot be written.
        let probe = root.join(".write-probe");
        std::fs::write(&probe, b"").map_err(|e| TrainError::io(&probe, e))?;
        let _ = std::fs::remove_file(&probe);
        Ok(Self {
            root: root.to_path_buf(),
            lock,
        })
    }

    /// Deletes everything the folder holds but its lock (state, checkpoints, models, metrics,
    /// logs, `resolved.toml`), so the run starts over (`sliders train --force-restart`).
    pub fn clear(&self) -> Result<(), TrainError> {
        let entries = std::fs::read_dir(&self.root).map_err(|e| TrainError::io(&self.root, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| TrainError::io(&self.root, e))?;
            let path = entry.path();
            if entry.file_name() == LOCK_FILE {
                continue;
            }
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(|e| TrainError::io(&path, e))?;
        }
        for dir in [self.checkpoints(), self.samples()] {
            std::fs::create_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
        }
        Ok(())
    }

    /// The lock this process holds on the folder.
    pub fn lock(&self) -> &RunLock {
        &self.lock
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A file in the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The folder of the resumable state.
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join(folder::CHECKPOINTS)
    }

    /// The folder of sample images.
    pub fn samples(&self) -> PathBuf {
        self.root.join(folder::SAMPLES)
    }

    /// Writes `resolved.toml`: `config` (TOML) followed by a `[run]` table of provenance; the
    /// file parses as TOML.
    pub fn write_resolved(
        &self,
        config_toml: &str,
        provenance: &Provenance,
    ) -> Result<(), TrainError> {
        let mut text =
            String::from("# The configuration this run used, after layering and overrides.\n");
        // The config's top-level keys must precede every table, so `[run]` goes last.
        text.push_str(config_toml);
        text.push('\n');
        text.push_str(&provenance.to_toml());
        atomic_write(&self.path(file::RESOLVED), text.as_bytes())
    }
}

/// Provenance for a run on `device` with `seed`, read from git and the build (the `[run]` table
/// of `resolved.toml`; the type lives in sliders-config so that tch-free readers share it).
pub fn provenance(seed: u64, device: &str) -> Provenance {
    Provenance {
        git_commit: git_commit(),
        seed,
        device: device.to_string(),
        sliders_version: env!("CARGO_PKG_VERSION").to_string(),
        libtorch_version: env!("SLIDERS_LIBTORCH_VERSION").to_string(),
        data_source: String::new(),
    }
}

fn git_commit() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "HEAD"]) {
        Some(commit) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{commit}-dirty")
            } else {
                commit
            }
        }
        None => "unknown".to_string(),
    }
}

/// `metrics.csv`: a header of fixed columns (`step`, `phase`, then the trainer's metrics), one row
/// per logged step and per evaluation; cells a row does not have are empty.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    columns: Vec<String>,
    file: File,
}

impl MetricsLog {
    /// Opens the log for a run that (re)starts after `done_steps`: rows of later steps, written
    /// by an interrupted run after its last checkpoint, are dropped so none is repeated. A file
    /// with other columns is an error that names both headers.
    pub fn open(path: &Path, columns: &[&str], done_steps: u64) -> Result<Self, TrainError> {
        let mut header = vec!["step".to_string(), "phase".to_string()];
        header.extend(columns.iter().map(|c| c.to_string()));
        let header_line = header.join(",");
        let mut kept = format!("{header_line}\n");
        if let Ok(text) = std::fs::read_to_string(path) {
            let mut lines = text.lines();
            let found = lines.next().unwrap_or("");
            if found != header_line {
                return Err(TrainError::Config(format!(
                    "{}: its columns `{found}` differ from this run's `{header_line}`; it belongs to \
                     another kind of run: use another run_dir or delete the folder",
                    path.display()
                )));
            }
            let width = header.len();
            for line in lines {
                // A line cut short by a crash has fewer cells (or a truncated step): drop it.
                let complete = line.split(',').count() == width;
                let step: Option<u64> = line.split(',').next().and_then(|s| s.parse().ok());
                if complete && step.is_some_and(|s| s <= done_steps) {
                    kept.push_str(line);
                    kept.push('\n');
                }
            }
        }
        atomic_write(path, kept.as_bytes())?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| TrainError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            columns: header,
            file,
        })
    }

    /// Appends one row; unknown keys are an error (a programming mistake, caught by tests).
    pub fn append<K: AsRef<str>>(
        &mut self,
        step: u64,
        phase: Phase,
        values: &[(K, f64)],
    ) -> Result<(), TrainError> {
        let mut cells = vec![String::new(); self.columns.len()];
        cells[0] = step.to_string();
        cells[1] = phase.as_str().to_string();
        for (key, value) in values {
            let i = self
                .columns
                .iter()
                .position(|c| c == key.as_ref())
                .ok_or_else(|| {
                    TrainError::Config(format!("metrics.csv has no column `{}`", key.as_ref()))
                })?;
            cells[i] = format!("{value}");
        }
        // One write per row, its newline included, so a kill leaves whole rows or none.
        let row = format!("{}\n", cells.join(","));
        self.file
            .write_all(row.as_bytes())
            .map_err(|e| TrainError::io(&self.path, e))?;
        self.file.flush().map_err(|e| TrainError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resolved_config_is_valid_toml_with_its_provenance() {
        let dir = std::env::temp_dir().join(format!("sliders-resolved-{}", std::process::id()));
        let run = RunDir::create(&dir).unwrap();
        let p = provenance(7, "cpu");
        run.write_resolved(
            "kind = \"fader\"\ndevice = \"auto\"\n\n[data]\nimage_size = 32\n",
            &p,
        )
        .unwrap();
        let text = std::fs::read_to_string(dir.join("resolved.toml")).unwrap();
        let value: toml::Table = text.parse().unwrap();
        assert_eq!(value["device"].as_str(), Some("auto"));
        assert_eq!(value["run"]["device"].as_str(), Some("cpu"));
        assert_eq!(value["run"]["seed"].as_integer(), Some(7));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn metrics_rows_after_the_resume_point_are_dropped() {
        let dir = std::env::temp_dir().join(format!("sliders-metrics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        {
            let mut log = MetricsLog::open(&path, &["loss", "acc"], 0).unwrap();
            log.append(25, Phase::Train, &[("loss", 0.5)]).unwrap();
            log.append(50, Phase::Train, &[("loss", 0.25)]).unwrap();
            log.append(50, Phase::Eval, &[("acc", 0.75)]).unwrap();
            log.append(75, Phase::Train, &[("loss", 0.125)]).unwrap();
            // A crash in the middle of a write leaves a partial line behind.
            use std::io::Write as _;
            write!(log.file, "1").unwrap();
            assert!(log.append(75, Phase::Train, &[("nope", 1.0)]).is_err());
        }
        let mut log = MetricsLog::open(&path, &["loss", "acc"], 50).unwrap();
        log.append(75, Phase::Train, &[("loss", 0.1)]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "step,phase,loss,acc\n25,train,0.5,\n50,train,0.25,\n50,eval,,0.75\n75,train,0.1,\n"
        );
        let err = MetricsLog::open(&path, &["other"], 50)
            .unwrap_err()
            .to_string();
        assert!(err.contains("differ from this run"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
