//! Train/eval behaviour (batch norm statistics, dropout, instance norm), initialisation
//! schemes, and determinism under `tch::manual_seed`.

use sliders_config::nets::{FaderConfig, IcganConfig, IcganEncoderConfig, NormKind};
use sliders_nets::{
    EncoderRole, FaderAutoEncoder, IcganDiscriminator, IcganEncoder, IcganGenerator,
    LatentDiscriminator,
};
use tch::{Device, Kind, Tensor, nn};

use crate::common::{devices, images, max_diff, randn};

fn var(vs: &nn::VarStore, name: &str) -> Tensor {
    vs.variables()
        .remove(name)
        .unwrap_or_else(|| panic!("no variable {name}"))
}

#[test]
fn batch_norm_uses_batch_statistics_in_train_mode_only() {
    let _serial = crate::common::serial();
    for device in devices() {
        let vs = nn::VarStore::new(device);
        let cfg = FaderConfig::small(32);
        let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
        let x = images(4, 3, 32, device);
        let y = randn(4, 2, device);
        let mean0 = var(&vs, "enc_layers.1.1.running_mean").copy();
        let eval1 = tch::no_grad(|| ae.forward_t(&x, &y, false).1);
        // Eval mode leaves the running statistics alone and is repeatable.
        assert_eq!(
            max_diff(&mean0, &var(&vs, "enc_layers.1.1.running_mean")),
            0.0
        );
        let eval2 = tch::no_grad(|| ae.forward_t(&x, &y, false).1);
        assert_eq!(max_diff(&eval1, &eval2), 0.0);
        // Train mode normalises with the batch statistics (different output) and updates the
        // running statistics (momentum 0.1).
        let train = tch::no_grad(|| ae.forward_t(&x, &y, true).1);
        assert!(max_diff(&eval1, &train) > 1e-4);
        assert!(max_diff(&mean0, &var(&vs, "enc_layers.1.1.running_mean")) > 0.0);
    }
}

#[test]
fn instance_norm_is_the_same_in_both_modes() {
    let _serial = crate::common::serial();
    for device in devices() {
        let vs = nn::VarStore::new(device);
        let cfg = FaderConfig {
            norm: NormKind::Instance,
            ..FaderConfig::small(32)
        };
        let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
        assert!(!vs.variables().keys().any(|k| k.contains("running")));
        let x = images(2, 3, 32, device);
        let y = randn(2, 2, device);
        let a = tch::no_grad(|| ae.forward_t(&x, &y, true).1);
        let b = tch::no_grad(|| ae.forward_t(&x, &y, false).1);
        assert!(max_diff(&a, &b) < 1e-6);
    }
}

#[test]
fn dropout_is_active_in_train_mode_only() {
    let _serial = crate::common::serial();
    for device in devices() {
        // Latent discriminator, dropout 0.3 (default).
        let vs = nn::VarStore::new(device);
        let cfg = FaderConfig {
            n_layers: 3,
            ..FaderConfig::small(32)
        };
        let dis = LatentDiscriminator::new(&vs.root(), &cfg).unwrap();
        let [c, h, w] = dis.input_shape();
        let z = Tensor::randn([8, c, h, w], (Kind::Float, device));
        tch::no_grad(|| {
            let e1 = dis.forward_t(&z, false);
            let e2 = dis.forward_t(&z, false);
            assert_eq!(max_diff(&e1, &e2), 0.0);
            let t1 = dis.forward_t(&z, true);
            let t2 = dis.forward_t(&z, true);
            assert!(
                max_diff(&t1, &t2) > 1e-5,
                "dropout should make train passes differ"
            );
        });
        // Autoencoder decoder dropout (the 3 deepest layers) with instance norm, so dropout is
        // the only train/eval difference.
        let vs = nn::VarStore::new(device);
        let cfg = FaderConfig {
            dec_dropout: 0.5,
            norm: NormKind::Instance,
            ..FaderConfig::small(32)
        };
        let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
        let x = images(2, 3, 32, device);
        let y = randn(2, 2, device);
        tch::no_grad(|| {
            let e1 = ae.forward_t(&x, &y, false).1;
            let e2 = ae.forward_t(&x, &y, false).1;
            assert_eq!(max_diff(&e1, &e2), 0.0);
            let t1 = ae.forward_t(&x, &y, true).1;
            let t2 = ae.forward_t(&x, &y, true).1;
            assert!(max_diff(&t1, &t2) > 1e-5);
        });
    }
}

