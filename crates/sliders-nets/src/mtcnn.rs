//! MTCNN's three face-detection networks (Zhang et al., "Joint Face Detection and Alignment using
//! Multi-task Cascaded Convolutional Networks", 2016) as `facenet-pytorch` 2.6.0 writes them: the
//! variable names are its `state_dict` keys, so its converted weights load as they are
//! ([`MtcnnNets::load`]). The networks take images already normalised as the original does,
//! `(x − 127.5) · 0.0078125` for bytes `x`; the cascade that runs them is `sliders-align`'s.
//!
//! - [`PNet`]: fully convolutional, any input of at least 12×12; per 12×12 window (stride 2) the
//!   box regression `[N, 4, h, w]` and the face probability `[N, 2, h, w]` (softmax, index 1 =
//!   face). 6,632 parameters.
//! - [`RNet`]: 24×24 crops; regression `[N, 4]` and probability `[N, 2]`. 100,178 parameters.
//! - [`ONet`]: 48×48 crops; regression `[N, 4]`, five landmarks `[N, 10]` (x1…x5, y1…y5 as
//!   fractions of the crop) and probability `[N, 2]`. 389,040 parameters.
//!
//! The dense layers of R-Net and O-Net read the last feature map permuted to `[N, W, H, C]`
//! before flattening: the weights come from the original Caffe model, which stored its feature
//! maps transposed, and facenet-pytorch permutes to match them.

use crate::NetsError;
use std::path::{Path, PathBuf};
use tch::nn::{self, Module};
use tch::{Device, Tensor};

/// The per-byte normalisation of MTCNN's inputs: `(x − MEAN) · SCALE`.
pub const INPUT_MEAN: f64 = 127.5;
/// See [`INPUT_MEAN`] (1/128).
pub const INPUT_SCALE: f64 = 0.0078125;
/// R-Net's input side.
pub const RNET_SIZE: i64 = 24;
/// O-Net's input side.
pub const ONET_SIZE: i64 = 48;

/// A PReLU with one learnt slope per channel (`prelu<k>.weight`).
#[derive(Debug)]
struct Prelu {
    weight: Tensor,
}

impl Prelu {
    fn new(p: &nn::Path, channels: i64) -> Self {
        Self {
            weight: p.var("weight", &[channels], nn::Init::Const(0.25)),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        x.prelu(&self.weight)
    }
}

/// A valid (unpadded) convolution with bias.
fn conv(p: nn::Path, cin: i64, cout: i64, k: i64) -> nn::Conv2D {
    nn::conv2d(p, cin, cout, k, Default::default())
}

/// Max pooling with `ceil_mode`, as Caffe pooled (a partial window at the edge still counts).
fn pool(x: &Tensor, k: i64, s: i64) -> Tensor {
    x.max_pool2d([k, k], [s, s], [0, 0], [1, 1], true)
}

/// The proposal network: fully convolutional over an image pyramid level.
#[derive(Debug)]
pub struct PNet {
    conv1: nn::Conv2D,
    prelu1: Prelu,
    conv2: nn::Conv2D,
    prelu2: Prelu,
    conv3: nn::Conv2D,
    prelu3: Prelu,
    conv4_1: nn::Conv2D,
    conv4_2: nn::Conv2D,
}

impl PNet {
    /// Builds the network under `p`.
    pub fn new(p: &nn::Path) -> Self {
        Self {
            conv1: conv(p / "conv1", 3, 10, 3),
            prelu1: Prelu::new(&(p / "prelu1"), 10),
            conv2: conv(p / "conv2", 10, 16, 3),
            prelu2: Prelu::new(&(p / "prelu2"), 16),
            conv3: conv(p / "conv3", 16, 32, 3),
            prelu3: Prelu::new(&(p / "prelu3"), 32),
            conv4_1: conv(p / "conv4_1", 32, 2, 1),
            conv4_2: conv(p / "conv4_2", 32, 4, 1),
        }
    }

    /// `x`: `[N, 3, H, W]` normalised; returns `(regression [N, 4, h, w], probability [N, 2, h, w])`
    /// with `h = ⌈(H − 2) / 2⌉ − 4` (likewise `w`).
    pub fn forward(&self, x: &Tensor) -> (Tensor, Tensor) {
        let x = pool(&self.prelu1.forward(&self.conv1.forward(x)), 2, 2);
        let x = self.prelu2.forward(&self.conv2.forward(&x));
        let x = self.prelu3.forward(&self.conv3.forward(&x));
        let prob = self.conv4_1.forward(&x).softmax(1, x.kind());
        (self.conv4_2.forward(&x), prob)
    }
}

/// The refinement network on 24×24 crops.
#[derive(Debug)]
pub struct RNet {
    conv1: nn::Conv2D,
    prelu1: Prelu,
    conv2: nn::Conv2D,
    prelu2: Prelu,
    conv3: nn::Conv2D,
    prelu3: Prelu,
    dense4: nn::Linear,
    prelu4: Prelu,
    dense5_1: nn::Linear,
    dense5_2: nn::Linear,
}

impl RNet {
    /// Builds the network under `p`.
    pub fn new(p: &nn::Path) -> Self {
        let lin = |name: &str, i, o| nn::linear(p / name, i, o, Default::default());
        Self {
            conv1: conv(p / "conv1", 3, 28, 3),
            prelu1: Prelu::new(&(p / "prelu1"), 28),
            conv2: conv(p / "conv2", 28, 48, 3),
            prelu2: Prelu::new(&(p / "prelu2"), 48),
            conv3: conv(p / "conv3", 48, 64, 2),
            prelu3: Prelu::new(&(p / "prelu3"), 64),
            dense4: lin("dense4", 576, 128),
            prelu4: Prelu::new(&(p / "prelu4"), 128),
            dense5_1: lin("dense5_1", 128, 2),
            dense5_2: lin("dense5_2", 128, 4),
        }
    }

