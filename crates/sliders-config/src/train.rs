//! Training configuration (`[fader_train]`, `[classifier_train]`) and the experiment file that
//! ties data, model and training together (`sliders train --config exp.toml`). Defaults are the
//! Fader reference's `train.py` / `classifier.py` flags (docs/fader-networks.md#hyper-parameters).

use crate::data::DataConfig;
use crate::nets::{ClassifierConfig, EncoderKind, FaderConfig, IcganConfig, IcganEncoderConfig};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

mod icgan;
pub use icgan::{CganTrainConfig, EncoderTrainConfig};

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

pub(crate) fn check(
    ok: bool,
    field: &str,
    value: impl ToString,
    fix: &str,
) -> Result<(), TrainConfigError> {
    if ok {
        Ok(())
    } else {
        Err(TrainConfigError {
            field: field.to_string(),
            value: value.to_string(),
            fix: fix.to_string(),
        })
    }
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
    fn validate(&self, field: &str) -> Result<(), TrainConfigError> {
        check(
            self.lr > 0.0,
            &format!("{field}.lr"),
            self.lr,
            "use a positive learning rate",
        )?;
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            check(
                (0.0..1.0).contains(&b),
                &format!("{field}.{name}"),
                b,
                "betas must lie in [0, 1)",
            )?;
        }
        check(
            self.eps > 0.0,
            &format!("{field}.eps"),
            self.eps,
            "use a positive epsilon",
        )
    }
}

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
        }
    }
}

impl FaderTrainConfig {
    /// Checks the reference's asserts and that every count and weight can work.
    pub fn validate(&self, batch_size: usize) -> Result<(), TrainConfigError> {
        let f = "fader_train";
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
        for (name, lambda, n) in [
            ("lat_dis", self.lambda_lat_dis, self.n_lat_dis),
            ("ptc_dis", self.lambda_ptc_dis, self.n_ptc_dis),
            ("clf_dis", self.lambda_clf_dis, self.n_clf_dis),
        ] {
            check(
                lambda >= 0.0 && lambda.is_finite(),
                &format!("{f}.lambda_{name}"),
                lambda,
                "use a finite weight ≥ 0",
            )?;
            check(
                lambda == 0.0 || n > 0,
                &format!("{f}.lambda_{name}"),
                lambda,
                &format!(
                    "a non-zero weight needs {f}.n_{name} ≥ 1 (the discriminator must be trained)"
                ),
            )?;
        }
        check(
            self.lambda_ae >= 0.0,
            &format!("{f}.lambda_ae"),
            self.lambda_ae,
            "use a weight ≥ 0",
        )?;
        check(
            (0.0..0.5).contains(&self.smooth_label),
            &format!("{f}.smooth_label"),
            self.smooth_label,
            "label smoothing must lie in [0, 0.5)",
        )?;
        check(
            self.clip_grad_norm >= 0.0,
            &format!("{f}.clip_grad_norm"),
            self.clip_grad_norm,
            "use 0 (off) or a positive norm",
        )?;
        check(
            self.log_every > 0,
            &format!("{f}.log_every"),
            self.log_every,
            "log at least every N ≥ 1 steps",
        )?;
        check(
            self.checkpoint_every > 0,
            &format!("{f}.checkpoint_every"),
            self.checkpoint_every,
            "use N ≥ 1",
        )?;
        check(
            self.eval_batch_size > 0,
            &format!("{f}.eval_batch_size"),
            self.eval_batch_size,
            "use N ≥ 1",
        )?;
        self.ae_optimizer.validate(&format!("{f}.ae_optimizer"))?;
        self.dis_optimizer.validate(&format!("{f}.dis_optimizer"))
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
        let f = "classifier_train";
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
        check(
            self.eval_batch_size > 0,
            &format!("{f}.eval_batch_size"),
            self.eval_batch_size,
            "use N ≥ 1",
        )?;
        self.optimizer.validate(&format!("{f}.optimizer"))
    }

    /// Steps per "epoch".
    pub fn steps_per_epoch(&self, batch_size: usize) -> u64 {
        self.epoch_size.div_ceil(batch_size as u64)
    }
}

/// What an experiment trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentKind {
    /// A Fader Networks autoencoder with its latent discriminator.
    Fader,
    /// The evaluation classifier.
    Classifier,
    /// IcGAN's conditional GAN (docs/icgan.md#conditional-gan), ending with the BN refresh
    /// (#bn-refresh).
    Cgan,
    /// IcGAN's encoder dataset and encoders (docs/icgan.md#encoders) for a trained cGAN run.
    Encoders,
    /// The evaluation of trained runs (`sliders eval`): tables, figures, metrics.
    Eval,
    /// IcGAN on a digit dataset (`data.source = "mnist" | "fashion_mnist"`, docs/icgan.md#digits):
    /// the cGAN, the encoder layouts of `[digits]`, a digit classifier, then the
    /// reconstruction/class-swap evaluation and figure, all in one run folder.
    Digits,
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
        check(
            !self.encoders.is_empty(),
            "digits.encoders",
            "[]",
            "name at least one layout, e.g. [\"ind\"]",
        )?;
        check(
            self.figure_rows > 0,
            "digits.figure_rows",
            self.figure_rows,
            "use N ≥ 1",
        )
    }
}

