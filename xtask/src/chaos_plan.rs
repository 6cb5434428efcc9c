//! Where `cargo xtask chaos` kills: seeded-random points of the uninterrupted sequence's stage
//! timeline (when each `==> <stage>` line of `reproduce` appeared), each a stage and an offset
//! into it. A restarted attempt is killed once that stage has run for that long (or at once when
//! a later stage has started), so the kills land in the stages drawn whatever the machine's speed
//! on the rerun, and every attempt but the last is killed.

use std::time::{Duration, Instant};

/// The stage names `reproduce --profile smoke` prints as `==> <name>`, in order (`root`: the
/// workspace, whose `experiments/smoke/` describes the pipeline).
pub fn stage_names(root: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let runs = crate::relocate::default_runs("smoke");
    Ok(crate::reproduce::stages(root, "smoke", &runs)?
        .into_iter()
        .map(|s| s.name)
        .chain(["report".to_string()])
        .collect())
}

/// One kill: in stage `stage` (an index into the names), `offset` after it started.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Index of the stage.
    pub stage: usize,
    /// Time into the stage.
    pub offset: Duration,
}

/// `kills` points drawn uniformly (seeded) over 2-98% of the timeline `spans` (each stage's
/// time in the uninterrupted run, in order), sorted, as stage and offset.
pub fn plan(seed: u64, kills: usize, spans: &[Duration]) -> Vec<Target> {
    let total: Duration = spans.iter().sum();
    let mut rng = SplitMix(seed);
    let mut points: Vec<Duration> = (0..kills)
        .map(|_| total.mul_f64(0.02 + 0.96 * rng.unit()))
        .collect();
    points.sort();
    points
        .into_iter()
        .map(|mut at| {
            for (stage, span) in spans.iter().enumerate() {
                if at < *span || stage + 1 == spans.len() {
                    return Target { stage, offset: at };
                }
                at -= *span;
            }
            Target {
                stage: 0,
                offset: at,
            }
        })
        .collect()
}

/// What an attempt has shown so far: the stage running and when it started, each stage's start,
/// and its last `==> ` line.
#[derive(Debug)]
pub struct Watch {
    names: Vec<String>,
    /// (stage index, start) of every stage that ran in this attempt, in order.
    pub started: Vec<(usize, Instant)>,
    /// The last `==> ` line, less the arrow.
    pub last_line: String,
}

impl Watch {
    /// Nothing seen yet.
    pub fn new(names: Vec<String>) -> Self {
        Self {
            names,
            started: Vec::new(),
            last_line: "setup, before the first stage".to_string(),
        }
    }

    /// Takes one line of `reproduce`'s output (a stage that starts prints `==> <name>` alone).
    pub fn observe(&mut self, line: &str, now: Instant) {
        let Some(rest) = line.strip_prefix("==> ") else {
            return;
        };
        self.last_line = rest.to_string();
        if let Some(i) = self.names.iter().position(|n| n == rest) {
            self.started.push((i, now));
        }
    }

    /// Whether `target` is due at `now`: its stage has run for its offset, or a later one started.
    pub fn due(&self, target: &Target, now: Instant) -> bool {
        match self.started.last() {
            Some(&(i, _)) if i > target.stage => true,
            Some(&(i, at)) if i == target.stage => now.duration_since(at) >= target.offset,
            _ => false,
        }
    }

    /// Each stage that ran and for how long (up to the next one's start, the last up to `end`).
    pub fn spans(&self, end: Instant) -> Vec<(usize, Duration)> {
        self.started
            .iter()
            .enumerate()
            .map(|(k, &(i, at))| {
                let until = self.started.get(k + 1).map_or(end, |&(_, next)| next);
                (i, until.duration_since(at))
            })
            .collect()
    }
}

/// A small seeded generator (SplitMix64): the same seed gives the same kill points.
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
    fn kill_points_are_seeded_sorted_and_inside_their_stage() {
        let spans: Vec<Duration> = [5, 20, 0, 40, 10].map(Duration::from_secs).to_vec();
        assert_eq!(plan(3, 4, &spans), plan(3, 4, &spans));
        assert_ne!(plan(3, 4, &spans), plan(4, 4, &spans));
        for seed in 0..100 {
            let targets = plan(seed, 4, &spans);
            assert_eq!(targets.len(), 4);
            for t in &targets {
                assert!(t.offset < spans[t.stage], "{seed}: {t:?}");
            }
            assert!(targets.windows(2).all(|w| w[0].stage <= w[1].stage));
        }
    }

    #[test]
    fn a_target_is_due_after_its_offset_or_once_a_later_stage_started() {
        let names: Vec<String> = ["classifier", "cgan", "report"].map(String::from).to_vec();
        let mut w = Watch::new(names);
        let t0 = Instant::now();
        let target = Target {
            stage: 1,
            offset: Duration::from_secs(10),
        };
        w.observe("==> sliders: prebuilt, /x", t0);
        w.observe("==> classifier: complete, skipped (x)", t0);
        assert!(!w.due(&target, t0 + Duration::from_secs(100)));
        w.observe("==> cgan", t0 + Duration::from_secs(1));
        assert_eq!(w.last_line, "cgan");
        assert!(!w.due(&target, t0 + Duration::from_secs(10)));
        assert!(w.due(&target, t0 + Duration::from_secs(11)));
        w.observe("==> report", t0 + Duration::from_secs(5));
        assert!(w.due(&target, t0 + Duration::from_secs(5)));
        let spans = w.spans(t0 + Duration::from_secs(8));
        assert_eq!(
            spans,
            vec![(1, Duration::from_secs(4)), (2, Duration::from_secs(3))]
        );
    }
}
