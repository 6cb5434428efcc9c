//! `cargo xtask chaos`: `kill -9` at seeded-random moments of the whole smoke stage sequence,
//! restarting `reproduce` after each kill until it completes, then checks that its metrics, model
//! weights and training curves equal those of an uninterrupted sequence (issue #22).
//!
//! Both sequences run `cargo xtask reproduce --runs-root <temp>/…` with the lengths shortened by
//! `--step-scale` and the [`SHORTER`] overrides, on the same pinned copy of the `sliders` dev
//! binary (a build by someone else halfway through cannot change it). Each kill sends SIGKILL to
//! the process group of `reproduce` (so the running `sliders` stage dies with it) and names the
//! stage it hit.

use crate::chaos_plan::Watch;
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Options of `cargo xtask chaos`.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Seed of the kill moments.
    #[arg(long, default_value_t = 22)]
    pub seed: u64,
    /// How many kills.
    #[arg(long, default_value_t = 4)]
    pub kills: usize,
    /// Fraction of the smoke profile's training lengths both sequences run.
    #[arg(long, default_value_t = 0.02)]
    pub step_scale: f64,
    /// Folder for the two runs roots (default: a new one in the temp dir).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep that folder after a success too.
    #[arg(long)]
    pub keep: bool,
}

/// What `--step-scale` leaves long in a chaos sequence, shortened: the cGAN's batch-norm
/// refresh (100 batches of 256 at every checkpoint), the encoders' generated dataset, the
/// validation sets of the Faders and encoders, and the evaluation (no FID: Inception takes
/// minutes on a CPU; a few images per value and per grid). Every stage gets them all; each reads
/// its own, and every attempt of a sequence gets the same, so a resumed run sees no change.
pub const SHORTER: &[(&str, &str)] = &[
    ("SLIDERS__CGAN_TRAIN__BN_REFRESH_STEPS", "4"),
    ("SLIDERS__ENCODER_TRAIN__DATASET_SIZE", "1024"),
    ("SLIDERS__ENCODER_TRAIN__EVAL_MAX_IMAGES", "128"),
    ("SLIDERS__FADER_TRAIN__EVAL_MAX_IMAGES", "64"),
    ("SLIDERS__EVAL__FID", "false"),
    ("SLIDERS__EVAL__IMAGES_PER_VALUE", "16"),
    ("SLIDERS__EVAL__GRID_FACES", "2"),
    ("SLIDERS__EVAL__ALPHAS", "[-1.0, 0.0, 1.0, 2.0]"),
    ("SLIDERS__DIGITS__MAX_TEST_IMAGES", "100"),
];

/// How one `reproduce` attempt ended.
#[derive(Debug)]
enum Outcome {
    /// It ran to its report; how long each stage took (stage index, time).
    Finished(Vec<(usize, Duration)>),
    /// It was killed; the last stage line it printed.
    Killed(String),
}

/// Runs both sequences and compares them.
pub fn run(root: &Path, opts: &Options) -> Result<()> {
    if opts.kills == 0 {
        bail!("--kills 0: a chaos run needs at least one kill (e.g. --kills 4)");
    }
    crate::setup::run(root)?;
    let work = match &opts.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("sliders-chaos-{}", std::process::id())),
    };
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("clearing {} for the chaos runs", work.display()))?;
    }
    let bin = pin_sliders(root, &work.join("bin"))?;
    let straight = work.join("straight");
    let started = Instant::now();
    println!(
        "==> chaos: the uninterrupted sequence into {}",
        straight.display()
    );
    let names = crate::chaos_plan::stage_names(root)?;
    let mut spans = vec![Duration::ZERO; names.len()];
    match attempt(root, opts, &bin, &straight, None, "straight")? {
        Outcome::Finished(ran) => ran.into_iter().for_each(|(i, d)| spans[i] += d),
        Outcome::Killed(_) => unreachable!("no kill was asked for"),
    }
    let uninterrupted = started.elapsed();
    println!(
        "==> chaos: uninterrupted sequence took {:.1} s",
        uninterrupted.as_secs_f64()
    );
    let killed = work.join("killed");
    let started = Instant::now();
    let targets = crate::chaos_plan::plan(opts.seed, opts.kills, &spans);
    for (i, t) in targets.iter().enumerate() {
        println!(
            "==> chaos: kill {} planned {:.1} s into {}",
            i + 1,
            t.offset.as_secs_f64(),
            names[t.stage]
        );
    }
    let hits = killed_sequence(root, opts, &bin, &killed, &targets)?;
    let interrupted = started.elapsed();
    for (i, (at, stage)) in hits.iter().enumerate() {
        println!(
            "==> chaos: kill {} at {at:.1} s into its attempt, in {stage}",
            i + 1
        );
    }
    println!(
        "==> chaos: the killed sequence took {:.1} s over {} attempts ({} of {} kills landed; \
         an attempt that finished before its kill ends the sequence)",
        interrupted.as_secs_f64(),
        hits.len() + 1,
        hits.len(),
        opts.kills
    );
    crate::chaos_compare::same_results(&straight, &killed)?;
    println!("==> chaos: equal: metrics.json, every model's weights and metrics.csv");
    if !opts.keep {
        std::fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    }
    Ok(())
}

