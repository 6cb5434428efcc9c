//! The experiment: a header every kind shares (`kind`, `seed`, `device`, `run_dir`, `[data]`, the
//! step scale) and the sections of its kind ([`Spec`]), so an experiment holds no section its kind
//! does not read; typed accessors (`exp.fader_train()`), and the step scale applied per kind.
//! Its file form, and which sections a file of each kind may carry, are in `wire.rs`.

use super::{
    CganTrainConfig, ClassifierTrainConfig, DeviceChoice, DigitsConfig, EncoderTrainConfig,
    FaderTrainConfig, TrainConfigError,
};
use crate::data::DataConfig;
use crate::eval::EvalConfig;
use crate::nets::{ClassifierConfig, FaderConfig, IcganConfig, IcganEncoderConfig};
use crate::validate::check;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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

/// Every section a kind may own (the header's `[data]` aside).
pub const SECTIONS: [&str; 10] = [
    "fader",
    "fader_train",
    "classifier",
    "classifier_train",
    "icgan",
    "cgan_train",
    "icgan_encoder",
    "encoder_train",
    "eval",
    "digits",
];

impl ExperimentKind {
    /// Every kind.
    pub const ALL: [Self; 6] = [
        Self::Fader,
        Self::Classifier,
        Self::Cgan,
        Self::Encoders,
        Self::Eval,
        Self::Digits,
    ];

    /// The name a file gives it (`kind = "fader"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Fader => "fader",
            Self::Classifier => "classifier",
            Self::Cgan => "cgan",
            Self::Encoders => "encoders",
            Self::Eval => "eval",
            Self::Digits => "digits",
        }
    }

    /// The kind named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The sections of [`SECTIONS`] this kind reads.
    pub fn sections(self) -> &'static [&'static str] {
        match self {
            Self::Fader => &["fader", "fader_train"],
            Self::Classifier => &["classifier", "classifier_train"],
            Self::Cgan => &["icgan", "cgan_train"],
            Self::Encoders => &["icgan_encoder", "encoder_train"],
            Self::Eval => &["eval"],
            Self::Digits => &[
                "digits",
                "icgan",
                "cgan_train",
                "icgan_encoder",
                "encoder_train",
                "classifier",
                "classifier_train",
            ],
        }
    }

    /// The fix for `section` in a file of this kind: `remove [cgan_train]: kind = "fader" uses
    /// [data], [fader], [fader_train]`.
    pub fn foreign_fix(self, section: &str) -> String {
        let uses: Vec<String> = std::iter::once("data")
            .chain(self.sections().iter().copied())
            .map(|s| format!("[{s}]"))
            .collect();
        format!(
            "remove [{section}]: kind = \"{}\" uses {}",
            self.name(),
            uses.join(", ")
        )
    }
}

/// The sections of one kind: what a file of that kind may carry besides the header.
// One experiment per command: the digits variant's size costs nothing, and unboxed it is built and
// matched like the others.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// `kind = "fader"`.
    Fader(FaderSpec),
    /// `kind = "classifier"`.
    Classifier(ClassifierSpec),
    /// `kind = "cgan"`.
    Cgan(CganSpec),
    /// `kind = "encoders"`.
    Encoders(EncodersSpec),
    /// `kind = "eval"`.
    Eval(EvalSpec),
    /// `kind = "digits"`.
    Digits(DigitsSpec),
}

/// A Fader run's sections.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaderSpec {
    /// Model shape; `img_sz` and `n_attr` follow the data.
    pub fader: FaderConfig,
    /// Training loop.
    pub fader_train: FaderTrainConfig,
}

/// The evaluation classifier's sections.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClassifierSpec {
    /// Model shape; `img_sz` and `n_attr` follow the data.
    pub classifier: ClassifierConfig,
    /// Training loop.
    pub classifier_train: ClassifierTrainConfig,
}

/// IcGAN's cGAN sections.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CganSpec {
    /// Generator/discriminator shape; `img_sz`, `ny` and `nc` follow the data.
    pub icgan: IcganConfig,
    /// Training loop.
    pub cgan_train: CganTrainConfig,
}

