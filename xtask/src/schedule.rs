//! `reproduce --jobs N`'s scheduler: which stages of one invocation may start ([`ready`], a pure
//! function of the stage graph's edges and the stages' states), and the loop that keeps at most
//! N `sliders` processes running, polled with `try_wait`, starting stages in pipeline order as
//! their upstream stages finish. With a log file per stage (N > 1) it prints one line per start
//! and finish; after a failure it starts nothing new and lets the running stages end.
//! What a stage runs and what it records are [`Launcher`]'s (`crate::reproduce`).

use anyhow::Result;
use sliders_config::pipeline;
use std::path::PathBuf;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// Where one stage of the invocation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not started.
    Pending,
    /// Its process runs.
    Running,
    /// Ended successfully, or skipped as complete.
    Finished,
    /// Its process failed or could not start.
    Failed,
}

/// For each stage of an invocation (pipeline order), the indices of the stages among them that
/// must finish before it starts ([`pipeline::Stage::needs`]); stages outside the invocation
/// (`--only`) are not waited for.
pub fn needs(stages: &[&pipeline::Stage]) -> Vec<Vec<usize>> {
    stages
        .iter()
        .map(|s| {
            s.needs()
                .filter_map(|n| stages.iter().position(|u| &u.name == n))
                .collect()
        })
        .collect()
}

/// The stages that may start now, in pipeline order: pending ones whose needs all finished, no
/// more than `limit` minus the running ones, and none once a stage has failed.
pub fn ready(needs: &[Vec<usize>], state: &[State], limit: usize) -> Vec<usize> {
    if state.contains(&State::Failed) {
        return vec![];
    }
    let running = state.iter().filter(|s| **s == State::Running).count();
    (0..state.len())
        .filter(|&i| state[i] == State::Pending)
        .filter(|&i| needs[i].iter().all(|&u| state[u] == State::Finished))
        .take(limit.saturating_sub(running))
        .collect()
}

/// The most stages the graph lets run at once: the largest number of stages at one depth
/// (a stage's depth is one more than its deepest need's).
pub fn widest_level(needs: &[Vec<usize>]) -> usize {
    let mut depth = vec![0usize; needs.len()];
    for i in 0..needs.len() {
        // Pipeline order is a topological order: every need comes earlier.
        depth[i] = needs[i].iter().map(|&u| depth[u] + 1).max().unwrap_or(0);
    }
    let levels = depth.iter().max().map_or(0, |d| d + 1);
    (0..levels)
        .map(|l| depth.iter().filter(|&&d| d == l).count())
        .max()
        .unwrap_or(0)
}

/// A started stage's process.
pub struct Launch {
    /// The `sliders` process.
    pub child: Child,
    /// Its log file when its output goes to one (N > 1), else `None` (the console).
    pub log: Option<PathBuf>,
}

/// What the scheduler asks of the stages.
pub trait Launcher {
    /// The stage's name, for messages.
    fn name(&self, stage: usize) -> &str;
    /// Starts `stage` (its upstream stages have finished), or `None` when it is complete and
    /// skipped.
    fn start(&mut self, stage: usize) -> Result<Option<Launch>>;
    /// Records that `stage`'s process ended after `seconds`, successfully or not.
    fn ended(&mut self, stage: usize, seconds: f64) -> Result<()>;
    /// The error that reports `stage`'s failure.
    fn failure(&self, stage: usize, status: ExitStatus) -> anyhow::Error;
}

/// What one invocation's scheduling came to.
pub struct Outcome {
    /// How many stage processes started.
    pub started: usize,
    /// Seconds from the first start to the last end (0 when nothing started).
    pub seconds: f64,
    /// The stages' own seconds, summed (stages that ran at once each count in full).
    pub stage_seconds: f64,
    /// The first failure, when a stage failed or could not start.
    pub failure: Option<anyhow::Error>,
}

/// A running stage.
struct Running {
    stage: usize,
    launch: Launch,
    since: Instant,
}

/// How long the loop sleeps when no process ended.
const POLL: Duration = Duration::from_millis(200);

