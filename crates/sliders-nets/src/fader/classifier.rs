//! The Fader attribute classifier (docs/fader-networks.md#classifier, `Classifier`): `log2(img_sz)`
//! encoder layers down to 1×1, then an MLP with one logit pair per attribute. Used to evaluate
//! swaps and to select models.

use sliders_config::nets::{ClassifierConfig, NormKind, log2};
use tch::Tensor;
use tch::nn;

use super::{EncBlock, Proj, enc_layer_fm};
use crate::NetsError;
use crate::checkpoint::Network;
use crate::layers;

/// The classifier: `conv_layers.{i}` = `Conv(4,2,1) [+ BatchNorm for i ≥ 1] + LeakyReLU(0.2)`
/// for `i = 0..log2(img_sz)`, then `proj_layers` = `Linear(conv_out_fm, hid_dim) →
/// LeakyReLU(0.2) → Linear(hid_dim, n_attr)`.
///
/// Input: image `[B, img_fm, S, S]` in [−1, 1]. Output: logits `[B, n_attr]` (2 per attribute,
/// softmax per pair).
#[derive(Debug)]
pub struct FaderClassifier {
    cfg: ClassifierConfig,
    conv: Vec<EncBlock>,
    proj: Proj,
    conv_out_fm: i64,
}

impl FaderClassifier {
    /// The `sliders.kind` of its checkpoints.
    pub const KIND: &'static str = "fader-classifier";

    /// Builds it under `p`.
    pub fn new(p: &nn::Path, cfg: &ClassifierConfig) -> Result<Self, NetsError> {
        cfg.validate()?;
        let n = log2(cfg.img_sz);
        let pc = p / "conv_layers";
        let conv = (0..n)
            .map(|i| {
                let (n_in, n_out) = enc_layer_fm(cfg.img_fm, cfg.init_fm, cfg.max_fm, i);
                let norm = (i > 0).then_some(NormKind::Batch);
                EncBlock::new(&(&pc / i), n_in, n_out, norm, 0.0)
            })
            .collect();
        let (_, conv_out_fm) = enc_layer_fm(cfg.img_fm, cfg.init_fm, cfg.max_fm, n - 1);
        let proj = Proj::new(&(p / "proj_layers"), conv_out_fm, cfg.hid_dim, cfg.n_attr);
        Ok(Self {
            cfg: cfg.clone(),
            conv,
            proj,
            conv_out_fm,
        })
    }

    /// Attribute logits `[B, n_attr]` of images `x` (`[B, img_fm, S, S]`).
    ///
    /// # Panics
    /// If `x` does not have shape `[B, img_fm, img_sz, img_sz]`.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let s = self.cfg.img_sz;
        layers::check_shape(Self::KIND, "image", x, &[-1, self.cfg.img_fm, s, s]);
        let mut h = x.shallow_clone();
        for block in &self.conv {
            h = block.forward_t(&h, train);
        }
        let b = h.size()[0];
        self.proj.forward(&h.view([b, self.conv_out_fm]))
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &ClassifierConfig {
        &self.cfg
    }
}

impl Network for FaderClassifier {
    fn kind(&self) -> String {
        Self::KIND.to_string()
    }

    fn config_json(&self) -> String {
        crate::checkpoint::config_to_json(&self.cfg)
    }
}
