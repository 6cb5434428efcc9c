//! The training crate's error type: every variant names the file or the step concerned.

use std::path::PathBuf;

/// Errors of training runs.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// libtorch failed to read or write a tensor file.
    #[error("{path}: {message}")]
    Torch {
        /// The file.
        path: PathBuf,
        /// libtorch's message.
        message: String,
    },
    /// A configuration that cannot work, or a run folder that belongs to another run.
    #[error("{0}")]
    Config(String),
    /// A loss became NaN or infinite; the last good checkpoint is kept.
    #[error(
        "step {step}: the {loss} loss is {value}; training stopped, the last good checkpoint is kept          (lower the learning rate or check the data)"
    )]
    NonFinite {
        /// The step at which it was seen.
        step: u64,
        /// Which loss.
        loss: String,
        /// Its value.
        value: f64,
    },
    /// A network or checkpoint error.
    #[error(transparent)]
    Nets(#[from] sliders_nets::NetsError),
    /// A data error.
    #[error(transparent)]
    Data(#[from] sliders_celeba::CelebaError),
    /// An optimizer state file does not fit the network.
    #[error(
        "{path}: optimizer state does not match the network ({what}); rerun with `sliders train --force-restart` to start over, or set another run_dir"
    )]
    OptimizerState {
        /// The file.
        path: PathBuf,
        /// What did not match.
        what: String,
    },
}

impl TrainError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn io_torch(path: &std::path::Path, err: tch::TchError) -> Self {
        Self::Torch {
            path: path.to_path_buf(),
            message: err.to_string(),
        }
    }
}
