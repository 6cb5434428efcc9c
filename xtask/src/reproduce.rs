//! `cargo xtask reproduce`: runs the pipeline's stages (docs/architecture.md#reproduce-stages) as
//! `sliders` calls with the experiment files of a profile, up to `--jobs` at once as the stage
//! graph allows (`crate::schedule`), skipping stages whose outputs are complete, records each
//! stage's wall time and the invocation's, then has `sliders report` write `reports/<profile>/`.
//!
//! The stages, their run folders, done markers and what each is built from are the profile's
//! pipeline description (sliders-config's `pipeline`, docs/architecture.md#the-pipeline-description):
//! `classifier`, `fader-<Attribute>` (one per entry of data.toml's `attributes`), `cgan`,
//! `encoders-<layout>`, `eval`, `digits-<source>` (pipeline.toml), then `report`; this module
//! adds the `sliders` call of each.
//! `--only`/`--force` also take a group name: `digits` selects every `digits-*` stage. A digits
//! stage fetches its dataset (`cargo xtask data digits`) when `data/digits/` lacks it.

use crate::schedule::Outcome;
use anyhow::{Context, Result, bail};
use sliders_config::layout::{RunLayout, folder};
use sliders_config::pipeline::{self, Pipeline, StageKind};
use sliders_config::wall_clock::{Invocation, WallClock};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod launch;
pub use launch::sliders_call;

/// The profiles with experiment folders.
pub const PROFILES: &[&str] = &["smoke", "quick", "paper"];

/// Options of `cargo xtask reproduce`.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Profile: `smoke` (synthetic faces at 32 px; minutes on a CPU), `quick` (CelebA sample
    /// at 64 px; minutes on a GPU), `paper` (full CelebA, the papers' sizes; hours on a GPU).
    #[arg(long, default_value = "smoke")]
    pub profile: String,
    /// A CelebA-layout folder (default: data/celeba, else synthetic faces).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Device for every stage.
    #[arg(long, default_value = "auto", value_parser = ["auto", "cpu", "cuda"])]
    pub device: String,
    /// Rerun a stage from scratch (its run folder is deleted first; repeatable): `classifier`, `fader-Smiling`,
    /// `cgan`, `encoders-ind`, `eval`, …
    #[arg(long)]
    pub force: Vec<String>,
    /// Run only these stages (repeatable; default all), e.g. `--only eval --only report`.
    #[arg(long)]
    pub only: Vec<String>,
    /// Train every stage for this fraction of the profile's steps (steps, evaluation and
    /// checkpoint intervals, lambda schedule, encoder epochs), e.g. `0.1` to run the GPU
    /// profile `quick` on a CPU; the report states it. Applies to stages trained now.
    #[arg(long, default_value_t = 1.0)]
    pub step_scale: f64,
    /// Build `sliders` in the dev profile even for `quick`/`paper` (which use release): much
    /// faster to compile; training speed barely changes, the tensor work runs in libtorch.
    #[arg(long)]
    pub dev_build: bool,
    /// Put the run folders in this folder instead of `data/runs/<profile>` and the report in
    /// its `report/` instead of `reports/<profile>/`; the experiment files' run paths follow.
    #[arg(long)]
    pub runs_root: Option<PathBuf>,
    /// How many stages run at once, each its own process with its output in
    /// `<runs>/logs/<stage>.log`; a stage starts when the stages it reads have finished.
    /// `auto`: 1 on `--device cpu`; on CUDA the card's memory over an estimated 8 GiB per
    /// stage (1 without `nvidia-smi`).
    #[arg(long, default_value = "auto")]
    pub jobs: crate::jobs::Jobs,
}

/// One stage: a node of the profile's stage graph (sliders-config's pipeline description) and
/// the `sliders` call that makes it.
pub struct Stage {
    /// Name, run folder, done marker and what it is built from.
    pub graph: pipeline::Stage,
    /// Name (`fader-Smiling`).
    pub name: String,
    command: &'static str,
    /// Its experiment files, layered in order.
    pub(crate) files: Vec<PathBuf>,
    /// Its own overrides (applied last).
    pub(crate) env: Vec<(String, String)>,
    /// Its run folder, relative to the workspace.
    pub run_dir: PathBuf,
}

fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

/// The profile's pipeline description (`experiments/<profile>/data.toml` and `pipeline.toml`).
pub fn pipeline_of(root: &Path, profile: &str) -> Result<Pipeline> {
    Ok(Pipeline::load(&root.join("experiments").join(profile))?)
}