/// An experiment file: what to train, on which data, with which model and loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// What this experiment trains.
    pub kind: ExperimentKind,
    /// Seed of the weights, the data order and dropout. Default 0.
    #[serde(default)]
    pub seed: u64,
    /// Device. Default `auto`.
    #[serde(default)]
    pub device: DeviceChoice,
    /// The run folder: resolved config, metrics.csv, checkpoints, samples, log.
    pub run_dir: PathBuf,
    /// Data. The model's `img_sz` and `n_attr` follow `data.image_size` and the attributes.
    #[serde(default)]
    pub data: DataConfig,
    /// Fader model shape (kind = "fader").
    #[serde(default)]
    pub fader: FaderConfig,
    /// Fader training loop (kind = "fader").
    #[serde(default)]
    pub fader_train: FaderTrainConfig,
    /// Classifier shape (kind = "classifier").
    #[serde(default)]
    pub classifier: ClassifierConfig,
    /// Classifier training loop (kind = "classifier").
    #[serde(default)]
    pub classifier_train: ClassifierTrainConfig,
    /// IcGAN generator/discriminator shape (kind = "cgan"); `img_sz`, `ny` and `nc` follow the
    /// data.
    #[serde(default)]
    pub icgan: IcganConfig,
    /// IcGAN cGAN training loop (kind = "cgan").
    #[serde(default)]
    pub cgan_train: CganTrainConfig,
    /// IcGAN encoder shape (kind = "encoders"); `kind` is taken from
    /// `encoder_train.encoder_kind`, `img_sz`, `nc`, `nz`, `ny` from the cGAN.
    #[serde(default)]
    pub icgan_encoder: IcganEncoderConfig,
    /// IcGAN encoder dataset and training (kind = "encoders").
    #[serde(default)]
    pub encoder_train: EncoderTrainConfig,
    /// What to evaluate (kind = "eval").
    #[serde(default)]
    pub eval: crate::eval::EvalConfig,
    /// The digits pipeline (kind = "digits").
    #[serde(default)]
    pub digits: DigitsConfig,
    /// Multiplies every training length (steps, evaluation and checkpoint intervals, the lambda
    /// schedule, encoder epochs) of the loop this experiment runs, for running a GPU profile on
    /// a CPU. Default 1. Reports state it; see [`Experiment::apply_step_scale`].
    #[serde(default = "one")]
    pub step_scale: f64,
    /// Whether `step_scale` has been applied to the lengths in this file (a resolved config
    /// records the lengths that ran, so loading it again must not scale them twice).
    #[serde(default)]
    pub step_scale_applied: bool,
}

fn one() -> f64 {
    1.0
}

/// `n × scale` rounded, at least `min`.
fn scaled(n: u64, scale: f64, min: u64) -> u64 {
    ((n as f64 * scale).round() as u64).max(min)
}

impl Experiment {
    /// An experiment of `kind` writing into `run_dir`, every other section at its default.
    pub fn new(kind: ExperimentKind, run_dir: PathBuf) -> Self {
        Self {
            kind,
            seed: 0,
            device: DeviceChoice::default(),
            run_dir,
            data: DataConfig::default(),
            fader: FaderConfig::default(),
            fader_train: FaderTrainConfig::default(),
            classifier: ClassifierConfig::default(),
            classifier_train: ClassifierTrainConfig::default(),
            icgan: IcganConfig::default(),
            cgan_train: CganTrainConfig::default(),
            icgan_encoder: IcganEncoderConfig::default(),
            encoder_train: EncoderTrainConfig::default(),
            eval: crate::eval::EvalConfig::default(),
            digits: DigitsConfig::default(),
            step_scale: 1.0,
            step_scale_applied: false,
        }
    }

    /// Applies `step_scale` once to the training lengths of the loop of `kind`; the scaled
    /// loop keeps the same number of evaluations and the same lambda ramp shape. Lengths are
    /// rounded and kept ≥ 1 (epoch sizes ≥ one batch of `batch_size`).
    pub fn apply_step_scale(&mut self, batch_size: usize) -> Result<(), TrainConfigError> {
        let s = self.step_scale;
        check(
            s.is_finite() && s > 0.0 && s <= 1.0,
            "step_scale",
            s,
            "use a factor in (0, 1]: 0.1 trains for a tenth of the steps",
        )?;
        if self.step_scale_applied || s == 1.0 {
            return Ok(());
        }
        let b = batch_size as u64;
        // The lengths of each loop; the digits kind runs the cGAN, encoder and classifier loops.
        let cgan = |t: &mut CganTrainConfig| {
            t.total_steps = scaled(t.total_steps, s, 1);
            t.epoch_size = scaled(t.epoch_size, s, b);
            t.checkpoint_every = scaled(t.checkpoint_every, s, 1);
        };
        let encoders = |t: &mut EncoderTrainConfig| {
            t.epochs = scaled(t.epochs, s, 1);
            t.checkpoint_every = scaled(t.checkpoint_every, s, 1);
        };
        match self.kind {
            ExperimentKind::Fader => {
                let t = &mut self.fader_train;
                t.total_steps = scaled(t.total_steps, s, 1);
                t.epoch_size = scaled(t.epoch_size, s, b);
                t.lambda_schedule = scaled(t.lambda_schedule, s, 0);
                t.checkpoint_every = scaled(t.checkpoint_every, s, 1);
            }
            ExperimentKind::Classifier => {
                let t = &mut self.classifier_train;
                t.total_steps = scaled(t.total_steps, s, 1);
                t.epoch_size = scaled(t.epoch_size, s, b);
                t.checkpoint_every = scaled(t.checkpoint_every, s, 1);
            }
            ExperimentKind::Cgan => cgan(&mut self.cgan_train),
            ExperimentKind::Encoders => encoders(&mut self.encoder_train),
            ExperimentKind::Digits => {
                cgan(&mut self.cgan_train);
                encoders(&mut self.encoder_train);
                // The digit classifier runs `total_steps` only.
                let c = &mut self.classifier_train;
                c.total_steps = scaled(c.total_steps, s, 1);
            }
            ExperimentKind::Eval => {}
        }
        self.step_scale_applied = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
