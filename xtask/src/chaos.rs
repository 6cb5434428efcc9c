//! `cargo xtask chaos`: `kill -9` at seeded-random moments of the whole smoke stage sequence,
//! restarting `reproduce` after each kill until it completes, then checks that its metrics, model
//! weights and training curves equal those of an uninterrupted sequence (issue #22).
//!
//! Both sequences run `cargo xtask reproduce --runs-root <temp>/…` with the lengths shortened by
//! `--step-scale` and the [`SHORTER`] overrides, on the same pinned copy of the `sliders` dev
//! binary (a build by someone else halfway through cannot change it). Each kill sends SIGKILL to
//! the process group of `reproduce` (so the running `sliders` stage dies with it) and names the
//! stage it hit.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Options of `cargo xtask chaos`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seed of the kill moments.
    pub seed: u64,
    /// How many kills.
    pub kills: usize,
    /// `--step-scale` of both sequences.
    pub step_scale: f64,
    /// Where to put the two runs roots (default a new folder in the temp dir, removed after a
    /// success).
    pub dir: Option<PathBuf>,
    /// Keep the folder after a success too.
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
    /// It ran to its report.
    Finished,
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
    match attempt(root, opts, &bin, &straight, None, "straight")? {
        Outcome::Finished => {}
        Outcome::Killed(_) => unreachable!("no kill was asked for"),
    }
    let uninterrupted = started.elapsed();
    println!(
        "==> chaos: uninterrupted sequence took {:.1} s",
        uninterrupted.as_secs_f64()
    );
    let killed = work.join("killed");
    let started = Instant::now();
    let hits = killed_sequence(root, opts, &bin, &killed, uninterrupted)?;
    let interrupted = started.elapsed();
    for (i, (at, stage)) in hits.iter().enumerate() {
        println!(
            "==> chaos: kill {} at {at:.1} s into its attempt hit {stage}",
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

/// Builds the dev `sliders` and links (or copies) it into `dir`, returning that folder: the
/// attempts run it through `SLIDERS_PREBUILT_BIN`, so no attempt builds and a later build in the
/// shared target folder does not change the binary between the two sequences.
fn pin_sliders(root: &Path, dir: &Path) -> Result<PathBuf> {
    let built = crate::reproduce::build_sliders(root, false)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let pinned = dir.join("sliders");
    if std::fs::hard_link(&built, &pinned).is_err() {
        std::fs::copy(&built, &pinned)
            .with_context(|| format!("copying {} to {}", built.display(), pinned.display()))?;
    }
    Ok(dir.to_path_buf())
}

/// Runs `reproduce` into `runs`, killing it at the [`kill_delays`] and restarting it each time,
/// until an attempt finishes. Returns each kill's moment (seconds into its attempt) and the stage
/// it hit.
fn killed_sequence(
    root: &Path,
    opts: &Options,
    bin: &Path,
    runs: &Path,
    uninterrupted: Duration,
) -> Result<Vec<(f64, String)>> {
    let mut delays = kill_delays(opts.seed, opts.kills, uninterrupted).into_iter();
    let mut hits = Vec::new();
    for n in 1.. {
        let kill_at = delays.next();
        let label = format!("attempt {n}");
        println!(
            "==> chaos: {label}{}",
            kill_at.map_or(", no kill".to_string(), |d| format!(
                ", SIGKILL at {:.1} s",
                d.as_secs_f64()
            ))
        );
        match attempt(root, opts, bin, runs, kill_at, &label)? {
            Outcome::Finished => break,
            Outcome::Killed(stage) => {
                let at = kill_at.unwrap_or_default().as_secs_f64();
                println!(
                    "==> chaos: kill {} at {at:.1} s hit {stage}",
                    hits.len() + 1
                );
                hits.push((at, stage));
            }
        }
    }
    if hits.is_empty() {
        bail!(
            "no kill landed: every attempt finished first (the uninterrupted run took {:.1} s); \
             use another --seed",
            uninterrupted.as_secs_f64()
        );
    }
    Ok(hits)
}

/// The kill moments, each in seconds after its attempt starts: `kills` points drawn uniformly
/// (seeded) over 3-97% of the uninterrupted sequence and sorted, as gaps from one to the next,
/// so the kills spread over the whole sequence (a restarted attempt skips what is complete).
/// Each gap is at least [`MIN_GAP`], so every attempt gets past its setup.
fn kill_delays(seed: u64, kills: usize, uninterrupted: Duration) -> Vec<Duration> {
    let mut rng = SplitMix(seed);
    let mut points: Vec<f64> = (0..kills).map(|_| 0.03 + 0.94 * rng.unit()).collect();
    points.sort_by(f64::total_cmp);
    let mut last = 0.0;
    points
        .into_iter()
        .map(|p| {
            let gap = uninterrupted.mul_f64(p - last).max(MIN_GAP);
            last = p;
            gap
        })
        .collect()
}

/// The shortest time an attempt runs before its kill: `reproduce`'s setup (libtorch link,
/// finding the binary) takes a few seconds.
const MIN_GAP: Duration = Duration::from_secs(8);

/// One `reproduce` call into `runs`, killed (its whole process group) after `kill_at` if it is
/// still running then. A failure on its own is an error: a rerun must always go through.
fn attempt(
    root: &Path,
    opts: &Options,
    bin: &Path,
    runs: &Path,
    kill_at: Option<Duration>,
    label: &str,
) -> Result<Outcome> {
    let exe = std::env::current_exe().context("finding the running xtask binary")?;
    let mut cmd = Command::new(exe);
    cmd.args(["reproduce", "--profile", "smoke", "--device", "cpu"])
        .arg("--runs-root")
        .arg(runs)
        .arg("--step-scale")
        .arg(opts.step_scale.to_string())
        .env(crate::build::PREBUILT_VAR, bin)
        .envs(SHORTER.iter().copied())
        .current_dir(root)
        .stdout(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().context("starting xtask reproduce")?;
    let last = follow(&mut child, label);
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            if status.success() {
                return Ok(Outcome::Finished);
            }
            bail!(
                "{label}: reproduce into {} failed on its own ({status}) after {:.1} s; its \
                 output is above. A rerun after a kill must always go through",
                runs.display(),
                started.elapsed().as_secs_f64()
            );
        }
        if kill_at.is_some_and(|at| started.elapsed() >= at) {
            kill_group(child.id())?;
            child.wait()?;
            let stage = last.lock().map(|s| s.clone()).unwrap_or_default();
            return Ok(Outcome::Killed(stage));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Echoes the child's output with `label` in front and keeps its last stage line (`==> …`).
fn follow(child: &mut Child, label: &str) -> Arc<Mutex<String>> {
    let last = Arc::new(Mutex::new("setup, before the first stage".to_string()));
    let Some(out) = child.stdout.take() else {
        return last;
    };
    let (seen, label) = (Arc::clone(&last), label.to_string());
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("    [{label}] {line}");
            if let Some(stage) = line.strip_prefix("==> ")
                && let Ok(mut s) = seen.lock()
            {
                *s = stage.to_string();
            }
        }
    });
    last
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

/// A small seeded generator (SplitMix64): the same seed gives the same kill moments.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_moments_are_seeded_and_spread_over_the_sequence() {
        let total = Duration::from_secs(200);
        let draw = |seed| kill_delays(seed, 4, total);
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        for seed in 0..50 {
            let gaps = draw(seed);
            assert_eq!(gaps.len(), 4);
            assert!(gaps.iter().all(|g| *g >= MIN_GAP), "{gaps:?}");
            // Without the minimum gap, the gaps add up to the last point, inside 3-97%.
            let sum: Duration = gaps.iter().sum();
            assert!(sum <= total.mul_f64(0.97) + 4 * MIN_GAP, "{gaps:?}");
            assert!(sum >= total.mul_f64(0.03), "{gaps:?}");
        }
    }

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
