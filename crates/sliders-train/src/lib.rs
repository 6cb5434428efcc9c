//! sliders-train: the training loops of both papers (Fader alternating steps with the lambda
//! schedule, the evaluation classifier, IcGAN's cGAN and encoders), resume, metric rows and progress
//! events. So far: the lambda schedule and a resumable Adam with per-network clipping; the loops
//! arrive with the training issue.

mod error;
pub mod optim;
pub mod schedule;

pub use error::TrainError;
