//! Validation: the small checks every section's `validate` is a list of ([`check`],
//! [`positive`], [`at_least_one`], [`in_range`], …, each error naming the dotted key, its value and
//! the fix), and whole-experiment validation ([`Experiment::validate`]): every check that needs no
//! data or trained model, run before a command creates a run folder, so an invalid config leaves
//! nothing on disk.

use crate::data::{AttributePreset, AttributeSpec, DataConfig};
use crate::nets::{ClassifierConfig, FaderConfig, IcganConfig};
use crate::train::{Experiment, Spec, TrainConfigError};
use std::fmt::Display;
use std::ops::RangeBounds;

/// `Ok` when `ok`, else the error naming `field`, its `value` and the `fix`.
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

/// `value` > 0 (a NaN fails).
pub(crate) fn positive<T: PartialOrd + Default + Display>(
    field: &str,
    value: T,
    fix: &str,
) -> Result<(), TrainConfigError> {
    check(value > T::default(), field, value, fix)
}

/// A count of at least one: "use N ≥ 1".
pub(crate) fn at_least_one<T: PartialOrd + Default + Display>(
    field: &str,
    value: T,
) -> Result<(), TrainConfigError> {
    positive(field, value, "use N ≥ 1")
}

/// `value` ≥ 0 (a NaN fails).
pub(crate) fn non_negative(field: &str, value: f64, fix: &str) -> Result<(), TrainConfigError> {
    check(value >= 0.0, field, value, fix)
}

/// A loss weight: finite and ≥ 0.
pub(crate) fn weight(field: &str, value: f64) -> Result<(), TrainConfigError> {
    let ok = value >= 0.0 && value.is_finite();
    check(ok, field, value, "use a finite weight ≥ 0")
}

/// `value` within `range` (a NaN fails).
pub(crate) fn in_range(
    field: &str,
    value: f64,
    range: impl RangeBounds<f64>,
    fix: &str,
) -> Result<(), TrainConfigError> {
    check(range.contains(&value), field, value, fix)
}

/// A list with at least one entry.
pub(crate) fn nonempty<T>(field: &str, list: &[T], fix: &str) -> Result<(), TrainConfigError> {
    check(!list.is_empty(), field, "[]", fix)
}

/// A non-empty list of finite numbers.
pub(crate) fn finite_values(field: &str, list: &[f64], fix: &str) -> Result<(), TrainConfigError> {
    let ok = !list.is_empty() && list.iter().all(|v| v.is_finite());
    check(ok, field, format!("{list:?}"), fix)
}

/// An "epoch" (images between evaluations) of at least one batch of `batch_size`.
pub(crate) fn epoch_holds_batch(
    field: &str,
    epoch_size: u64,
    batch_size: usize,
) -> Result<(), TrainConfigError> {
    let fix =
        format!("an epoch must hold at least one batch of data.sampler.batch_size = {batch_size}");
    check(epoch_size >= batch_size as u64, field, epoch_size, &fix)
}

impl DataConfig {
    /// Checks the `[data]` counts that every pipeline needs: a positive batch size, image size
    /// and synthetic-face count, split fractions in [0, 1] that sum to 1, and at least one
    /// attribute.
    pub fn validate(&self) -> Result<(), TrainConfigError> {
        let batch = "use a batch of at least 1 image (32 in the Fader reference)";
        positive("data.sampler.batch_size", self.sampler.batch_size, batch)?;
        let size = "use a power of 2 such as 32, 64 or 256";
        positive("data.image_size", self.image_size, size)?;
        let f = self.split.fractions;
        check(
            f.iter().all(|x| (0.0..=1.0).contains(x)) && (f.iter().sum::<f64>() - 1.0).abs() < 1e-6,
            "data.split.fractions",
            format!("{f:?}"),
            "use three fractions in [0, 1] that sum to 1, e.g. [0.8, 0.1, 0.1]",
        )?;
        let synthetic = &self.synthetic;
        check(
            synthetic.n_images > 0 && synthetic.width > 0,
            "data.synthetic",
            format!(
                "n_images = {}, width = {}",
                synthetic.n_images, synthetic.width
            ),
            "use at least one synthetic image of positive width",
        )?;
        check(
            self.attribute_count() > 0,
            "data.attributes",
            "[]",
            "name at least one attribute, e.g. [\"Smiling\"]",
        )
    }