/// Lines of a failed stage's log shown on the console.
const LOG_TAIL_LINES: usize = 20;

/// Runs the stages whose edges are `needs` with at most `jobs` processes at once.
pub fn run(needs: &[Vec<usize>], jobs: usize, launcher: &mut dyn Launcher) -> Outcome {
    let mut state = vec![State::Pending; needs.len()];
    let mut running: Vec<Running> = Vec::new();
    let mut out = Outcome {
        started: 0,
        seconds: 0.0,
        stage_seconds: 0.0,
        failure: None,
    };
    let mut first_start: Option<Instant> = None;
    loop {
        while let Some(&i) = ready(needs, &state, jobs).first() {
            match launcher.start(i) {
                Ok(None) => state[i] = State::Finished,
                Ok(Some(launch)) => {
                    let since = Instant::now();
                    first_start.get_or_insert(since);
                    out.started += 1;
                    state[i] = State::Running;
                    running.push(Running {
                        stage: i,
                        launch,
                        since,
                    });
                }
                Err(e) => fail(&mut state, &mut out, i, e, &running, launcher),
            }
        }
        if running.is_empty() {
            break;
        }
        if !poll(&mut running, &mut state, &mut out, launcher) {
            std::thread::sleep(POLL);
        }
    }
    out.seconds = first_start.map_or(0.0, |t| t.elapsed().as_secs_f64());
    out
}

/// Reaps the processes that ended; true when one did.
fn poll(
    running: &mut Vec<Running>,
    state: &mut [State],
    out: &mut Outcome,
    launcher: &mut dyn Launcher,
) -> bool {
    let mut any = false;
    let mut k = 0;
    while k < running.len() {
        let status = match running[k].launch.child.try_wait() {
            Ok(None) => {
                k += 1;
                continue;
            }
            Ok(Some(status)) => Ok(status),
            Err(e) => Err(anyhow::Error::new(e)),
        };
        any = true;
        let r = running.remove(k);
        let seconds = r.since.elapsed().as_secs_f64();
        out.stage_seconds += seconds;
        let recorded = launcher.ended(r.stage, seconds);
        let result = status.and_then(|s| recorded.map(|()| s));
        match result {
            Ok(s) if s.success() => {
                state[r.stage] = State::Finished;
                if let Some(log) = &r.launch.log {
                    println!(
                        "==> {}: finished in {seconds:.0} s (log: {})",
                        launcher.name(r.stage),
                        log.display()
                    );
                }
            }
            Ok(s) => {
                show_log_tail(&r.launch, launcher.name(r.stage), s, seconds);
                let e = launcher.failure(r.stage, s);
                fail(state, out, r.stage, e, running, launcher);
            }
            Err(e) => fail(state, out, r.stage, e, running, launcher),
        }
    }
    any
}

/// Marks `stage` failed, keeps the first failure and says which stages are left to finish.
fn fail(
    state: &mut [State],
    out: &mut Outcome,
    stage: usize,
    err: anyhow::Error,
    running: &[Running],
    launcher: &dyn Launcher,
) {
    state[stage] = State::Failed;
    if out.failure.is_some() {
        eprintln!("==> {}: also failed: {err:#}", launcher.name(stage));
    } else {
        out.failure = Some(err);
    }
    if !running.is_empty() {
        let names: Vec<&str> = running.iter().map(|r| launcher.name(r.stage)).collect();
        println!(
            "==> {} failed: starting no new stage; waiting for the running ones to finish: {}",
            launcher.name(stage),
            names.join(", ")
        );
    }
}

/// Prints a failed stage's log path and last lines (nothing when its output went to the
/// console, where it already is).
fn show_log_tail(launch: &Launch, name: &str, status: ExitStatus, seconds: f64) {
    let Some(log) = &launch.log else { return };
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
    eprintln!(
        "==> {name}: failed ({status}) after {seconds:.0} s; the last {} lines of {}:",
        tail.len(),
        log.display()
    );
    for line in tail {
        eprintln!("    {line}");
    }
}

#[cfg(test)]
mod tests;
