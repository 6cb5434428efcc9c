//! The Fader PatchGAN image discriminator (docs/fader-networks.md#patch-discriminator,
//! `PatchDiscriminator`; optional, unused for the paper's models): a map of real/fake
//! probabilities, averaged per image.

use sliders_config::nets::FaderConfig;
use tch::Tensor;
use tch::nn::{self, Module, ModuleT};

use crate::NetsError;
use crate::checkpoint::Network;
use crate::layers::{self, ConvGeom, InitScheme};

/// The patch discriminator, one `nn.Sequential` named `layers`:
/// `0: Conv2d(img_fm, init_fm, 4, 2, 1)`, `1: LeakyReLU(0.2)`, then for each of the
/// `n_patch_dis_layers` blocks `Conv2d(n_in, n_out, 4, s, 1)` (s = 2, the last s = 1),
/// `BatchNorm2d(n_out)`, `LeakyReLU(0.2)` (indices `2+3j`, `3+3j`, `4+3j`; channels doubling,
/// capped at `max_fm`), then `Conv2d(n_out, 1, 4, 1, 1)` and `Sigmoid`.
///
/// Input: image `[B, img_fm, S, S]`. Output of [`forward_t`](Self::forward_t): the mean patch
/// probability `[B]` in (0, 1); [`patch_map_t`](Self::patch_map_t) gives the map
/// `[B, 1, P, P]` (P = 30 at 256 px, 14 at 128 px).
#[derive(Debug)]
pub struct PatchDiscriminator {
    cfg: FaderConfig,
    first: nn::Conv2D,
    blocks: Vec<(nn::Conv2D, nn::BatchNorm)>,
    last: nn::Conv2D,
}

impl PatchDiscriminator {
    /// The `sliders.kind` of its checkpoints.
    pub const KIND: &'static str = "fader-patch-discriminator";

    /// Builds it under `p` from the image and filter fields of `cfg`.
    pub fn new(p: &nn::Path, cfg: &FaderConfig) -> Result<Self, NetsError> {
        cfg.validate_patch_dis()?;
        let init = InitScheme::TorchLegacy;
        let pl = p / "layers";
        let first = layers::conv2d(&(&pl / 0), cfg.img_fm, cfg.init_fm, ConvGeom::K4S2P1, init);
        let mut n_in = cfg.init_fm;
        let mut n_out = (2 * n_in).min(cfg.max_fm);
        let mut blocks = Vec::new();
        let n = cfg.n_patch_dis_layers;
        for j in 0..n {
            let stride = if j == n - 1 { 1 } else { 2 };
            let conv = layers::conv2d(
                &(&pl / (2 + 3 * j)),
                n_in,
                n_out,
                ConvGeom::new(4, stride, 1),
                init,
            );
            let bn = layers::batch_norm2d(&(&pl / (3 + 3 * j)), n_out, init);
            blocks.push((conv, bn));
            if j < n - 1 {
                n_in = n_out;
                n_out = (2 * n_out).min(cfg.max_fm);
            }
        }
        let last = layers::conv2d(&(&pl / (2 + 3 * n)), n_out, 1, ConvGeom::new(4, 1, 1), init);
        Ok(Self {
            cfg: cfg.clone(),
            first,
            blocks,
            last,
        })
    }

    /// The probability map `[B, 1, P, P]` in (0, 1).
    ///
    /// # Panics
    /// If `x` does not have shape `[B, img_fm, img_sz, img_sz]`.
    pub fn patch_map_t(&self, x: &Tensor, train: bool) -> Tensor {
        let s = self.cfg.img_sz;
        layers::check_shape(Self::KIND, "image", x, &[-1, self.cfg.img_fm, s, s]);
        let mut h = layers::leaky_relu(&self.first.forward(x));
        for (conv, bn) in &self.blocks {
            h = layers::leaky_relu(&bn.forward_t(&conv.forward(&h), train));
        }
        self.last.forward(&h).sigmoid()
    }

    /// The mean patch probability per image, `[B]` (the reference applies its BCE to this).
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let m = self.patch_map_t(x, train);
        let b = m.size()[0];
        m.view([b, -1]).mean_dim(1, false, tch::Kind::Float)
    }
}

impl Network for PatchDiscriminator {
    fn kind(&self) -> String {
        Self::KIND.to_string()
    }

    fn config_json(&self) -> String {
        crate::checkpoint::config_to_json(&self.cfg)
    }
}
