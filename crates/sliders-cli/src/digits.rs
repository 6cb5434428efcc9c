//! `sliders train` for a `kind = "digits"` experiment (IcGAN's MNIST variant,
//! docs/icgan.md#digits): loads the digit dataset `data.source` names, trains the cGAN, the encoder
//! layouts of `[digits]` and the digit classifier into sub-folders of the run folder (each skipped
//! when complete), then evaluates and writes `eval/` there: `tables.md`, `results.csv`,
//! `metrics.json`, `tables/*.csv|.parquet` and the reconstruction/class-swap figures in `figures/`.

use crate::run_folder::Restart;
use anyhow::{Context, Result, bail};
use sliders_celeba::{DigitsData, Part};
use sliders_config::layout::{DigitsLayout, file};
use sliders_config::train::Experiment;
use sliders_train::Event;
use std::path::PathBuf;

/// Runs a digits experiment end to end.
pub fn run(
    exp: &Experiment,
    files: &[PathBuf],
    restart: Restart,
    on_event: &mut dyn FnMut(Event),
) -> Result<()> {
    if !exp.data.source.is_digits() {
        bail!(
            "{}: kind = \"digits\" needs data.source = \"mnist\" or \"fashion_mnist\" (it is {:?})",
            files
                .last()
                .map(|f| f.display().to_string())
                .unwrap_or_default(),
            exp.data.source.as_str()
        );
    }
    let source = crate::run_folder::data_source(exp, None)?;
    let run = crate::run_folder::open(exp, restart, &source)?;
    crate::logging::init(Some(&run.path("train.log")))?;
    let mut data = DigitsData::load(exp.data.source, &exp.data.digits_dir)
        .with_context(|| format!("loading the digits of {}", exp.run_dir.display()))?;
    data.limit(Part::Train, exp.digits().max_train_images);
    let counts = Part::ALL.map(|p| data.indices(p).len());
    tracing::info!(
        "data: {} from {}; split {}/{}/{} (train/valid/test)",
        exp.data.source.as_str(),
        exp.data.digits_dir.display(),
        counts[0],
        counts[1],
        counts[2]
    );
    let device = crate::train::write_resolved(exp, &run, &source)?;
    let started = std::time::Instant::now();
    sliders_train::icgan::digits::train_all(
        exp,
        &data,
        &mut |stage| tracing::info!("digits stage {stage}"),
        on_event,
    )?;
    tracing::info!(
        "digits training done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let results = sliders_eval::digits::evaluate(exp, &data, device)?;
    let eval_dir = DigitsLayout::new(run.root()).eval();
    let tables_md = sliders_eval::digits::markdown(&results);
    sliders_eval::output::write(&results, &tables_md, &eval_dir)?;
    tracing::info!(
        "digits done in {:.0} s; table in {}",
        started.elapsed().as_secs_f64(),
        eval_dir.join(file::TABLES_MD).display()
    );
    Ok(())
}
