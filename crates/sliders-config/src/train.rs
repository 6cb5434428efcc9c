//! Training configuration (`[fader_train]`, `[classifier_train]`, `[digits]`; the IcGAN loops in
//! `icgan.rs`) and the experiment file that ties data, model and training together (`sliders
//! train --config exp.toml`; its per-kind layout in `experiment.rs`, its file form in `wire.rs`).
//! Defaults are the Fader reference's `train.py` / `classifier.py` flags
//! (docs/fader-networks.md#hyper-parameters).

use crate::nets::EncoderKind;
use crate::validate::{
    at_least_one, check, epoch_holds_batch, in_range, non_negative, nonempty, positive, weight,
};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

mod experiment;
mod icgan;
mod wire;
pub use experiment::{
    CganSpec, ClassifierSpec, DigitsSpec, EncodersSpec, EvalSpec, Experiment, ExperimentKind,
    FaderSpec, SECTIONS, Spec,
};
pub use icgan::{CganTrainConfig, EncoderTrainConfig};
pub use wire::drop_foreign_sections;

/// A configuration that cannot work, with the field and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{field}` = {value}: {fix}")]
pub struct TrainConfigError {
    /// The dotted field.
    pub field: String,
    /// Its value.
    pub value: String,
    /// What would work.
    pub fix: String,
}

/// Adam's settings (the reference's `"adam,lr=…"` strings; β1 defaults to 0.5 there).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamSettings {
    /// Learning rate. Default 2e-4 (`--ae_optimizer`, `--dis_optimizer`).
    pub lr: f64,
    /// β1. Default 0.5.
    pub beta1: f64,
    /// β2. Default 0.999.
    pub beta2: f64,
    /// ε. Default 1e-8.
    pub eps: f64,
}

