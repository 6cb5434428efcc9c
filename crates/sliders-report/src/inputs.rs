//! The report's inputs, typed ([`ReportInputs`]), and collecting them from a profile's run
//! folders (docs/architecture.md#run-folders): each run's `resolved.toml` (what the run is comes
//! from its `kind`, never from its folder name), `metrics.csv`, the evaluation's `results.csv`,
//! `metrics.json` and `tables.md`, the digits runs' `eval/`, `timings.json`, `wall_clock.json` and the checked-in
//! deviation list. [`crate::render`] turns them into the README without touching the disk.

use crate::ReportError;
use crate::deviations::Deviation;
use crate::resolved::ResolvedRun;
use crate::results::ResultRow;
use sliders_config::layout::{RunLayout, file};
use sliders_config::run_record::{DataOrigin, MetricsTable, Phase};
use sliders_config::train::ExperimentKind;
use sliders_config::wall_clock::WallClock;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Everything the README is rendered from.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportInputs {
    /// Profile name (the title).
    pub profile: String,
    /// The device `reproduce` was asked for.
    pub device_asked: String,
    /// The repository's commit (short hash).
    pub git_commit: String,
    /// Wall seconds per `reproduce` stage (`timings.json`).
    pub timings: BTreeMap<String, f64>,
    /// The wall clock of the `reproduce` invocations (`wall_clock.json`; `None` for runs made
    /// before it was kept).
    pub wall_clock: Option<WallClock>,
    /// The training runs (folders with a `metrics.csv`), sorted by folder name.
    pub runs: Vec<TrainingRun>,
    /// The digits runs (`kind = "digits"`), sorted by folder name.
    pub digits: Vec<DigitsRun>,
    /// The evaluation's outputs (empty when it has not run).
    pub eval: EvalRun,
    /// The deviations from the papers (`docs/deviations.list`).
    pub deviations: Vec<Deviation>,
    /// PNG files in the report's `figures/` (embedded), sorted.
    pub figures: Vec<String>,
    /// PNG files in the report's `local/` (figures of a CelebA report: linked, not in git),
    /// sorted.
    pub local: Vec<String>,
}

/// One training run folder.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingRun {
    /// The folder's name.
    pub name: String,
    /// Its `resolved.toml`.
    pub resolved: ResolvedRun,
    /// Its `metrics.csv`.
    pub metrics: MetricsTable,
}

/// One digits run folder (IcGAN on MNIST or Fashion-MNIST).
#[derive(Debug, Clone, PartialEq)]
pub struct DigitsRun {
    /// The folder's name.
    pub name: String,
    /// Its `resolved.toml`.
    pub resolved: ResolvedRun,
    /// Its `eval/tables.md`, when written.
    pub tables_md: Option<String>,
    /// Its `eval/metrics.json`.
    pub metrics: BTreeMap<String, f64>,
    /// The `digits_*.png` files of its `eval/figures/`, sorted.
    pub figures: Vec<String>,
}

/// The evaluation's outputs (`<runs>/eval/`); every field empty when it has not run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvalRun {
    /// Its `resolved.toml`, when written.
    pub resolved: Option<ResolvedRun>,
    /// `tables.md`, embedded in the README as it is.
    pub tables_md: Option<String>,
    /// `results.csv`.
    pub results: Vec<ResultRow>,
    /// `metrics.json`.
    pub metrics: BTreeMap<String, f64>,
}

impl EvalRun {
    /// The data line of `tables.md`'s notes (`- data: …`: the data, the test images and their
    /// use, the size and framing), which no typed output of the evaluation carries.
    pub fn data_note(&self) -> Option<String> {
        let tables = self.tables_md.as_ref()?;
        tables
            .lines()
            .find_map(|l| l.strip_prefix("- data: "))
            .map(str::to_string)
    }
}

impl ReportInputs {
    /// The data the face runs read: CelebA when any training or evaluation run read it, else
    /// the synthetic faces when one did, else unknown. Digits runs do not count.
    pub fn data_origin(&self) -> DataOrigin {
        let origins: Vec<DataOrigin> = self
            .runs
            .iter()
            .map(|r| &r.resolved)
            .chain(&self.eval.resolved)
            .map(|r| r.provenance.data_origin())
            .collect();
        [DataOrigin::Celeba, DataOrigin::Synthetic]
            .into_iter()
            .find(|o| origins.contains(o))
            .unwrap_or(DataOrigin::Unknown)
    }

    /// The training runs of one kind.
    pub fn runs_of(&self, kind: ExperimentKind) -> impl Iterator<Item = &TrainingRun> {
        self.runs
            .iter()
            .filter(move |r| r.resolved.experiment.kind() == kind)
    }

