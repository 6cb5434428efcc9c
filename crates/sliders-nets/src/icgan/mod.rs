//! IcGAN (Perarnau et al., 2016; docs/icgan.md#conditional-gan, #encoders): the conditional DCGAN
//! generator and discriminator, and the encoders that invert the generator (IND, SNG, IND-COND).
//!
//! The official code is Lua/Torch7, so there are no PyTorch `state_dict` keys to copy; these
//! modules define PyTorch-style `nn.Sequential` keys, documented on each type and mirrored by
//! the PyTorch modules in `tests/python/roundtrip.py`.

pub mod discriminator;
pub mod encoders;
pub mod generator;

pub use discriminator::IcganDiscriminator;
pub use encoders::{EncoderRole, IcganEncoder, SngEncoder};
pub use generator::IcganGenerator;
