//! Adam with per-network gradient-norm clipping, whose state (step count and both moments) can be
//! saved and restored, which tch's `nn::Optimizer` cannot; training resumes need it
//! (docs/fader-networks.md#adam-and-clipping: Adam, β = (0.5, 0.999), clipping at 5 per network).
//!
//! The update is PyTorch's `torch.optim.Adam` (no weight decay, no amsgrad):
//! `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, `p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)`.
//! Clipping is the reference's `clip_grad_norm`: `coef = max/(‖g‖ + 1e-6)`, applied when below 1;
//! here computed as `min(coef, 1)` on the device, so a step never waits for the host.
//!
//! The step allocates nothing per parameter: `g²`, the denominator and `−step_size·m` are
//! written into two scratch buffers preallocated once (sized for the largest parameter), with
//! the same operations in the same order as the plain out-of-place formulation, so the update is
//! bit-for-bit the same (tested against it below).

use crate::error::TrainError;
use std::path::Path;
use tch::{Kind, Tensor, nn::VarStore};

/// Adam's hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate (reference default 2e-4 for the autoencoder and discriminators).
    pub lr: f64,
    /// β1 (reference default 0.5, not PyTorch's 0.9).
    pub beta1: f64,
    /// β2 (0.999).
    pub beta2: f64,
    /// ε added to the denominator (1e-8).
    pub eps: f64,
}

