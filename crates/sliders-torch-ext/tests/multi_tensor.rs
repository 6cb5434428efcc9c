//! The bridge's multi-tensor kernels on the CPU against Adam and clipping written out plainly.

use sliders_torch_ext::multi::{AdamHyper, AdamTensors, foreach_clip_, foreach_zero_, fused_adam_};
use tch::{Device, Kind, Tensor};

const H: AdamHyper = AdamHyper {
    lr: 2e-4,
    beta1: 0.5,
    beta2: 0.999,
    eps: 1e-8,
};

fn randn(shape: &[i64]) -> Tensor {
    Tensor::randn(shape, (Kind::Float, Device::Cpu))
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

/// Adam's update of one parameter, out of place, as torch.optim.Adam documents it.
fn plain(p: &Tensor, g: &Tensor, m: &Tensor, v: &Tensor, t: i32) -> (Tensor, Tensor, Tensor) {
    let m = m * H.beta1 + g * (1.0 - H.beta1);
    let v = v * H.beta2 + g * g * (1.0 - H.beta2);
    let step_size = H.lr / (1.0 - H.beta1.powi(t));
    let denom = v.sqrt() / (1.0 - H.beta2.powi(t)).sqrt() + H.eps;
    (p - (&m / denom) * step_size, m, v)
}

#[test]
fn fused_adam_matches_the_plain_update_over_several_steps() {
    tch::manual_seed(1);
    let shapes: [&[i64]; 3] = [&[8, 3, 4, 4], &[8], &[5, 7]];
    let params: Vec<Tensor> = shapes.iter().map(|s| randn(s)).collect();
    let m: Vec<Tensor> = params.iter().map(Tensor::zeros_like).collect();
    let v: Vec<Tensor> = params.iter().map(Tensor::zeros_like).collect();
    let (mut rp, mut rm, mut rv): (Vec<_>, Vec<_>, Vec<_>) = (
        params.iter().map(Tensor::copy).collect(),
        m.iter().map(Tensor::copy).collect(),
        v.iter().map(Tensor::copy).collect(),
    );
    let step = Tensor::zeros([], (Kind::Float, Device::Cpu));
    let steps: Vec<Tensor> = params.iter().map(|_| step.shallow_clone()).collect();
    for t in 1..=5 {
        let grads: Vec<Tensor> = shapes.iter().map(|s| randn(s)).collect();
        let _ = step.shallow_clone().g_add_scalar_(1.0);
        let tensors = AdamTensors {
            params: &params,
            grads: &grads,
            exp_avgs: &m,
            exp_avg_sqs: &v,
            steps: &steps,
        };
        fused_adam_(&tensors, H).unwrap();
        for i in 0..params.len() {
            let (p, mm, vv) = plain(&rp[i], &grads[i], &rm[i], &rv[i], t);
            (rp[i], rm[i], rv[i]) = (p, mm, vv);
        }
    }
    for i in 0..params.len() {
        assert!(max_diff(&params[i], &rp[i]) < 1e-6, "parameter {i}");
        assert!(max_diff(&m[i], &rm[i]) < 1e-6, "first moment {i}");
        assert!(max_diff(&v[i], &rv[i]) < 1e-6, "second moment {i}");
    }
    // The update moved the parameters (a no-op would also match a no-op reference).
    assert!(params[0].abs().sum(Kind::Float).double_value(&[]) > 0.0);
    assert!(rm[0].abs().max().double_value(&[]) > 0.0);
}

#[test]
fn mismatched_lists_and_libtorch_errors_come_back_as_errors() {
    let p = vec![randn(&[3])];
    let none: Vec<Tensor> = vec![];
    let short = AdamTensors {
        params: &p,
        grads: &none,
        exp_avgs: &none,
        exp_avg_sqs: &none,
        steps: &none,
    };
    let e = fused_adam_(&short, H).unwrap_err();
    assert!(e.to_string().contains("1 parameters"), "{e}");
    // A gradient of another shape is refused before the kernel (which would read past it).
    let (g, m, v) = (vec![randn(&[2])], vec![randn(&[3])], vec![randn(&[3])]);
    let s = vec![Tensor::ones([], (Kind::Float, Device::Cpu))];
    let bad = AdamTensors {
        params: &p,
        grads: &g,
        exp_avgs: &m,
        exp_avg_sqs: &v,
        steps: &s,
    };
    let e = fused_adam_(&bad, H).unwrap_err();
    assert!(
        e.message.contains("parameter 0") && e.message.contains("gradient"),
        "{e}"
    );
    // What libtorch itself refuses (the norm of integers) is an error, not a crash.
    let ints = vec![Tensor::from_slice(&[1i64, 2])];
    let e = foreach_clip_(&ints, 1.0).unwrap_err();
    assert_eq!(e.op, "foreach_clip_");
    assert!(!e.message.is_empty());
}

#[test]
fn foreach_clip_bounds_the_global_norm_and_leaves_small_gradients_alone() {
    let grads = vec![randn(&[10, 10]) * 3.0, randn(&[7]) * 3.0];
    let norm = |gs: &[Tensor]| {
        gs.iter()
            .map(|g| g.square().sum(Kind::Double).double_value(&[]))
            .sum::<f64>()
            .sqrt()
    };
    let before = norm(&grads);
    assert!(before > 5.0);
    let copies: Vec<Tensor> = grads.iter().map(Tensor::copy).collect();
    foreach_clip_(&grads, 5.0).unwrap();
    assert!((norm(&grads) - 5.0).abs() < 1e-4, "{}", norm(&grads));
    let coef = 5.0 / (before + 1e-6);
    assert!(max_diff(&grads[1], &(&copies[1] * coef)) < 1e-5);
    let small = vec![Tensor::from_slice(&[0.1f32, -0.2])];
    foreach_clip_(&small, 5.0).unwrap();
    assert_eq!(Vec::<f32>::try_from(&small[0]).unwrap(), vec![0.1, -0.2]);
    foreach_zero_(&grads).unwrap();
    assert_eq!(norm(&grads), 0.0);
}
