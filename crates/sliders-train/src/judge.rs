//! The evaluation classifier as a judge: loads a classifier checkpoint with its attribute names and
//! answers, for a Fader model's attributes, which of the classifier's logits to read
//! (docs/fader-networks.md#validation, swap accuracy: the offsets into the classifier's output).

use crate::error::TrainError;
use sliders_config::nets::ClassifierConfig;
use sliders_nets::{FaderClassifier, checkpoint};
use std::path::{Path, PathBuf};
use tch::{Device, Tensor, nn::VarStore};

/// A trained attribute classifier in eval mode.
pub struct Judge {
    path: PathBuf,
    _vs: VarStore,
    net: FaderClassifier,
    attributes: Vec<String>,
}

impl Judge {
    /// Loads the classifier at `path` onto `device`.
    pub fn load(path: &Path, device: Device) -> Result<Self, TrainError> {
        let info = checkpoint::read_info(path)?;
        let cfg: ClassifierConfig = info.config()?;
        let attributes: Vec<String> = info
            .metadata
            .get("sliders.attributes")
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| {
                TrainError::Config(format!(
                    "{}: the classifier has no `sliders.attributes` metadata, so its logits cannot be \
                     matched to attributes; train it with `sliders train` (kind = \"classifier\")",
                    path.display()
                ))
            })?;
        let mut vs = VarStore::new(device);
        let net = FaderClassifier::new(&vs.root(), &cfg)?;
        checkpoint::load(&mut vs, &net, path)?;
        Ok(Self {
            path: path.to_path_buf(),
            _vs: vs,
            net,
            attributes,
        })
    }

    /// Attribute names, in logit-pair order.
    pub fn attributes(&self) -> &[String] {
        &self.attributes
    }

    /// The image side the classifier takes.
    pub fn image_size(&self) -> i64 {
        self.net.config().img_sz
    }

    /// For each name, the column of its first logit (`2 × position`); an attribute the classifier
    /// was not trained on is an error that lists the ones it knows.
    pub fn offsets(&self, names: &[String]) -> Result<Vec<i64>, TrainError> {
        names
            .iter()
            .map(|n| {
                self.attributes
                    .iter()
                    .position(|a| a == n)
                    .map(|i| 2 * i as i64)
                    .ok_or_else(|| {
                        TrainError::Config(format!(
                            "{}: the evaluation classifier was trained on {:?}, not on `{n}`; train one \
                             that covers every attribute of the model",
                            self.path.display(),
                            self.attributes
                        ))
                    })
            })
            .collect()
    }

    /// Logits `[N, 2·k]` for images `[N, 3, S, S]` in [-1, 1] (eval mode; call under `no_grad`).
    pub fn logits(&self, x: &Tensor) -> Tensor {
        self.net.forward_t(x, false)
    }
}
