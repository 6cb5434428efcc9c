//! sliders-nets: tch modules for Fader Networks (autoencoder, latent and patch discriminators,
//! classifier; docs/fader-networks.md#networks) and IcGAN (conditional generator and discriminator,
//! encoders IND / SNG / IND-COND; docs/icgan.md#conditional-gan, #encoders), and safetensors
//! checkpoints whose names match the PyTorch `state_dict` keys
//! (docs/fader-networks.md#checkpoint-names), so PyTorch loads them and the other way round. It
//! also holds MTCNN's face-detection networks ([`mtcnn`]), loaded from facenet-pytorch's weights.
//!
//! Every network is built from a `sliders_config::nets` configuration at the root of its own
//! `nn::VarStore` (one store and one optimizer per network):
//!
//! ```no_run
//! use sliders_config::nets::FaderConfig;
//! use sliders_nets::{checkpoint, FaderAutoEncoder};
//! use tch::{nn, Device, Kind, Tensor};
//!
//! let cfg = FaderConfig::small(64);
//! let vs = nn::VarStore::new(Device::Cpu);
//! let ae = FaderAutoEncoder::new(&vs.root(), &cfg)?;
//! let x = Tensor::rand([8, 3, 64, 64], (Kind::Float, Device::Cpu)) * 2 - 1;
//! let y = Tensor::zeros([8, 2], (Kind::Float, Device::Cpu));
//! let enc = ae.encode(&x, true); // [x, h1, …, h5]; latent [8, 512, 2, 2]
//! let rec = ae.decode(&enc, &y, true); // [8, 3, 64, 64] in [-1, 1]
//! checkpoint::save(&vs, &ae, "ae.safetensors")?;
//! # Ok::<(), sliders_nets::NetsError>(())
//! ```

pub mod checkpoint;
mod error;
pub mod fader;
pub mod icgan;
pub mod layers;
pub mod mtcnn;

pub use checkpoint::Network;
pub use error::NetsError;
pub use fader::{FaderAutoEncoder, FaderClassifier, LatentDiscriminator, PatchDiscriminator};
pub use icgan::{EncoderRole, IcganDiscriminator, IcganEncoder, IcganGenerator, SngEncoder};
pub use layers::count_parameters;
pub use mtcnn::{MtcnnNets, ONet, PNet, RNet};
