//! sliders-report: the pipeline's report, `reports/<profile>/`, from a profile's run folders;
//! no libtorch. [`inputs`] collects typed inputs (each run's `resolved.toml` into sliders-config's
//! `Experiment` and provenance, `metrics.csv`, the evaluation's outputs, the checked-in deviation
//! list of [`deviations`]); [`render`] turns them into `README.md` as a pure function; [`figures`]
//! draws the training curves and copies the evaluation's figures; [`summary`] sets our accuracy
//! beside the Fader paper's Table 1 at the top; [`write`] does all of it: `README.md`,
//! `digits.md`, `figures/`, `tables/` and `metrics.json` (what `cargo xtask check-metrics` gates),
//! and on CelebA `local/`, every figure but the digits ones, kept out of git. `sliders report` only parses its arguments and calls [`write`].

pub mod deviations;
mod error;
pub mod figures;
pub mod inputs;
pub mod render;
pub mod resolved;
pub mod results;
pub mod summary;

pub use error::ReportError;
pub use inputs::ReportInputs;
pub use render::render;

use sliders_config::layout::{DigitsLayout, RunLayout, file};
use sliders_config::run_record::DataOrigin;
use sliders_config::train::ExperimentKind;
use std::path::{Path, PathBuf};

/// What `sliders report` was asked for.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Profile name (for the title).
    pub profile: String,
    /// The profile's run folder (`data/runs/<profile>`).
    pub runs: PathBuf,
    /// Output folder (`reports/<profile>`).
    pub out: PathBuf,
    /// The device `reproduce` was asked for.
    pub device_asked: String,
    /// The repository (its commit is stated; `docs/deviations.list` is read from it).
    pub repo: PathBuf,
}

/// Writes the report; returns the README's path.
pub fn write(opts: &ReportOptions) -> Result<PathBuf, ReportError> {
    let parts = inputs::collect(&opts.runs)?;
    let mut inputs = ReportInputs {
        profile: opts.profile.clone(),
        device_asked: opts.device_asked.clone(),
        git_commit: git_commit(&opts.repo),
        timings: parts.timings,
        wall_clock: parts.wall_clock,
        runs: parts.runs,
        digits: parts.digits,
        eval: parts.eval,
        deviations: deviations::read(&opts.repo)?,
        figures: Vec::new(),
        local: Vec::new(),
    };
    let figures = opts.out.join("figures");
    let tables = opts.out.join("tables");
    std::fs::create_dir_all(&figures).map_err(|e| ReportError::io(&figures, e))?;
    // CelebA may not be redistributed: on CelebA every figure but the digits ones goes to
    // local/, which git ignores and the README names (figures::kept_local).
    let local = (inputs.data_origin() == DataOrigin::Celeba).then(|| opts.out.join("local"));
    let curves = local.clone().unwrap_or_else(|| figures.clone());
    std::fs::create_dir_all(&curves).map_err(|e| ReportError::io(&curves, e))?;
    for run in inputs.runs_of(ExperimentKind::Fader) {
        figures::training_curves(&run.metrics, &run.name, &curves)?;
        if local.is_some() {
            figures::remove_stale(&figures.join(format!("training_{}.png", run.name)))?;
        }
    }
    for d in &inputs.digits {
        let dir = DigitsLayout::new(&opts.runs.join(&d.name)).eval();
        figures::copy_files(&dir.join("figures"), &figures, None)?;
        figures::copy_files(&dir.join("tables"), &tables, None)?;
    }
    let eval = RunLayout::new(&opts.runs).eval();
    figures::copy_files(&eval.join("figures"), &figures, local.as_deref())?;
    figures::copy_files(&eval.join("tables"), &tables, None)?;
    inputs.figures = inputs::pngs(&figures, "");
    if let Some(local) = &local {
        inputs.local = inputs::pngs(local, "");
    }
    let json = serde_json::to_string_pretty(&inputs.metrics())
        .map_err(|e| ReportError::format(Path::new(file::METRICS_JSON), e.to_string()))?;
    write_file(&opts.out.join(file::METRICS_JSON), &json)?;
    if !inputs.digits.is_empty() {
        // The digits figures show no CelebA face, so this page and its figures may be committed
        // where the rest of a CelebA profile's report may not (.gitignore).
        write_file(&opts.out.join("digits.md"), &render::digits_page(&inputs))?;
    }
    let readme = opts.out.join("README.md");
    write_file(&readme, &render(&inputs))?;
    Ok(readme)
}

/// Writes through a temporary file in the same folder, then renames (sliders-plots' writer).
fn write_file(path: &Path, text: &str) -> Result<(), ReportError> {
    Ok(sliders_plots::write_bytes_atomic(path, text.as_bytes())?)
}

/// `git rev-parse --short HEAD` in `repo`, or "unknown".
fn git_commit(repo: &Path) -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(repo)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests;
