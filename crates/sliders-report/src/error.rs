//! The report's error type: every variant names the file (and the key, where one is at fault).

use std::path::{Path, PathBuf};

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not what the pipeline writes there (not TOML, not JSON, a bad line).
    #[error("{path}: {message}")]
    Format {
        /// The file, with `:line` where one is known.
        path: String,
        /// What is wrong, and the fix where there is one.
        message: String,
    },
    /// A key of a run's `resolved.toml` is missing, unknown or of the wrong type.
    #[error("{path}: key `{key}`: {message}")]
    Key {
        /// The file.
        path: String,
        /// The key, dotted (`fader_train.total_steps`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A run record (metrics.csv, provenance) could not be read.
    #[error(transparent)]
    Record(#[from] sliders_config::run_record::RecordError),
    /// A figure or table could not be drawn or written.
    #[error(transparent)]
    Plots(#[from] sliders_plots::PlotsError),
}

impl ReportError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A format error in `path`.
    pub fn format(path: &Path, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

impl From<std::fmt::Error> for ReportError {
    fn from(_: std::fmt::Error) -> Self {
        Self::Format {
            path: "README.md".into(),
            message: "formatting the report failed".into(),
        }
    }
}
