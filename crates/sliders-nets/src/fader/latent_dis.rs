//! The Fader latent discriminator (docs/fader-networks.md#latent-discriminator,
//! `LatentDiscriminator`): predicts the attributes from the latent, with the encoder layers that
//! would continue from the latent down to 1×1, then an MLP.

use sliders_config::nets::{FaderConfig, NormKind, log2};
use tch::Tensor;
use tch::nn;

use super::{EncBlock, Proj, enc_layer_fm};
use crate::NetsError;
use crate::checkpoint::Network;
use crate::layers;

/// The latent discriminator: `conv_layers` = encoder layers `n_layers − n_skip .. log2(img_sz)`
/// of `build_layers` (each `Conv(4,2,1) + BatchNorm + LeakyReLU(0.2) + Dropout(lat_dis_dropout)`),
/// then `proj_layers` = `Linear(conv_out_fm, hid_dim) → LeakyReLU(0.2) → Linear(hid_dim, n_attr)`.
///
/// Input: the encoder output `enc[n_layers − n_skip]` (see [`input_index`](Self::input_index)),
/// `[B, fm(n_layers − n_skip), S/2^(n_layers − n_skip), same]`. Output: logits `[B, n_attr]`.
///
/// State-dict keys: `conv_layers.{m}.0.{weight,bias}`, `conv_layers.{m}.1.{weight,bias,
/// running_mean,running_var}`, `proj_layers.{0,2}.{weight,bias}`. Batch norm is always used, as
/// in the reference (`instance_norm=False` is hard-coded there).
#[derive(Debug)]
pub struct LatentDiscriminator {
    cfg: FaderConfig,
    conv: Vec<EncBlock>,
    proj: Proj,
    in_shape: [i64; 3],
    conv_out_fm: i64,
}

impl LatentDiscriminator {
    /// The `sliders.kind` of its checkpoints.
    pub const KIND: &'static str = "fader-latent-discriminator";

    /// Builds it under `p` for the autoencoder of `cfg`.
    pub fn new(p: &nn::Path, cfg: &FaderConfig) -> Result<Self, NetsError> {
        cfg.validate()?;
        let n_dis_layers = log2(cfg.img_sz);
        let first = cfg.n_layers - cfg.n_skip;
        let pc = p / "conv_layers";
        let conv = (first..n_dis_layers)
            .map(|i| {
                let (n_in, n_out) = enc_layer_fm(cfg.img_fm, cfg.init_fm, cfg.max_fm, i);
                EncBlock::new(
                    &(&pc / (i - first)),
                    n_in,
                    n_out,
                    Some(NormKind::Batch),
                    cfg.lat_dis_dropout,
                )
            })
            .collect();
        let (_, in_fm) = enc_layer_fm(cfg.img_fm, cfg.init_fm, cfg.max_fm, first - 1);
        let s = cfg.img_sz >> first;
        let (_, conv_out_fm) = enc_layer_fm(cfg.img_fm, cfg.init_fm, cfg.max_fm, n_dis_layers - 1);
        let proj = Proj::new(&(p / "proj_layers"), conv_out_fm, cfg.hid_dim, cfg.n_attr);
        Ok(Self {
            cfg: cfg.clone(),
            conv,
            proj,
            in_shape: [in_fm, s, s],
            conv_out_fm,
        })
    }

    /// Index into [`FaderAutoEncoder::encode`](super::FaderAutoEncoder::encode)'s output of the
    /// tensor this discriminator reads: `n_layers − n_skip` (the latent when `n_skip = 0`).
    pub fn input_index(&self) -> usize {
        (self.cfg.n_layers - self.cfg.n_skip) as usize
    }

    /// Expected input shape `[C, H, W]`.
    pub fn input_shape(&self) -> [i64; 3] {
        self.in_shape
    }

    /// Attribute logits `[B, n_attr]` of the latent `z` (`[B, C, H, W]` = `input_shape`).
    /// `train` switches dropout and batch statistics.
    ///
    /// # Panics
    /// If `z` does not have the expected shape.
    pub fn forward_t(&self, z: &Tensor, train: bool) -> Tensor {
        let [c, h, w] = self.in_shape;
        layers::check_shape(Self::KIND, "latent", z, &[-1, c, h, w]);
        let mut x = z.shallow_clone();
        for block in &self.conv {
            x = block.forward_t(&x, train);
        }
        let b = x.size()[0];
        self.proj.forward(&x.view([b, self.conv_out_fm]))
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &FaderConfig {
        &self.cfg
    }
}

impl Network for LatentDiscriminator {
    fn kind(&self) -> String {
        Self::KIND.to_string()
    }

    fn config_json(&self) -> String {
        crate::checkpoint::config_to_json(&self.cfg)
    }
}
