//! The one error type of sliders-edit: each variant names the file (or the flag) at fault and the fix.

use sliders_nets::NetsError;
use std::path::PathBuf;
use thiserror::Error;

/// Everything that can go wrong while loading a model, reading a photo or writing a result.
#[derive(Debug, Error)]
pub enum EditError {
    /// A file or folder cannot be read (missing, permissions).
    #[error("{path}: cannot read it ({source}); fix: check the path and its permissions")]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file that the decoder refuses: empty, not a JPEG or PNG, cut short, corrupt, or larger
    /// than the decode limits (the message names the limit and the option that raises it).
    #[error("{0}{fix}", fix = decode_fix(.0))]
    Decode(#[from] sliders_celeba::DecodeError),
    /// A slider value outside the range the model accepts (or not finite).
    #[error(
        "{name} = {value} is outside the slider range {lo} … {hi} of this model; fix: give a \
         value from {lo} to {hi} (0 = absent, 1 = present)"
    )]
    OutOfRange {
        /// The attribute (or the flag, `--from` / `--to`).
        name: String,
        /// The value given.
        value: f64,
        /// Smallest accepted value.
        lo: f64,
        /// Largest accepted value.
        hi: f64,
    },
    /// The face box is smaller than the model's input.
    #[error(
        "{path}: the face box is {width}x{height} px, smaller than the model's {size}x{size} \
         input; fix: use a larger photo (or a larger --crop box)"
    )]
    TooSmall {
        /// The file.
        path: PathBuf,
        /// Width of the box that would be resized.
        width: u32,
        /// Height of that box.
        height: u32,
        /// The model's input side.
        size: u32,
    },
    /// A manual crop box does not fit inside the image.
    #[error(
        "{path}: the crop box x={x},y={y},w={w},h={h} does not fit the {image_w}x{image_h} image; \
         fix: give a box inside the image (after EXIF rotation)"
    )]
    CropOutside {
        /// The file.
        path: PathBuf,
        /// Left column.
        x: u32,
        /// Top row.
        y: u32,
        /// Box width.
        w: u32,
        /// Box height.
        h: u32,
        /// Image width.
        image_w: u32,
        /// Image height.
        image_h: u32,
    },
    /// A folder given as input holds no JPEG or PNG file.
    #[error(
        "{path}: no .jpg, .jpeg or .png file in this folder; fix: point --input at the images \
         (sub-folders are not searched)"
    )]
    EmptyFolder {
        /// The folder.
        path: PathBuf,
    },
    /// A checkpoint of a network that cannot edit images.
    #[error(
        "{path}: a `{found}` checkpoint, which cannot edit images; fix: pass a Fader run folder \
         (or its best_accu_ae / best_rec_ae / last_ae .safetensors), or an IcGAN encoders run \
         folder"
    )]
    WrongModel {
        /// The checkpoint.
        path: PathBuf,
        /// Its `sliders.kind` (or a description when absent).
        found: String,
    },
    /// A model folder that does not hold what editing needs.
    #[error("{path}: {what}; fix: {fix}")]
    ModelFolder {
        /// The folder or file.
        path: PathBuf,
        /// What is missing.
        what: String,
        /// How to fix it.
        fix: String,
    },
    /// A checkpoint without the metadata that makes it self-describing, or with inconsistent metadata.
    #[error(
        "{path}: metadata `{key}` {what}; fix: use a model written by `sliders train` (its \
         checkpoints carry attributes, framing and image size)"
    )]
    Metadata {
        /// The checkpoint.
        path: PathBuf,
        /// The metadata key.
        key: String,
        /// What is wrong with it.
        what: String,
    },
    /// An attribute name the model does not know.
    #[error("unknown attribute `{name}`; this model knows: {valid}")]
    UnknownAttribute {
        /// The name given.
        name: String,
        /// The model's attributes, comma-separated, in `y` order.
        valid: String,
    },
    /// A malformed command-line value (`--set`, `--crop`, a range of alphas).
    #[error("bad {flag} `{text}`: {why}")]
    BadArgument {
        /// The flag.
        flag: &'static str,
        /// The text given.
        text: String,
        /// What is wrong and how to write it.
        why: String,
    },
    /// A result cannot be written.
    #[error(
        "{path}: cannot write it ({what}); fix: check that the folder is writable and the disk not full"
    )]
    Write {
        /// The output file.
        path: PathBuf,
        /// What failed.
        what: String,
    },
    /// A [`Latent`](crate::Latent) decoded by a model that did not encode it, or with the wrong
    /// number of edits.
    #[error("cannot decode this latent: {what}; fix: encode the photo with this model first")]
    LatentMismatch {
        /// What does not match.
        what: String,
    },
    /// Face detection was asked for (`--crop auto` or `align`) but its weights cannot be loaded.
    #[error("{0}")]
    Detector(String),
    /// `--crop align` (or `auto` on a photo not shaped like aligned CelebA) found no face.
    #[error("{path}: {why}")]
    NoFace {
        /// The file.
        path: PathBuf,
        /// The detector's message, with the fix.
        why: String,
    },
    /// Loading a network failed (I/O, corrupt file, shape mismatch).
    #[error(transparent)]
    Nets(#[from] NetsError),
    /// libtorch failed while running the model.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// The fix appended to a decode error (a limit's message names its own).
fn decode_fix(e: &sliders_celeba::DecodeError) -> &'static str {
    match e {
        sliders_celeba::DecodeError::TooLarge { .. } => "",
        _ => "; fix: give a whole JPEG or PNG file (re-save it with an image editor)",
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = EditError> = std::result::Result<T, E>;
