//! The IcGAN loops' training configuration: `[cgan_train]` (the conditional GAN,
//! docs/icgan.md#loss-and-iteration to #bn-refresh) and `[encoder_train]` (its SNG / IND / IND-COND
//! encoders, docs/icgan.md#encoders).

use super::{AdamSettings, CLIP, TrainConfigError};
use crate::nets::EncoderKind;
use crate::validate::{at_least_one, epoch_holds_batch, in_range, non_negative, positive, weight};
use serde::{Deserialize, Serialize};
use std::ops::Bound::Excluded;
use std::path::PathBuf;

/// IcGAN's conditional-GAN loop (docs/icgan.md#hyper-parameters, `cfg/mainConfig.lua` option 0).
/// The batch size is `data.sampler.batch_size` (reference 64, per-image flips: `flip = "per_image"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CganTrainConfig {
    /// Iterations (one D and one G update each). Default 71,350 (25 epochs × 2,854).
    pub total_steps: u64,
    /// Images per "epoch" (default 182,638, the reference's training set: 2,854 iterations at
    /// batch 64). A sample grid and the resumable state are written after each.
    pub epoch_size: u64,
    /// Optimizer of G (`lr` 2e-4, β1 0.5).
    pub g_optimizer: AdamSettings,
    /// Optimizer of D (`lr` 2e-4, β1 0.5).
    pub d_optimizer: AdamSettings,
    /// Per-network gradient-norm clipping (0 = off, the reference).
    pub clip_grad_norm: f64,
    /// Weight of the mismatched-label ("wrong y") term of D's loss (default 0.5; 0 disables it).
    pub wrong_y_weight: f64,
    /// Train-mode forwards of G under no_grad before it is saved for eval-mode use
    /// (docs/icgan.md#bn-refresh, default 100; 0 = no refresh).
    pub bn_refresh_steps: u64,
    /// Batch size of the refresh forwards (default 256).
    pub bn_refresh_batch: usize,
    /// Rows (fixed z) of the sample grid (default 8).
    pub sample_rows: usize,
    /// Log mean losses every this many steps (default 25).
    pub log_every: u64,
    /// Save the resumable state every this many steps (default 1,000), and at each epoch end.
    pub checkpoint_every: u64,
    /// On CUDA, capture the iteration (D update, G update) as a CUDA graph and replay it
    /// (docs/gpu.md#cuda-graphs); the eager update is used, with a log line, wherever capture is
    /// not possible. Ignored on the CPU. Default true.
    pub cuda_graph: bool,
}

impl Default for CganTrainConfig {
    fn default() -> Self {
        Self {
            total_steps: 71_350,
            epoch_size: 182_638,
            g_optimizer: AdamSettings::default(),
            d_optimizer: AdamSettings::default(),
            clip_grad_norm: 0.0,
            wrong_y_weight: 0.5,
            bn_refresh_steps: 100,
            bn_refresh_batch: 256,
            sample_rows: 8,
            log_every: 25,
            checkpoint_every: 1_000,
            cuda_graph: true,
        }
    }
}

impl CganTrainConfig {
    /// Checks that every count and weight can work.
    pub fn validate(&self, batch_size: usize) -> Result<(), TrainConfigError> {
        let t = "train for at least one step";
        positive("cgan_train.total_steps", self.total_steps, t)?;
        epoch_holds_batch("cgan_train.epoch_size", self.epoch_size, batch_size)?;
        non_negative("cgan_train.clip_grad_norm", self.clip_grad_norm, CLIP)?;
        weight("cgan_train.wrong_y_weight", self.wrong_y_weight)?;
        at_least_one("cgan_train.bn_refresh_batch", self.bn_refresh_batch)?;
        at_least_one("cgan_train.sample_rows", self.sample_rows)?;
        at_least_one("cgan_train.log_every", self.log_every)?;
        at_least_one("cgan_train.checkpoint_every", self.checkpoint_every)?;
        self.g_optimizer.validate("cgan_train.g_optimizer")?;
        self.d_optimizer.validate("cgan_train.d_optimizer")
    }

    /// Iterations per "epoch": `epoch_size / batch_size` rounded up (2,854 by default at 64).
    pub fn steps_per_epoch(&self, batch_size: usize) -> u64 {
        self.epoch_size.div_ceil(batch_size as u64)
    }
}

/// IcGAN's encoder dataset (docs/icgan.md#encoder-dataset) and encoder training
/// (docs/icgan.md#encoder-training, #sng, #ind-cond).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncoderTrainConfig {
    /// The trained cGAN run folder (holding the BN-refreshed `G.safetensors`).
    pub cgan_run: PathBuf,
    /// Layout: `ind` (default), `sng` or `ind-cond`.
    pub encoder_kind: EncoderKind,
    /// Generated triples `(x', z, y')` (reference 182,784 = 714 × 256; 0 = the number of
    /// training label rows rounded up to whole generation batches).
    pub dataset_size: usize,
    /// Batch of the generation passes (default 256).
    pub generate_batch: usize,
    /// Fraction of the generated set used for training, the first rows (default 0.66); the
    /// rest is the test split.
    pub train_fraction: f64,
    /// Training batch (default 64; the last partial batch of an epoch is dropped).
    pub batch_size: usize,
    /// Epochs over the generated training split (default 15).
    pub epochs: u64,
    /// Optimizer of every encoder (`lr` 1e-4, β1 0.1).
    pub optimizer: AdamSettings,
    /// Log mean losses every this many steps (default 25).
    pub log_every: u64,
    /// Save the resumable state every this many steps (default 1,000), and at each epoch end.
    pub checkpoint_every: u64,
    /// Evaluate on at most this many test images per split (0 = all).
    pub eval_max_images: usize,
    /// On CUDA, capture the iteration (the z or SNG encoder's update, then `Ey`'s) as a CUDA
    /// graph and replay it (docs/gpu.md#cuda-graphs); the eager update is used, with a log line,
    /// wherever capture is not possible. Ignored on the CPU. Default true.
    pub cuda_graph: bool,
}

impl Default for EncoderTrainConfig {
    fn default() -> Self {
        Self {
            cgan_run: PathBuf::from("data/runs/cgan"),
            encoder_kind: EncoderKind::Ind,
            dataset_size: 0,
            generate_batch: 256,
            train_fraction: 0.66,
            batch_size: 64,
            epochs: 15,
            optimizer: AdamSettings {
                lr: 1e-4,
                beta1: 0.1,
                ..AdamSettings::default()
            },
            log_every: 25,
            checkpoint_every: 1_000,
            eval_max_images: 0,
            cuda_graph: true,
        }
    }
}

impl EncoderTrainConfig {
    /// Checks that every count and fraction can work.
    pub fn validate(&self) -> Result<(), TrainConfigError> {
        at_least_one("encoder_train.generate_batch", self.generate_batch)?;
        let both = "use a fraction in (0, 1) so both splits hold images";
        let open = (Excluded(0.0), Excluded(1.0));
        in_range(
            "encoder_train.train_fraction",
            self.train_fraction,
            open,
            both,
        )?;
        at_least_one("encoder_train.batch_size", self.batch_size)?;
        let e = "train for at least one epoch";
        positive("encoder_train.epochs", self.epochs, e)?;
        at_least_one("encoder_train.log_every", self.log_every)?;
        at_least_one("encoder_train.checkpoint_every", self.checkpoint_every)?;
        self.optimizer.validate("encoder_train.optimizer")
    }
}