impl Default for AdamSettings {
    fn default() -> Self {
        Self {
            lr: 2e-4,
            beta1: 0.5,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

impl AdamSettings {
    /// Checks the settings of the optimizer at dotted `field`.
    pub fn validate(&self, field: &str) -> Result<(), TrainConfigError> {
        let key = |name: &str| format!("{field}.{name}");
        positive(&key("lr"), self.lr, "use a positive learning rate")?;
        in_range(&key("beta1"), self.beta1, 0.0..1.0, BETAS)?;
        in_range(&key("beta2"), self.beta2, 0.0..1.0, BETAS)?;
        positive(&key("eps"), self.eps, "use a positive epsilon")
    }
}

const BETAS: &str = "betas must lie in [0, 1)";

/// The fix of a negative gradient-norm clip.
pub(crate) const CLIP: &str = "use 0 (off) or a positive norm";

/// Which device a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// CUDA when available, else the CPU (default).
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// The first CUDA device; an error when there is none.
    Cuda,
}

/// The Fader Networks training loop (docs/fader-networks.md#training-loop).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaderTrainConfig {
    /// Autoencoder iterations to run in total. Default 1,563,000 (`--n_epochs` 1000 × 1563).
    pub total_steps: u64,
    /// Images per "epoch" (`--epoch_size`, default 50,000): the model is evaluated on the
    /// validation split and the best checkpoints kept after each `epoch_size / batch_size` steps.
    pub epoch_size: u64,
    /// Latent-discriminator steps per iteration (`--n_lat_dis`, default 1).
    pub n_lat_dis: u32,
    /// Patch-discriminator steps per iteration (`--n_ptc_dis`, default 0).
    pub n_ptc_dis: u32,
    /// Classifier-discriminator steps per iteration (`--n_clf_dis`, default 0).
    pub n_clf_dis: u32,
    /// Weight of the reconstruction MSE (`--lambda_ae`, default 1; not scheduled).
    pub lambda_ae: f64,
    /// Final weight λ of the latent adversarial loss (`--lambda_lat_dis`, default 1e-4).
    pub lambda_lat_dis: f64,
    /// Final weight of the patch-discriminator loss (`--lambda_ptc_dis`, default 0).
    pub lambda_ptc_dis: f64,
    /// Final weight of the classifier-discriminator loss (`--lambda_clf_dis`, default 0).
    pub lambda_clf_dis: f64,
    /// Autoencoder steps over which the adversarial weights rise linearly from 0
    /// (`--lambda_schedule`, default 500,000; 0 = no warm-up).
    pub lambda_schedule: u64,
    /// Label smoothing of the patch discriminator (`--smooth_label`, default 0.2; in [0, 0.5)).
    pub smooth_label: f64,
    /// Optimizer of the autoencoder (`--ae_optimizer`, default Adam lr 2e-4, β1 0.5).
    pub ae_optimizer: AdamSettings,
    /// Optimizer of each discriminator, one instance per network (`--dis_optimizer`).
    pub dis_optimizer: AdamSettings,
    /// Per-network gradient-norm clipping (`--clip_grad_norm`, default 5; 0 = off).
    pub clip_grad_norm: f64,
    /// Log mean losses every this many steps (reference: 25).
    pub log_every: u64,
    /// Save the resumable state every this many steps (default 1,000), and at each evaluation.
    pub checkpoint_every: u64,
    /// Batch size of evaluation passes (reference: 32).
    pub eval_batch_size: usize,
    /// Evaluate on at most this many validation images (0 = all, the reference).
    pub eval_max_images: usize,
    /// The evaluation classifier's checkpoint (`--eval_clf`), needed for the swap accuracy and the
    /// `best_accu` selection; without it those are skipped (the reference requires it).
    pub eval_classifier: Option<PathBuf>,
    /// Lay images and convolution weights out channels-last (NHWC strides), which oneDNN's CPU
    /// convolutions run faster (`cargo xtask bench train --cases fader64cl` measures it). Same
    /// model and update up to float rounding; default false (the reference's NCHW).
    pub channels_last: bool,
    /// On CUDA, capture the default iteration (one latent-discriminator update, one autoencoder
    /// update) as a CUDA graph and replay it (docs/gpu.md#cuda-graphs); the eager update is used,
    /// with a log line, wherever capture is not possible. Ignored on the CPU. Default true.
    pub cuda_graph: bool,
}

impl Default for FaderTrainConfig {
    fn default() -> Self {
        Self {
            total_steps: 1_563_000,
            epoch_size: 50_000,
            n_lat_dis: 1,
            n_ptc_dis: 0,
            n_clf_dis: 0,
            lambda_ae: 1.0,
            lambda_lat_dis: 1e-4,
            lambda_ptc_dis: 0.0,
            lambda_clf_dis: 0.0,
            lambda_schedule: 500_000,
            smooth_label: 0.2,
            ae_optimizer: AdamSettings::default(),
            dis_optimizer: AdamSettings::default(),
            clip_grad_norm: 5.0,
            log_every: 25,
            checkpoint_every: 1_000,
            eval_batch_size: 32,
            eval_max_images: 0,
            eval_classifier: None,
            channels_last: false,
            cuda_graph: true,
        }
    }
}

impl FaderTrainConfig {
    /// Checks the reference's asserts and that every count and weight can work.
    pub fn validate(&self, batch_size: usize) -> Result<(), TrainConfigError> {
        let t = "train for at least one step";
        positive("fader_train.total_steps", self.total_steps, t)?;
        epoch_holds_batch("fader_train.epoch_size", self.epoch_size, batch_size)?;
        for (name, lambda, n) in [
            ("lat_dis", self.lambda_lat_dis, self.n_lat_dis),
            ("ptc_dis", self.lambda_ptc_dis, self.n_ptc_dis),
            ("clf_dis", self.lambda_clf_dis, self.n_clf_dis),
        ] {
            let key = format!("fader_train.lambda_{name}");
            weight(&key, lambda)?;
            let fix = format!(
                "a non-zero weight needs fader_train.n_{name} ≥ 1 (the discriminator must be trained)"
            );
            check(lambda == 0.0 || n > 0, &key, lambda, &fix)?;
        }
        non_negative("fader_train.lambda_ae", self.lambda_ae, "use a weight ≥ 0")?;
        let smooth = "label smoothing must lie in [0, 0.5)";
        in_range(
            "fader_train.smooth_label",
            self.smooth_label,
            0.0..0.5,
            smooth,
        )?;
        non_negative("fader_train.clip_grad_norm", self.clip_grad_norm, CLIP)?;
        at_least_one("fader_train.log_every", self.log_every)?;
        at_least_one("fader_train.checkpoint_every", self.checkpoint_every)?;
        at_least_one("fader_train.eval_batch_size", self.eval_batch_size)?;
        self.ae_optimizer.validate("fader_train.ae_optimizer")?;
        self.dis_optimizer.validate("fader_train.dis_optimizer")
    }

