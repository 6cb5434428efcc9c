//! Whole-experiment validation: every check that needs no data or trained model ([`Experiment::validate`]),
//! run before a command creates a run folder, so an invalid config leaves nothing on disk.

use crate::data::{AttributePreset, AttributeSpec, DataConfig};
use crate::nets::{ClassifierConfig, FaderConfig, IcganConfig};
use crate::train::{Experiment, ExperimentKind, TrainConfigError, check};

impl DataConfig {
    /// Checks the `[data]` counts that every pipeline needs: a positive batch size, image size
    /// and synthetic-face count, split fractions in [0, 1] that sum to 1, and at least one
    /// attribute.
    pub fn validate(&self) -> Result<(), TrainConfigError> {
        check(
            self.sampler.batch_size > 0,
            "data.sampler.batch_size",
            self.sampler.batch_size,
            "use a batch of at least 1 image (32 in the Fader reference)",
        )?;
        check(
            self.image_size > 0,
            "data.image_size",
            self.image_size,
            "use a power of 2 such as 32, 64 or 256",
        )?;
        let f = self.split.fractions;
        check(
            f.iter().all(|x| (0.0..=1.0).contains(x)) && (f.iter().sum::<f64>() - 1.0).abs() < 1e-6,
            "data.split.fractions",
            format!("{f:?}"),
            "use three fractions in [0, 1] that sum to 1, e.g. [0.8, 0.1, 0.1]",
        )?;
        check(
            self.synthetic.n_images > 0 && self.synthetic.width > 0,
            "data.synthetic",
            format!(
                "n_images = {}, width = {}",
                self.synthetic.n_images, self.synthetic.width
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
        let digits = self.data.source.is_digits();
        match self.kind {
            ExperimentKind::Fader => {
                self.fader_train.validate(batch)?;
                let cfg = FaderConfig {
                    img_sz: size as i64,
                    n_attr: 2 * n,
                    ..self.fader.clone()
                };
                cfg.validate().map_err(|e| net("fader", size, e))
            }
            ExperimentKind::Classifier => {
                self.classifier_train.validate(batch)?;
                let cfg = ClassifierConfig {
                    img_sz: size as i64,
                    n_attr: 2 * n,
                    ..self.classifier.clone()
                };
                cfg.validate().map_err(|e| net("classifier", size, e))
            }
            ExperimentKind::Cgan => {
                self.cgan_train.validate(batch)?;
                if digits {
                    return Ok(());
                }
                let cfg = IcganConfig {
                    img_sz: size as i64,
                    ny: n,
                    ..self.icgan.clone()
                };
                cfg.validate().map_err(|e| net("icgan", size, e))
            }
            ExperimentKind::Encoders => self.encoder_train.validate(),
            ExperimentKind::Digits => {
                self.cgan_train.validate(batch)?;
                self.encoder_train.validate()?;
                self.classifier_train.validate(batch)?;
                self.digits.validate()
            }
            ExperimentKind::Eval => self.eval.validate().map_err(|e| TrainConfigError {
                field: "eval".to_string(),
                value: String::new(),
                fix: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nets::FaderConfig;

    fn fader() -> Experiment {
        let mut e = Experiment::new(ExperimentKind::Fader, "x".into());
        e.data.image_size = 32;
        e.fader = FaderConfig::small(32);
        e.fader_train.epoch_size = 320;
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
        e.fader.n_layers = 9;
        let err = e.validate().unwrap_err();
        assert_eq!(err.field, "fader");
        assert!(err.to_string().contains("n_layers = 9"), "{err}");
        let mut e = fader();
        e.fader_train.ae_optimizer.lr = 0.0;
        assert_eq!(
            e.validate().unwrap_err().field,
            "fader_train.ae_optimizer.lr"
        );
    }
}
