//! sliders-train: the training loops of both papers, usable as a library and driven by
//! `sliders train --config <experiment.toml>`: Fader Networks' alternating latent-discriminator and
//! autoencoder steps with the lambda schedule ([`fader`]), the evaluation classifier
//! ([`classifier`]); the one driver every loop runs under, with its cadence, resume and metric
//! rows ([`driver`]); resumable runs ([`state`]), run folders and their metric rows ([`run_dir`]),
//! one process per folder ([`run_lock`]), progress events ([`events`]) and the bookkeeping all
//! loops share ([`progress`]), the CUDA-graph capture of an iteration ([`graphed`]); IcGAN's conditional GAN,
//! encoder dataset and encoders ([`icgan`]). The iterations the benchmarks time are in the
//! sliders-bench crate.

pub mod classifier;
mod common;
pub mod device;
pub mod driver;
mod error;
pub mod events;
pub mod fader;
pub mod graphed;
pub mod icgan;
pub mod judge;
pub mod layout;
pub mod losses;
pub mod optim;
pub mod progress;
pub mod run_dir;
pub mod run_lock;
pub mod schedule;
pub mod state;
pub mod tensors;

pub use classifier::ClassifierTrainer;
pub use error::TrainError;
pub use events::Event;
pub use fader::FaderTrainer;
pub use icgan::{CganTrainer, EncoderTrainer};

/// Serialises the unit tests that seed libtorch's global generator: a test running in parallel
/// could draw from it between another test's seeding and its use.
#[cfg(test)]
pub(crate) fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