    /// How many attributes the selection names (a preset's size for a preset).
    pub fn attribute_count(&self) -> usize {
        match &self.attributes {
            AttributeSpec::Preset(AttributePreset::Icgan18) => 18,
            AttributeSpec::Preset(AttributePreset::All) => 40,
            AttributeSpec::Names(names) => names.len(),
        }
    }
}

/// A network-shape error of `section`, checked at the data's image size.
fn net(section: &str, img_sz: u32, e: impl ToString) -> TrainConfigError {
    TrainConfigError {
        field: section.to_string(),
        value: format!("(img_sz = data.image_size = {img_sz})"),
        fix: e.to_string(),
    }
}

impl Experiment {
    /// Checks everything that can be checked before any data is read: `[data]`, the loop of
    /// `kind` and, for CelebA-sized data, the network shapes at `data.image_size`. Commands call
    /// it before they create the run folder.
    pub fn validate(&self) -> Result<(), TrainConfigError> {
        self.data.validate()?;
        let batch = self.data.sampler.batch_size;
        let size = self.data.image_size;
        let n = self.data.attribute_count() as i64;
        match &self.spec {
            Spec::Fader(s) => {
                s.fader_train.validate(batch)?;
                let cfg = FaderConfig {
                    img_sz: size as i64,
                    n_attr: 2 * n,
                    ..s.fader.clone()
                };
                cfg.validate().map_err(|e| net("fader", size, e))
            }
            Spec::Classifier(s) => {
                s.classifier_train.validate(batch)?;
                let cfg = ClassifierConfig {
                    img_sz: size as i64,
                    n_attr: 2 * n,
                    ..s.classifier.clone()
                };
                cfg.validate().map_err(|e| net("classifier", size, e))
            }
            Spec::Cgan(s) => {
                s.cgan_train.validate(batch)?;
                if self.data.source.is_digits() {
                    return Ok(());
                }
                let cfg = IcganConfig {
                    img_sz: size as i64,
                    ny: n,
                    ..s.icgan.clone()
                };
                cfg.validate().map_err(|e| net("icgan", size, e))
            }
            Spec::Encoders(s) => s.encoder_train.validate(),
            Spec::Digits(s) => {
                s.cgan_train.validate(batch)?;
                s.encoder_train.validate()?;
                s.classifier_train.validate(batch)?;
                s.digits.validate()
            }
            Spec::Eval(s) => s.eval.validate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nets::FaderConfig;
    use crate::train::ExperimentKind;

    fn fader() -> Experiment {
        let mut e = Experiment::new(ExperimentKind::Fader, "x".into());
        e.data.image_size = 32;
        *e.fader_mut() = FaderConfig::small(32);
        e.fader_train_mut().epoch_size = 320;
        e
    }

    /// Issue #22: `data.sampler.batch_size = 0` reached the sampler's assert (exit 101).
    #[test]
    fn a_zero_batch_size_is_a_config_error() {
        assert!(fader().validate().is_ok());
        let mut e = fader();
        e.data.sampler.batch_size = 0;
        let err = e.validate().unwrap_err();
        assert_eq!(err.field, "data.sampler.batch_size");
        assert!(err.to_string().contains("at least 1"), "{err}");
    }

    #[test]
    fn data_and_network_shapes_are_checked_before_any_data() {
        let mut e = fader();
        e.data.split.fractions = [0.5, 0.5, 0.5];
        assert_eq!(e.validate().unwrap_err().field, "data.split.fractions");
        let mut e = fader();
        e.data.attributes = AttributeSpec::Names(vec![]);
        assert_eq!(e.validate().unwrap_err().field, "data.attributes");
        let mut e = fader();
        e.fader_mut().n_layers = 9;
        let err = e.validate().unwrap_err();
        assert_eq!(err.field, "fader");
        assert!(err.to_string().contains("n_layers = 9"), "{err}");
        let mut e = fader();
        e.fader_train_mut().ae_optimizer.lr = 0.0;
        assert_eq!(
            e.validate().unwrap_err().field,
            "fader_train.ae_optimizer.lr"
        );
    }
}
