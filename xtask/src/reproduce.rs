//! `cargo xtask reproduce`: runs the pipeline's stages (docs/architecture.md#reproduce-stages) as
//! `sliders` calls with the experiment files of a profile, skipping stages whose outputs are
//! complete, records each stage's wall time, then has `sliders report` write `reports/<profile>/`.
//!
//! Stages: `classifier`, `fader-<Attribute>` (one per attribute), `cgan`, `encoders-sng`,
//! `encoders-ind`, `encoders-ind-cond`, `eval`, `digits-mnist`, `digits-fashion_mnist`, `report`.
//! `--only`/`--force` also take a group name: `digits` selects every `digits-*` stage. A digits
//! stage fetches its dataset (`cargo xtask data digits`) when `data/digits/` lacks it.

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The attributes of the mission, in the order of the Fader paper's table and then the mission's.
pub const ATTRIBUTES: &[&str] = &[
    "Mouth_Slightly_Open",
    "Smiling",
    "Eyeglasses",
    "Male",
    "Young",
];

/// The encoder layouts of IcGAN's comparison.
pub const ENCODERS: &[&str] = &["sng", "ind", "ind-cond"];

/// The digit datasets (`data.source` values) each profile runs IcGAN on.
pub fn digit_datasets(profile: &str) -> &'static [&'static str] {
    match profile {
        // The smoke profile keeps CI within its budget: MNIST only.
        "smoke" => &["mnist"],
        _ => &["mnist", "fashion_mnist"],
    }
}

/// The profiles with experiment folders.
pub const PROFILES: &[&str] = &["smoke", "quick", "paper"];

/// Options of `cargo xtask reproduce`.
#[derive(Debug, Clone)]
pub struct Options {
    /// `smoke`, `quick` or `paper`.
    pub profile: String,
    /// A CelebA-layout folder to use instead of `data/celeba` (or the synthetic faces).
    pub data: Option<PathBuf>,
    /// `auto`, `cpu` or `cuda`.
    pub device: String,
    /// Stages to rerun even if complete.
    pub force: Vec<String>,
    /// Fraction of the profile's training lengths (1 = as configured).
    pub step_scale: f64,
    /// Build `sliders` in the dev profile whatever the profile.
    pub dev_build: bool,
    /// Run only these stages (empty = all).
    pub only: Vec<String>,
    /// Put the run folders here instead of `data/runs/<profile>` (and the report in its
    /// `report/` instead of `reports/<profile>/`); the experiment files' run paths follow.
    pub runs_root: Option<PathBuf>,
}

/// One stage: a `sliders` subcommand with experiment files and overrides.
pub struct Stage {
    /// Name (`fader-Smiling`).
    pub name: String,
    command: &'static str,
    /// Its experiment files, layered in order.
    pub(crate) files: Vec<PathBuf>,
    /// Its own overrides (applied last).
    pub(crate) env: Vec<(String, String)>,
    /// Its run folder, relative to the workspace.
    pub run_dir: PathBuf,
    done_marker: &'static str,
    /// Stages whose outputs this one is built from (the encoders invert the cGAN; the evaluation
    /// judges every model): when one finished after this stage did, this stage reruns.
    built_from: Vec<String>,
    /// Stages this one only used to pick a checkpoint (a Fader's `best_accu` is judged by the
    /// classifier): a newer one gets a warning naming the `--force` that redoes the choice, not a
    /// rerun of hours of training.
    judged_by: Vec<String>,
}

fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

/// The override that puts a stage's run in `dir`.
fn run_dir_env(dir: &Path) -> Vec<(String, String)> {
    vec![(
        "SLIDERS__RUN_DIR".into(),
        toml::Value::String(dir.display().to_string()).to_string(),
    )]
}

/// The stages of a profile, in order, with their run folders under `runs` (the profile's
/// `data/runs/<profile>` or a `--runs-root`).
pub fn stages(profile: &str, runs: &Path) -> Vec<Stage> {
    let exp = PathBuf::from("experiments").join(profile);
    let data = exp.join("data.toml");
    let with = |f: &str| vec![data.clone(), exp.join(f)];
    let mut out = vec![Stage::new(
        "classifier",
        with("classifier.toml"),
        runs.join("classifier"),
        vec![],
        "last_classifier.safetensors",
    )];
    for attr in ATTRIBUTES {
        let mut fader = Stage::new(
            &format!("fader-{attr}"),
            with("fader.toml"),
            runs.join(format!("fader-{}", attr.to_lowercase())),
            vec![("SLIDERS__DATA__ATTRIBUTES".into(), format!("[\"{attr}\"]"))],
            "last_ae.safetensors",
        );
        fader.judged_by = vec!["classifier".into()];
        out.push(fader);
    }
    out.push(Stage::new(
        "cgan",
        with("cgan.toml"),
        runs.join("cgan"),
        vec![],
        "G.safetensors",
    ));
    for kind in ENCODERS {
        let mut enc = Stage::new(
            &format!("encoders-{kind}"),
            with("encoders.toml"),
            runs.join(format!("encoders-{kind}")),
            vec![("SLIDERS__ENCODER_TRAIN__ENCODER_KIND".into(), quoted(kind))],
            if *kind == "sng" {
                "sng.safetensors"
            } else {
                "ey.safetensors"
            },
        );
        enc.built_from = vec!["cgan".into()];
        out.push(enc);
    }
    let mut eval = Stage::new(
        "eval",
        with("eval.toml"),
        runs.join("eval"),
        vec![],
        "metrics.json",
    );
    eval.command = "eval";
    eval.built_from = out.iter().map(|s| s.name.clone()).collect();
    out.push(eval);
    for source in digit_datasets(profile) {
        out.push(Stage::new(
            &format!("digits-{source}"),
            vec![exp.join("digits.toml")],
            runs.join(format!("digits-{source}")),
            vec![("SLIDERS__DATA__SOURCE".into(), quoted(source))],
            "eval/metrics.json",
        ));
    }
    out
}