/// Builds the dev `sliders` and links (or copies) it and the running `xtask` into `dir`,
/// returning that folder: the attempts run that `xtask` and, through `SLIDERS_PREBUILT_BIN`, that
/// `sliders`, so no attempt builds, and a build by someone else in the shared target folder
/// halfway through changes neither binary between the two sequences.
fn pin_sliders(root: &Path, dir: &Path) -> Result<PathBuf> {
    let built = crate::reproduce::build_sliders(root, false)?;
    let xtask = std::env::current_exe().context("finding the running xtask binary")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (from, name) in [(built, "sliders"), (xtask, "xtask")] {
        let pinned = dir.join(name);
        if std::fs::hard_link(&from, &pinned).is_err() {
            std::fs::copy(&from, &pinned)
                .with_context(|| format!("copying {} to {}", from.display(), pinned.display()))?;
        }
    }
    Ok(dir.to_path_buf())
}

/// Runs `reproduce` into `runs`, killed at each of `targets` in turn and restarted after each
/// kill, until an attempt finishes. Returns each kill's moment (seconds into its attempt) and
/// the stage line it hit.
fn killed_sequence(
    root: &Path,
    opts: &Options,
    bin: &Path,
    runs: &Path,
    targets: &[crate::chaos_plan::Target],
) -> Result<Vec<(f64, String)>> {
    let mut targets = targets.iter();
    let mut hits = Vec::new();
    for n in 1.. {
        let target = targets.next();
        let label = format!("attempt {n}");
        println!(
            "==> chaos: {label}{}",
            if target.is_some() { "" } else { ", no kill" }
        );
        let started = Instant::now();
        match attempt(root, opts, bin, runs, target, &label)? {
            Outcome::Finished(_) => break,
            Outcome::Killed(stage) => {
                let at = started.elapsed().as_secs_f64();
                println!(
                    "==> chaos: kill {} at {at:.1} s, in {stage}",
                    hits.len() + 1
                );
                hits.push((at, stage));
            }
        }
    }
    Ok(hits)
}

/// One `reproduce` call into `runs`, killed (its whole process group) after `kill_at` if it is
/// still running then. A failure on its own is an error: a rerun must always go through.
fn attempt(
    root: &Path,
    opts: &Options,
    bin: &Path,
    runs: &Path,
    target: Option<&crate::chaos_plan::Target>,
    label: &str,
) -> Result<Outcome> {
    let mut cmd = Command::new(bin.join("xtask"));
    cmd.args(["reproduce", "--profile", "smoke", "--device", "cpu"])
        .arg("--runs-root")
        .arg(runs)
        .arg("--step-scale")
        .arg(opts.step_scale.to_string())
        .env(crate::build::PREBUILT_VAR, bin)
        .envs(SHORTER.iter().copied())
        .envs(own_data(runs))
        .current_dir(root)
        .stdout(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().context("starting xtask reproduce")?;
    let watch = follow(&mut child, label, crate::chaos_plan::stage_names(root)?);
    let started = Instant::now();
    let finished = |w: &Arc<Mutex<Watch>>| {
        let spans = w
            .lock()
            .map(|w| w.spans(Instant::now()))
            .unwrap_or_default();
        Ok(Outcome::Finished(spans))
    };
    loop {
        if let Some(status) = child.try_wait()? {
            if status.success() {
                return finished(&watch);
            }
            bail!(
                "{label}: reproduce into {} failed on its own ({status}) after {:.1} s; its \
                 output is above. A rerun after a kill must always go through",
                runs.display(),
                started.elapsed().as_secs_f64()
            );
        }
        let due = |w: &Watch| target.is_some_and(|t| w.due(t, Instant::now()));
        if watch.lock().is_ok_and(|w| due(&w)) {
            kill_group(child.id())?;
            if child.wait()?.success() {
                // It finished between the last look and the kill.
                return finished(&watch);
            }
            let stage = watch
                .lock()
                .map(|w| w.last_line.clone())
                .unwrap_or_default();
            return Ok(Outcome::Killed(stage));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The synthetic faces and the preprocessing cache in the chaos folder (beside the runs roots),
/// shared by both sequences: another `reproduce` in the checkout that regenerates `data/synthetic`
/// (a new renderer) cannot change the data between the two, and the killed sequence's first
/// attempt may be killed while the uninterrupted one's files are read, never while written.
fn own_data(runs: &Path) -> [(&'static str, String); 2] {
    let data = runs.parent().unwrap_or(runs).join("data");
    let quoted = |p: PathBuf| toml::Value::String(p.display().to_string()).to_string();
    [
        (
            "SLIDERS__DATA__SYNTHETIC__DIR",
            quoted(data.join("synthetic")),
        ),
        ("SLIDERS__DATA__CACHE_DIR", quoted(data.join("cache"))),
    ]
}

/// Echoes the child's output with `label` in front, into a [`Watch`] of its stage lines.
fn follow(child: &mut Child, label: &str, names: Vec<String>) -> Arc<Mutex<Watch>> {
    let watch = Arc::new(Mutex::new(Watch::new(names)));
    let Some(out) = child.stdout.take() else {
        return watch;
    };
    let (seen, label) = (Arc::clone(&watch), label.to_string());
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("    [{label}] {line}");
            if let Ok(mut w) = seen.lock() {
                w.observe(&line, Instant::now());
            }
        }
    });
    watch
}

/// SIGKILL to the process group led by `pid` (`reproduce` and the `sliders` stage it runs).
fn kill_group(pid: u32) -> Result<()> {
    let status = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status()
        .context("running kill")?;
    if !status.success() {
        bail!("kill -KILL -- -{pid} failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_kill_ends_the_leader_and_its_children() {
        let mut child = Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30; wait"])
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        kill_group(child.id()).unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "{status}");
        // The group is gone: signalling it finds no process once the orphaned `sleep` (a
        // zombie until its new parent reaps it) is collected.
        let alive = || {
            Command::new("kill")
                .args(["-0", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status()
                .unwrap()
                .success()
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!alive(), "the background sleep of the group survived");
    }
}
