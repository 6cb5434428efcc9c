//! `sliders train --config exp.toml [--config profile.toml]`: loads the layered experiment (files in
//! order, then `SLIDERS__…` variables), prepares the data with a progress bar, writes the resolved
//! config into the run folder, and runs the loop the experiment names, resuming a run folder that
//! holds a saved state. Logs go to stderr and to `train.log` in the run folder.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use sliders_config::load::{Layer, load};
use sliders_config::train::{Experiment, ExperimentKind};
use sliders_train::run_dir::{Provenance, RunDir};
use sliders_train::{CganTrainer, ClassifierTrainer, EncoderTrainer, Event, FaderTrainer};
use std::path::PathBuf;
use std::time::Duration;

/// Loads an experiment from `files` (lowest priority first) and the environment.
pub fn load_experiment(files: &[PathBuf]) -> Result<Experiment> {
    let mut layers = Vec::new();
    for f in files {
        layers.push(Layer::from_file(f)?);
    }
    layers.push(Layer::from_env_vars(std::env::vars())?);
    let (exp, _) = load::<Experiment>(&layers)?;
    Ok(exp)
}

/// Runs `sliders train`.
pub fn run(files: &[PathBuf]) -> Result<()> {
    let mut exp = load_experiment(files)?;
    if exp.kind == ExperimentKind::Eval {
        anyhow::bail!("kind = \"eval\" experiments are run by `sliders eval --config …`");
    }
    let batch = match exp.kind {
        ExperimentKind::Encoders => exp.encoder_train.batch_size,
        _ => exp.data.sampler.batch_size,
    };
    exp.apply_step_scale(batch)?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("{:?}", exp.kind).to_lowercase());
    let mut on_event = |e: Event| report(&bar, e);
    if exp.kind == ExperimentKind::Digits {
        let r = crate::digits::run(&exp, files, &mut on_event);
        bar.finish_and_clear();
        return r;
    }
    let (run, data, _device) = start_run(&exp, files, "train.log")?;
    let result = match exp.kind {
        ExperimentKind::Fader => FaderTrainer::new(&exp, &data)?.run(&mut on_event),
        ExperimentKind::Classifier => ClassifierTrainer::new(&exp, &data)?.run(&mut on_event),
        ExperimentKind::Cgan => CganTrainer::new(&exp, &data)?.run(&mut on_event),
        ExperimentKind::Encoders => EncoderTrainer::new(&exp, &data)?.run(&mut on_event),
        ExperimentKind::Eval | ExperimentKind::Digits => unreachable!("handled above"),
    };
    bar.finish_and_clear();
    let counters = result?;
    tracing::info!(
        "done: {} steps; best reconstruction {:?}, best accuracy {:?}; models in {}",
        counters.step,
        counters.best_rec,
        counters.best_accu,
        run.root().display()
    );
    Ok(())
}

/// What every command that runs an experiment does first: creates its run folder, logs to
/// `log_name` there, prepares the data and writes `resolved.toml` with the resolved device.
pub fn start_run(
    exp: &Experiment,
    files: &[PathBuf],
    log_name: &str,
) -> Result<(RunDir, sliders_celeba::Prepared, tch::Device)> {
    let run = RunDir::create(&exp.run_dir)?;
    crate::logging::init(Some(&run.path(log_name)))?;
    tracing::info!(
        "experiment {} → {}",
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(" + "),
        exp.run_dir.display()
    );
    let data = prepare_data(exp)?;
    let device = write_resolved(exp, &run)?;
    Ok((run, data, device))
}

/// Resolves the experiment's device and writes `resolved.toml` (with provenance) into `run`.
pub fn write_resolved(exp: &Experiment, run: &RunDir) -> Result<tch::Device> {
    let device = sliders_train::device::resolve(exp.device)?;
    let resolved = toml::to_string(exp).context("serialising the resolved config")?;
    run.write_resolved(
        &resolved,
        &Provenance::collect(exp.seed, &sliders_train::device::name(device)),
    )?;
    Ok(device)
}

/// Prepares the experiment's data, with a progress bar while the cache is built.
pub fn prepare_data(exp: &Experiment) -> Result<sliders_celeba::Prepared> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("preprocessing [{bar:30}] {pos}/{len} images")
            .expect("valid template"),
    );
    let data = sliders_celeba::prepare(&exp.data, &mut |p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
    });
    bar.finish_and_clear();
    let data = data.with_context(|| format!("preparing the data of {}", exp.run_dir.display()))?;
    let [train, valid, test] = data.split.counts();
    tracing::info!(
        "data: {:?}, {} px, attributes {:?}; split {train}/{valid}/{test} ({})",
        data.source,
        data.cache.size(),
        data.selection.names(),
        data.split_path.display()
    );
    Ok(data)
}

fn report(bar: &ProgressBar, e: Event) {
    match e {
        Event::Started {
            start_step,
            total_steps,
            device,
        } => {
            bar.set_length(total_steps);
            bar.set_position(start_step);
            if start_step > 0 {
                tracing::info!("resuming at step {start_step} of {total_steps} on {device}");
            } else {
                tracing::info!("training {total_steps} steps on {device}");
            }
        }
        Event::Logged {
            step,
            values,
            images_per_sec,
            eta,
            ..
        } => {
            bar.set_position(step);
            let text = fmt_values(&values);
            bar.set_message(format!(
                "{text} | {images_per_sec:.0} img/s | ETA {}",
                fmt_duration(eta)
            ));
            tracing::debug!("step {step}: {text}");
        }
        Event::Evaluated {
            step,
            values,
            improved,
        } => {
            bar.suspend(|| {
                tracing::info!("step {step} eval: {} {improved:?}", fmt_values(&values))
            });
        }
        Event::Checkpointed { step } => tracing::debug!("state saved at step {step}"),
        Event::Finished { step } => bar.set_position(step),
    }
}

fn fmt_values(values: &[(String, f64)]) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{k}={v:.4}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sliders_config::train::ExperimentKind;

    /// Every experiment file of every profile loads on top of its profile's `data.toml` (as
    /// `cargo xtask reproduce` layers them), and the evaluations pass their checks, so a typo in
    /// a file fails here rather than hours into a reproduce.
    #[test]
    fn every_profile_experiment_file_loads_and_evaluations_validate() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut checked = 0;
        for profile in ["smoke", "quick", "paper"] {
            let dir = root.join("experiments").join(profile);
            let data = dir.join("data.toml");
            for entry in std::fs::read_dir(&dir).unwrap() {
                let file = entry.unwrap().path();
                if file.extension().is_none_or(|e| e != "toml") || file == data {
                    continue;
                }
                let exp = load_experiment(&[data.clone(), file.clone()])
                    .unwrap_or_else(|e| panic!("{}: {e:#}", file.display()));
                if exp.kind == ExperimentKind::Eval {
                    exp.eval
                        .validate()
                        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                }
                checked += 1;
            }
        }
        assert!(checked >= 15, "only {checked} experiment files found");
    }

    #[test]
    fn the_real_data_profiles_slide_young_over_the_fader_readme_range() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for profile in ["quick", "paper"] {
            let dir = root.join("experiments").join(profile);
            let exp = load_experiment(&[dir.join("data.toml"), dir.join("eval.toml")]).unwrap();
            let young = exp.eval.grid_alphas_for("Young");
            assert_eq!(
                (young[0], young[young.len() - 1]),
                (-9.0, 10.0),
                "{profile}"
            );
            assert_eq!(exp.eval.grid_alphas_for("Male"), exp.eval.grid_alphas);
        }
    }
}