/// The stages of a profile, in order, with their run folders under `runs` (the profile's
/// `data/runs/<profile>` or a `--runs-root`); `root` is the workspace.
pub fn stages(root: &Path, profile: &str, runs: &Path) -> Result<Vec<Stage>> {
    let pipeline = pipeline_of(root, profile)?;
    let exp = PathBuf::from("experiments").join(profile);
    let data = exp.join("data.toml");
    let with = |f: &str| vec![data.clone(), exp.join(f)];
    let stages = pipeline.stages(&RunLayout::new(runs));
    Ok(stages
        .into_iter()
        .map(|graph| {
            let (command, files, mut env) = match &graph.kind {
                StageKind::Classifier => ("train", with("classifier.toml"), vec![]),
                StageKind::Fader(attr) => (
                    "train",
                    with("fader.toml"),
                    vec![(
                        "SLIDERS__DATA__ATTRIBUTES".into(),
                        format!("[{}]", quoted(attr)),
                    )],
                ),
                StageKind::Cgan => ("train", with("cgan.toml"), vec![]),
                StageKind::Encoders(kind) => (
                    "train",
                    with("encoders.toml"),
                    vec![(
                        "SLIDERS__ENCODER_TRAIN__ENCODER_KIND".into(),
                        quoted(folder::encoder_slug(*kind)),
                    )],
                ),
                StageKind::Eval => ("eval", with("eval.toml"), vec![]),
                StageKind::Digits(source) => (
                    "train",
                    vec![exp.join("digits.toml")],
                    vec![("SLIDERS__DATA__SOURCE".into(), quoted(source.as_str()))],
                ),
            };
            env.push((
                "SLIDERS__RUN_DIR".into(),
                toml::Value::String(graph.run_dir.display().to_string()).to_string(),
            ));
            Stage {
                name: graph.name.to_string(),
                run_dir: graph.run_dir.clone(),
                graph,
                command,
                files,
                env,
            }
        })
        .collect())
}

/// Whether `--only`/`--force` entry `pattern` names stage `name`: the name itself, or its group
/// (`digits` for `digits-mnist`).
pub fn matches(pattern: &str, name: &str) -> bool {
    pattern == name
        || name
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('-'))
}

/// Builds the `sliders` binary (release for the quick and paper profiles) and returns its path
/// (or the prebuilt one, `crate::build::PREBUILT_VAR`).
pub(crate) fn build_sliders(root: &Path, release: bool) -> Result<PathBuf> {
    crate::build::binary(
        root,
        "sliders-cli",
        "sliders",
        crate::build::Kind::Bin,
        release,
    )
}

/// Wall time spent on each stage's current outputs (summed over the invocations that resumed it),
/// kept across invocations in `data/runs/<profile>/timings.json`.
fn load_timings(path: &Path) -> BTreeMap<String, f64> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// What every stage of one `reproduce` call shares.
struct Ctx<'a> {
    root: &'a Path,
    opts: &'a Options,
    sliders: PathBuf,
    /// The runs root as the stages name it (relative to the workspace, or absolute).
    runs_rel: PathBuf,
    common_env: Vec<(String, String)>,
    timings_path: PathBuf,
    timings: BTreeMap<String, f64>,
    /// Every stage of the profile (what a stage is built from may lie outside `chosen`).
    all: &'a [Stage],
    /// The stages of this invocation, in pipeline order (the scheduler's indices).
    chosen: Vec<&'a Stage>,
    /// How many run at once (`--jobs`): with more than one, each writes to its log file.
    jobs: usize,
    /// Per chosen stage, the seconds earlier invocations spent on the outputs it resumes.
    spent_before: Vec<f64>,
}

/// Checks the profile before its pipeline description is read.
fn check_profile(opts: &Options) -> Result<()> {
    if !PROFILES.contains(&opts.profile.as_str()) {
        bail!(
            "unknown profile `{}`: use one of {}",
            opts.profile,
            PROFILES.join(", ")
        );
    }
    Ok(())
}

