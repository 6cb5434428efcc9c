//! The crate's error type: missing or broken detector weights, and photos without a face.

/// What can go wrong while detecting or aligning faces.
#[derive(Debug, thiserror::Error)]
pub enum AlignError {
    /// MTCNN's weights could not be loaded (the message says how to install them).
    #[error("face detector: {0}")]
    Weights(#[from] sliders_nets::NetsError),

    /// The detector found no face.
    #[error(
        "no face found in the {width}x{height} photo (MTCNN looks for faces at least {min_face} \
         pixels wide, upright within about ±45°); fix: use a photo with a visible face, or give \
         the face's box with --crop x,y,w,h"
    )]
    NoFace {
        /// Photo width.
        width: u32,
        /// Photo height.
        height: u32,
        /// The smallest face size searched for.
        min_face: f64,
    },

    /// The template file is malformed (only possible for a file other than the built-in one).
    #[error("landmark template: {0}")]
    Template(String),
}
