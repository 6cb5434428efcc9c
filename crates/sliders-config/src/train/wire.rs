//! The TOML form of an [`Experiment`]: the header's keys beside the sections of its kind, each
//! section optional (absent = defaults). Deserialising refuses a section of another kind, and the
//! loader ([`Layered`]) names the file that carries one; serialising writes the kind's sections
//! only. `resolved.toml` files written before the per-kind layout hold every section (the foreign
//! ones at their defaults): [`drop_foreign_sections`] lets their readers take them as they are.

use super::experiment::{
    CganSpec, ClassifierSpec, DigitsSpec, EncodersSpec, EvalSpec, Experiment, ExperimentKind,
    FaderSpec, SECTIONS, Spec,
};
use super::{
    CganTrainConfig, ClassifierTrainConfig, DeviceChoice, DigitsConfig, EncoderTrainConfig,
    FaderTrainConfig,
};
use crate::data::DataConfig;
use crate::eval::EvalConfig;
use crate::load::Layered;
use crate::nets::{ClassifierConfig, FaderConfig, IcganConfig, IcganEncoderConfig};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use toml::Table;

/// An experiment file as written: every section a kind may own, each optional.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Wire {
    kind: ExperimentKind,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    device: DeviceChoice,
    run_dir: PathBuf,
    #[serde(default)]
    data: DataConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fader: Option<FaderConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fader_train: Option<FaderTrainConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    classifier: Option<ClassifierConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    classifier_train: Option<ClassifierTrainConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    icgan: Option<IcganConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cgan_train: Option<CganTrainConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    icgan_encoder: Option<IcganEncoderConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encoder_train: Option<EncoderTrainConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    eval: Option<EvalConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    digits: Option<DigitsConfig>,
    #[serde(default = "one")]
    step_scale: f64,
    #[serde(default)]
    step_scale_applied: bool,
}

fn one() -> f64 {
    1.0
}

/// The section in `slot`, or its default when the file has none.
fn take<T: Default>(slot: &mut Option<T>) -> T {
    slot.take().unwrap_or_default()
}

impl Wire {
    /// The first section still present, by name.
    fn leftover(&self) -> Option<&'static str> {
        let present = [
            self.fader.is_some(),
            self.fader_train.is_some(),
            self.classifier.is_some(),
            self.classifier_train.is_some(),
            self.icgan.is_some(),
            self.cgan_train.is_some(),
            self.icgan_encoder.is_some(),
            self.encoder_train.is_some(),
            self.eval.is_some(),
            self.digits.is_some(),
        ];
        SECTIONS
            .into_iter()
            .zip(present)
            .find(|(_, p)| *p)
            .map(|(s, _)| s)
    }
}

impl TryFrom<Wire> for Experiment {
    type Error = String;

    /// Takes the kind's sections; any other section left is an error with its fix.
    fn try_from(mut w: Wire) -> Result<Self, String> {
        let spec = match w.kind {
            ExperimentKind::Fader => Spec::Fader(FaderSpec {
                fader: take(&mut w.fader),
                fader_train: take(&mut w.fader_train),
            }),
            ExperimentKind::Classifier => Spec::Classifier(ClassifierSpec {
                classifier: take(&mut w.classifier),
                classifier_train: take(&mut w.classifier_train),
            }),
            ExperimentKind::Cgan => Spec::Cgan(CganSpec {
                icgan: take(&mut w.icgan),
                cgan_train: take(&mut w.cgan_train),
            }),
            ExperimentKind::Encoders => Spec::Encoders(EncodersSpec {
                icgan_encoder: take(&mut w.icgan_encoder),
                encoder_train: take(&mut w.encoder_train),
            }),
            ExperimentKind::Eval => Spec::Eval(EvalSpec {
                eval: take(&mut w.eval),
            }),
            ExperimentKind::Digits => Spec::Digits(DigitsSpec {
                digits: take(&mut w.digits),
                icgan: take(&mut w.icgan),
                cgan_train: take(&mut w.cgan_train),
                icgan_encoder: take(&mut w.icgan_encoder),
                encoder_train: take(&mut w.encoder_train),
                classifier: take(&mut w.classifier),
                classifier_train: take(&mut w.classifier_train),
            }),
        };
        if let Some(section) = w.leftover() {
            return Err(w.kind.foreign_fix(section));
        }
        Ok(Experiment {
            seed: w.seed,
            device: w.device,
            run_dir: w.run_dir,
            data: w.data,
            spec,
            step_scale: w.step_scale,
            step_scale_applied: w.step_scale_applied,
        })
    }
}

impl From<Experiment> for Wire {
    /// The header and the kind's sections, every one written out.
    fn from(e: Experiment) -> Self {
        let mut w = Wire {
            kind: e.spec.kind(),
            seed: e.seed,
            device: e.device,
            run_dir: e.run_dir,
            data: e.data,
            fader: None,
            fader_train: None,
            classifier: None,
            classifier_train: None,
            icgan: None,
            cgan_train: None,
            icgan_encoder: None,
            encoder_train: None,
            eval: None,
            digits: None,
            step_scale: e.step_scale,
            step_scale_applied: e.step_scale_applied,
        };
        match e.spec {
            Spec::Fader(s) => (w.fader, w.fader_train) = (Some(s.fader), Some(s.fader_train)),
            Spec::Classifier(s) => {
                w.classifier = Some(s.classifier);
                w.classifier_train = Some(s.classifier_train);
            }
            Spec::Cgan(s) => (w.icgan, w.cgan_train) = (Some(s.icgan), Some(s.cgan_train)),
            Spec::Encoders(s) => {
                w.icgan_encoder = Some(s.icgan_encoder);
                w.encoder_train = Some(s.encoder_train);
            }
            Spec::Eval(s) => w.eval = Some(s.eval),
            Spec::Digits(s) => {
                w.digits = Some(s.digits);
                (w.icgan, w.cgan_train) = (Some(s.icgan), Some(s.cgan_train));
                w.icgan_encoder = Some(s.icgan_encoder);
                w.encoder_train = Some(s.encoder_train);
                w.classifier = Some(s.classifier);
                w.classifier_train = Some(s.classifier_train);
            }
        }
        w
    }
}

/// The kind `table` names, when it names a known one.
fn kind_of(table: &Table) -> Option<ExperimentKind> {
    table
        .get("kind")
        .and_then(toml::Value::as_str)
        .and_then(ExperimentKind::from_name)
}

/// The sections of `table` that its kind does not read, in [`SECTIONS`] order.
fn foreign(table: &Table) -> Vec<&'static str> {
    let Some(kind) = kind_of(table) else {
        return Vec::new();
    };
    SECTIONS
        .into_iter()
        .filter(|s| table.contains_key(*s) && !kind.sections().contains(s))
        .collect()
}

impl Layered for Experiment {
    /// The sections of another kind than the merged `kind`, each with its fix.
    fn foreign_sections(merged: &Table) -> Vec<(String, String)> {
        let Some(kind) = kind_of(merged) else {
            return Vec::new();
        };
        foreign(merged)
            .into_iter()
            .map(|s| (s.to_string(), kind.foreign_fix(s)))
            .collect()
    }
}

/// Removes from a recorded experiment (a `resolved.toml` without its `[run]` table) the sections
/// its kind does not read, and returns their names. Run folders written before the per-kind
/// layout record every section, the foreign ones at the defaults of their day; nothing reads
/// them, so they are dropped rather than checked.
pub fn drop_foreign_sections(table: &mut Table) -> Vec<&'static str> {
    let dropped = foreign(table);
    for s in &dropped {
        table.remove(*s);
    }
    dropped
}
