//! `cargo xtask gate-demo`: shows that the metric gate catches the bugs it exists for. For each
//! planted bug (a decoder that ignores y, a generator that ignores z or y, an encoder that ignores
//! its image), a copy of the profile's trained models gets the bug (`xtask/python/plant_bug.py`
//! edits the weights so the network never reads that input), the evaluation runs on the copy, and
//! the gate judges its metrics (training-time metrics taken from the real run). The command fails
//! unless every check expected to catch a bug fails on it, and writes what failed where to
//! `reports/<profile>/gate_demo.md`.

use crate::check_metrics::{self, Baseline};
use anyhow::{Context, Result, bail};
use sliders_config::layout::file;
use sliders_config::pipeline::StageKind;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A planted bug and the checks that must catch it: a check is expected when its key contains
/// every part of one of the patterns.
struct Bug {
    name: &'static str,
    what: &'static str,
    caught_by: &'static [&'static [&'static str]],
}

const BUGS: &[Bug] = &[
    Bug {
        name: "decoder-ignores-y",
        what: "every Fader decoder layer gives y one shared weight: the slider does nothing",
        caught_by: &[
            &["FadNet Swap/", "/accuracy"],
            &["slider_response/", "true_value"],
        ],
    },
    Bug {
        name: "generator-ignores-z",
        what: "G's first layer never reads z: one face per y",
        caught_by: &[&["cgan/G/all/diversity_ratio"]],
    },
    Bug {
        name: "generator-ignores-y",
        what: "G's first layer never reads y: attributes cannot be set",
        caught_by: &[&["cgan/G/", "/follows_y"], &["IcGAN Swap/", "/accuracy"]],
    },
    Bug {
        name: "encoder-z-ignores-image",
        what: "every encoder's z is its bias: IcGAN reconstructions are one face",
        caught_by: &[&["/rec_vs_mean_face"]],
    },
    Bug {
        name: "encoder-y-ignores-image",
        what: "every encoder's y is its bias: IcGAN keeps no attribute",
        caught_by: &[&["IcGAN AE/", "/accuracy"], &["encoders/", "/ey_accuracy"]],
    },
];

/// Whether `key` is one the bug must fail.
fn expected(bug: &Bug, key: &str) -> bool {
    bug.caught_by
        .iter()
        .any(|parts| parts.iter().all(|p| key.contains(p)))
}

/// Runs the demonstration for `profile` (every bug, or those named in `only`).
pub fn run(root: &Path, profile: &str, only: &[String], data: Option<&Path>) -> Result<()> {
    if let Some(unknown) = only
        .iter()
        .find(|o| !BUGS.iter().any(|b| b.name == o.as_str()))
    {
        let names: Vec<&str> = BUGS.iter().map(|b| b.name).collect();
        bail!(
            "--bug {unknown}: no such planted bug; one of {}",
            names.join(", ")
        );
    }
    let runs = root.join("data/runs").join(profile);
    let report = root.join("reports").join(profile);
    let real = check_metrics::load_metrics(&report.join(file::METRICS_JSON), profile)?;
    let (_, baseline) = check_metrics::load_baseline(root, profile)?;
    let real_failing = check_metrics::failing(&baseline, &real);
    if !real_failing.is_empty() {
        bail!(
            "the unplanted {profile} run already fails {} check(s) ({}): fix that first \
             (`cargo xtask check-metrics --profile {profile}`)",
            real_failing.len(),
            real_failing.join(", ")
        );
    }
    let data_env: Vec<(String, String)> = data
        .map(crate::reproduce::data_env)
        .transpose()?
        .into_iter()
        .collect();
    let sliders = crate::reproduce::build_sliders(root, false)?;
    let work = root.join("data/runs").join(format!("{profile}-gate-demo"));
    let mut rows = Vec::new();
    for bug in BUGS
        .iter()
        .filter(|b| only.is_empty() || only.iter().any(|o| o == b.name))
    {
        println!("==> {}: {}", bug.name, bug.what);
        let dir = work.join(bug.name);
        let metrics = planted_metrics(root, profile, &sliders, (&runs, &data_env), &dir, bug)?;
        let mut merged = real.clone();
        merged.extend(metrics);
        let failing = check_metrics::failing(&baseline, &merged);
        rows.push(verdict(bug, &baseline, &failing));
    }
    let text = summary(profile, &baseline, &rows);
    std::fs::write(report.join("gate_demo.md"), &text)
        .with_context(|| format!("writing {}", report.join("gate_demo.md").display()))?;
    print!("{text}");
    let missed: Vec<String> = rows.iter().flat_map(|r| r.missed.clone()).collect();
    if !missed.is_empty() {
        bail!("the gate missed planted bugs: {}", missed.join("; "));
    }
    std::fs::remove_dir_all(&work).ok();
    Ok(())
}

/// What the gate did with one bug.
struct Row {
    bug: &'static str,
    what: &'static str,
    failed: Vec<String>,
    /// `bug: key` for each expected check that passed anyway.
    missed: Vec<String>,
}

fn verdict(bug: &Bug, baseline: &Baseline, failing: &[String]) -> Row {
    let mut missed: Vec<String> = baseline
        .check
        .iter()
        .filter(|c| expected(bug, &c.key) && !failing.contains(&c.key))
        .map(|c| format!("{}: {} passed", bug.name, c.key))
        .collect();
    if !baseline.check.iter().any(|c| expected(bug, &c.key)) {
        missed.push(format!(
            "{}: no check of the baseline is meant to catch it",
            bug.name
        ));
    }
    Row {
        bug: bug.name,
        what: bug.what,
        failed: failing.to_vec(),
        missed,
    }
}

/// Copies the model runs into `dir`, plants the bug, evaluates the copy, returns its metrics.
fn planted_metrics(
    root: &Path,
    profile: &str,
    sliders: &Path,
    (runs, data_env): (&Path, &[(String, String)]),
    dir: &Path,
    bug: &Bug,
) -> Result<BTreeMap<String, f64>> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let copies = dir.join("runs");
    let stages = crate::reproduce::stages(root, profile, &copies)?;
    let mut eval = None;
    for stage in stages {
        match stage.graph.kind {
            StageKind::Eval => eval = Some(stage),
            StageKind::Digits(_) => {}
            _ => {
                let within = stage.run_dir.strip_prefix(&copies)?;
                link_files(&runs.join(within), &stage.run_dir)?;
            }
        }
    }
    let eval = eval.with_context(|| format!("the {profile} pipeline has no evaluation stage"))?;
    let script = root.join("xtask/python/plant_bug.py");
    let status = Command::new(python())
        .arg(&script)
        .arg(bug.name)
        .arg(&copies)
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    if !status.success() {
        bail!("{} {} failed ({status})", script.display(), bug.name);
    }
    let log = dir.join("eval.log");
    let status =
        crate::reproduce::sliders_call(sliders, root, (profile, &copies), &eval, data_env)?
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(dir.join("eval.err"))?)
            .status()?;
    if !status.success() {
        bail!(
            "the evaluation of the planted copy failed ({status}); see {} and eval.err beside it",
            log.display()
        );
    }
    // The evaluation's done marker is its metrics.json.
    check_metrics::load_metrics(&eval.graph.done_path(), profile)
}