impl Stage {
    /// A `sliders train` stage named `name` from `files` into `run_dir` with the overrides
    /// `env` (its run folder's is added), complete once `done_marker` exists in it.
    fn new(
        name: &str,
        files: Vec<PathBuf>,
        run_dir: PathBuf,
        mut env: Vec<(String, String)>,
        done_marker: &'static str,
    ) -> Self {
        env.extend(run_dir_env(&run_dir));
        Self {
            name: name.to_string(),
            command: "train",
            files,
            env,
            run_dir,
            done_marker,
            built_from: vec![],
            judged_by: vec![],
        }
    }
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
}

/// Checks the profile, the stage names and the step scale before anything runs.
fn check_options(opts: &Options, all: &[Stage]) -> Result<()> {
    if !PROFILES.contains(&opts.profile.as_str()) {
        bail!(
            "unknown profile `{}`: use one of {}",
            opts.profile,
            PROFILES.join(", ")
        );
    }
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

/// The overrides every stage gets: device, data folder, step scale.
fn common_env(opts: &Options) -> Result<Vec<(String, String)>> {
    let mut env = vec![("SLIDERS__DEVICE".to_string(), quoted(&opts.device))];
    if let Some(data) = &opts.data {
        let abs =
            std::fs::canonicalize(data).with_context(|| format!("--data {}", data.display()))?;
        env.push((
            "SLIDERS__DATA__CELEBA_DIR".to_string(),
            quoted(&abs.display().to_string()),
        ));
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
    let all = stages(&opts.profile, &runs_rel);
    check_options(opts, &all)?;
    crate::setup::run(root)?;
    let sliders = build_sliders(root, opts.profile != "smoke" && !opts.dev_build)?;
    let runs = root.join(&runs_rel);
    std::fs::create_dir_all(&runs).with_context(|| format!("creating {}", runs.display()))?;
    let timings_path = runs.join("timings.json");
    let mut ctx = Ctx {
        root,
        opts,
        sliders,
        runs_rel,
        common_env: common_env(opts)?,
        timings: load_timings(&timings_path),
        timings_path,
    };
    let selected = |name: &str| opts.only.is_empty() || opts.only.iter().any(|o| matches(o, name));
    let mut upstream_ran = false;
    for stage in &all {
        if selected(&stage.name) {
            upstream_ran |= run_stage(&mut ctx, &all, stage)?;
        }
    }
    if selected("report") || upstream_ran {
        let out = match &opts.runs_root {
            Some(_) => runs.join("report"),
            None => root.join("reports").join(&opts.profile),
        };
        write_report(&ctx, &runs, &out)?;
    }
    Ok(())
}

/// Runs `stage` unless it is complete and nothing it is built from is newer; true when it ran.
fn run_stage(ctx: &mut Ctx, all: &[Stage], stage: &Stage) -> Result<bool> {
    let root = ctx.root;
    let done = finished_at(root, stage).is_some();
    let force = ctx.opts.force.iter().any(|o| matches(o, &stage.name));
    // A stage is redone when something it is built from finished after it did (the
    // evaluation after any retrained model, the encoders after a new cGAN).
    let rebuilt = finished_after(root, all, stage, &stage.built_from);
    if !rebuilt.is_empty() && !force {
        println!(
            "==> {}: {} finished after it did; rerunning it on the new outputs",
            stage.name,
            rebuilt.join(", ")
        );
    }
    let rejudged = finished_after(root, all, stage, &stage.judged_by);
    if !rejudged.is_empty() && !force {
        println!(
            "==> {}: warning: {} finished after it did, so its best checkpoint was picked \
             with an older judge; `--force {}` retrains it and picks again",
            stage.name,
            rejudged.join(", "),
            stage.name
        );
    }
    let start_over = force || !rebuilt.is_empty();
    if done && !start_over {
        println!(
            "==> {}: complete, skipped ({})",
            stage.name,
            stage.run_dir.display()
        );
        return Ok(false);
    }
    println!("==> {}", stage.name);
    if let Some(source) = stage.name.strip_prefix("digits-") {
        let which = if source == "mnist" {
            crate::data::Which::Mnist
        } else {
            crate::data::Which::Fashion
        };
        crate::data::fetch(&crate::data::digits_dir(root), &[which])?;
    }
    // A training stage resumes from its run folder, so starting over means removing it (a
    // complete one would otherwise end at once); the evaluation always starts over, and its
    // old table must not survive a failed rerun.
    let resumable = stage.command == "train";
    if resumable && start_over {
        remove_run(root, stage)?;
    } else if !resumable {
        let _ = std::fs::remove_file(root.join(&stage.run_dir).join(stage.done_marker));
    }
    // A resumed stage's time adds to what the earlier invocations spent on the same outputs;
    // a new folder (or the evaluation) starts the sum.
    let spent_before = if resumable && root.join(&stage.run_dir).exists() {
        ctx.timings.get(&stage.name).copied().unwrap_or(0.0)
    } else {
        0.0
    };
    let started = Instant::now();
    let status = stage_command(ctx, stage)?
        .status()
        .with_context(|| format!("cannot run {}", ctx.sliders.display()))?;
    ctx.timings.insert(
        stage.name.clone(),
        spent_before + started.elapsed().as_secs_f64(),
    );
    let json = serde_json::to_string_pretty(&ctx.timings)?;
    write_atomic(&ctx.timings_path, json.as_bytes())?;
    if !status.success() {
        bail!(
            "stage {} failed ({status}); rerun `cargo xtask reproduce --profile {}` to continue where it stopped",
            stage.name,
            ctx.opts.profile
        );
    }
    Ok(true)
}

/// The `sliders` call of `stage`: its experiment files, the shared overrides, the run paths
/// moved under the runs root, then the stage's own overrides.
fn stage_command(ctx: &Ctx, stage: &Stage) -> Result<Command> {
    let mut cmd = Command::new(&ctx.sliders);
    cmd.arg(stage.command).current_dir(ctx.root);
    for f in &stage.files {
        cmd.arg("--config").arg(f);
    }
    let moved = crate::relocate::overrides(
        ctx.root,
        &stage.files,
        &crate::relocate::default_runs(&ctx.opts.profile),
        &ctx.runs_rel,
    )?;
    for (k, v) in ctx.common_env.iter().chain(&moved).chain(&stage.env) {
        cmd.env(k, v);
    }
    Ok(cmd)
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
    let marker = root.join(&stage.run_dir).join(stage.done_marker);
    std::fs::metadata(marker).and_then(|m| m.modified()).ok()
}

/// The stages among `names` that completed after `stage` did (none while `stage` is incomplete).
fn finished_after(root: &Path, all: &[Stage], stage: &Stage, names: &[String]) -> Vec<String> {
    let Some(at) = finished_at(root, stage) else {
        return vec![];
    };
    all.iter()
        .filter(|u| names.contains(&u.name))
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

/// Writes `bytes` to `path` through a temporary file in the same folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
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
        let names: Vec<String> = stages("smoke", &crate::relocate::default_runs("smoke"))
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert!(names.contains(&"digits-mnist".to_string()), "{names:?}");
    }

    #[test]
    fn a_stage_is_stale_when_what_it_is_built_from_finished_later() {
        let root = std::env::temp_dir().join(format!("sliders-stale-{}", std::process::id()));
        let all = stages("quick", &crate::relocate::default_runs("quick"));
        let by = |n: &str| all.iter().find(|s| s.name == n).unwrap();
        let touch = |name: &str, secs: u64| {
            let s = by(name);
            let path = root.join(&s.run_dir).join(s.done_marker);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let f = std::fs::File::create(&path).unwrap();
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            f.set_modified(t).unwrap();
        };
        let enc = by("encoders-ind");
        assert!(
            finished_after(&root, &all, enc, &enc.built_from).is_empty(),
            "incomplete"
        );
        touch("cgan", 1_000);
        touch("encoders-ind", 2_000);
        assert!(finished_after(&root, &all, enc, &enc.built_from).is_empty());
        touch("cgan", 3_000);
        assert_eq!(finished_after(&root, &all, enc, &enc.built_from), ["cgan"]);
        // A retrained classifier only re-judges a Fader's checkpoint choice; the eval reruns.
        touch("fader-Male", 2_000);
        touch("eval", 2_500);
        touch("classifier", 4_000);
        let fader = by("fader-Male");
        assert!(finished_after(&root, &all, fader, &fader.built_from).is_empty());
        assert_eq!(
            finished_after(&root, &all, fader, &fader.judged_by),
            ["classifier"]
        );
        let eval = by("eval");
        assert_eq!(
            finished_after(&root, &all, eval, &eval.built_from),
            ["classifier", "cgan"]
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn every_profile_has_the_experiment_files_of_its_stages() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        for profile in PROFILES {
            for stage in stages(profile, &crate::relocate::default_runs(profile)) {
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