#[test]
fn decoder_slides_beyond_the_training_range() {
    let _serial = crate::common::serial();
    let vs = nn::VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &FaderConfig::small(32)).unwrap();
    let x = images(1, 3, 32, Device::Cpu);
    let enc = tch::no_grad(|| ae.encode(&x, false));
    let at = |alpha: f32| {
        let y = Tensor::from_slice(&[1.0 - alpha, alpha]).view([1, 2]);
        tch::no_grad(|| ae.decode(&enc, &y, false))
    };
    // α = 1, 2 and 10 all give different images: y is not clamped.
    assert!(max_diff(&at(1.0), &at(2.0)) > 1e-6);
    assert!(max_diff(&at(2.0), &at(10.0)) > 1e-6);
}

#[test]
fn the_same_seed_gives_the_same_weights() {
    let _serial = crate::common::serial();
    let build = |seed: i64| {
        tch::manual_seed(seed);
        let vs = nn::VarStore::new(Device::Cpu);
        let _ae = FaderAutoEncoder::new(&vs.root(), &FaderConfig::small(32)).unwrap();
        let _g = IcganGenerator::new(&vs.root().sub("g"), &IcganConfig::default()).unwrap();
        vs
    };
    let (a, b, c) = (build(7), build(7), build(8));
    let (va, vb, vc) = (a.variables(), b.variables(), c.variables());
    assert_eq!(va.len(), vb.len());
    for (name, t) in &va {
        assert_eq!(max_diff(t, &vb[name]), 0.0, "{name}");
    }
    let w = "enc_layers.0.0.weight";
    assert!(max_diff(&va[w], &vc[w]) > 0.0);
}

fn mean_std(t: &Tensor) -> (f64, f64) {
    (
        t.mean(Kind::Float).double_value(&[]),
        t.std(true).double_value(&[]),
    )
}

#[test]
fn initialisations_follow_the_references() {
    let _serial = crate::common::serial();
    let vs = nn::VarStore::new(Device::Cpu);
    let _ae = FaderAutoEncoder::new(&vs.root(), &FaderConfig::small(64)).unwrap();
    let _g = IcganGenerator::new(&vs.root().sub("g"), &IcganConfig::default()).unwrap();
    let _d = IcganDiscriminator::new(&vs.root().sub("d"), &IcganConfig::default()).unwrap();
    let _e = IcganEncoder::new(
        &vs.root().sub("e"),
        &IcganEncoderConfig::default(),
        EncoderRole::Y,
    )
    .unwrap();
    let v = vs.variables();
    // Fader (PyTorch 0.3 defaults): U(±1/√(in·k·k)) weights and biases, BN γ ~ U(0,1), β = 0.
    let bound = 1.0 / ((32 * 16) as f64).sqrt();
    for name in ["enc_layers.1.0.weight", "enc_layers.1.0.bias"] {
        let t = &v[name];
        let m = t.abs().max().double_value(&[]);
        assert!(
            m <= bound && m > 0.9 * bound,
            "{name}: max |w| {m}, bound {bound}"
        );
    }
    // ConvTranspose: fan from the input channels (512 + 2) as torch 0.3.
    let b = 1.0 / ((514 * 16) as f64).sqrt();
    let m = v["dec_layers.0.0.weight"].abs().max().double_value(&[]);
    assert!(m <= b && m > 0.9 * b);
    let gamma = &v["enc_layers.1.1.weight"];
    assert!(gamma.min().double_value(&[]) >= 0.0 && gamma.max().double_value(&[]) <= 1.0);
    assert_eq!(
        v["enc_layers.1.1.bias"]
            .abs()
            .sum(Kind::Float)
            .double_value(&[]),
        0.0
    );
    // IcGAN G and D (DCGAN weights_init): N(0, 0.02) weights, zero biases, BN γ ~ N(1, 0.02).
    for name in ["g.main.3.weight", "d.main.3.weight"] {
        let (m, s) = mean_std(&v[name]);
        assert!(m.abs() < 1e-3 && (s - 0.02).abs() < 1e-3, "{name}: {m} {s}");
    }
    for name in [
        "g.main.0.bias",
        "g.main.12.bias",
        "d.conv1.0.bias",
        "d.main.9.bias",
    ] {
        assert_eq!(
            v[name].abs().sum(Kind::Float).double_value(&[]),
            0.0,
            "{name}"
        );
    }
    let (m, s) = mean_std(&v["g.main.1.weight"]);
    assert!(
        (m - 1.0).abs() < 0.01 && (s - 0.02).abs() < 0.01,
        "γ {m} {s}"
    );
    // IcGAN encoders (Torch7 defaults): uniform ±1/√fan_in weights and biases, BN γ ~ U(0,1).
    let b = 1.0 / ((3 * 25) as f64).sqrt();
    let m = v["e.conv_layers.0.bias"].abs().max().double_value(&[]);
    assert!(m <= b && m > 0.5 * b);
    let g = &v["e.fc_layers.1.weight"];
    assert!(g.min().double_value(&[]) >= 0.0 && g.max().double_value(&[]) <= 1.0);
}