    /// `x`: `[N, 3, 24, 24]` normalised; returns `(regression [N, 4], probability [N, 2])`.
    pub fn forward(&self, x: &Tensor) -> (Tensor, Tensor) {
        let x = pool(&self.prelu1.forward(&self.conv1.forward(x)), 3, 2);
        let x = pool(&self.prelu2.forward(&self.conv2.forward(&x)), 3, 2);
        let x = self.prelu3.forward(&self.conv3.forward(&x));
        let x = x.permute([0, 3, 2, 1]).contiguous().flatten(1, -1);
        let x = self.prelu4.forward(&self.dense4.forward(&x));
        let prob = self.dense5_1.forward(&x).softmax(1, x.kind());
        (self.dense5_2.forward(&x), prob)
    }
}

/// The output network on 48×48 crops, with landmarks.
#[derive(Debug)]
pub struct ONet {
    conv1: nn::Conv2D,
    prelu1: Prelu,
    conv2: nn::Conv2D,
    prelu2: Prelu,
    conv3: nn::Conv2D,
    prelu3: Prelu,
    conv4: nn::Conv2D,
    prelu4: Prelu,
    dense5: nn::Linear,
    prelu5: Prelu,
    dense6_1: nn::Linear,
    dense6_2: nn::Linear,
    dense6_3: nn::Linear,
}

impl ONet {
    /// Builds the network under `p`.
    pub fn new(p: &nn::Path) -> Self {
        let lin = |name: &str, i, o| nn::linear(p / name, i, o, Default::default());
        Self {
            conv1: conv(p / "conv1", 3, 32, 3),
            prelu1: Prelu::new(&(p / "prelu1"), 32),
            conv2: conv(p / "conv2", 32, 64, 3),
            prelu2: Prelu::new(&(p / "prelu2"), 64),
            conv3: conv(p / "conv3", 64, 64, 3),
            prelu3: Prelu::new(&(p / "prelu3"), 64),
            conv4: conv(p / "conv4", 64, 128, 2),
            prelu4: Prelu::new(&(p / "prelu4"), 128),
            dense5: lin("dense5", 1152, 256),
            prelu5: Prelu::new(&(p / "prelu5"), 256),
            dense6_1: lin("dense6_1", 256, 2),
            dense6_2: lin("dense6_2", 256, 4),
            dense6_3: lin("dense6_3", 256, 10),
        }
    }

    /// `x`: `[N, 3, 48, 48]` normalised; returns `(regression [N, 4], landmarks [N, 10],
    /// probability [N, 2])`.
    pub fn forward(&self, x: &Tensor) -> (Tensor, Tensor, Tensor) {
        let x = pool(&self.prelu1.forward(&self.conv1.forward(x)), 3, 2);
        let x = pool(&self.prelu2.forward(&self.conv2.forward(&x)), 3, 2);
        let x = pool(&self.prelu3.forward(&self.conv3.forward(&x)), 2, 2);
        let x = self.prelu4.forward(&self.conv4.forward(&x));
        let x = x.permute([0, 3, 2, 1]).contiguous().flatten(1, -1);
        let x = self.prelu5.forward(&self.dense5.forward(&x));
        let prob = self.dense6_1.forward(&x).softmax(1, x.kind());
        (self.dense6_2.forward(&x), self.dense6_3.forward(&x), prob)
    }
}

/// Environment variable naming a folder with `pnet/rnet/onet.safetensors`, overriding
/// [`default_weights_dir`]'s search.
pub const WEIGHTS_ENV: &str = "SLIDERS_MTCNN_DIR";

/// Where the converted weights are: `SLIDERS_MTCNN_DIR` when set, else
/// `site-packages/facenet_pytorch/data` beside the torch this crate was built against (the venv
/// of `cargo xtask setup`, which installs facenet-pytorch there and converts its `.pt` files).
pub fn default_weights_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(WEIGHTS_ENV) {
        return PathBuf::from(dir);
    }
    Path::new(env!("SLIDERS_LIBTORCH_DIR"))
        .parent()
        .map(|site| site.join("facenet_pytorch").join("data"))
        .unwrap_or_default()
}

