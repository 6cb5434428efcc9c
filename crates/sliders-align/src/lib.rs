//! sliders-align: finds faces in a photo and maps them to and from a model's input frame, so
//! that `sliders edit`, `interpolate` and `serve` can take photos in any framing.
//!
//! - [`detect`]: MTCNN's three-stage cascade (networks in `sliders_nets::mtcnn`, weights from
//!   facenet-pytorch converted by `cargo xtask setup`): boxes, probabilities, five landmarks.
//! - [`similarity`]: similarity transforms and their least-squares fit to point pairs.
//! - [`template`]: where aligned CelebA puts the five landmarks (measured on the CelebA sample,
//!   committed as numbers) and where that is in a model's frame.
//! - [`framing`]: the linear correction from a face's shape to CelebA's own framing of it.
//! - [`align`]: a photo's faces warped into the frame; the "already aligned CelebA" test.
//! - [`warp`]: bilinear warping into the frame and paste-back with a feathered border.
//! - [`boxes`]: the cascade's box arithmetic (NMS, regression, squaring).
//!
//! ```no_run
//! use sliders_align::{Detector, Frame, Template, align_faces, paste_back};
//! let detector = Detector::load_default(tch::Device::Cpu)?;
//! let photo = image::open("photo.jpg").unwrap().to_rgb8();
//! let fader = Frame { x0: 0.0, y0: 20.0, width: 178.0, height: 178.0 };
//! for face in align_faces(&detector, &Template::celeba(), &photo, fader, 256)? {
//!     let edited = face.image.clone(); // run the model here
//!     let _whole = paste_back(&photo, &edited, &face.to_frame);
//! }
//! # Ok::<(), sliders_align::AlignError>(())
//! ```

pub mod align;
pub mod boxes;
pub mod detect;
mod error;
pub mod framing;
pub mod similarity;
pub mod template;
pub mod warp;

pub use align::{
    AlignedFace, align_detected, align_faces, fit_points, fit_to_frame, is_celeba_aligned, refine,
};
pub use detect::{Detector, DetectorConfig, Face};
pub use error::AlignError;
pub use framing::FramingCorrection;
pub use similarity::Similarity;
pub use template::{Frame, Template};
pub use warp::{paste_back, warp};
