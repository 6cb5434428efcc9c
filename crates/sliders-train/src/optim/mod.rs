//! Adam with per-network gradient-norm clipping, whose state (step count and both moments) can be
//! saved and restored, which tch's `nn::Optimizer` cannot; training resumes need it
//! (docs/fader-networks.md#adam-and-clipping: Adam, β = (0.5, 0.999), clipping at 5 per network).
//!
//! The update is PyTorch's `torch.optim.Adam` (no weight decay, no amsgrad):
//! `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, `p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)`.
//! Clipping is the reference's `clip_grad_norm`: `coef = max/(‖g‖ + 1e-6)`, applied when below 1;
//! here computed as `min(coef, 1)` on the device, so a step never waits for the host.
//!
//! Two ways to apply the same update ([`Update`], docs/gpu.md#multi-tensor-adam): per tensor,
//! described next (the CPU default, bit-for-bit the plain formulation), or all parameters in one
//! fused kernel with foreach clipping through sliders-torch-ext (the CUDA default, equal within
//! float rounding, its step count kept on the device so a captured CUDA graph replays it).
//!
//! The per-tensor step allocates nothing per parameter: `g²`, the denominator and `−step_size·m` are
//! written into two scratch buffers preallocated once (sized for the largest parameter), with
//! the same operations in the same order as the plain out-of-place formulation, so the update is
//! bit-for-bit the same (tested against it below).

use crate::error::TrainError;
use sliders_config::train::AdamSettings;
use sliders_torch_ext::multi::{AdamHyper, AdamTensors, foreach_clip_, fused_adam_};
use std::path::Path;
use tch::{Device, Kind, Tensor, nn::VarStore};

/// How [`Adam`] applies its update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// One parameter at a time, in place, bit for bit the plain formulation: the CPU default,
    /// which the golden training hashes pin.
    PerTensor,
    /// Every parameter in one `_fused_adam_` kernel and clipping with `_foreach_*` kernels, as
    /// `torch.optim.Adam(fused=True)`: the CUDA default, where a step is launch-bound.
    MultiTensor,
}

impl Update {
    /// The default for parameters on `device`.
    pub fn default_for(device: Device) -> Self {
        match device {
            Device::Cuda(_) => Self::MultiTensor,
            _ => Self::PerTensor,
        }
    }
}

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