/// Checks the stage names and the step scale before anything runs.
fn check_options(opts: &Options, all: &[Stage]) -> Result<()> {
    let known: Vec<&str> = all
        .iter()
        .map(|s| s.name.as_str())
        .chain(["report"])
        .collect();
    for s in opts.only.iter().chain(&opts.force) {
        if !known.iter().any(|k| matches(s, k)) {
            bail!("unknown stage `{s}`: the stages are {}", known.join(", "));
        }
    }
    if !(opts.step_scale > 0.0 && opts.step_scale <= 1.0) {
        bail!(
            "--step-scale {}: use a factor in (0, 1], e.g. 0.1 for a tenth of the steps",
            opts.step_scale
        );
    }
    Ok(())
}

/// The override that points a stage at the CelebA-layout folder `data` (`--data`).
pub fn data_env(data: &Path) -> Result<(String, String)> {
    let abs = std::fs::canonicalize(data).with_context(|| format!("--data {}", data.display()))?;
    Ok((
        "SLIDERS__DATA__CELEBA_DIR".to_string(),
        quoted(&abs.display().to_string()),
    ))
}

/// The overrides every stage gets: device, data folder, step scale.
fn common_env(opts: &Options) -> Result<Vec<(String, String)>> {
    let mut env = vec![("SLIDERS__DEVICE".to_string(), quoted(&opts.device))];
    if let Some(data) = &opts.data {
        env.push(data_env(data)?);
    }
    if opts.step_scale != 1.0 {
        env.push((
            "SLIDERS__STEP_SCALE".to_string(),
            format!("{:?}", opts.step_scale),
        ));
    }
    Ok(env)
}

/// Runs the pipeline.
pub fn run(root: &Path, opts: &Options) -> Result<()> {
    let runs_rel = match &opts.runs_root {
        Some(dir) => absolute(dir)?,
        None => crate::relocate::default_runs(&opts.profile),
    };
    check_profile(opts)?;
    let all = stages(root, &opts.profile, &runs_rel)?;
    check_options(opts, &all)?;
    crate::setup::run(root)?;
    let sliders = build_sliders(root, opts.profile != "smoke" && !opts.dev_build)?;
    let runs = root.join(&runs_rel);
    std::fs::create_dir_all(&runs).with_context(|| format!("creating {}", runs.display()))?;
    let layout = RunLayout::new(&runs);
    let selected = |name: &str| opts.only.is_empty() || opts.only.iter().any(|o| matches(o, name));
    let chosen: Vec<&Stage> = all.iter().filter(|s| selected(&s.name)).collect();
    let graph: Vec<&pipeline::Stage> = chosen.iter().map(|s| &s.graph).collect();
    let needs = crate::schedule::needs(&graph);
    let widest = crate::schedule::widest_level(&needs);
    let (jobs, why) =
        crate::jobs::resolve(opts.jobs, &opts.device, crate::jobs::gpu_memory_mib, widest);
    println!("==> jobs: {jobs} ({why})");
    let mut ctx = Ctx {
        root,
        opts,
        sliders,
        runs_rel,
        common_env: common_env(opts)?,
        timings: load_timings(&layout.timings()),
        timings_path: layout.timings(),
        all: &all,
        chosen,
        jobs,
        spent_before: vec![0.0; graph.len()],
    };
    let outcome = crate::schedule::run(&needs, jobs, &mut ctx);
    record_wall_clock(&layout, jobs, &outcome)?;
    if let Some(failure) = outcome.failure {
        return Err(failure);
    }
    if selected("report") || outcome.started > 0 {
        let out = match &opts.runs_root {
            Some(_) => runs.join("report"),
            None => root.join("reports").join(&opts.profile),
        };
        write_report(&ctx, &runs, &out)?;
    }
    Ok(())
}

