//! The IcGAN conditional generator G (docs/icgan.md#generator, #initialisation): `(z, y)`
//! concatenated at the input, transposed convolutions from 4×4 up to the image.

use sliders_config::nets::IcganConfig;
use tch::Tensor;
use tch::nn::{self, Module, ModuleT};

use crate::NetsError;
use crate::checkpoint::Network;
use crate::layers::{self, ConvGeom, InitScheme};

/// The generator, one `nn.Sequential` named `main`:
/// `main.0` `ConvTranspose2d(nz+ny, ngf·m, 4, 1, 0)` with `m = img_sz/8`, `main.1`
/// `BatchNorm2d`, `main.2` ReLU; then for each of the `log2(img_sz) − 3` middle layers
/// `ConvTranspose2d(c, c/2, 4, 2, 1)`, `BatchNorm2d`, ReLU (indices `3j`, `3j+1`, `3j+2`); then
/// `main.{3L}` `ConvTranspose2d(ngf, nc, 4, 2, 1)` and Tanh (`L = log2(img_sz) − 2`). Every
/// transposed conv has a bias. Init (DCGAN `weights_init`): weights `N(0, 0.02)`, biases 0,
/// BN `γ ~ N(1, 0.02)`, `β = 0`.
///
/// Input: `z` `[B, nz]` or `[B, nz, 1, 1]` and `y` `[B, ny]` (±1 attributes, any real values
/// accepted). Output: image `[B, nc, S, S]` in [−1, 1].
#[derive(Debug)]
pub struct IcganGenerator {
    cfg: IcganConfig,
    hidden: Vec<(nn::ConvTranspose2D, nn::BatchNorm)>,
    out: nn::ConvTranspose2D,
}

impl IcganGenerator {
    /// The `sliders.kind` of its checkpoints.
    pub const KIND: &'static str = "icgan-generator";

    /// Builds G under `p`.
    pub fn new(p: &nn::Path, cfg: &IcganConfig) -> Result<Self, NetsError> {
        cfg.validate()?;
        let init = InitScheme::Dcgan;
        let pm = p / "main";
        let mut c = cfg.ngf * (cfg.img_sz / 8);
        let mut hidden = vec![(
            layers::conv_transpose2d(&(&pm / 0), cfg.nz + cfg.ny, c, ConvGeom::new(4, 1, 0), init),
            layers::batch_norm2d(&(&pm / 1), c, init),
        )];
        for j in 1..=cfg.n_mid_layers() {
            hidden.push((
                layers::conv_transpose2d(&(&pm / (3 * j)), c, c / 2, ConvGeom::K4S2P1, init),
                layers::batch_norm2d(&(&pm / (3 * j + 1)), c / 2, init),
            ));
            c /= 2;
        }
        let l = cfg.n_mid_layers() + 1;
        let out = layers::conv_transpose2d(&(&pm / (3 * l)), c, cfg.nc, ConvGeom::K4S2P1, init);
        Ok(Self {
            cfg: cfg.clone(),
            hidden,
            out,
        })
    }

    /// Generates images `[B, nc, S, S]` in [−1, 1] from `z` (`[B, nz]` or `[B, nz, 1, 1]`) and
    /// `y` (`[B, ny]`).
    ///
    /// # Panics
    /// If `z` or `y` have other shapes.
    pub fn forward_t(&self, z: &Tensor, y: &Tensor, train: bool) -> Tensor {
        let b = z.size()[0];
        let z = if z.dim() == 2 {
            layers::check_shape(Self::KIND, "z", z, &[-1, self.cfg.nz]);
            z.view([b, self.cfg.nz, 1, 1])
        } else {
            layers::check_shape(Self::KIND, "z", z, &[-1, self.cfg.nz, 1, 1]);
            z.shallow_clone()
        };
        layers::check_shape(Self::KIND, "y", y, &[b, self.cfg.ny]);
        let y = y.to_kind(z.kind()).view([b, self.cfg.ny, 1, 1]);
        let mut h = Tensor::cat(&[z, y], 1);
        for (conv, bn) in &self.hidden {
            h = bn.forward_t(&conv.forward(&h), train).relu();
        }
        self.out.forward(&h).tanh()
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &IcganConfig {
        &self.cfg
    }
}

impl Network for IcganGenerator {
    fn kind(&self) -> String {
        Self::KIND.to_string()
    }

    fn config_json(&self) -> String {
        crate::checkpoint::config_to_json(&self.cfg)
    }
}
