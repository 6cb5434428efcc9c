//! Multi-tensor optimiser steps (docs/gpu.md#multi-tensor-adam): Adam over all of a network's
//! parameters in one fused kernel (`_fused_adam_`, what `torch.optim.Adam(fused=True)` runs),
//! and gradient clipping and zeroing with libtorch's `_foreach_*` kernels. On CUDA each is a
//! handful of launches instead of several per parameter.

use crate::ExtError;
use crate::ffi::{self, check, handles};
use tch::Tensor;

/// Adam's hyper-parameters as the fused kernel takes them (no weight decay, no amsgrad).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamHyper {
    /// Learning rate.
    pub lr: f64,
    /// β1.
    pub beta1: f64,
    /// β2.
    pub beta2: f64,
    /// ε added to the denominator.
    pub eps: f64,
}

/// The tensors one fused Adam update reads and writes, one entry per parameter.
pub struct AdamTensors<'a> {
    /// The parameters, updated in place.
    pub params: &'a [Tensor],
    /// Their gradients (all defined).
    pub grads: &'a [Tensor],
    /// First moments, updated in place.
    pub exp_avgs: &'a [Tensor],
    /// Second moments, updated in place.
    pub exp_avg_sqs: &'a [Tensor],
    /// The step count each parameter's bias correction uses: 0-d float tensors on the parameters'
    /// device, already counting this update (the same tensor may repeat).
    pub steps: &'a [Tensor],
}

/// One Adam update of every parameter of `t` in one `_fused_adam_` call:
/// `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
/// `p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)` with `t` read from `steps` on the device, so
/// a captured CUDA graph replays it with the right bias corrections.
pub fn fused_adam_(t: &AdamTensors, h: AdamHyper) -> Result<(), ExtError> {
    let n = t.params.len();
    let lens = [
        t.grads.len(),
        t.exp_avgs.len(),
        t.exp_avg_sqs.len(),
        t.steps.len(),
    ];
    if lens.iter().any(|&l| l != n) {
        return Err(ExtError {
            op: "fused_adam_",
            message: format!("{n} parameters but {lens:?} gradients/moments/steps"),
        });
    }
    check_shapes(t)?;
    if n == 0 {
        return Ok(());
    }
    let (p, g) = (handles(t.params), handles(t.grads));
    let (m, v, s) = (
        handles(t.exp_avgs),
        handles(t.exp_avg_sqs),
        handles(t.steps),
    );
    // SAFETY: five arrays of n live tensor handles, borrowed for the call; the bridge copies
    // the handles (reference counts) and catches every exception.
    let r = unsafe {
        ffi::sliders_ext_fused_adam(
            p.as_ptr(),
            g.as_ptr(),
            m.as_ptr(),
            v.as_ptr(),
            s.as_ptr(),
            n,
            h.lr,
            h.beta1,
            h.beta2,
            h.eps,
        )
    };
    check("fused_adam_", r)
}

/// Refuses lists whose tensors do not match their parameter in shape, kind and device (the fused
/// kernel reads each as its parameter's size and does not check), or whose steps are not 0-d.
fn check_shapes(t: &AdamTensors) -> Result<(), ExtError> {
    let err = |message: String| ExtError {
        op: "fused_adam_",
        message,
    };
    for (i, p) in t.params.iter().enumerate() {
        let want = (p.size(), p.kind(), p.device());
        for (what, x) in [
            ("gradient", &t.grads[i]),
            ("first moment", &t.exp_avgs[i]),
            ("second moment", &t.exp_avg_sqs[i]),
        ] {
            let got = (x.size(), x.kind(), x.device());
            if got != want {
                return Err(err(format!(
                    "parameter {i} is {want:?} but its {what} is {got:?}"
                )));
            }
        }
        let s = &t.steps[i];
        if s.dim() != 0 || s.device() != p.device() {
            return Err(err(format!(
                "parameter {i}'s step must be a 0-d tensor on {:?}",
                p.device()
            )));
        }
    }
    Ok(())
}

/// Scales `grads` in place so their global L2 norm is at most `max_norm`:
/// `coef = min(max_norm / (‖g‖ + 1e-6), 1)` on the device (no host synchronisation), with one
/// `_foreach_norm` and one `_foreach_mul_`. No-op for `max_norm <= 0` or no gradients.
pub fn foreach_clip_(grads: &[Tensor], max_norm: f64) -> Result<(), ExtError> {
    if max_norm <= 0.0 || grads.is_empty() {
        return Ok(());
    }
    let g = handles(grads);
    // SAFETY: n live tensor handles, borrowed for the call.
    let r = unsafe { ffi::sliders_ext_foreach_clip(g.as_ptr(), g.len(), max_norm) };
    check("foreach_clip_", r)
}

/// Zeroes `ts` in place with one `_foreach_zero_`.
pub fn foreach_zero_(ts: &[Tensor]) -> Result<(), ExtError> {
    if ts.is_empty() {
        return Ok(());
    }
    let h = handles(ts);
    // SAFETY: n live tensor handles, borrowed for the call.
    let r = unsafe { ffi::sliders_ext_foreach_zero(h.as_ptr(), h.len()) };
    check("foreach_zero_", r)
}
