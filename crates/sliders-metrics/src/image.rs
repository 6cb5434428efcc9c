//! Pixel metrics between image batches `[N, C, H, W]` in [-1, 1]: mean squared error (the Fader
//! reference's reconstruction metric, on the [-1, 1] scale) and PSNR (on the [0, 1] scale, peak 1),
//! optionally restricted to a mask (background preservation outside an attribute's region).

use tch::{Kind, Tensor};

/// Mean squared error over all elements, on the [-1, 1] scale.
pub fn mse(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).square().mean(Kind::Double).double_value(&[])
}

/// Per-image mean squared error `[N]` on the [-1, 1] scale.
pub fn mse_per_image(a: &Tensor, b: &Tensor) -> Vec<f64> {
    let n = a.size()[0];
    let per: Tensor = (a - b)
        .square()
        .view([n, -1])
        .mean_dim(1, false, Kind::Double);
    Vec::<f64>::try_from(per).expect("a 1-d tensor")
}

/// PSNR in dB of `a` against `b`, with the images mapped to [0, 1] (MSE there is MSE/4): the mean
/// over images of `10·log10(1 / mse_i)`. An exact copy gives +∞.
pub fn psnr(a: &Tensor, b: &Tensor) -> f64 {
    let per = mse_per_image(a, b);
    per.iter()
        .map(|m| 10.0 * (1.0 / (m / 4.0)).log10())
        .sum::<f64>()
        / per.len().max(1) as f64
}

/// Mean squared error over the pixels where `mask` (`[N, 1, H, W]` or `[N, C, H, W]`, 1 = counted)
/// is set, on the [-1, 1] scale. NaN when the mask is empty.
pub fn masked_mse(a: &Tensor, b: &Tensor, mask: &Tensor) -> f64 {
    let m = mask.to_kind(Kind::Double).expand_as(a);
    let total = ((a - b).square().to_kind(Kind::Double) * &m)
        .sum(Kind::Double)
        .double_value(&[]);
    total / m.sum(Kind::Double).double_value(&[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn known_differences_give_known_errors() {
        let a = Tensor::zeros([2, 3, 4, 4], (Kind::Float, Device::Cpu));
        let b = Tensor::full([2, 3, 4, 4], 0.5, (Kind::Float, Device::Cpu));
        assert!((mse(&a, &b) - 0.25).abs() < 1e-12);
        // 0.5 on [-1, 1] is 0.25 on [0, 1]: MSE 0.0625, PSNR = 10·log10(16) = 12.04 dB.
        assert!((psnr(&a, &b) - 12.0412).abs() < 1e-3);
        assert!(psnr(&a, &a).is_infinite());
    }

    #[test]
    fn masked_error_ignores_pixels_outside_the_mask() {
        let a = Tensor::zeros([1, 3, 2, 2], (Kind::Float, Device::Cpu));
        let b = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 0.0])
            .view([1, 1, 2, 2])
            .expand([1, 3, 2, 2], false)
            .contiguous();
        let outside = Tensor::from_slice(&[0.0f32, 1.0, 1.0, 1.0]).view([1, 1, 2, 2]);
        assert_eq!(masked_mse(&a, &b, &outside), 0.0);
        let inside = 1 - &outside;
        assert_eq!(masked_mse(&a, &b, &inside), 1.0);
    }
}