    /// `metrics.json` of the report: the evaluation's, the last validation row of every training
    /// run (`train/<run>/last/<column>`, and the cGAN's last training losses), the digits runs'.
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        let mut metrics = self.eval.metrics.clone();
        for run in &self.runs {
            for (k, v) in run.metrics.last_eval() {
                metrics.insert(format!("train/{}/last/{k}", run.name), v);
            }
            if run.resolved.experiment.kind() == ExperimentKind::Cgan {
                for (c, v) in cgan_last_train(&run.metrics) {
                    metrics.insert(format!("train/{}/last/{c}", run.name), v);
                }
            }
        }
        for d in &self.digits {
            metrics.extend(d.metrics.clone());
        }
        metrics
    }
}

/// The cGAN's last logged training losses and discriminator outputs.
pub fn cgan_last_train(table: &MetricsTable) -> Vec<(String, f64)> {
    ["loss_d", "loss_g", "d_real", "d_fake"]
        .into_iter()
        .filter_map(|c| {
            table
                .series(Phase::Train, c)
                .last()
                .map(|(_, v)| (c.to_string(), *v))
        })
        .collect()
}

/// Reads the runs of `runs` (the profile's run folder); `figures`/`local` stay empty (the
/// report's folders are listed after it has copied into them).
pub fn collect(runs: &Path) -> Result<ReportInputsParts, ReportError> {
    let layout = RunLayout::new(runs);
    let eval_dir = layout.eval();
    let mut training = Vec::new();
    for (name, dir) in sub_folders(runs, file::METRICS_CSV)? {
        training.push(TrainingRun {
            resolved: ResolvedRun::read(&dir.join(file::RESOLVED))?,
            metrics: MetricsTable::read(&dir.join(file::METRICS_CSV))?,
            name,
        });
    }
    let mut digits = Vec::new();
    for (name, dir) in sub_folders(runs, "eval/metrics.json")? {
        let resolved = ResolvedRun::read(&dir.join(file::RESOLVED))?;
        if resolved.experiment.kind() != ExperimentKind::Digits {
            continue;
        }
        digits.push(DigitsRun {
            name,
            resolved,
            tables_md: std::fs::read_to_string(dir.join("eval/tables.md")).ok(),
            metrics: json_or_empty(&dir.join("eval/metrics.json"))?,
            figures: pngs(&dir.join("eval/figures"), "digits_"),
        });
    }
    let resolved = eval_dir.join(file::RESOLVED);
    let results = eval_dir.join(file::RESULTS_CSV);
    let eval = EvalRun {
        resolved: match resolved.is_file() {
            true => Some(ResolvedRun::read(&resolved)?),
            false => None,
        },
        tables_md: std::fs::read_to_string(eval_dir.join(file::TABLES_MD)).ok(),
        results: match results.is_file() {
            true => crate::results::read(&results)?,
            false => Vec::new(),
        },
        metrics: json_or_empty(&eval_dir.join(file::METRICS_JSON))?,
    };
    Ok(ReportInputsParts {
        timings: json_or_empty(&layout.timings())?,
        wall_clock: wall_clock(&layout.wall_clock())?,
        runs: training,
        digits,
        eval,
    })
}

/// What [`collect`] reads from the run folders.
#[derive(Debug)]
pub struct ReportInputsParts {
    /// `timings.json`.
    pub timings: BTreeMap<String, f64>,
    /// `wall_clock.json`.
    pub wall_clock: Option<WallClock>,
    /// The training runs.
    pub runs: Vec<TrainingRun>,
    /// The digits runs.
    pub digits: Vec<DigitsRun>,
    /// The evaluation.
    pub eval: EvalRun,
}

/// A JSON map of numbers; empty when the file does not exist, an error when it does not parse.
fn json_or_empty(path: &Path) -> Result<BTreeMap<String, f64>, ReportError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(BTreeMap::new());
    };
    serde_json::from_str(&text).map_err(|e| ReportError::format(path, e.to_string()))
}

/// `reproduce`'s wall-clock record; `None` when the file does not exist, an error when it does
/// not parse.
fn wall_clock(path: &Path) -> Result<Option<WallClock>, ReportError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| ReportError::format(path, format!("{e}; delete it to start the record over")))
}

/// The sub-folders of `runs` that hold `marker` (a file path relative to each), as sorted
/// `(folder name, path)` pairs.
fn sub_folders(runs: &Path, marker: &str) -> Result<Vec<(String, PathBuf)>, ReportError> {
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(runs)
        .map_err(|e| ReportError::io(runs, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(marker).is_file())
        .map(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            (name.to_string(), p)
        })
        .collect();
    found.sort();
    Ok(found)
}

/// The `.png` files of `dir` whose names start with `prefix`, sorted (none when it is missing).
pub fn pngs(dir: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.ends_with(".png") && n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
