//! What a run folder records about itself, readable without libtorch: the `[run]` provenance
//! table of `resolved.toml` ([`Provenance`], where the data came from included) and the
//! `metrics.csv` training log read back ([`MetricsTable`]). sliders-train writes both; the report
//! (sliders-report, no tch) reads them. The run folder itself is described in
//! docs/architecture.md#run-folders.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The phase column of a `metrics.csv` row: what the row's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Means of the training losses over one log interval.
    Train,
    /// An evaluation on the validation split.
    Eval,
}

impl Phase {
    /// Its text in the file.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Eval => "eval",
        }
    }
}

/// A run folder's record that cannot be read: the file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not what sliders writes there.
    #[error("{path}: {message}")]
    Format {
        /// The file, with `:line` where one is known.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Where a run came from: commit, seed, device, versions, data. The `[run]` table of
/// `resolved.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// `git rev-parse HEAD` of the working copy, with `-dirty` if it has changes; "unknown"
    /// outside git.
    pub git_commit: String,
    /// The experiment seed.
    pub seed: u64,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// sliders version.
    pub sliders_version: String,
    /// libtorch version the binary was built against.
    pub libtorch_version: String,
    /// The data the run read: `celeba <dir>`, `synthetic <dir> (…)` or `<digits source> <dir>`;
    /// empty when not recorded.
    #[serde(default)]
    pub data_source: String,
}

/// Which kind of data a run read, from [`Provenance::data_source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOrigin {
    /// CelebA photographs (which may not be redistributed).
    Celeba,
    /// The synthetic faces.
    Synthetic,
    /// MNIST or Fashion-MNIST.
    Digits,
    /// Not recorded (a run written before `data_source` existed).
    Unknown,
}

impl Provenance {
    /// The same provenance with `data_source` recorded.
    pub fn with_data_source(mut self, source: impl Into<String>) -> Self {
        self.data_source = source.into();
        self
    }

    /// The kind of data the run read: the first word of `data_source`.
    pub fn data_origin(&self) -> DataOrigin {
        match self.data_source.split_whitespace().next() {
            Some("celeba") => DataOrigin::Celeba,
            Some("synthetic") => DataOrigin::Synthetic,
            Some("mnist" | "fashion_mnist") => DataOrigin::Digits,
            _ => DataOrigin::Unknown,
        }
    }

    /// The `[run]` table as TOML text (keys sorted; `data_source` left out when empty).
    pub fn to_toml(&self) -> String {
        let mut t = toml::Table::new();
        t.insert("git_commit".into(), self.git_commit.clone().into());
        t.insert("seed".into(), toml::Value::Integer(self.seed as i64));
        t.insert("device".into(), self.device.clone().into());
        t.insert(
            "sliders_version".into(),
            self.sliders_version.clone().into(),
        );
        t.insert(
            "libtorch_version".into(),
            self.libtorch_version.clone().into(),
        );
        if !self.data_source.is_empty() {
            t.insert("data_source".into(), self.data_source.clone().into());
        }
        format!(
            "[run]\n{}",
            toml::to_string(&t).expect("a table of strings serialises")
        )
    }
}

/// A `metrics.csv` read back (for reports and plots): header and rows of optional numbers (step
/// and phase kept apart).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsTable {
    /// Column names after `step` and `phase`.
    pub columns: Vec<String>,
    /// `(step, phase, values)`.
    pub rows: Vec<(u64, String, Vec<Option<f64>>)>,
}

impl MetricsTable {
    /// Reads a `metrics.csv` written by the trainers.
    pub fn read(path: &Path) -> Result<Self, RecordError> {
        let text = std::fs::read_to_string(path).map_err(|source| RecordError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses the text of a `metrics.csv`; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, RecordError> {
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap_or("")
            .split(',')
            .map(str::to_string)
            .collect();
        if header.len() < 2 || header[0] != "step" || header[1] != "phase" {
            return Err(RecordError::Format {
                path: origin.to_string(),
                message: format!("not a sliders metrics.csv (header {header:?})"),
            });
        }
        let mut rows = Vec::new();
        for (i, line) in lines.enumerate() {
            let cells: Vec<&str> = line.split(',').collect();
            let step = cells[0].parse().map_err(|_| RecordError::Format {
                path: format!("{origin}:{}", i + 2),
                message: format!("step `{}` is not a number", cells[0]),
            })?;
            let values = cells
                .iter()
                .skip(2)
                .map(|c| c.parse::<f64>().ok())
                .collect();
            rows.push((step, cells.get(1).unwrap_or(&"").to_string(), values));
        }
        Ok(Self {
            columns: header[2..].to_vec(),
            rows,
        })
    }

    /// The `(step, value)` points of a column in rows of `phase`.
    pub fn series(&self, phase: Phase, column: &str) -> Vec<(f64, f64)> {
        let Some(j) = self.columns.iter().position(|c| c == column) else {
            return Vec::new();
        };
        self.rows
            .iter()
            .filter(|(_, p, _)| p == phase.as_str())
            .filter_map(|(s, _, v)| v.get(j).copied().flatten().map(|v| (*s as f64, v)))
            .collect()
    }

    /// The last `eval` row as (column, value).
    pub fn last_eval(&self) -> Vec<(String, f64)> {
        self.rows
            .iter()
            .rev()
            .find(|(_, p, _)| p == Phase::Eval.as_str())
            .map(|(_, _, v)| {
                self.columns
                    .iter()
                    .zip(v)
                    .filter_map(|(c, v)| v.map(|v| (c.clone(), v)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_tables_keep_missing_cells_missing() {
        let t = MetricsTable::parse(
            "metrics.csv",
            "step,phase,a,b\n1,train,0.5,\n2,eval,,0.25\n3,train,0.4,\n",
        )
        .unwrap();
        assert_eq!(t.series(Phase::Train, "a"), vec![(1.0, 0.5), (3.0, 0.4)]);
        assert_eq!(t.last_eval(), vec![("b".to_string(), 0.25)]);
        let err = MetricsTable::parse("metrics.csv", "step,phase,a\nx,train,1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("metrics.csv:2"), "{err}");
    }

    #[test]
    fn provenance_round_trips_and_names_its_data() {
        let p = Provenance {
            git_commit: "abc".into(),
            seed: 7,
            device: "cpu".into(),
            sliders_version: "0.1.0".into(),
            libtorch_version: "2.11.0".into(),
            data_source: String::new(),
        }
        .with_data_source("celeba ../shared/celeba");
        let text = p.to_toml();
        let table: toml::Table = text.parse().unwrap();
        let back: Provenance = table["run"].clone().try_into().unwrap();
        assert_eq!(back, p);
        assert_eq!(back.data_origin(), DataOrigin::Celeba);
        let synthetic = p
            .clone()
            .with_data_source("synthetic data/synthetic (no …)");
        assert_eq!(synthetic.data_origin(), DataOrigin::Synthetic);
        assert_eq!(p.with_data_source("").data_origin(), DataOrigin::Unknown);
    }
}
