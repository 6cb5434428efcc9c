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
    /// An optimizer state file does not fit the network.
    #[error(
        "{path}: optimizer state does not match the network ({what}); delete the run folder's checkpoints to start over"
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