/// The three networks, each in its own variable store, loaded from
/// `<dir>/{pnet,rnet,onet}.safetensors` (facenet-pytorch's state dicts converted by
/// `cargo xtask setup`).
#[derive(Debug)]
pub struct MtcnnNets {
    /// The proposal network.
    pub pnet: PNet,
    /// The refinement network.
    pub rnet: RNet,
    /// The output network.
    pub onet: ONet,
    stores: [nn::VarStore; 3],
}

impl MtcnnNets {
    /// The three networks with their default (untrained) initialisation on `device`.
    pub fn untrained(device: Device) -> Self {
        let stores = [0; 3].map(|_| nn::VarStore::new(device));
        Self {
            pnet: PNet::new(&stores[0].root()),
            rnet: RNet::new(&stores[1].root()),
            onet: ONet::new(&stores[2].root()),
            stores,
        }
    }

    /// Loads the weights from `dir` onto `device`; every variable must be in its file with the
    /// right shape. The networks are frozen (no gradients).
    pub fn load(dir: &Path, device: Device) -> Result<Self, NetsError> {
        let mut nets = Self::untrained(device);
        for (store, name) in nets.stores.iter_mut().zip(["pnet", "rnet", "onet"]) {
            let path: PathBuf = dir.join(format!("{name}.safetensors"));
            if !path.is_file() {
                return Err(NetsError::CheckpointIo {
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                    path,
                    fix: "run `cargo xtask setup` (it installs facenet-pytorch==2.6.0 and \
                          converts MTCNN's weights), or point SLIDERS_MTCNN_DIR at a folder \
                          holding pnet/rnet/onet.safetensors",
                });
            }
            store.load(&path)?;
            store.freeze();
        }
        Ok(nets)
    }

    /// The variable store of each network, in the order P, R, O.
    pub fn stores(&self) -> &[nn::VarStore; 3] {
        &self.stores
    }

    /// The device the networks are on.
    pub fn device(&self) -> Device {
        self.stores[0].device()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::count_parameters;
    use tch::Kind;

    fn counts(nets: &MtcnnNets) -> Vec<i64> {
        nets.stores().iter().map(count_parameters).collect()
    }

    #[test]
    fn mtcnn_parameter_counts_match_facenet_pytorch() {
        let nets = MtcnnNets::untrained(Device::Cpu);
        assert_eq!(counts(&nets), [6_632, 100_178, 389_040]);
    }

    #[test]
    fn mtcnn_variable_names_are_the_state_dict_keys() {
        let nets = MtcnnNets::untrained(Device::Cpu);
        let mut onet: Vec<String> = nets.stores()[2].variables().into_keys().collect();
        onet.sort();
        assert_eq!(onet.len(), 21);
        for key in [
            "conv1.weight",
            "prelu5.weight",
            "dense5.weight",
            "dense6_3.bias",
        ] {
            assert!(onet.iter().any(|k| k == key), "{key} not in {onet:?}");
        }
        let shape = |i: usize, k: &str| nets.stores()[i].variables()[k].size();
        assert_eq!(shape(1, "dense4.weight"), [128, 576]);
        assert_eq!(shape(1, "conv3.weight"), [64, 48, 2, 2]);
        assert_eq!(shape(0, "conv4_2.weight"), [4, 32, 1, 1]);
    }

    #[test]
    fn mtcnn_output_shapes() {
        let nets = MtcnnNets::untrained(Device::Cpu);
        let opts = (Kind::Float, Device::Cpu);
        // 12×12 is one window; 31×20 gives ⌈29/2⌉ − 4 = 11 by ⌈18/2⌉ − 4 = 5 (ceil-mode pooling).
        let (reg, prob) = nets.pnet.forward(&Tensor::zeros([2, 3, 12, 12], opts));
        assert_eq!(
            (reg.size(), prob.size()),
            (vec![2, 4, 1, 1], vec![2, 2, 1, 1])
        );
        let (reg, _) = nets.pnet.forward(&Tensor::zeros([1, 3, 20, 31], opts));
        assert_eq!(reg.size(), [1, 4, 5, 11]);
        let (reg, prob) = nets.rnet.forward(&Tensor::zeros([3, 3, 24, 24], opts));
        assert_eq!((reg.size(), prob.size()), (vec![3, 4], vec![3, 2]));
        let x = Tensor::rand([5, 3, 48, 48], opts);
        let (reg, marks, prob) = nets.onet.forward(&x);
        assert_eq!(reg.size(), [5, 4]);
        assert_eq!(marks.size(), [5, 10]);
        let total = prob.sum_dim_intlist(1, false, Kind::Float);
        assert!(total.allclose(&Tensor::ones([5], opts), 1e-5, 1e-6, false));
    }

    #[test]
    fn mtcnn_load_names_the_missing_file() {
        let err = MtcnnNets::load(Path::new("/nonexistent/mtcnn"), Device::Cpu).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("/nonexistent/mtcnn/pnet.safetensors"),
            "{text}"
        );
        assert!(text.contains("cargo xtask setup"), "{text}");
    }
}
