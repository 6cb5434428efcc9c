//! `sliders report --profile P --runs data/runs/P --out reports/P`: the pipeline's report, written
//! by sliders-report (`sliders_report::write`); this module only maps the command's arguments.

use anyhow::{Context, Result};
use std::path::PathBuf;

/// Options of `sliders report`.
pub struct ReportOptions {
    /// Profile name (for the title).
    pub profile: String,
    /// The profile's run folder (`data/runs/<profile>`).
    pub runs: PathBuf,
    /// Output folder (`reports/<profile>`).
    pub out: PathBuf,
    /// The device `reproduce` was asked for.
    pub device_asked: String,
}

/// Writes the report (the repository is the current folder); returns the README path.
pub fn run(opts: &ReportOptions) -> Result<PathBuf> {
    let repo = std::env::current_dir().context("reading the current folder")?;
    sliders_report::write(&sliders_report::ReportOptions {
        profile: opts.profile.clone(),
        runs: opts.runs.clone(),
        out: opts.out.clone(),
        device_asked: opts.device_asked.clone(),
        repo,
    })
    .with_context(|| format!("writing the report into {}", opts.out.display()))
}
