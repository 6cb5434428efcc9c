//! Numbers the papers publish, which the evaluation's tables and the report's summary set beside
//! ours; one copy here, in the crate every other one depends on, and free of tch.

/// The attributes of the Fader paper's Table 1, in its column order (Mouth, Smile, Glasses).
pub const FADER_TABLE1_ATTRIBUTES: [&str; 3] = ["Mouth_Slightly_Open", "Smiling", "Eyeglasses"];

/// The Fader paper's Table 1 (human raters on Mechanical Turk, percent), in its row order:
/// (row, naturalness, accuracy), each over [`FADER_TABLE1_ATTRIBUTES`]
/// (docs/fader-networks.md#evaluation-and-table-1).
pub const FADER_TABLE1: [(&str, [f64; 3], [f64; 3]); 5] = [
    ("Real Image", [92.6, 87.0, 88.6], [89.0, 88.3, 97.6]),
    ("IcGAN AE", [22.7, 21.7, 14.8], [88.1, 91.7, 86.2]),
    ("IcGAN Swap", [11.4, 22.9, 9.6], [10.1, 9.9, 47.5]),
    ("FadNet AE", [88.4, 75.2, 78.8], [91.8, 90.1, 94.5]),
    ("FadNet Swap", [79.0, 31.4, 45.3], [66.2, 97.1, 76.6]),
];
