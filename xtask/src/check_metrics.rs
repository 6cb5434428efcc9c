//! `cargo xtask check-metrics --profile P`: the CI gate on the metrics. Compares
//! `reports/<P>/metrics.json` (written by `sliders report`) with `experiments/baselines/<P>.toml`:
//! each check names a metric key, which direction is better, the baseline value and a tolerance
//! (chosen from the spread measured across seeds); a value worse than `baseline ∓ tolerance`, or
//! missing, fails the gate.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Larger is better: fails below `baseline − tolerance`.
    Higher,
    /// Smaller is better: fails above `baseline + tolerance`.
    Lower,
}

/// One gated metric.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// `table/row/attribute/metric` (see metrics.json).
    pub key: String,
    /// Which way is better.
    pub direction: Direction,
    /// The value measured when the baseline was set.
    pub baseline: f64,
    /// How far worse than the baseline a run may be.
    pub tolerance: f64,
    /// What the check guards (a broken loss, schedule, eval mode, …).
    #[serde(default)]
    pub why: String,
}

/// A baseline file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The checks.
    pub check: Vec<Check>,
}

/// The verdict on one check.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Within tolerance.
    Pass(f64),
    /// Worse than allowed.
    Fail(f64),
    /// Not in metrics.json.
    Missing,
}

/// Judges one check against the metrics.
pub fn judge(check: &Check, metrics: &BTreeMap<String, f64>) -> Verdict {
    match metrics.get(&check.key) {
        None => Verdict::Missing,
        Some(&v) if !v.is_finite() => Verdict::Fail(v),
        Some(&v) => {
            let ok = match check.direction {
                Direction::Higher => v >= check.baseline - check.tolerance,
                Direction::Lower => v <= check.baseline + check.tolerance,
            };
            if ok {
                Verdict::Pass(v)
            } else {
                Verdict::Fail(v)
            }
        }
    }
}

/// Runs the gate; an error (non-zero exit) when any check fails.
pub fn run(root: &Path, profile: &str) -> Result<()> {
    let baseline_path = root
        .join("experiments/baselines")
        .join(format!("{profile}.toml"));
    let text = std::fs::read_to_string(&baseline_path)
        .with_context(|| format!("reading {}", baseline_path.display()))?;
    let baseline: Baseline = toml::from_str(&text)
        .with_context(|| format!("{}: not a baseline file", baseline_path.display()))?;
    let metrics_path = root.join("reports").join(profile).join("metrics.json");
    let metrics: BTreeMap<String, f64> =
        serde_json::from_str(&std::fs::read_to_string(&metrics_path).with_context(|| {
            format!(
                "reading {} (run `cargo xtask reproduce --profile {profile}` first)",
                metrics_path.display()
            )
        })?)
        .with_context(|| format!("{}: not a metrics file", metrics_path.display()))?;
    let mut failed = 0;
    println!(
        "{:<70} {:>9} {:>9} {:>9}  verdict",
        "metric", "value", "baseline", "limit"
    );
    for c in &baseline.check {
        let limit = match c.direction {
            Direction::Higher => c.baseline - c.tolerance,
            Direction::Lower => c.baseline + c.tolerance,
        };
        let (value, verdict) = match judge(c, &metrics) {
            Verdict::Pass(v) => (format!("{v:.4}"), "ok".to_string()),
            Verdict::Fail(v) => {
                failed += 1;
                (format!("{v:.4}"), format!("FAIL ({})", c.why))
            }
            Verdict::Missing => {
                failed += 1;
                ("-".into(), "FAIL (missing from metrics.json)".into())
            }
        };
        let sign = if c.direction == Direction::Higher {
            "≥"
        } else {
            "≤"
        };
        println!(
            "{:<70} {value:>9} {:>9.4} {sign}{limit:>8.4}  {verdict}",
            c.key, c.baseline
        );
    }
    if failed > 0 {
        bail!(
            "{failed} of {} metric checks failed against {}",
            baseline.check.len(),
            baseline_path.display()
        );
    }
    println!("all {} metric checks passed", baseline.check.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(direction: Direction) -> Check {
        Check {
            key: "t/r/a/m".into(),
            direction,
            baseline: 0.8,
            tolerance: 0.1,
            why: String::new(),
        }
    }

    #[test]
    fn worse_than_the_tolerance_fails_and_missing_fails() {
        let m = |v: f64| BTreeMap::from([("t/r/a/m".to_string(), v)]);
        assert_eq!(
            judge(&check(Direction::Higher), &m(0.75)),
            Verdict::Pass(0.75)
        );
        assert_eq!(
            judge(&check(Direction::Higher), &m(0.65)),
            Verdict::Fail(0.65)
        );
        assert_eq!(
            judge(&check(Direction::Lower), &m(0.85)),
            Verdict::Pass(0.85)
        );
        assert_eq!(
            judge(&check(Direction::Lower), &m(0.95)),
            Verdict::Fail(0.95)
        );
        assert!(matches!(
            judge(&check(Direction::Lower), &m(f64::NAN)),
            Verdict::Fail(_)
        ));
        assert_eq!(
            judge(&check(Direction::Lower), &BTreeMap::new()),
            Verdict::Missing
        );
    }

    #[test]
    fn the_shipped_baselines_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        for entry in std::fs::read_dir(root.join("experiments/baselines")).unwrap() {
            let path = entry.unwrap().path();
            let b: Baseline = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert!(!b.check.is_empty(), "{}", path.display());
            assert!(
                b.check
                    .iter()
                    .all(|c| c.tolerance >= 0.0 && !c.why.is_empty())
            );
        }
    }
}
