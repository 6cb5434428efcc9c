//! The crate's one error type, [`PlotsError`]: every variant names the file or the figure input
//! that failed and what was wrong, so a report run ends with a message rather than a panic.

use std::path::{Path, PathBuf};

/// Everything that can fail while drawing a figure or writing a table.
#[derive(Debug, thiserror::Error)]
pub enum PlotsError {
    /// Reading or writing a file failed.
    #[error("{}: {action} failed: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done ("create temporary file", "rename", "read", ...).
        action: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A PNG could not be encoded or decoded.
    #[error("{}: PNG {action} failed: {message}", path.display())]
    Png {
        /// The file.
        path: PathBuf,
        /// "encode" or "decode".
        action: &'static str,
        /// The codec's message.
        message: String,
    },
    /// A figure's input is unusable (empty series, mismatched lengths, zero size, ...).
    #[error("{figure}: {problem}")]
    Input {
        /// Which figure or table ("image grid", "bar chart `Swap accuracy`", ...).
        figure: String,
        /// What is wrong and, where it helps, how to fix it.
        problem: String,
    },
    /// An image in a grid does not have the grid's cell size.
    #[error(
        "image grid: the image at row {row}, column {col} is {}x{}, expected {}x{} like the \
         first image (resize it, or put it in another grid)",
        found.0, found.1, expected.0, expected.1
    )]
    ImageSize {
        /// Row index (0-based).
        row: usize,
        /// Column index (0-based).
        col: usize,
        /// The cell size, `(width, height)`, taken from the first image.
        expected: (u32, u32),
        /// This image's `(width, height)`.
        found: (u32, u32),
    },
    /// An image's pixel buffer does not hold `width * height * 3` bytes.
    #[error("image of {width}x{height}: {found} bytes of RGB data, expected {expected}")]
    ImageBuffer {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// `width * height * 3`.
        expected: usize,
        /// The buffer's length.
        found: usize,
    },
    /// plotters failed while drawing.
    #[error("{figure}: drawing failed: {message}")]
    Draw {
        /// Which figure.
        figure: String,
        /// plotters' message.
        message: String,
    },
    /// The bundled font could not be registered with plotters.
    #[error("the bundled DejaVu Sans font could not be registered with plotters")]
    Font,
    /// A CSV file is malformed.
    #[error("{}:{line}: {problem}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line of the record that failed.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// polars failed to build, write or read a Parquet file.
    #[error("{}: Parquet {action} failed: {message}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// "write" or "read".
        action: &'static str,
        /// polars' message.
        message: String,
    },
    /// A figure failed while being written to `path` (the cause says why).
    #[error("{}: {source}", path.display())]
    InFile {
        /// The file that was to be written.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Box<PlotsError>,
    },
}

impl PlotsError {
    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    pub(crate) fn input(figure: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Input {
            figure: figure.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn draw(figure: &str, err: impl std::fmt::Display) -> Self {
        Self::Draw {
            figure: figure.to_string(),
            message: err.to_string(),
        }
    }

    /// Wraps an error that does not name a file yet with the file being written.
    pub(crate) fn in_file(self, path: &Path) -> Self {
        match self {
            e @ (Self::Io { .. }
            | Self::Png { .. }
            | Self::Csv { .. }
            | Self::Parquet { .. }
            | Self::InFile { .. }) => e,
            other => Self::InFile {
                path: path.to_path_buf(),
                source: Box::new(other),
            },
        }
    }

    /// The innermost error: the cause under any [`PlotsError::InFile`] wrappers.
    pub fn cause(&self) -> &PlotsError {
        match self {
            Self::InFile { source, .. } => source.cause(),
            other => other,
        }
    }
}

/// Short for `Result<T, PlotsError>`.
pub type Result<T, E = PlotsError> = std::result::Result<T, E>;
