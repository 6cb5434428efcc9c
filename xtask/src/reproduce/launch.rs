//! Starting and recording one `reproduce` stage, the scheduler's [`Launcher`]: whether the stage
//! is skipped as complete or redone (decided when it is about to start, after its upstream
//! stages ended), its `sliders` process (output to the console with one job, else to its log
//! file), and its wall time in `timings.json`.

use super::{Ctx, Stage, finished_after, finished_at, matches, remove_run};
use crate::schedule::{Launch, Launcher};
use anyhow::{Context, Result};
use sliders_config::data::DataSource;
use sliders_config::layout::RunLayout;
use sliders_config::pipeline::StageKind;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

impl Launcher for Ctx<'_> {
    fn name(&self, stage: usize) -> &str {
        &self.chosen[stage].name
    }

    fn start(&mut self, stage: usize) -> Result<Option<Launch>> {
        let Some(start_over) = must_run(self, self.chosen[stage]) else {
            return Ok(None);
        };
        start_stage(self, stage, start_over).map(Some)
    }

    fn ended(&mut self, stage: usize, seconds: f64) -> Result<()> {
        let name = self.chosen[stage].name.clone();
        self.timings
            .insert(name, self.spent_before[stage] + seconds);
        let json = serde_json::to_string_pretty(&self.timings)?;
        sliders_fs::write_atomic(&self.timings_path, json.as_bytes())
            .with_context(|| format!("writing {}", self.timings_path.display()))
    }

    fn failure(&self, stage: usize, status: ExitStatus) -> anyhow::Error {
        anyhow::anyhow!(
            "stage {} failed ({status}); rerun `cargo xtask reproduce --profile {}` to continue where it stopped",
            self.chosen[stage].name,
            self.opts.profile
        )
    }
}

/// Whether `stage` runs: `None` when it is complete and nothing it is built from is newer,
/// else whether it starts over (forced, or rebuilt on newer upstream outputs).
fn must_run(ctx: &Ctx, stage: &Stage) -> Option<bool> {
    let (root, all) = (ctx.root, ctx.all);
    let done = finished_at(root, stage).is_some();
    let force = ctx.opts.force.iter().any(|o| matches(o, &stage.name));
    // A stage is redone when something it is built from finished after it did (the
    // evaluation after any retrained model, the encoders after a new cGAN).
    let rebuilt = finished_after(root, all, stage, &stage.graph.built_from);
    if !rebuilt.is_empty() && !force {
        println!(
            "==> {}: {} finished after it did; rerunning it on the new outputs",
            stage.name,
            rebuilt.join(", ")
        );
    }
    let rejudged = finished_after(root, all, stage, &stage.graph.judged_by);
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
        return None;
    }
    Some(start_over)
}

/// Prepares stage `index` of the invocation (its data, its run folder) and starts its process.
fn start_stage(ctx: &mut Ctx, index: usize, start_over: bool) -> Result<Launch> {
    let (root, stage) = (ctx.root, ctx.chosen[index]);
    let log = (ctx.jobs > 1)
        .then(|| root.join(RunLayout::new(&ctx.runs_rel).stage_log(&stage.graph.name)));
    if log.is_none() {
        println!("==> {}", stage.name);
    }
    if let StageKind::Digits(source) = stage.graph.kind {
        let which = match source {
            DataSource::FashionMnist => crate::data::Which::Fashion,
            _ => crate::data::Which::Mnist,
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
        let _ = std::fs::remove_file(root.join(stage.graph.done_path()));
    }
    // A resumed stage's time adds to what the earlier invocations spent on the same outputs;
    // a new folder (or the evaluation) starts the sum.
    ctx.spent_before[index] = if resumable && root.join(&stage.run_dir).exists() {
        ctx.timings.get(&stage.name).copied().unwrap_or(0.0)
    } else {
        0.0
    };
    let mut cmd = stage_command(ctx, stage)?;
    if let Some(log) = &log {
        let (out, err) = log_file(log)?;
        cmd.stdout(out).stderr(err);
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot run {}", ctx.sliders.display()))?;
    if let Some(log) = &log {
        println!("==> {}: started (log: {})", stage.name, log.display());
    }
    Ok(Launch { child, log })
}

/// A stage's log file, emptied, as its process's stdout and stderr.
fn log_file(path: &PathBuf) -> Result<(Stdio, Stdio)> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::File::create(path)
        .with_context(|| format!("creating the stage log {}", path.display()))?;
    let err = file
        .try_clone()
        .with_context(|| format!("opening {} twice", path.display()))?;
    Ok((file.into(), err.into()))
}

/// The `sliders` call of `stage` in a reproduce run.
fn stage_command(ctx: &Ctx, stage: &Stage) -> Result<Command> {
    let runs = (ctx.opts.profile.as_str(), ctx.runs_rel.as_path());
    sliders_call(&ctx.sliders, ctx.root, runs, stage, &ctx.common_env)
}

/// The `sliders` call of `stage` of `profile` whose run folders live under `runs`: its
/// experiment files, the `shared` overrides, the profile's run paths moved under `runs`, then
/// the stage's own overrides. `root` is the workspace (the call's working folder).
pub fn sliders_call(
    sliders: &Path,
    root: &Path,
    (profile, runs): (&str, &Path),
    stage: &Stage,
    shared: &[(String, String)],
) -> Result<Command> {
    let mut cmd = Command::new(sliders);
    cmd.arg(stage.command).current_dir(root);
    for f in &stage.files {
        cmd.arg("--config").arg(f);
    }
    let defaults = crate::relocate::default_runs(profile);
    let moved = crate::relocate::overrides(root, &stage.files, &defaults, runs)?;
    for (k, v) in shared.iter().chain(&moved).chain(&stage.env) {
        cmd.env(k, v);
    }
    Ok(cmd)
}
