//! The crate's one error type: every variant names the file (and line where there is one), what
//! was wrong and how to fix it. Covers the data handling of docs/fader-networks.md#data and
//! docs/icgan.md#data.

use std::path::PathBuf;

/// Everything that can go wrong while reading CelebA, building caches, splitting or sampling.
#[derive(Debug, thiserror::Error)]
pub enum CelebaError {
    /// A file or folder could not be read, written, created or renamed.
    #[error("{action} {path}: {source}. Fix: {fix}")]
    Io {
        /// What was being done ("reading", "creating", ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
        /// How to fix it.
        fix: &'static str,
    },
    /// An annotation file has a malformed line.
    #[error("{file}:{line}: {what}. Fix: {fix}")]
    Annotation {
        /// The annotation file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        what: String,
        /// How to fix it.
        fix: String,
    },
    /// A requested attribute name is not one of the file's attribute names.
    #[error(
        "unknown attribute {name:?} (in {file}); closest valid names: {closest}. Fix: use one of the 40 names on line 2 of list_attr_celeba.txt, spelled exactly"
    )]
    UnknownAttribute {
        /// The requested name.
        name: String,
        /// Where the valid names come from.
        file: PathBuf,
        /// The closest valid names, comma separated.
        closest: String,
    },
    /// An image could not be read or decoded.
    #[error("image {path}: {what}. Fix: {fix}")]
    BadImage {
        /// The image file.
        path: PathBuf,
        /// What was wrong.
        what: String,
        /// How to fix it.
        fix: &'static str,
    },
    /// The image folder is missing or holds no annotated image.
    #[error("image folder {path}: {what}. Fix: {fix}")]
    NoImages {
        /// The folder.
        path: PathBuf,
        /// What was wrong.
        what: String,
        /// How to fix it.
        fix: &'static str,
    },
    /// A cache file is invalid (wrong magic, version, parameters, or cut short).
    #[error("cache {path}: {what}. Fix: delete it; it is rebuilt on the next run")]
    BadCache {
        /// The cache file.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
    /// A split file is invalid or does not match the cache.
    #[error("split file {path}:{line}: {what}. Fix: delete it; it is recomputed from the config")]
    BadSplit {
        /// The split file.
        path: PathBuf,
        /// 1-based line number (0 for the whole file).
        line: usize,
        /// What was wrong.
        what: String,
    },
    /// A digit dataset file is malformed (bad magic number, truncated, bad CSV row).
    #[error("{path} ({at}): {what}. Fix: {fix}")]
    BadDigits {
        /// The file.
        path: PathBuf,
        /// Where: `line L, column C` or `offset N`.
        at: String,
        /// What was wrong.
        what: String,
        /// How to fix it.
        fix: String,
    },
    /// A digit dataset file is not there.
    #[error(
        "{path}: no such file. Fix: run `cargo xtask data digits` (it downloads MNIST and Fashion-MNIST into data/digits/), or set data.digits_dir"
    )]
    MissingDigits {
        /// The missing file.
        path: PathBuf,
    },
    /// A configuration value cannot work.
    #[error("config data.{field}: {what}. Fix: {fix}")]
    Config {
        /// The config field, relative to `[data]`.
        field: &'static str,
        /// What was wrong.
        what: String,
        /// How to fix it.
        fix: String,
    },
}

/// Short alias for results of this crate.
pub type Result<T, E = CelebaError> = std::result::Result<T, E>;

impl CelebaError {
    /// An [`CelebaError::Io`] with a fix message.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
        fix: &'static str,
    ) -> Self {
        CelebaError::Io {
            action,
            path: path.into(),
            source,
            fix,
        }
    }
}