impl AdamConfig {
    /// The Fader reference's `adam,lr=0.0002` with β = (0.5, 0.999).
    pub fn fader() -> Self {
        Self {
            lr: 2e-4,
            beta1: 0.5,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Adam over the trainable variables of one `VarStore` (one network).
pub struct Adam {
    config: AdamConfig,
    names: Vec<String>,
    params: Vec<Tensor>,
    exp_avg: Vec<Tensor>,
    exp_avg_sq: Vec<Tensor>,
    /// Per parameter, two views (of its shape) into two flat scratch buffers shared by all
    /// parameters: `g²` then the denominator, and `−step_size·m`.
    scratch: Vec<(Tensor, Tensor)>,
    step: i64,
}

impl Adam {
    /// An optimizer for every trainable variable of `vs`, in name order (so the state file is
    /// stable); moments start at zero.
    pub fn new(vs: &VarStore, config: AdamConfig) -> Self {
        let mut named: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let (names, params): (Vec<_>, Vec<_>) = named.into_iter().unzip();
        let exp_avg = params.iter().map(Tensor::zeros_like).collect();
        let exp_avg_sq = params.iter().map(Tensor::zeros_like).collect();
        let scratch = match params.iter().max_by_key(|p| p.numel()) {
            None => Vec::new(),
            Some(largest) => {
                let n = largest.numel() as i64;
                let opts = (largest.kind(), largest.device());
                let (a, b) = (Tensor::empty([n], opts), Tensor::empty([n], opts));
                let view = |buf: &Tensor, p: &Tensor| {
                    buf.narrow(0, 0, p.numel() as i64).view(p.size().as_slice())
                };
                params.iter().map(|p| (view(&a, p), view(&b, p))).collect()
            }
        };
        Self {
            config,
            names,
            params,
            exp_avg,
            exp_avg_sq,
            scratch,
            step: 0,
        }
    }

    /// Updates taken so far.
    pub fn steps_taken(&self) -> i64 {
        self.step
    }

    /// The hyper-parameters.
    pub fn config(&self) -> AdamConfig {
        self.config
    }

    /// Zeroes the gradients of this network's variables.
    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            p.zero_grad();
        }
    }

    /// Scales this network's gradients so their global L2 norm is at most `max_norm`
    /// (no-op for `max_norm <= 0`). No host synchronisation.
    pub fn clip_grad_norm(&self, max_norm: f64) {
        let grads: Vec<Tensor> = self.params.iter().map(Tensor::grad).collect();
        clip_grads(&grads, max_norm);
    }

    /// One Adam update from the current gradients (variables without a gradient are skipped).
    pub fn step(&mut self) {
        let grads: Vec<Tensor> = self.params.iter().map(Tensor::grad).collect();
        self.step_with(&grads);
    }

    /// One Adam update from `grads`, one per variable in [`Adam::new`]'s order (undefined ones
    /// are skipped).
    fn step_with(&mut self, grads: &[Tensor]) {
        self.step += 1;
        let c = self.config;
        let bias1 = 1.0 - c.beta1.powi(self.step as i32);
        let bias2_sqrt = (1.0 - c.beta2.powi(self.step as i32)).sqrt();
        let step_size = c.lr / bias1;
        tch::no_grad(|| {
            for ((((p, m), v), (a, b)), g) in self
                .params
                .iter_mut()
                .zip(&mut self.exp_avg)
                .zip(&mut self.exp_avg_sq)
                .zip(&mut self.scratch)
                .zip(grads)
            {
                if !g.defined() {
                    continue;
                }
                // m ← lerp(m, g, 1−β1); v ← lerp(v, g², 1−β2)
                let _ = m.lerp_(g, 1.0 - c.beta1);
                let _ = g.mul_out(a, g);
                let _ = v.lerp_(a, 1.0 - c.beta2);
                // a ← √v / √(1−β2^t) + ε; b ← −step_size·m; p ← p + b / a
                let _ = v.sqrt_out(a);
                let _ = a.g_div_scalar_(bias2_sqrt);
                let _ = a.g_add_scalar_(c.eps);
                let _ = m.mul_scalar_out(b, -step_size);
                let _ = p.addcdiv_(b, a);
            }
        });
    }

    /// One training update: the gradients of `loss` with respect to this network's variables,
    /// clipped (when `max_norm > 0`), then an Adam step. The result is that of `zero_grad`,
    /// `backward`, `clip_grad_norm`, `step` (tested bit for bit), but the gradients are returned
    /// by the autograd engine instead of accumulated into `.grad` (as PyTorch's
    /// `zero_grad(set_to_none=True)`): no zeroing pass, no accumulation pass, and no gradient
    /// computed for other networks' variables (the latent discriminator's during the autoencoder
    /// step, D's during the generator step), which the plain path computes only to discard them.
    /// `.grad` of the variables is left as it was.
    pub fn backward_step_clip(&mut self, loss: &Tensor, max_norm: f64) {
        let grads = Tensor::run_backward(&[loss], &self.params, false, false);
        clip_grads(&grads, max_norm);
        self.step_with(&grads);
    }

    /// The state as named tensors: `step`, `exp_avg.<var>`, `exp_avg_sq.<var>`.
    pub fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("step".to_string(), Tensor::from(self.step))];
        for (name, m) in self.names.iter().zip(&self.exp_avg) {
            out.push((format!("exp_avg.{name}"), m.contiguous()));
        }
        for (name, v) in self.names.iter().zip(&self.exp_avg_sq) {
            out.push((format!("exp_avg_sq.{name}"), v.contiguous()));
        }
        out
    }

    /// Writes the state to a safetensors file, atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let tmp = crate::run_dir::tmp_path(path);
        let tensors = self.state_tensors();
        Tensor::write_safetensors(&tensors, &tmp).map_err(|e| TrainError::io_torch(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| TrainError::io(path, e))
    }

    /// Restores the state written by [`Adam::save`] for the same network; any missing, extra or
    /// differently shaped tensor is an error that names it.
    pub fn load(&mut self, path: &Path) -> Result<(), TrainError> {
        let tensors = Tensor::read_safetensors(path).map_err(|e| TrainError::io_torch(path, e))?;
        let mut by_name: std::collections::HashMap<String, Tensor> = tensors.into_iter().collect();
        let mismatch = |what: String| TrainError::OptimizerState {
            path: path.to_path_buf(),
            what,
        };
        let step = by_name
            .remove("step")
            .ok_or_else(|| mismatch("no `step` tensor".to_string()))?;
        let mut problems = Vec::new();
        let mut loaded = Vec::new();
        for (prefix, moments) in [("exp_avg", &self.exp_avg), ("exp_avg_sq", &self.exp_avg_sq)] {
            for (name, dst) in self.names.iter().zip(moments.iter()) {
                let key = format!("{prefix}.{name}");
                match by_name.remove(&key) {
                    None => problems.push(format!("missing {key}")),
                    Some(src) if src.size() != dst.size() => problems.push(format!(
                        "{key}: file has shape {:?}, network has {:?}",
                        src.size(),
                        dst.size()
                    )),
                    Some(src) => loaded.push((dst.shallow_clone(), src)),
                }
            }
        }
        problems.extend(by_name.keys().map(|k| format!("unexpected {k}")));
        if !problems.is_empty() {
            problems.sort();
            return Err(mismatch(problems.join("; ")));
        }
        tch::no_grad(|| {
            for (mut dst, src) in loaded {
                dst.copy_(&src.to_kind(dst.kind()));
            }
        });
        self.step = step.to_kind(Kind::Int64).int64_value(&[]);
        Ok(())
    }
}

