//! Opening a run folder for a command: which data the experiment reads (an explicitly configured
//! `data.celeba_dir` must hold CelebA; the synthetic faces only when nothing was configured), the
//! folder's lock, and whether a restart may continue the run the folder holds (only run lengths
//! may change; `--force-restart` deletes the state instead).

use anyhow::{Result, anyhow, bail};
use sliders_celeba::CelebaIndex;
use sliders_config::layout::file;
use sliders_config::restart::{Change, LENGTH_KEYS, parse_resolved, restart_changes};
use sliders_config::train::Experiment;
use sliders_train::run_dir::RunDir;

/// What to do with what a run folder already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// Continue the saved run if its config matches (all but run lengths), refuse otherwise.
    Resume,
    /// Delete the saved state and outputs, then start over (`--force-restart`).
    Force,
    /// Nothing to resume (the evaluation starts over every time): only lock the folder.
    Fresh,
}

/// The data an experiment reads, as recorded in `resolved.toml` (`[run] data_source`):
/// `celeba <dir>`, `synthetic <dir> (…)` or `<digits source> <dir>`. `celeba_dir_origin` is where
/// `data.celeba_dir` was set (a file and line, or a variable), `None` when nothing set it.
///
/// A configured `data.celeba_dir` that does not exist or holds no images is an error naming
/// the key, where it was set, the path and the fix; only an unconfigured one falls back to the
/// synthetic faces (the smoke profile's default).
pub fn data_source(exp: &Experiment, celeba_dir_origin: Option<&str>) -> Result<String> {
    let data = &exp.data;
    if data.source.is_digits() {
        return Ok(format!(
            "{} {}",
            data.source.as_str(),
            data.digits_dir.display()
        ));
    }
    let dir = &data.celeba_dir;
    if CelebaIndex::has_images(dir) {
        return Ok(format!("celeba {}", dir.display()));
    }
    if let Some(origin) = celeba_dir_origin {
        let what = if dir.is_dir() {
            "holds no CelebA (it needs img_align_celeba/ with images and list_attr_celeba.txt)"
        } else {
            "does not exist"
        };
        bail!(
            "data.celeba_dir = \"{}\" (set by {origin}) {what}. Fix: point data.celeba_dir at a \
             CelebA folder (img_align_celeba/ and the annotation files, see data/README.md), or \
             remove the setting to train on the synthetic faces",
            dir.display()
        );
    }
    Ok(format!(
        "synthetic {} (no data.celeba_dir configured and no CelebA in {})",
        data.synthetic.dir.display(),
        dir.display()
    ))
}

/// Opens `exp.run_dir` (taking its lock: an error naming the holder's PID when another process
/// has it) and, for [`Restart::Resume`], refuses a folder whose saved run has another config or
/// read other data; [`Restart::Force`] deletes what the folder holds first.
pub fn open(exp: &Experiment, restart: Restart, source: &str) -> Result<RunDir> {
    let run = RunDir::create(&exp.run_dir)?;
    match restart {
        Restart::Fresh => {}
        Restart::Force => run.clear()?,
        Restart::Resume => check_saved(exp, &run, source)?,
    }
    Ok(run)
}

/// Refuses to continue a run folder whose `resolved.toml` records another configuration.
fn check_saved(exp: &Experiment, run: &RunDir, source: &str) -> Result<()> {
    let path = run.path(file::RESOLVED);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(()); // a new folder
    };
    let fixes = fixes(exp);
    let (saved, provenance) = parse_resolved(&text).map_err(|e| {
        anyhow!(
            "{}: the saved configuration of this run folder does not load ({e}), so it cannot \
             be resumed. {fixes}",
            path.display()
        )
    })?;
    let mut changes = restart_changes(&saved, exp);
    let saved_source = provenance
        .as_ref()
        .and_then(|p| p.get("data_source"))
        .and_then(|v| v.as_str());
    if let Some(old) = saved_source
        && old != source
    {
        changes.push(Change {
            key: "data (the data the run reads)".into(),
            old: old.to_string(),
            new: source.to_string(),
        });
    }
    if changes.is_empty() {
        return Ok(());
    }
    let list: String = changes.iter().map(|c| format!("\n  {c}")).collect();
    bail!(
        "{}: this run folder holds a run of another configuration; continuing it would mix two \
         runs. Changed (saved → now):{list}\nOnly the run length may change on a restart ({} in \
         the *_train sections, step_scale), and where it runs (device, data.threads, \
         data.cache_dir). {fixes}",
        path.display(),
        LENGTH_KEYS.join(", ")
    )
}

/// The two ways out of a refused restart.
fn fixes(exp: &Experiment) -> String {
    format!(
        "Fix: set another run_dir (e.g. SLIDERS__RUN_DIR=\"{}-2\") to keep both runs, or rerun \
         with `sliders train --force-restart …` to delete the saved state of {} and start over",
        exp.run_dir.display(),
        exp.run_dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sliders_config::train::ExperimentKind;

    #[test]
    fn an_unconfigured_missing_dataset_means_synthetic_faces_and_a_configured_one_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let mut exp = Experiment::new(ExperimentKind::Fader, tmp.path().join("run"));
        exp.data.celeba_dir = tmp.path().join("no-such-dir");
        let source = data_source(&exp, None).unwrap();
        assert!(source.starts_with("synthetic "), "{source}");
        let err = data_source(&exp, Some("environment variable SLIDERS__DATA__CELEBA_DIR"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("data.celeba_dir")
                && err.contains("no-such-dir")
                && err.contains("SLIDERS__DATA__CELEBA_DIR")
                && err.contains("does not exist")
                && err.contains("Fix:"),
            "{err}"
        );
        exp.data.celeba_dir = tmp.path().to_path_buf();
        let err = data_source(&exp, Some("x.toml:3")).unwrap_err().to_string();
        assert!(err.contains("holds no CelebA"), "{err}");
    }
}
