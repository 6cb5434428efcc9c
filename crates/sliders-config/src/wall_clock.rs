//! What `cargo xtask reproduce` records about its own wall clock ([`WallClock`], the run
//! layout's `wall_clock.json`): for each invocation that ran a stage, its job count and the
//! seconds from its first stage's start to its last one's end. Beside the per-stage seconds of
//! `timings.json`, whose sum counts overlapping stages twice, it is what a `--jobs N` run took,
//! as long as the recorded invocations are the ones that made the current outputs
//! ([`WallClock::covers`]).

use serde::{Deserialize, Serialize};

/// The invocations of `reproduce` that ran stages into one runs root, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WallClock {
    /// One entry per invocation that started at least one stage.
    pub invocations: Vec<Invocation>,
}

/// One `reproduce` invocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invocation {
    /// Its `--jobs`: at most this many stages ran at once.
    pub jobs: usize,
    /// How many stages it started.
    pub stages: usize,
    /// Seconds from its first stage's start to its last stage's end.
    pub seconds: f64,
    /// The seconds of its stages, summed (what it added to `timings.json`); 0 in a record
    /// written before this was kept.
    #[serde(default)]
    pub stage_seconds: f64,
}

impl WallClock {
    /// The seconds of every invocation, summed (as `timings.json` sums a resumed stage's).
    pub fn seconds(&self) -> f64 {
        self.invocations.iter().map(|i| i.seconds).sum()
    }

    /// Whether the invocations made exactly the outputs whose stage seconds (`timings.json`)
    /// sum to `stage_seconds`: false when a stage ran before the record began (or outside
    /// `reproduce`), or was redone since (its earlier time is still in an invocation).
    pub fn covers(&self, stage_seconds: f64) -> bool {
        let recorded: f64 = self.invocations.iter().map(|i| i.stage_seconds).sum();
        (recorded - stage_seconds).abs() <= 1.0
    }

    /// The job counts the invocations ran with, each once, in increasing order.
    pub fn jobs(&self) -> Vec<usize> {
        let mut jobs: Vec<usize> = self.invocations.iter().map(|i| i.jobs).collect();
        jobs.sort_unstable();
        jobs.dedup();
        jobs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_sum_and_keep_their_job_counts() {
        let mut clock = WallClock::default();
        assert_eq!(clock.seconds(), 0.0);
        for (jobs, seconds) in [(2, 300.0), (1, 40.5), (2, 9.5)] {
            clock.invocations.push(Invocation {
                jobs,
                stages: 1,
                seconds,
                stage_seconds: seconds * jobs as f64,
            });
        }
        assert_eq!(clock.seconds(), 350.0);
        assert_eq!(clock.jobs(), [1, 2]);
        assert!(clock.covers(659.5) && !clock.covers(600.0) && !clock.covers(700.0));
        let text = serde_json::to_string(&clock).unwrap();
        assert_eq!(serde_json::from_str::<WallClock>(&text).unwrap(), clock);
        assert!(serde_json::from_str::<WallClock>("{\"invocations\": [{\"jobs\": 1}]}").is_err());
        // A record from before `stage_seconds` reads, and covers no outputs.
        let old = "{\"invocations\": [{\"jobs\": 1, \"stages\": 2, \"seconds\": 9.0}]}";
        let old: WallClock = serde_json::from_str(old).unwrap();
        assert_eq!(old.seconds(), 9.0);
        assert!(!old.covers(9.0));
    }
}