/// Adds this invocation to the runs root's `wall_clock.json` when it started a stage.
fn record_wall_clock(layout: &RunLayout, jobs: usize, outcome: &Outcome) -> Result<()> {
    if outcome.started == 0 {
        return Ok(());
    }
    let path = layout.wall_clock();
    let mut clock: WallClock = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not reproduce's wall-clock record; delete it to start the record over",
                path.display()
            )
        })?,
        Err(_) => WallClock::default(),
    };
    clock.invocations.push(Invocation {
        jobs,
        stages: outcome.started,
        seconds: outcome.seconds,
        stage_seconds: outcome.stage_seconds,
    });
    let json = serde_json::to_string_pretty(&clock)?;
    sliders_fs::write_atomic(&path, json.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// `sliders report` on the runs in `runs`, into `out`.
fn write_report(ctx: &Ctx, runs: &Path, out: &Path) -> Result<()> {
    println!("==> report");
    let status = Command::new(&ctx.sliders)
        .arg("report")
        .arg("--profile")
        .arg(&ctx.opts.profile)
        .arg("--runs")
        .arg(runs)
        .arg("--out")
        .arg(out)
        .arg("--device-asked")
        .arg(&ctx.opts.device)
        .current_dir(ctx.root)
        .status()
        .with_context(|| format!("cannot run {}", ctx.sliders.display()))?;
    if !status.success() {
        bail!("writing the report failed ({status})");
    }
    println!("==> report: {}", out.join("README.md").display());
    Ok(())
}

/// `dir` made absolute against the current folder (created first, so a `--runs-root` that
/// does not exist yet is fine).
fn absolute(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--runs-root {}: creating it", dir.display()))?;
    std::fs::canonicalize(dir).with_context(|| format!("--runs-root {}", dir.display()))
}

/// When `stage` last completed (its done marker's modification time), `None` while incomplete.
fn finished_at(root: &Path, stage: &Stage) -> Option<std::time::SystemTime> {
    let marker = root.join(stage.graph.done_path());
    std::fs::metadata(marker).and_then(|m| m.modified()).ok()
}

/// The stages among `names` that completed after `stage` did (none while `stage` is incomplete).
fn finished_after(
    root: &Path,
    all: &[Stage],
    stage: &Stage,
    names: &[pipeline::StageName],
) -> Vec<String> {
    let Some(at) = finished_at(root, stage) else {
        return vec![];
    };
    all.iter()
        .filter(|u| names.contains(&u.graph.name))
        .filter(|u| finished_at(root, u).is_some_and(|t| t > at))
        .map(|u| u.name.clone())
        .collect()
}

/// Deletes a stage's run folder so that it trains from the start.
fn remove_run(root: &Path, stage: &Stage) -> Result<()> {
    let dir = root.join(&stage.run_dir);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("removing {} to rerun it", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_select_their_stages() {
        assert!(matches("digits", "digits-mnist"));
        assert!(matches("digits-mnist", "digits-mnist"));
        assert!(!matches("digits", "digitsx"));
        assert!(!matches("eval", "encoders-ind"));
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let names: Vec<String> = stages(root, "smoke", &crate::relocate::default_runs("smoke"))
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert!(names.contains(&"digits-mnist".to_string()), "{names:?}");
    }

    #[test]
    fn a_stage_is_stale_when_what_it_is_built_from_finished_later() {
        let ws = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let root = std::env::temp_dir().join(format!("sliders-stale-{}", std::process::id()));
        let all = stages(ws, "quick", &crate::relocate::default_runs("quick")).unwrap();
        let by = |n: &str| all.iter().find(|s| s.name == n).unwrap();
        let touch = |name: &str, secs: u64| {
            let s = by(name);
            let path = root.join(s.graph.done_path());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let f = std::fs::File::create(&path).unwrap();
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            f.set_modified(t).unwrap();
        };
        let enc = by("encoders-ind");
        assert!(
            finished_after(&root, &all, enc, &enc.graph.built_from).is_empty(),
            "incomplete"
        );
        touch("cgan", 1_000);
        touch("encoders-ind", 2_000);
        assert!(finished_after(&root, &all, enc, &enc.graph.built_from).is_empty());
        touch("cgan", 3_000);
        assert_eq!(
            finished_after(&root, &all, enc, &enc.graph.built_from),
            ["cgan"]
        );
        // A retrained classifier only re-judges a Fader's checkpoint choice; the eval reruns.
        touch("fader-Male", 2_000);
        touch("eval", 2_500);
        touch("classifier", 4_000);
        let fader = by("fader-Male");
        assert!(finished_after(&root, &all, fader, &fader.graph.built_from).is_empty());
        assert_eq!(
            finished_after(&root, &all, fader, &fader.graph.judged_by),
            ["classifier"]
        );
        let eval = by("eval");
        assert_eq!(
            finished_after(&root, &all, eval, &eval.graph.built_from),
            ["classifier", "cgan"]
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn every_profile_has_the_experiment_files_of_its_stages() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        for profile in PROFILES {
            for stage in stages(root, profile, &crate::relocate::default_runs(profile)).unwrap() {
                for f in &stage.files {
                    assert!(
                        root.join(f).is_file(),
                        "{profile}/{}: {} missing",
                        stage.name,
                        f.display()
                    );
                }
            }
        }
    }
}
