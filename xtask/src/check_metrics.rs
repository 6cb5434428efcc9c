//! `cargo xtask check-metrics --profile P`: the CI gate on the metrics. Compares
//! `reports/<P>/metrics.json` (written by `sliders report`) with `experiments/baselines/<P>.toml`:
//! each check names a metric key, which direction is better, the baseline value and a tolerance
//! (chosen from the spread measured across seeds); a value worse than `baseline ∓ tolerance`, or
//! missing, fails the gate.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use sliders_config::layout::file;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

/// The baseline file of `profile`, parsed.
pub fn load_baseline(root: &Path, profile: &str) -> Result<(PathBuf, Baseline)> {
    let path = root
        .join("experiments/baselines")
        .join(format!("{profile}.toml"));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let baseline: Baseline = toml::from_str(&text)
        .with_context(|| format!("{}: not a baseline file", path.display()))?;
    Ok((path, baseline))
}

/// A metrics file (`metrics.json`: key → value).
pub fn load_metrics(path: &Path, profile: &str) -> Result<BTreeMap<String, f64>> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading {} (run `cargo xtask reproduce --profile {profile}` first)",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a metrics file", path.display()))
}

/// The keys of the checks that fail (worse than allowed, or missing).
pub fn failing(baseline: &Baseline, metrics: &BTreeMap<String, f64>) -> Vec<String> {
    baseline
        .check
        .iter()
        .filter(|c| !matches!(judge(c, metrics), Verdict::Pass(_)))
        .map(|c| c.key.clone())
        .collect()
}

/// Runs the gate; an error (non-zero exit) when any check fails.
pub fn run(root: &Path, profile: &str) -> Result<()> {
    let (baseline_path, baseline) = load_baseline(root, profile)?;
    let metrics_path = root.join("reports").join(profile).join(file::METRICS_JSON);
    let metrics = load_metrics(&metrics_path, profile)?;
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
    compare_with_committed(root, &metrics_path, &metrics);
    Ok(())
}

/// Says how the metrics compare with the committed `metrics.json` at `HEAD` (identical, or which
/// values differ and by how much): the run-to-run spread, measured wherever the gate runs.
fn compare_with_committed(root: &Path, path: &Path, metrics: &BTreeMap<String, f64>) {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let committed = std::process::Command::new("git")
        .current_dir(root)
        .arg("show")
        .arg(format!("HEAD:{}", rel.display()))
        .output();
    let committed: BTreeMap<String, f64> = match committed {
        Ok(out) if out.status.success() => match serde_json::from_slice(&out.stdout) {
            Ok(m) => m,
            Err(_) => return,
        },
        _ => {
            println!("(no committed {} to compare with)", rel.display());
            return;
        }
    };
    let diffs = differences(&committed, metrics);
    if diffs.is_empty() {
        println!(
            "all {} values equal the committed {} exactly",
            metrics.len(),
            rel.display()
        );
        return;
    }
    println!(
        "{} of {} values differ from the committed {} (largest relative differences first):",
        diffs.len(),
        metrics.len().max(committed.len()),
        rel.display()
    );
    for (key, old, new) in diffs.iter().take(15) {
        println!("  {key:<70} committed {old:>10.4}  now {new:>10.4}");
    }
}

/// `(key, committed, now)` for every key whose values differ (NaN where a side lacks it),
/// largest relative difference first.
fn differences(
    committed: &BTreeMap<String, f64>,
    now: &BTreeMap<String, f64>,
) -> Vec<(String, f64, f64)> {
    let mut keys: Vec<&String> = committed.keys().chain(now.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out: Vec<(String, f64, f64)> = keys
        .into_iter()
        .map(|k| {
            let get = |m: &BTreeMap<String, f64>| m.get(k).copied().unwrap_or(f64::NAN);
            (k.clone(), get(committed), get(now))
        })
        .filter(|(_, a, b)| a.to_bits() != b.to_bits())
        .collect();
    let rel = |a: f64, b: f64| {
        let d = (a - b).abs() / a.abs().max(b.abs()).max(1e-12);
        if d.is_nan() { f64::INFINITY } else { d }
    };
    out.sort_by(|x, y| rel(y.1, y.2).total_cmp(&rel(x.1, x.2)));
    out
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
    fn differences_list_changed_and_one_sided_keys_largest_first() {
        let a: BTreeMap<String, f64> = [("x", 1.0), ("y", 2.0), ("z", 3.0)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let mut b = a.clone();
        assert!(differences(&a, &b).is_empty());
        b.insert("y".into(), 2.2);
        b.insert("x".into(), 1.01);
        b.remove("z");
        let d = differences(&a, &b);
        let keys: Vec<&str> = d.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(keys, ["z", "y", "x"]);
        assert!(d[0].2.is_nan());
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
