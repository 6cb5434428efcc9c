//! The crate's one error type, [`NetsError`]: invalid configurations, wrong input shapes and
//! every way a checkpoint file can fail to load (docs/architecture.md#errors).

use std::path::PathBuf;

use sliders_config::nets::NetConfigError;

/// Everything that can go wrong while building, running or (re)storing a network.
#[derive(Debug, thiserror::Error)]
pub enum NetsError {
    /// The configuration cannot describe a network (see `sliders_config::nets`).
    #[error("invalid network configuration: {0}")]
    Config(#[from] NetConfigError),

    /// A libtorch operation failed.
    #[error("libtorch error: {0}")]
    Torch(#[from] tch::TchError),

    /// A checkpoint file cannot be opened, read or written.
    #[error("checkpoint {path}: {source}; fix: {fix}")]
    CheckpointIo {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
        /// What to do about it.
        fix: &'static str,
    },

    /// A checkpoint file exists but is not a valid safetensors file, or its metadata is broken.
    #[error(
        "checkpoint {path} is not a valid sliders safetensors file: {reason}; fix: the file is \
         probably truncated or was written by another program; save or train the network again"
    )]
    CheckpointCorrupt {
        /// The file.
        path: PathBuf,
        /// What could not be parsed.
        reason: String,
    },

    /// The checkpoint was written for another kind of network.
    #[error(
        "checkpoint {path} holds a `{found}` network, not a `{expected}`; fix: pass the \
         checkpoint of the {expected}"
    )]
    CheckpointKind {
        /// The file.
        path: PathBuf,
        /// The kind of the network being loaded.
        expected: String,
        /// The kind recorded in the file (`sliders.kind`).
        found: String,
    },

    /// The checkpoint's tensors do not fit the network: shape mismatches, missing or unexpected
    /// keys, each listed in `details`.
    #[error(
        "checkpoint {path} does not fit this {kind} network:\n{details}fix: build the network \
         from the configuration stored in the file (`checkpoint::read_info(path)?.config()`), \
         or load the checkpoint made for this configuration"
    )]
    CheckpointMismatch {
        /// The file.
        path: PathBuf,
        /// The kind of the network being loaded.
        kind: String,
        /// One line per problem: `shape mismatch NAME: model expects [..], file has [..]`,
        /// `missing from the file: NAME [..]`, `unexpected in the file: NAME [..]`.
        details: String,
    },

    /// A tensor of an unsupported element type.
    #[error("tensor {name} has element type {kind}, which sliders checkpoints do not store")]
    UnsupportedKind {
        /// The variable name.
        name: String,
        /// The element type, as text.
        kind: String,
    },
}
