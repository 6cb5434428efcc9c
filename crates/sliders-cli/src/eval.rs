//! `sliders eval --config eval.toml`: loads a `kind = "eval"` experiment, prepares its data, runs
//! the evaluation of sliders-eval on the chosen device and writes its tables (and, through
//! [`crate::figures`], its figures) into the experiment's run folder.

use crate::run_folder::{Restart, data_source};
use anyhow::{Result, bail};
use sliders_config::layout::file;
use sliders_config::train::ExperimentKind;
use std::path::PathBuf;

/// Runs `sliders eval`.
pub fn run(files: &[PathBuf]) -> Result<()> {
    let loaded = crate::train::load_layers(files)?;
    let exp = loaded.exp;
    if exp.kind() != ExperimentKind::Eval {
        bail!(
            "{}: kind = {:?}; `sliders eval` runs kind = \"eval\" experiments (use `sliders train` for this one)",
            files
                .last()
                .map(|f| f.display().to_string())
                .unwrap_or_default(),
            exp.kind()
        );
    }
    let exp = crate::train::checked(exp, files)?;
    let source = data_source(&exp, loaded.celeba_dir_origin.as_deref())?;
    let (run, data) = crate::train::start_run(&exp, files, "eval.log", Restart::Fresh, &source)?;
    let device = crate::train::write_resolved(&exp, &run, &source)?;
    let started = std::time::Instant::now();
    let results = sliders_eval::evaluate(&exp, &data, device)?;
    let tables_md = sliders_eval::output::markdown(&results);
    sliders_eval::output::write(&results, &tables_md, run.root())?;
    tracing::info!(
        "evaluation done in {:.0} s: {} figures; tables in {}",
        started.elapsed().as_secs_f64(),
        results.cells.len(),
        run.path(file::TABLES_MD).display()
    );
    Ok(())
}