/// Scales `grads` (undefined ones are ignored) in place so their global L2 norm is at most
/// `max_norm`: `coef = min(max_norm / (‖g‖ + 1e-6), 1)`, computed on the device (no host
/// synchronisation); no-op for `max_norm <= 0`.
fn clip_grads(grads: &[Tensor], max_norm: f64) {
    if max_norm <= 0.0 {
        return;
    }
    tch::no_grad(|| {
        let grads: Vec<&Tensor> = grads.iter().filter(|g| g.defined()).collect();
        if grads.is_empty() {
            return;
        }
        let norms: Vec<Tensor> = grads.iter().map(|g| g.norm()).collect();
        let total = Tensor::stack(&norms, 0).norm();
        let coef = (total + 1e-6)
            .reciprocal()
            .multiply_scalar(max_norm)
            .clamp_max(1.0);
        for g in grads {
            let _ = g.shallow_clone().g_mul_(&coef);
        }
    });
}

/// Adam's update of one parameter `p` (moments `m`, `v`; gradient `g`; `step` counted from 1)
/// written plainly, out of place (five temporaries): the formulation [`Adam::step`] reproduces
/// in place bit for bit (its tests compare the two) and the benchmarks time it against. Call it
/// under `tch::no_grad`.
pub fn reference_update(
    (p, m, v): (&mut Tensor, &mut Tensor, &mut Tensor),
    g: &Tensor,
    c: &AdamConfig,
    step: i64,
) {
    let bias1 = 1.0 - c.beta1.powi(step as i32);
    let bias2_sqrt = (1.0 - c.beta2.powi(step as i32)).sqrt();
    let step_size = c.lr / bias1;
    let _ = m.lerp_(g, 1.0 - c.beta1);
    let _ = v.lerp_(&g.square(), 1.0 - c.beta2);
    let denom = (v.sqrt() / bias2_sqrt) + c.eps;
    let _ = p.addcdiv_(&(&*m * (-step_size)), &denom);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::{self, Module, OptimizerConfig};
    use tch::{Device, Kind};

    fn model(vs: &VarStore) -> impl Module + use<> {
        let root = vs.root();
        nn::seq()
            .add(nn::linear(&root / "a", 5, 7, Default::default()))
            .add_fn(|x| x.tanh())
            .add(nn::linear(&root / "b", 7, 3, Default::default()))
    }

    fn loss(m: &impl Module, x: &Tensor) -> Tensor {
        m.forward(x).square().mean(Kind::Float)
    }

    fn params(vs: &VarStore) -> Vec<(String, Tensor)> {
        let mut v: Vec<_> = vs.variables().into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    fn max_diff(a: &VarStore, b: &VarStore) -> f64 {
        params(a)
            .iter()
            .zip(params(b))
            .map(|((_, x), (_, y))| (x - y).abs().max().double_value(&[]))
            .fold(0.0, f64::max)
    }

    #[test]
    fn matches_libtorch_adam_with_clipping() {
        let _rng = crate::rng_lock();
        tch::manual_seed(3);
        let x = Tensor::randn([16, 5], (Kind::Float, Device::Cpu));
        tch::manual_seed(7);
        let vs_ref = VarStore::new(Device::Cpu);
        let m_ref = model(&vs_ref);
        tch::manual_seed(7);
        let vs_ours = VarStore::new(Device::Cpu);
        let m_ours = model(&vs_ours);
        assert_eq!(max_diff(&vs_ref, &vs_ours), 0.0);

        let mut reference = nn::Adam {
            beta1: 0.5,
            ..Default::default()
        }
        .build(&vs_ref, 1e-2)
        .unwrap();
        let mut ours = Adam::new(
            &vs_ours,
            AdamConfig {
                lr: 1e-2,
                ..AdamConfig::fader()
            },
        );
        // A small max norm makes clipping act on every step.
        for _ in 0..20 {
            reference.backward_step_clip_norm(&loss(&m_ref, &x), 0.05);
            ours.backward_step_clip(&loss(&m_ours, &x), 0.05);
        }
        let diff = max_diff(&vs_ref, &vs_ours);
        assert!(diff < 1e-6, "ours and libtorch's Adam differ by {diff}");
        // And the parameters really moved.
        tch::manual_seed(7);
        let vs_init = VarStore::new(Device::Cpu);
        let _ = model(&vs_init);
        assert!(max_diff(&vs_init, &vs_ours) > 1e-2);
    }

    /// [`Adam::step`] through [`reference_update`], the plain out-of-place formulation.
    fn plain_step(opt: &mut Adam) {
        let grads: Vec<Tensor> = opt.params.iter().map(Tensor::grad).collect();
        opt.step += 1;
        let (c, step) = (opt.config, opt.step);
        tch::no_grad(|| {
            for (((p, m), v), g) in opt
                .params
                .iter_mut()
                .zip(&mut opt.exp_avg)
                .zip(&mut opt.exp_avg_sq)
                .zip(&grads)
            {
                if g.defined() {
                    reference_update((p, m, v), g, &c, step);
                }
            }
        });
    }

    #[test]
    fn in_place_step_is_the_plain_update_bit_for_bit() {
        let _rng = crate::rng_lock();
        // Parameters of different sizes share the scratch buffers; clipping acts on every step.
        let x = Tensor::randn([16, 5], (Kind::Float, Device::Cpu));
        let mut runs = Vec::new();
        for plain in [false, true] {
            tch::manual_seed(5);
            let vs = VarStore::new(Device::Cpu);
            let m = model(&vs);
            let mut opt = Adam::new(&vs, AdamConfig::fader());
            for _ in 0..25 {
                opt.zero_grad();
                loss(&m, &x).backward();
                opt.clip_grad_norm(0.05);
                if plain {
                    plain_step(&mut opt);
                } else {
                    opt.step();
                }
            }
            runs.push((vs, opt));
        }
        assert_eq!(max_diff(&runs[0].0, &runs[1].0), 0.0);
        for (a, b) in runs[0]
            .1
            .state_tensors()
            .iter()
            .zip(runs[1].1.state_tensors())
        {
            assert!(a.1.equal(&b.1), "{} differs", a.0);
        }
    }

    #[test]
    fn gradient_returning_update_is_the_plain_backward_bit_for_bit() {
        let _rng = crate::rng_lock();
        // Two networks in one loss, as the autoencoder step with the latent discriminator: only
        // the first is updated; the plain path also fills (and discards) the second's `.grad`.
        let x = Tensor::randn([16, 5], (Kind::Float, Device::Cpu));
        let mut runs = Vec::new();
        for plain in [false, true] {
            tch::manual_seed(9);
            let vs = VarStore::new(Device::Cpu);
            let m = model(&vs);
            let other = VarStore::new(Device::Cpu);
            let o = nn::linear(other.root() / "o", 3, 2, Default::default());
            let mut opt = Adam::new(&vs, AdamConfig::fader());
            for step in 0..25 {
                // A small max norm clips on every step; then no clipping at all.
                let clip = if step < 15 { 0.05 } else { 0.0 };
                let l = loss(&o, &m.forward(&x));
                if plain {
                    opt.zero_grad();
                    l.backward();
                    opt.clip_grad_norm(clip);
                    opt.step();
                } else {
                    opt.backward_step_clip(&l, clip);
                }
            }
            runs.push((vs, other, opt));
        }
        assert_eq!(max_diff(&runs[0].0, &runs[1].0), 0.0);
        assert_eq!(max_diff(&runs[0].1, &runs[1].1), 0.0);
        for (a, b) in runs[0]
            .2
            .state_tensors()
            .iter()
            .zip(runs[1].2.state_tensors())
        {
            assert!(a.1.equal(&b.1), "{} differs", a.0);
        }
        // And the in-place step with the returned gradients is the plain path throughout.
        tch::manual_seed(9);
        let vs = VarStore::new(Device::Cpu);
        let m = model(&vs);
        let mut opt = Adam::new(&vs, AdamConfig::fader());
        for _ in 0..25 {
            opt.zero_grad();
            loss(&m, &x).backward();
            opt.clip_grad_norm(0.05);
            plain_step(&mut opt);
        }
        tch::manual_seed(9);
        let vs2 = VarStore::new(Device::Cpu);
        let m2 = model(&vs2);
        let mut opt2 = Adam::new(&vs2, AdamConfig::fader());
        for _ in 0..25 {
            opt2.backward_step_clip(&loss(&m2, &x), 0.05);
        }
        assert_eq!(max_diff(&vs, &vs2), 0.0);
    }

    #[test]
    fn clipping_bounds_the_global_norm_and_leaves_small_gradients_alone() {
        let _rng = crate::rng_lock();
        let vs = VarStore::new(Device::Cpu);
        let m = model(&vs);
        let x = Tensor::randn([8, 5], (Kind::Float, Device::Cpu)) * 100.0;
        let mut opt = Adam::new(&vs, AdamConfig::fader());
        opt.zero_grad();
        loss(&m, &x).backward();
        let norm = |vs: &VarStore| {
            vs.trainable_variables()
                .iter()
                .map(|p| p.grad().square().sum(Kind::Float).double_value(&[]))
                .sum::<f64>()
                .sqrt()
        };
        let before = norm(&vs);
        opt.clip_grad_norm(before * 2.0);
        assert!((norm(&vs) - before).abs() < 1e-6 * before);
        opt.clip_grad_norm(0.5);
        assert!((norm(&vs) - 0.5).abs() < 1e-4, "{}", norm(&vs));
    }

    #[test]
    fn saved_state_resumes_the_same_trajectory() {
        let _rng = crate::rng_lock();
        let dir = std::env::temp_dir().join(format!("sliders-adam-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let x = Tensor::randn([16, 5], (Kind::Float, Device::Cpu));
        tch::manual_seed(11);
        let vs_a = VarStore::new(Device::Cpu);
        let m_a = model(&vs_a);
        let mut opt_a = Adam::new(&vs_a, AdamConfig::fader());
        for _ in 0..5 {
            opt_a.backward_step_clip(&loss(&m_a, &x), 5.0);
        }
        let state = dir.join("adam.safetensors");
        opt_a.save(&state).unwrap();
        let weights = dir.join("w.safetensors");
        vs_a.save(&weights).unwrap();

        let mut vs_b = VarStore::new(Device::Cpu);
        let m_b = model(&vs_b);
        vs_b.load(&weights).unwrap();
        let mut opt_b = Adam::new(&vs_b, AdamConfig::fader());
        opt_b.load(&state).unwrap();
        assert_eq!(opt_b.steps_taken(), 5);
        for _ in 0..5 {
            opt_a.backward_step_clip(&loss(&m_a, &x), 5.0);
            opt_b.backward_step_clip(&loss(&m_b, &x), 5.0);
        }
        assert_eq!(max_diff(&vs_a, &vs_b), 0.0);

        // A state file of another network is refused with the tensor named.
        let vs_c = VarStore::new(Device::Cpu);
        let _ = nn::linear(vs_c.root() / "a", 5, 9, Default::default());
        let mut opt_c = Adam::new(&vs_c, AdamConfig::fader());
        let err = opt_c.load(&state).unwrap_err().to_string();
        assert!(err.contains("exp_avg.a.weight"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
