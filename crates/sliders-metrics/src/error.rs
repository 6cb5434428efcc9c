//! The metrics crate's error type.

use std::path::PathBuf;

/// Errors of evaluation.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// A judge's model file is not installed.
    #[error("{path}: judge model not found; {fix}")]
    JudgeMissing {
        /// Where it was looked for.
        path: PathBuf,
        /// How to install it.
        fix: String,
    },
    /// libtorch failed on a model file.
    #[error("{path}: {message}")]
    Torch {
        /// The file.
        path: PathBuf,
        /// libtorch's message.
        message: String,
    },
}
