//! The IcGAN conditional discriminator D (docs/icgan.md#discriminator, #initialisation): the image
//! goes through a first conv, then `y` is replicated as constant maps and concatenated before the
//! other convs.

use sliders_config::nets::IcganConfig;
use tch::Tensor;
use tch::nn::{self, Module, ModuleT};

use crate::NetsError;
use crate::checkpoint::Network;
use crate::layers::{self, ConvGeom, InitScheme};

/// The discriminator, two `nn.Sequential`s:
/// - `conv1`: `conv1.0` `Conv2d(nc, ndf, 4, 2, 1)`, `conv1.1` LeakyReLU(0.2) (no BN);
/// - then `y` replicated to `S/2 × S/2` is concatenated after the features (`ndf + ny` channels);
/// - `main`: for each of the `log2(img_sz) − 3` middle layers `Conv2d(c, 2·c', 4, 2, 1)`,
///   `BatchNorm2d`, LeakyReLU(0.2) at `3j`, `3j+1`, `3j+2` (channels `2·ndf, 4·ndf, …`), then
///   `main.{3L}` `Conv2d(ndf·2^L, 1, 4, 1, 0)` and Sigmoid (`L = log2(img_sz) − 3`).
///
/// Every conv has a bias. Init (DCGAN `weights_init`): weights `N(0, 0.02)`, biases 0,
/// BN `γ ~ N(1, 0.02)`, `β = 0`.
///
/// Input: image `[B, nc, S, S]` and `y` `[B, ny]`. Output: probability `[B, 1]` in (0, 1)
/// ([`forward_t`](Self::forward_t)) or the logit before the sigmoid ([`logits_t`](Self::logits_t)).
#[derive(Debug)]
pub struct IcganDiscriminator {
    cfg: IcganConfig,
    conv1: nn::Conv2D,
    hidden: Vec<(nn::Conv2D, nn::BatchNorm)>,
    out: nn::Conv2D,
}

impl IcganDiscriminator {
    /// The `sliders.kind` of its checkpoints.
    pub const KIND: &'static str = "icgan-discriminator";

    /// Builds D under `p`.
    pub fn new(p: &nn::Path, cfg: &IcganConfig) -> Result<Self, NetsError> {
        cfg.validate()?;
        let init = InitScheme::Dcgan;
        let conv1 = layers::conv2d(&(p / "conv1" / 0), cfg.nc, cfg.ndf, ConvGeom::K4S2P1, init);
        let pm = p / "main";
        let mut hidden = Vec::new();
        let mut c_in = cfg.ndf + cfg.ny;
        let mut c_out = 2 * cfg.ndf;
        // Deviation (extrapolation): the reference gives D's table at 64 px only; at other sizes D
        // gets the same number of stride-2 layers as G (log2(S) − 3), so its last conv still
        // reads a 4×4 map, as G's first layer writes one.
        for j in 0..cfg.n_mid_layers() {
            hidden.push((
                layers::conv2d(&(&pm / (3 * j)), c_in, c_out, ConvGeom::K4S2P1, init),
                layers::batch_norm2d(&(&pm / (3 * j + 1)), c_out, init),
            ));
            c_in = c_out;
            c_out *= 2;
        }
        let l = cfg.n_mid_layers();
        let out = layers::conv2d(&(&pm / (3 * l)), c_in, 1, ConvGeom::new(4, 1, 0), init);
        Ok(Self {
            cfg: cfg.clone(),
            conv1,
            hidden,
            out,
        })
    }

    /// The logit `[B, 1]` of "real and matching `y`".
    ///
    /// # Panics
    /// If `x` is not `[B, nc, img_sz, img_sz]` or `y` not `[B, ny]`.
    pub fn logits_t(&self, x: &Tensor, y: &Tensor, train: bool) -> Tensor {
        let s = self.cfg.img_sz;
        layers::check_shape(Self::KIND, "image", x, &[-1, self.cfg.nc, s, s]);
        let b = x.size()[0];
        layers::check_shape(Self::KIND, "y", y, &[b, self.cfg.ny]);
        let h = layers::leaky_relu(&self.conv1.forward(x));
        let y = layers::replicate(&y.to_kind(h.kind()), s / 2);
        let mut h = Tensor::cat(&[h, y], 1);
        for (conv, bn) in &self.hidden {
            h = layers::leaky_relu(&bn.forward_t(&conv.forward(&h), train));
        }
        self.out.forward(&h).view([b, 1])
    }

    /// The probability `[B, 1]` in (0, 1) (Sigmoid output, as the reference).
    pub fn forward_t(&self, x: &Tensor, y: &Tensor, train: bool) -> Tensor {
        self.logits_t(x, y, train).sigmoid()
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &IcganConfig {
        &self.cfg
    }
}

impl Network for IcganDiscriminator {
    fn kind(&self) -> String {
        Self::KIND.to_string()
    }

    fn config_json(&self) -> String {
        crate::checkpoint::config_to_json(&self.cfg)
    }
}
