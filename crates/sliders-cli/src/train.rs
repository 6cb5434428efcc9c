//! `sliders train --config exp.toml [--config profile.toml] [--force-restart]`: loads the layered
//! experiment (files in order, then `SLIDERS__…` variables) and validates it before anything is
//! written, takes the run folder's lock, refuses to continue a run of another configuration
//! (unless `--force-restart`), prepares the data with a progress bar, builds the trainer, writes
//! the resolved config into the run folder, and runs the loop the experiment names, resuming a
//! run folder that holds a saved state. Logs go to stderr and to `train.log` in the run folder.

use crate::run_folder::{Restart, data_source};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use sliders_config::load::{Layer, load, origin_of};
use sliders_config::train::{Experiment, ExperimentKind};
use sliders_train::run_dir::{RunDir, provenance};
use sliders_train::state::Counters;
use sliders_train::{
    CganTrainer, ClassifierTrainer, EncoderTrainer, Event, FaderTrainer, TrainError,
};
use std::path::PathBuf;
use std::time::Duration;

/// An experiment as loaded, with where `data.celeba_dir` was set (`None`: not configured, so
/// the synthetic faces stand in when `data/celeba` holds no CelebA).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The experiment.
    pub exp: Experiment,
    /// The file and line, or the variable, that set `data.celeba_dir`.
    pub celeba_dir_origin: Option<String>,
}

/// Loads an experiment from `files` (lowest priority first) and the environment.
pub fn load_experiment(files: &[PathBuf]) -> Result<Experiment> {
    Ok(load_layers(files)?.exp)
}

/// Loads an experiment from `files` and the environment, noting where `data.celeba_dir` was set.
pub fn load_layers(files: &[PathBuf]) -> Result<Loaded> {
    let mut layers = Vec::new();
    for f in files {
        layers.push(Layer::from_file(f)?);
    }
    layers.push(Layer::from_env_vars(std::env::vars())?);
    let (exp, _) = load::<Experiment>(&layers)?;
    let celeba_dir_origin = origin_of(&layers, &["data", "celeba_dir"]);
    Ok(Loaded {
        exp,
        celeba_dir_origin,
    })
}

/// Applies the step scale and validates the experiment; an error names the files and the key.
pub fn checked(mut exp: Experiment, files: &[PathBuf]) -> Result<Experiment> {
    exp.fill_eval_defaults();
    let batch = match exp.kind() {
        ExperimentKind::Encoders => exp.encoder_train().batch_size,
        _ => exp.data.sampler.batch_size,
    };
    let names = || {
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(" + ")
    };
    exp.apply_step_scale(batch)
        .and_then(|()| exp.validate())
        .with_context(|| format!("invalid experiment {} (nothing was written)", names()))?;
    Ok(exp)
}

/// Runs `sliders train`; `force_restart` deletes what the run folder holds and starts over.
pub fn run(files: &[PathBuf], force_restart: bool) -> Result<()> {
    let loaded = load_layers(files)?;
    if loaded.exp.kind() == ExperimentKind::Eval {
        anyhow::bail!("kind = \"eval\" experiments are run by `sliders eval --config …`");
    }
    let exp = checked(loaded.exp.clone(), files)?;
    let restart = if force_restart {
        Restart::Force
    } else {
        Restart::Resume
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("{:?}", exp.kind()).to_lowercase());
    let mut on_event = |e: Event| report(&bar, e);
    if exp.kind() == ExperimentKind::Digits {
        let r = crate::digits::run(&exp, files, restart, &mut on_event);
        bar.finish_and_clear();
        return r;
    }
    let source = data_source(&exp, loaded.celeba_dir_origin.as_deref())?;
    let (run, data) = start_run(&exp, files, "train.log", restart, &source)?;
    let mut trainer = Trainer::new(&exp, &data)?;
    write_resolved(&exp, &run, &source)?;
    let result = trainer.run(&mut on_event);
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

/// The loop of a training experiment, built (and its networks checked against the data)
/// before `resolved.toml` is written.
enum Trainer {
    Fader(Box<FaderTrainer>),
    Classifier(Box<ClassifierTrainer>),
    Cgan(Box<CganTrainer>),
    Encoders(Box<EncoderTrainer>),
}

impl Trainer {
    fn new(exp: &Experiment, data: &sliders_celeba::Prepared) -> Result<Self, TrainError> {
        Ok(match exp.kind() {
            ExperimentKind::Fader => Self::Fader(Box::new(FaderTrainer::new(exp, data)?)),
            ExperimentKind::Classifier => {
                Self::Classifier(Box::new(ClassifierTrainer::new(exp, data)?))
            }
            ExperimentKind::Cgan => Self::Cgan(Box::new(CganTrainer::new(exp, data)?)),
            ExperimentKind::Encoders => Self::Encoders(Box::new(EncoderTrainer::new(exp, data)?)),
            ExperimentKind::Eval | ExperimentKind::Digits => {
                unreachable!("run by sliders eval and crate::digits")
            }
        })
    }

    fn run(&mut self, on_event: &mut dyn FnMut(Event)) -> Result<Counters, TrainError> {
        match self {
            Self::Fader(t) => t.run(on_event),
            Self::Classifier(t) => t.run(on_event),
            Self::Cgan(t) => t.run(on_event),
            Self::Encoders(t) => t.run(on_event),
        }
    }
}

/// What every command that runs an experiment does first, after validating it: opens its run
/// folder (lock, restart check or `--force-restart`, see [`crate::run_folder::open`]), logs to
/// `log_name` there and prepares the data (`source` is what [`data_source`] chose).
pub fn start_run(
    exp: &Experiment,
    files: &[PathBuf],
    log_name: &str,
    restart: Restart,
    source: &str,
) -> Result<(RunDir, sliders_celeba::Prepared)> {
    let run = crate::run_folder::open(exp, restart, source)?;
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
    if restart == Restart::Force {
        tracing::info!(
            "--force-restart: deleted what {} held",
            run.root().display()
        );
    }
    tracing::info!("data source: {source}");
    let data = prepare_data(exp)?;
    Ok((run, data))
}

/// Resolves the experiment's device and writes `resolved.toml` (with provenance, the data
/// `source` among it) into `run`.
pub fn write_resolved(exp: &Experiment, run: &RunDir, source: &str) -> Result<tch::Device> {
    let device = sliders_train::device::resolve(exp.device)?;
    let resolved = toml::to_string(exp).context("serialising the resolved config")?;
    run.write_resolved(
        &resolved,
        &provenance(exp.seed, &sliders_train::device::name(device)).with_data_source(source),
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
                // pipeline.toml describes the stages (sliders-config's pipeline), not a run.
                let pipeline = file.ends_with(sliders_config::pipeline::PIPELINE_FILE);
                if file.extension().is_none_or(|e| e != "toml") || file == data || pipeline {
                    continue;
                }
                let exp = load_experiment(&[data.clone(), file.clone()])
                    .unwrap_or_else(|e| panic!("{}: {e:#}", file.display()));
                let exp = super::checked(exp, &[data.clone(), file.clone()])
                    .unwrap_or_else(|e| panic!("{}: {e:#}", file.display()));
                if exp.kind() == ExperimentKind::Eval {
                    exp.eval()
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
            let young = exp.eval().grid_alphas_for("Young");
            assert_eq!(
                (young[0], young[young.len() - 1]),
                (-9.0, 10.0),
                "{profile}"
            );
            assert_eq!(exp.eval().grid_alphas_for("Male"), exp.eval().grid_alphas);
        }
    }
}
