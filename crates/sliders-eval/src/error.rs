//! The evaluation's error type: what failed, on which file, and how to fix it.

use std::path::PathBuf;

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A setting cannot work.
    #[error("{0}")]
    Config(String),
    /// A trained run is missing a file or has the wrong kind of model.
    #[error("{path}: {what}; {fix}")]
    Model {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        what: String,
        /// How to fix it.
        fix: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// From the network crate (checkpoint loading).
    #[error(transparent)]
    Nets(#[from] sliders_nets::NetsError),
    /// From the inference layer (loading a trained Fader or IcGAN, `sliders_edit::infer`).
    #[error(transparent)]
    Infer(#[from] sliders_edit::EditError),
    /// From the training crate (judge loading, encoder dataset).
    #[error(transparent)]
    Train(#[from] sliders_train::TrainError),
    /// From the data crate.
    #[error(transparent)]
    Data(#[from] sliders_celeba::CelebaError),
    /// Drawing a figure or writing a table failed.
    #[error(transparent)]
    Plots(#[from] sliders_plots::PlotsError),
}

impl EvalError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