    /// Autoencoder steps per "epoch": `epoch_size / batch_size` rounded up (1563 by default).
    pub fn steps_per_epoch(&self, batch_size: usize) -> u64 {
        self.epoch_size.div_ceil(batch_size as u64)
    }
}

/// The evaluation classifier's training loop (`classifier.py`,
/// docs/fader-networks.md#classifier-training).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifierTrainConfig {
    /// Steps to run in total. Default 1,563,000 (`--n_epochs` 1000 × 1563).
    pub total_steps: u64,
    /// Images per "epoch" (`--epoch_size`, default 50,000); evaluation and best-checkpoint
    /// selection by mean validation accuracy after each.
    pub epoch_size: u64,
    /// Optimizer (`--optimizer adam`: lr 1e-3, β1 0.5).
    pub optimizer: AdamSettings,
    /// Gradient-norm clipping (`--clip_grad_norm`, default 5; 0 = off).
    pub clip_grad_norm: f64,
    /// Log the mean loss every this many steps (default 25).
    pub log_every: u64,
    /// Save the resumable state every this many steps (default 1,000), and at each evaluation.
    pub checkpoint_every: u64,
    /// Batch size of evaluation passes (default 32).
    pub eval_batch_size: usize,
    /// Evaluate on at most this many validation images (0 = all).
    pub eval_max_images: usize,
}

impl Default for ClassifierTrainConfig {
    fn default() -> Self {
        Self {
            total_steps: 1_563_000,
            epoch_size: 50_000,
            optimizer: AdamSettings {
                lr: 1e-3,
                ..AdamSettings::default()
            },
            clip_grad_norm: 5.0,
            log_every: 25,
            checkpoint_every: 1_000,
            eval_batch_size: 32,
            eval_max_images: 0,
        }
    }
}

impl ClassifierTrainConfig {
    /// Checks that every count can work.
    pub fn validate(&self, batch_size: usize) -> Result<(), TrainConfigError> {
        let t = "train for at least one step";
        positive("classifier_train.total_steps", self.total_steps, t)?;
        epoch_holds_batch("classifier_train.epoch_size", self.epoch_size, batch_size)?;
        non_negative("classifier_train.clip_grad_norm", self.clip_grad_norm, CLIP)?;
        at_least_one("classifier_train.log_every", self.log_every)?;
        at_least_one("classifier_train.checkpoint_every", self.checkpoint_every)?;
        at_least_one("classifier_train.eval_batch_size", self.eval_batch_size)?;
        self.optimizer.validate("classifier_train.optimizer")
    }

    /// Steps per "epoch".
    pub fn steps_per_epoch(&self, batch_size: usize) -> u64 {
        self.epoch_size.div_ceil(batch_size as u64)
    }
}

/// The digits pipeline (`kind = "digits"`): which encoder layouts, how many images, figure size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigitsConfig {
    /// Encoder layouts to train and compare (default `["ind"]`; `"sng"`, `"ind-cond"` too).
    pub encoders: Vec<EncoderKind>,
    /// Use at most this many training images (0 = all), the first ones of the
    /// class-interleaved order, so every class keeps its share. Default 0.
    pub max_train_images: usize,
    /// Evaluate on at most this many test images (0 = all), chosen the same way. Default 0.
    pub max_test_images: usize,
    /// Test digits (rows) in the figure. Default 10 (one per class).
    pub figure_rows: usize,
}

impl Default for DigitsConfig {
    fn default() -> Self {
        Self {
            encoders: vec![EncoderKind::Ind],
            max_train_images: 0,
            max_test_images: 0,
            figure_rows: 10,
        }
    }
}

impl DigitsConfig {
    /// Checks that at least one layout is named and the figure has rows.
    pub fn validate(&self) -> Result<(), TrainConfigError> {
        let layouts = "name at least one layout, e.g. [\"ind\"]";
        nonempty("digits.encoders", &self.encoders, layouts)?;
        at_least_one("digits.figure_rows", self.figure_rows)
    }
}

#[cfg(test)]
mod tests;