/// IcGAN's encoder sections.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EncodersSpec {
    /// Encoder shape; `kind` is taken from `encoder_train.encoder_kind`, `img_sz`, `nc`, `nz`,
    /// `ny` from the cGAN.
    pub icgan_encoder: IcganEncoderConfig,
    /// Encoder dataset and training.
    pub encoder_train: EncoderTrainConfig,
}

/// The evaluation's section.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvalSpec {
    /// What to evaluate.
    pub eval: EvalConfig,
}

/// The digits pipeline's sections: its own, and those of the cGAN, encoder and classifier loops
/// it runs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DigitsSpec {
    /// Encoder layouts, image counts, figure size.
    pub digits: DigitsConfig,
    /// cGAN shape (32 px, one channel, 10 classes set by the pipeline).
    pub icgan: IcganConfig,
    /// cGAN loop.
    pub cgan_train: CganTrainConfig,
    /// Encoder shape.
    pub icgan_encoder: IcganEncoderConfig,
    /// Encoder loop.
    pub encoder_train: EncoderTrainConfig,
    /// Digit classifier shape.
    pub classifier: ClassifierConfig,
    /// Digit classifier loop (`total_steps` and `optimizer`).
    pub classifier_train: ClassifierTrainConfig,
}

impl Spec {
    /// The sections of `kind`, each at its default.
    pub fn new(kind: ExperimentKind) -> Self {
        match kind {
            ExperimentKind::Fader => Self::Fader(FaderSpec::default()),
            ExperimentKind::Classifier => Self::Classifier(ClassifierSpec::default()),
            ExperimentKind::Cgan => Self::Cgan(CganSpec::default()),
            ExperimentKind::Encoders => Self::Encoders(EncodersSpec::default()),
            ExperimentKind::Eval => Self::Eval(EvalSpec::default()),
            ExperimentKind::Digits => Self::Digits(DigitsSpec::default()),
        }
    }

    /// The kind these sections belong to.
    pub fn kind(&self) -> ExperimentKind {
        match self {
            Self::Fader(_) => ExperimentKind::Fader,
            Self::Classifier(_) => ExperimentKind::Classifier,
            Self::Cgan(_) => ExperimentKind::Cgan,
            Self::Encoders(_) => ExperimentKind::Encoders,
            Self::Eval(_) => ExperimentKind::Eval,
            Self::Digits(_) => ExperimentKind::Digits,
        }
    }
}

/// An experiment file: what to train, on which data, with which model and loop. In TOML the
/// header's keys and the kind's sections sit side by side (`kind = "fader"`, `[data]`,
/// `[fader]`, `[fader_train]`); a section of another kind is an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "super::wire::Wire", into = "super::wire::Wire")]
pub struct Experiment {
    /// Seed of the weights, the data order and dropout. Default 0.
    pub seed: u64,
    /// Device. Default `auto`.
    pub device: DeviceChoice,
    /// The run folder: resolved config, metrics.csv, checkpoints, samples, log.
    pub run_dir: PathBuf,
    /// Data. The model's `img_sz` and `n_attr` follow `data.image_size` and the attributes.
    pub data: DataConfig,
    /// What the experiment trains or evaluates, with the sections of that kind.
    pub spec: Spec,
    /// Multiplies every training length (steps, evaluation and checkpoint intervals, the lambda
    /// schedule, encoder epochs) of the loop this experiment runs, for running a GPU profile on
    /// a CPU. Default 1. Reports state it; see [`Experiment::apply_step_scale`].
    pub step_scale: f64,
    /// Whether `step_scale` has been applied to the lengths in this file (a resolved config
    /// records the lengths that ran, so loading it again must not scale them twice).
    pub step_scale_applied: bool,
}

/// Panics for a section read from an experiment of a kind without it: a caller's bug.
fn absent(kind: ExperimentKind, section: &str) -> ! {
    panic!(
        "a kind = \"{}\" experiment has no [{section}]: dispatch on Experiment::kind before \
         reading a section",
        kind.name()
    )
}