impl From<&AdamSettings> for AdamConfig {
    /// A configuration's `[*_optimizer]` table.
    fn from(s: &AdamSettings) -> Self {
        Self {
            lr: s.lr,
            beta1: s.beta1,
            beta2: s.beta2,
            eps: s.eps,
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
    /// parameters: `g²` then the denominator, and `−step_size·m` (per-tensor update only).
    scratch: Vec<(Tensor, Tensor)>,
    /// Updates taken (per-tensor update).
    step: i64,
    /// Updates taken, as a 0-d float tensor on the parameters' device (multi-tensor update).
    device_step: Option<Tensor>,
}

impl Adam {
    /// An optimizer for every trainable variable of `vs`, in name order (so the state file is
    /// stable), with the update the variables' device defaults to; moments start at zero.
    pub fn new(vs: &VarStore, config: AdamConfig) -> Self {
        Self::with_update(vs, config, Update::default_for(vs.device()))
    }

    /// As [`Adam::new`], with the given update.
    pub fn with_update(vs: &VarStore, config: AdamConfig, update: Update) -> Self {
        let (names, params) = trainable_by_name(vs);
        let exp_avg = params.iter().map(Tensor::zeros_like).collect();
        let exp_avg_sq = params.iter().map(Tensor::zeros_like).collect();
        let device_step =
            (update == Update::MultiTensor).then(|| Tensor::zeros([], (Kind::Float, vs.device())));
        let scratch = match params.iter().max_by_key(|p| p.numel()) {
            Some(largest) if device_step.is_none() => {
                let n = largest.numel() as i64;
                let opts = (largest.kind(), largest.device());
                let (a, b) = (Tensor::empty([n], opts), Tensor::empty([n], opts));
                let view = |buf: &Tensor, p: &Tensor| {
                    buf.narrow(0, 0, p.numel() as i64).view(p.size().as_slice())
                };
                params.iter().map(|p| (view(&a, p), view(&b, p))).collect()
            }
            _ => Vec::new(),
        };
        Self {
            config,
            names,
            params,
            exp_avg,
            exp_avg_sq,
            scratch,
            step: 0,
            device_step,
        }
    }

    /// How this optimiser updates.
    pub fn update(&self) -> Update {
        match self.device_step {
            Some(_) => Update::MultiTensor,
            None => Update::PerTensor,
        }
    }

    /// Updates taken so far (for the multi-tensor update, read from the device: it waits for
    /// the queued work).
    pub fn steps_taken(&self) -> i64 {
        match &self.device_step {
            Some(s) => s.double_value(&[]).round() as i64,
            None => self.step,
        }
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
        self.clip(&grads, max_norm);
    }

    /// Clips `grads` as [`clip_grads`] does, with foreach kernels for the multi-tensor update.
    fn clip(&self, grads: &[Tensor], max_norm: f64) {
        if self.device_step.is_none() {
            return clip_grads(grads, max_norm);
        }
        let defined: Vec<Tensor> = grads
            .iter()
            .filter(|g| g.defined())
            .map(Tensor::shallow_clone)
            .collect();
        tch::no_grad(|| foreach_clip_(&defined, max_norm))
            .unwrap_or_else(|e| panic!("gradient clipping: {e}"));
    }

    /// One Adam update from the current gradients (variables without a gradient are skipped).
    pub fn step(&mut self) {
        let grads: Vec<Tensor> = self.params.iter().map(Tensor::grad).collect();
        self.step_with(&grads);
    }

    /// One Adam update from `grads`, one per variable in [`Adam::new`]'s order (undefined ones
    /// are skipped).
    fn step_with(&mut self, grads: &[Tensor]) {
        if let Some(step) = &self.device_step {
            return self.multi_tensor_step(step, grads);
        }
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

    /// The multi-tensor update: the device step count, then one fused Adam kernel over the
    /// variables with a gradient.
    fn multi_tensor_step(&self, step: &Tensor, grads: &[Tensor]) {
        let keep: Vec<usize> = (0..grads.len()).filter(|&i| grads[i].defined()).collect();
        let pick =
            |v: &[Tensor]| -> Vec<Tensor> { keep.iter().map(|&i| v[i].shallow_clone()).collect() };
        let steps: Vec<Tensor> = keep.iter().map(|_| step.shallow_clone()).collect();
        let c = self.config;
        let hyper = AdamHyper {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
        };
        tch::no_grad(|| {
            let _ = step.shallow_clone().g_add_scalar_(1.0);
            let tensors = AdamTensors {
                params: &pick(&self.params),
                grads: &pick(grads),
                exp_avgs: &pick(&self.exp_avg),
                exp_avg_sqs: &pick(&self.exp_avg_sq),
                steps: &steps,
            };
            fused_adam_(&tensors, hyper)
        })
        .unwrap_or_else(|e| panic!("Adam step: {e}"));
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
        self.clip(&grads, max_norm);
        self.step_with(&grads);
    }

    /// The state as named tensors: `step`, `exp_avg.<var>`, `exp_avg_sq.<var>`.
    pub fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("step".to_string(), Tensor::from(self.steps_taken()))];
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
        if let Some(s) = &self.device_step {
            let _ = tch::no_grad(|| s.shallow_clone().fill_(self.step));
        }
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

/// The trainable variables of `vs` in name order (the order of an optimiser's state file), with
/// their names.
pub fn trainable_by_name(vs: &VarStore) -> (Vec<String>, Vec<Tensor>) {
    let mut named: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named.into_iter().unzip()
}

/// One plain Adam update ([`reference_update`]) of every parameter with a defined gradient in
/// `grads` (update number `step`, counted from 1), on the given moments: what the tests compare
/// [`Adam::step`] with and the benchmarks time it against.
pub fn reference_step(
    (params, exp_avg, exp_avg_sq): (&mut [Tensor], &mut [Tensor], &mut [Tensor]),
    grads: &[Tensor],
    c: &AdamConfig,
    step: i64,
) {
    tch::no_grad(|| {
        for (((p, m), v), g) in params
            .iter_mut()
            .zip(exp_avg.iter_mut())
            .zip(exp_avg_sq.iter_mut())
            .zip(grads)
        {
            if g.defined() {
                reference_update((p, m, v), g, c, step);
            }
        }
    });
}

/// Adam's update of one parameter `p` (moments `m`, `v`; gradient `g`; `step` counted from 1)
/// written plainly, out of place (five temporaries): the formulation [`Adam::step`] reproduces
/// in place bit for bit (its tests compare the two) and the benchmarks time it against. Called
/// under `tch::no_grad` by [`reference_step`].
fn reference_update(
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
mod tests;
