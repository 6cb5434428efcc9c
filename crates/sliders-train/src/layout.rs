//! Channels-last memory layout (NHWC strides behind NCHW shapes) for images and convolution
//! weights: oneDNN's convolutions run faster on it. tch 0.24 has no `memory_format` argument, so
//! the layout is made the way PyTorch represents it, by permuting, copying and permuting back.

use tch::Tensor;
use tch::nn::VarStore;

/// `t` (4-D, `[N, C, H, W]`) with channels-last strides; other ranks are returned as they are.
/// The values and the shape are unchanged.
pub fn channels_last(t: &Tensor) -> Tensor {
    if t.dim() != 4 {
        return t.shallow_clone();
    }
    t.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

/// Whether a 4-D tensor is laid out channels-last (channel stride 1, width stride C, …).
pub fn is_channels_last(t: &Tensor) -> bool {
    if t.dim() != 4 {
        return false;
    }
    let (size, stride) = (t.size(), t.stride());
    let (c, h, w) = (size[1], size[2], size[3]);
    stride[1] == 1 && stride[3] == c && stride[2] == c * w && stride[0] == c * h * w
}

/// Re-lays every 4-D variable of `vs` (convolution weights) channels-last, in place: the
/// variables stay the same leaves (optimizers built afterwards see the new layout).
pub fn vars_to_channels_last(vs: &VarStore) {
    tch::no_grad(|| {
        for mut v in vs.trainable_variables() {
            if v.dim() == 4 && !is_channels_last(&v) {
                let relaid = channels_last(&v);
                v.set_data(&relaid);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn the_layout_changes_strides_not_values() {
        let _rng = crate::rng_lock();
        let x = Tensor::randn([2, 3, 4, 5], (Kind::Float, Device::Cpu));
        assert!(!is_channels_last(&x));
        let y = channels_last(&x);
        assert!(is_channels_last(&y));
        assert_eq!(y.size(), x.size());
        assert_eq!(y.stride(), vec![60, 1, 15, 3]);
        assert!(y.equal(&x));
        let v = Tensor::randn([7], (Kind::Float, Device::Cpu));
        assert_eq!(channels_last(&v).stride(), v.stride());
    }

    #[test]
    fn variables_are_relaid_in_place() {
        let _rng = crate::rng_lock();
        let vs = VarStore::new(Device::Cpu);
        let w = vs.root().randn("w", &[8, 3, 4, 4], 0.0, 1.0);
        let b = vs.root().randn("b", &[8], 0.0, 1.0);
        let before = w.copy();
        vars_to_channels_last(&vs);
        let after = &vs.trainable_variables();
        let w2 = after.iter().find(|t| t.dim() == 4).unwrap();
        assert!(
            is_channels_last(w2) && is_channels_last(&w),
            "the same leaf"
        );
        assert!(w.equal(&before) && w.requires_grad());
        assert_eq!(b.stride(), vec![1]);
    }
}