/// Hard-links (or copies) the files directly in `from` into `to`: the checkpoints and run
/// records; the planting script replaces files it edits, so the originals stay intact.
fn link_files(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let entries = std::fs::read_dir(from).with_context(|| {
        format!(
            "reading the trained run {} (train it first: `cargo xtask reproduce`)",
            from.display()
        )
    })?;
    for entry in entries {
        let path = entry?.path();
        if path.is_file() && path.file_name().is_some_and(|n| n != file::LOCK) {
            let dest = to.join(path.file_name().unwrap_or_default());
            if std::fs::hard_link(&path, &dest).is_err() {
                std::fs::copy(&path, &dest)
                    .with_context(|| format!("copying {}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// Python 3 (the README's one requirement besides Rust).
fn python() -> PathBuf {
    PathBuf::from(if cfg!(windows) { "python" } else { "python3" })
}

fn summary(profile: &str, baseline: &Baseline, rows: &[Row]) -> String {
    let mut s = format!(
        "# The {profile} gate against planted bugs\n\n\
         Written by `cargo xtask gate-demo --profile {profile}`: each bug is planted into a copy \
         of this profile's trained models (weights edited so the network never reads one input), \
         the evaluation reruns on the copy, and the {} checks of \
         `experiments/baselines/{profile}.toml` judge its metrics (training metrics from the real \
         run). The unplanted run passes every check.\n\n\
         | planted bug | what it breaks | checks failed | expected checks that passed |\n\
         |---|---|---|---|\n",
        baseline.check.len()
    );
    for r in rows {
        let missed = if r.missed.is_empty() {
            "none".to_string()
        } else {
            r.missed.join("<br>")
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {}: {} | {missed} |",
            r.bug,
            r.what,
            r.failed.len(),
            r.failed.join(", ")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bug_is_expected_to_fail_a_shipped_smoke_check() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let (_, baseline) = check_metrics::load_baseline(root, "smoke").unwrap();
        for bug in BUGS {
            let row = verdict(bug, &baseline, &[]);
            assert!(
                row.missed.iter().all(|m| m.ends_with(" passed")),
                "{}: {:?}",
                bug.name,
                row.missed
            );
            assert!(!row.missed.is_empty(), "{}: no expected check", bug.name);
        }
    }
}
