//! Fader Networks (Lample et al., NeurIPS 2017; docs/fader-networks.md#networks): the autoencoder,
//! the latent discriminator, the optional patch discriminator and the attribute classifier, with
//! the layer blocks of the reference's `build_layers` that they share.
//!
//! Variable names are the reference's `state_dict` keys (`enc_layers.{i}.{j}.*`,
//! `dec_layers.{k}.{j}.*`, `conv_layers.{m}.{j}.*`, `proj_layers.{0,2}.*`, `layers.{j}.*`), so
//! build each network at the root of its own `VarStore`.

pub mod autoencoder;
pub mod classifier;
pub mod latent_dis;
pub mod patch_dis;

pub use autoencoder::FaderAutoEncoder;
pub use classifier::FaderClassifier;
pub use latent_dis::LatentDiscriminator;
pub use patch_dis::PatchDiscriminator;

use sliders_config::nets::NormKind;
use tch::Tensor;
use tch::nn::{self, Module};

use crate::layers::{self, ConvGeom, InitScheme, Norm2d};

/// Input and output channels of encoder layer `i` (0-based) of `build_layers`:
/// `i = 0` reads the image (`img_fm`), layer `i` writes `min(init_fm·2^i, max_fm)`.
pub(crate) fn enc_layer_fm(img_fm: i64, init_fm: i64, max_fm: i64, i: i64) -> (i64, i64) {
    let fm = |j: i64| (init_fm.saturating_mul(1i64 << j.min(40))).min(max_fm);
    let n_in = if i == 0 { img_fm } else { fm(i - 1) };
    (n_in, fm(i))
}

/// One encoder layer of `build_layers`, an `nn.Sequential` at `p`:
/// `0: Conv2d(n_in, n_out, 4, 2, 1)`, `1: norm` (not on the first layer), `LeakyReLU(0.2)`,
/// then `Dropout(p)` when `p > 0`. Halves the resolution.
#[derive(Debug)]
pub(crate) struct EncBlock {
    conv: nn::Conv2D,
    norm: Option<Norm2d>,
    dropout: f64,
}

impl EncBlock {
    pub(crate) fn new(
        p: &nn::Path,
        n_in: i64,
        n_out: i64,
        norm: Option<NormKind>,
        dropout: f64,
    ) -> Self {
        let init = InitScheme::TorchLegacy;
        let conv = layers::conv2d(&(p / 0), n_in, n_out, ConvGeom::K4S2P1, init);
        let norm = norm.map(|kind| Norm2d::new(&(p / 1), n_out, kind, init));
        Self {
            conv,
            norm,
            dropout,
        }
    }

    pub(crate) fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let mut h = self.conv.forward(x);
        if let Some(norm) = &self.norm {
            h = norm.forward_t(&h, train);
        }
        h = layers::leaky_relu(&h);
        if self.dropout > 0.0 {
            h = h.dropout(self.dropout, train);
        }
        h
    }
}

/// The MLP head of the latent discriminator and the classifier, `proj_layers` at `p`:
/// `0: Linear(n_in, hid)`, `1: LeakyReLU(0.2)`, `2: Linear(hid, n_out)`; outputs logits.
#[derive(Debug)]
pub(crate) struct Proj {
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl Proj {
    pub(crate) fn new(p: &nn::Path, n_in: i64, hid: i64, n_out: i64) -> Self {
        Self {
            fc1: layers::linear(&(p / 0), n_in, hid),
            fc2: layers::linear(&(p / 2), hid, n_out),
        }
    }

    pub(crate) fn forward(&self, x: &Tensor) -> Tensor {
        self.fc2.forward(&layers::leaky_relu(&self.fc1.forward(x)))
    }
}
