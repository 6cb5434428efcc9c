//! The IcGAN loops' training configuration: `[cgan_train]` (the conditional GAN,
//! docs/icgan.md#loss-and-iteration to #bn-refresh) and `[encoder_train]` (its SNG / IND / IND-COND
//! encoders, docs/icgan.md#encoders).

use super::{AdamSettings, TrainConfigError, check};
use crate::nets::EncoderKind;
use serde::{Deserialize, Serialize};
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
        }
    }
}

impl CganTrainConfig {
    /// Checks that every count and weight can work.
    pub fn validate(&self, batch_size: usize) -> Result<(), TrainConfigError> {
        let f = "cgan_train";
        check(
            self.total_steps > 0,
            &format!("{f}.total_steps"),
            self.total_steps,
            "train for at least one step",
        )?;
        check(
            self.epoch_size >= batch_size as u64,
            &format!("{f}.epoch_size"),
            self.epoch_size,
            &format!(
                "an epoch must hold at least one batch of data.sampler.batch_size = {batch_size}"
            ),
        )?;
        check(
            self.clip_grad_norm >= 0.0,
            &format!("{f}.clip_grad_norm"),
            self.clip_grad_norm,
            "use 0 (off) or a positive norm",
        )?;
        check(
            self.wrong_y_weight >= 0.0 && self.wrong_y_weight.is_finite(),
            &format!("{f}.wrong_y_weight"),
            self.wrong_y_weight,
            "use a finite weight ≥ 0",
        )?;
        check(
            self.bn_refresh_batch > 0,
            &format!("{f}.bn_refresh_batch"),
            self.bn_refresh_batch,
            "use N ≥ 1",
        )?;
        check(
            self.sample_rows > 0,
            &format!("{f}.sample_rows"),
            self.sample_rows,
            "use N ≥ 1",
        )?;
        check(
            self.log_every > 0,
            &format!("{f}.log_every"),
            self.log_every,
            "use N ≥ 1",
        )?;
        check(
            self.checkpoint_every > 0,
            &format!("{f}.checkpoint_every"),
            self.checkpoint_every,
            "use N ≥ 1",
        )?;
        self.g_optimizer.validate(&format!("{f}.g_optimizer"))?;
        self.d_optimizer.validate(&format!("{f}.d_optimizer"))
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
        }
    }
}

impl EncoderTrainConfig {
    /// Checks that every count and fraction can work.
    pub fn validate(&self) -> Result<(), TrainConfigError> {
        let f = "encoder_train";
        check(
            self.generate_batch > 0,
            &format!("{f}.generate_batch"),
            self.generate_batch,
            "use N ≥ 1",
        )?;
        check(
            self.train_fraction > 0.0 && self.train_fraction < 1.0,
            &format!("{f}.train_fraction"),
            self.train_fraction,
            "use a fraction in (0, 1) so both splits hold images",
        )?;
        check(
            self.batch_size > 0,
            &format!("{f}.batch_size"),
            self.batch_size,
            "use N ≥ 1",
        )?;
        check(
            self.epochs > 0,
            &format!("{f}.epochs"),
            self.epochs,
            "train for at least one epoch",
        )?;
        check(
            self.log_every > 0,
            &format!("{f}.log_every"),
            self.log_every,
            "use N ≥ 1",
        )?;
        check(
            self.checkpoint_every > 0,
            &format!("{f}.checkpoint_every"),
            self.checkpoint_every,
            "use N ≥ 1",
        )?;
        self.optimizer.validate(&format!("{f}.optimizer"))
    }
}
