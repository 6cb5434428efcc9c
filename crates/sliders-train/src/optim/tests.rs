//! Adam against libtorch's and the plain update; clipping; state save and resume.

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

/// [`Adam::step`] through [`reference_step`], the plain out-of-place formulation.
fn plain_step(opt: &mut Adam) {
    let grads: Vec<Tensor> = opt.params.iter().map(Tensor::grad).collect();
    opt.step += 1;
    let moments = (
        &mut opt.params[..],
        &mut opt.exp_avg[..],
        &mut opt.exp_avg_sq[..],
    );
    reference_step(moments, &grads, &opt.config, opt.step);
}

/// Both optimisers' states (step, moments) are equal, bit for bit.
fn assert_same_state(a: &Adam, b: &Adam) {
    for (x, y) in a.state_tensors().iter().zip(b.state_tensors()) {
        assert!(x.1.equal(&y.1), "{} differs", x.0);
    }
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
    assert_same_state(&runs[0].1, &runs[1].1);
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
    assert_same_state(&runs[0].2, &runs[1].2);
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

#[test]
fn multi_tensor_update_equals_the_per_tensor_one_and_resumes_across_updates() {
    let _rng = crate::rng_lock();
    let dir = std::env::temp_dir().join(format!("sliders-adam-multi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    tch::manual_seed(5);
    let x = Tensor::randn([16, 5], (Kind::Float, Device::Cpu));
    let (vs_p, vs_m) = (VarStore::new(Device::Cpu), VarStore::new(Device::Cpu));
    tch::manual_seed(9);
    let m_p = model(&vs_p);
    tch::manual_seed(9);
    let m_m = model(&vs_m);
    let config = AdamConfig {
        lr: 1e-2,
        ..AdamConfig::fader()
    };
    let mut per = Adam::with_update(&vs_p, config, Update::PerTensor);
    let mut multi = Adam::with_update(&vs_m, config, Update::MultiTensor);
    assert_eq!(
        (per.update(), multi.update()),
        (Update::PerTensor, Update::MultiTensor)
    );
    // Clipping at 0.05 acts on every step; the second half goes through the `.grad` path.
    for i in 0..20 {
        if i < 10 {
            per.backward_step_clip(&loss(&m_p, &x), 0.05);
            multi.backward_step_clip(&loss(&m_m, &x), 0.05);
        } else {
            for (opt, m) in [(&mut per, &m_p), (&mut multi, &m_m)] {
                opt.zero_grad();
                loss(m, &x).backward();
                opt.clip_grad_norm(0.05);
                opt.step();
            }
        }
    }
    let diff = max_diff(&vs_p, &vs_m);
    assert!(
        diff < 1e-6,
        "multi-tensor and per-tensor Adam differ by {diff}"
    );
    assert_eq!(multi.steps_taken(), 20);
    // Its state file is the per-tensor one's: either resumes from the other's.
    let state = dir.join("adam.safetensors");
    multi.save(&state).unwrap();
    let mut resumed = Adam::with_update(&vs_m, config, Update::PerTensor);
    resumed.load(&state).unwrap();
    assert_eq!(resumed.steps_taken(), 20);
    per.save(&state).unwrap();
    let mut back = Adam::with_update(&vs_p, config, Update::MultiTensor);
    back.load(&state).unwrap();
    assert_eq!(back.steps_taken(), 20);
    for _ in 0..3 {
        per.backward_step_clip(&loss(&m_p, &x), 0.05);
        resumed.backward_step_clip(&loss(&m_m, &x), 0.05);
    }
    let diff = max_diff(&vs_p, &vs_m);
    assert!(diff < 1e-6, "after resuming, they differ by {diff}");
    std::fs::remove_dir_all(&dir).unwrap();
}