/// `pub fn name(&self) -> &Type` and `name_mut`, reading the section `name` of the listed
/// variants of [`Spec`] (each holds it in a field of that name).
macro_rules! sections {
    ($($(#[$doc:meta])* $name:ident, $name_mut:ident: $ty:ty = $($variant:ident)|+;)+) => {
        impl Experiment {
            $(
                $(#[$doc])*
                ///
                /// # Panics
                /// For an experiment of a kind without this section: read sections after
                /// dispatching on [`Experiment::kind`].
                pub fn $name(&self) -> &$ty {
                    match &self.spec {
                        $(Spec::$variant(s) => &s.$name,)+
                        other => absent(other.kind(), stringify!($name)),
                    }
                }

                #[doc = concat!("[`Experiment::", stringify!($name), "`], to change.")]
                pub fn $name_mut(&mut self) -> &mut $ty {
                    match &mut self.spec {
                        $(Spec::$variant(s) => &mut s.$name,)+
                        other => absent(other.kind(), stringify!($name)),
                    }
                }
            )+
        }
    };
}

sections! {
    /// `[fader]`: the Fader model shape (kind = "fader").
    fader, fader_mut: FaderConfig = Fader;
    /// `[fader_train]`: the Fader training loop (kind = "fader").
    fader_train, fader_train_mut: FaderTrainConfig = Fader;
    /// `[classifier]`: the classifier shape (kind = "classifier" or "digits").
    classifier, classifier_mut: ClassifierConfig = Classifier | Digits;
    /// `[classifier_train]`: the classifier loop (kind = "classifier" or "digits").
    classifier_train, classifier_train_mut: ClassifierTrainConfig = Classifier | Digits;
    /// `[icgan]`: the cGAN shape (kind = "cgan" or "digits").
    icgan, icgan_mut: IcganConfig = Cgan | Digits;
    /// `[cgan_train]`: the cGAN loop (kind = "cgan" or "digits").
    cgan_train, cgan_train_mut: CganTrainConfig = Cgan | Digits;
    /// `[icgan_encoder]`: the encoder shape (kind = "encoders" or "digits").
    icgan_encoder, icgan_encoder_mut: IcganEncoderConfig = Encoders | Digits;
    /// `[encoder_train]`: the encoder dataset and loop (kind = "encoders" or "digits").
    encoder_train, encoder_train_mut: EncoderTrainConfig = Encoders | Digits;
    /// `[eval]`: what to evaluate (kind = "eval").
    eval, eval_mut: EvalConfig = Eval;
    /// `[digits]`: the digits pipeline (kind = "digits").
    digits, digits_mut: DigitsConfig = Digits;
}

/// `n × scale` rounded, at least `min`.
fn scaled(n: u64, scale: f64, min: u64) -> u64 {
    ((n as f64 * scale).round() as u64).max(min)
}

impl Experiment {
    /// An experiment of `kind` writing into `run_dir`, every section at its default.
    pub fn new(kind: ExperimentKind, run_dir: PathBuf) -> Self {
        Self {
            seed: 0,
            device: DeviceChoice::default(),
            run_dir,
            data: DataConfig::default(),
            spec: Spec::new(kind),
            step_scale: 1.0,
            step_scale_applied: false,
        }
    }

    /// What this experiment trains.
    pub fn kind(&self) -> ExperimentKind {
        self.spec.kind()
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
        match &mut self.spec {
            Spec::Fader(FaderSpec { fader_train: t, .. }) => {
                t.total_steps = scaled(t.total_steps, s, 1);
                t.epoch_size = scaled(t.epoch_size, s, b);
                t.lambda_schedule = scaled(t.lambda_schedule, s, 0);
                t.checkpoint_every = scaled(t.checkpoint_every, s, 1);
            }
            Spec::Classifier(ClassifierSpec {
                classifier_train: t,
                ..
            }) => {
                t.total_steps = scaled(t.total_steps, s, 1);
                t.epoch_size = scaled(t.epoch_size, s, b);
                t.checkpoint_every = scaled(t.checkpoint_every, s, 1);
            }
            Spec::Cgan(c) => cgan(&mut c.cgan_train),
            Spec::Encoders(e) => encoders(&mut e.encoder_train),
            Spec::Digits(d) => {
                cgan(&mut d.cgan_train);
                encoders(&mut d.encoder_train);
                // The digit classifier runs `total_steps` only.
                let c = &mut d.classifier_train;
                c.total_steps = scaled(c.total_steps, s, 1);
            }
            Spec::Eval(_) => {}
        }
        self.step_scale_applied = true;
        Ok(())
    }
}
