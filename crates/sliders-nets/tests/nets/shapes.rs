//! Output shapes and value ranges of every network at 32, 64 and 256 px (batch 1-2 at 256),
//! on the CPU and, when available, on CUDA.

use sliders_config::nets::{
    ClassifierConfig, EncoderKind, FaderConfig, IcganConfig, IcganEncoderConfig,
};
use sliders_nets::{
    EncoderRole, FaderAutoEncoder, FaderClassifier, IcganDiscriminator, IcganEncoder,
    IcganGenerator, LatentDiscriminator, PatchDiscriminator, SngEncoder,
};
use tch::{Device, Tensor, nn};

use crate::common::{assert_finite, devices, images, randn, range};

/// Fader configurations: 32 px (4 layers), 64 px (5 layers), 256 px (code defaults).
fn fader_configs() -> Vec<(FaderConfig, i64)> {
    vec![
        (FaderConfig::small(32), 4),
        (FaderConfig::small(64), 3),
        (FaderConfig::default(), 2),
    ]
}

fn check_fader(cfg: &FaderConfig, b: i64, device: Device) {
    let s = cfg.img_sz;
    let vs = nn::VarStore::new(device);
    let ae = FaderAutoEncoder::new(&vs.root(), cfg).unwrap();
    let dis = LatentDiscriminator::new(&vs.root().sub("dis"), cfg).unwrap();
    let ptc = PatchDiscriminator::new(&vs.root().sub("ptc"), cfg).unwrap();
    let x = images(b, 3, s, device);
    // Sliding values beyond [0, 1]: α = 2 → [−1, 2].
    let y = Tensor::from_slice(&[-1.0f32, 2.0])
        .to_device(device)
        .repeat([b, 1]);
    for train in [true, false] {
        let enc = ae.encode(&x, train);
        assert_eq!(enc.len() as i64, cfg.n_layers + 1);
        for (i, h) in enc.iter().enumerate().skip(1) {
            let i = i as i64;
            let fm = cfg.enc_fm(i);
            assert_eq!(h.size(), [b, fm, s >> i, s >> i], "h{i} at {s} px");
        }
        let [c, hh, ww] = cfg.latent_shape();
        assert_eq!(enc.last().unwrap().size(), [b, c, hh, ww]);
        let outs = ae.decode_all(&enc, &y, train);
        assert_eq!(outs.len() as i64, cfg.n_layers + 1);
        for (k, d) in outs.iter().enumerate() {
            assert_eq!(d.size(), enc[cfg.n_layers as usize - k].size(), "d{k}");
        }
        let img = ae.decode(&enc, &y, train);
        assert_eq!(img.size(), [b, 3, s, s]);
        let (lo, hi) = range(&img);
        assert!(
            (-1.0..=1.0).contains(&lo) && (-1.0..=1.0).contains(&hi),
            "{lo} {hi}"
        );
        assert_finite(&img, "decoded image");

        let z = &enc[dis.input_index()];
        assert_eq!(z.size()[1..], dis.input_shape());
        let logits = dis.forward_t(z, train);
        assert_eq!(logits.size(), [b, cfg.n_attr]);
        assert_finite(&logits, "latent discriminator logits");

        let map = ptc.patch_map_t(&x, train);
        let p = (s >> cfg.n_patch_dis_layers) - 2;
        assert_eq!(map.size(), [b, 1, p, p]);
        let prob = ptc.forward_t(&x, train);
        assert_eq!(prob.size(), [b]);
        let (lo, hi) = range(&prob);
        assert!(lo > 0.0 && hi < 1.0, "patch probabilities {lo} {hi}");
    }
    if s == 256 {
        assert_eq!(ptc.patch_map_t(&x, false).size(), [b, 1, 30, 30]);
    }
}

#[test]
fn fader_networks_shapes_and_ranges() {
    let _serial = crate::common::serial();
    for device in devices() {
        for (cfg, b) in fader_configs() {
            check_fader(&cfg, b, device);
        }
        // The paper's 7-layer configuration: latent 512×2×2.
        check_fader(&FaderConfig::paper(), 2, device);
    }
}

#[test]
fn fader_variants_shapes() {
    let _serial = crate::common::serial();
    use sliders_config::nets::{DeconvMethod, NormKind};
    for device in devices() {
        for deconv in [
            DeconvMethod::ConvTranspose,
            DeconvMethod::Upsampling,
            DeconvMethod::PixelShuffle,
        ] {
            for (norm, n_skip) in [(NormKind::Batch, 0), (NormKind::Instance, 2)] {
                let cfg = FaderConfig {
                    deconv_method: deconv,
                    norm,
                    n_skip,
                    dec_dropout: 0.3,
                    n_attr: 6,
                    ..FaderConfig::small(32)
                };
                let vs = nn::VarStore::new(device);
                let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
                let dis = LatentDiscriminator::new(&vs.root().sub("d"), &cfg).unwrap();
                let x = images(3, 3, 32, device);
                let y = randn(3, 6, device);
                let (enc, img) = ae.forward_t(&x, &y, true);
                assert_eq!(img.size(), [3, 3, 32, 32], "{deconv:?} {norm:?}");
                assert!(img.abs().max().double_value(&[]) <= 1.0);
                // With skips the latent discriminator reads a shallower, larger map.
                let z = &enc[dis.input_index()];
                assert_eq!(z.size()[2], 32 >> (cfg.n_layers - n_skip));
                assert_eq!(dis.forward_t(z, true).size(), [3, 6]);
            }
        }
    }
}

#[test]
fn fader_classifier_shapes() {
    let _serial = crate::common::serial();
    for device in devices() {
        for (s, b) in [(32, 4), (64, 3), (256, 2)] {
            let cfg = ClassifierConfig {
                img_sz: s,
                n_attr: 80,
                ..ClassifierConfig::default()
            };
            let vs = nn::VarStore::new(device);
            let clf = FaderClassifier::new(&vs.root(), &cfg).unwrap();
            for train in [true, false] {
                let logits = clf.forward_t(&images(b, 3, s, device), train);
                assert_eq!(logits.size(), [b, 80]);
                assert_finite(&logits, "classifier logits");
            }
        }
    }
}

fn icgan_config(s: i64) -> IcganConfig {
    // 256 px uses half the filters to keep the test light (the shapes are what is tested).
    let f = if s == 256 { 32 } else { 64 };
    IcganConfig {
        img_sz: s,
        ngf: f,
        ndf: f,
        ..IcganConfig::default()
    }
}

#[test]
fn icgan_generator_and_discriminator_shapes() {
    let _serial = crate::common::serial();
    for device in devices() {
        let mnist = IcganConfig {
            img_sz: 32,
            nc: 1,
            ny: 10,
            ..IcganConfig::default()
        };
        let cases = [
            (icgan_config(32), 4),
            (icgan_config(64), 3),
            (icgan_config(256), 2),
            (mnist, 4),
        ];
        for (cfg, b) in cases {
            let s = cfg.img_sz;
            let vs = nn::VarStore::new(device);
            let g = IcganGenerator::new(&vs.root().sub("g"), &cfg).unwrap();
            let d = IcganDiscriminator::new(&vs.root().sub("d"), &cfg).unwrap();
            let y = randn(b, cfg.ny, device).sign();
            for train in [true, false] {
                let z = randn(b, cfg.nz, device);
                let x = g.forward_t(&z, &y, train);
                assert_eq!(x.size(), [b, cfg.nc, s, s]);
                let (lo, hi) = range(&x);
                assert!(lo >= -1.0 && hi <= 1.0);
                // z as [B, nz, 1, 1] is accepted too.
                let x4 = g.forward_t(&z.view([b, cfg.nz, 1, 1]), &y, train);
                assert_eq!(x4.size(), x.size());
                let p = d.forward_t(&x, &y, train);
                assert_eq!(p.size(), [b, 1]);
                let (lo, hi) = range(&p);
                assert!(lo > 0.0 && hi < 1.0, "D probabilities {lo} {hi}");
                assert_eq!(d.logits_t(&x, &y, train).size(), [b, 1]);
            }
        }
    }
}

#[test]
fn icgan_encoder_shapes() {
    let _serial = crate::common::serial();
    for device in devices() {
        for (s, b) in [(32, 4), (64, 3), (256, 2)] {
            // At 256 px six blocks (1024×4×4) and a 512 hidden layer keep the FC layers small.
            let base = IcganEncoderConfig {
                img_sz: s,
                n_conv_layers: if s == 256 { 6 } else { 4 },
                fc_z: (s == 256).then_some(512),
                ..IcganEncoderConfig::default()
            };
            let x = images(b, 3, s, device);
            let y = randn(b, 18, device).sign();
            let vs = nn::VarStore::new(device);
            let ez = IcganEncoder::new(&vs.root().sub("ez"), &base, EncoderRole::Z).unwrap();
            let ey = IcganEncoder::new(&vs.root().sub("ey"), &base, EncoderRole::Y).unwrap();
            let cond = IcganEncoderConfig {
                kind: EncoderKind::IndCond,
                ..base.clone()
            };
            let ezc = IcganEncoder::new(&vs.root().sub("ezc"), &cond, EncoderRole::ZCond).unwrap();
            let sng_cfg = IcganEncoderConfig {
                kind: EncoderKind::Sng,
                ..base.clone()
            };
            let sng = SngEncoder::new(&vs.root().sub("sng"), &sng_cfg).unwrap();
            for train in [true, false] {
                assert_eq!(ez.forward_t(&x, None, train).size(), [b, 100]);
                assert_eq!(ey.forward_t(&x, None, train).size(), [b, 18]);
                assert_eq!(ezc.forward_t(&x, Some(&y), train).size(), [b, 100]);
                let (z, yy) = sng.forward_t(&x, train);
                assert_eq!((z.size(), yy.size()), (vec![b, 100], vec![b, 18]));
                assert_finite(&z, "SNG z");
            }
        }
    }
}

#[test]
fn icgan_encoders_on_one_channel_32px_digits() {
    let _serial = crate::common::serial();
    for device in devices() {
        let (b, s) = (4, 32);
        let base = IcganEncoderConfig {
            img_sz: s,
            nc: 1,
            ny: 10,
            ..IcganEncoderConfig::default()
        };
        let x = images(b, 1, s, device);
        // one-hot ±1 classes
        let y = Tensor::from_slice(&[0i64, 3, 9, 3])
            .to_device(device)
            .one_hot(10)
            .to_kind(tch::Kind::Float)
            * 2.0
            - 1.0;
        let vs = nn::VarStore::new(device);
        let ez = IcganEncoder::new(&vs.root().sub("ez"), &base, EncoderRole::Z).unwrap();
        let ey = IcganEncoder::new(&vs.root().sub("ey"), &base, EncoderRole::Y).unwrap();
        let cond = IcganEncoderConfig {
            kind: EncoderKind::IndCond,
            ..base.clone()
        };
        let ezc = IcganEncoder::new(&vs.root().sub("ezc"), &cond, EncoderRole::ZCond).unwrap();
        let sng = SngEncoder::new(
            &vs.root().sub("sng"),
            &IcganEncoderConfig {
                kind: EncoderKind::Sng,
                ..base.clone()
            },
        )
        .unwrap();
        for train in [true, false] {
            assert_eq!(ez.forward_t(&x, None, train).size(), [b, 100]);
            assert_eq!(ey.forward_t(&x, None, train).size(), [b, 10]);
            assert_eq!(ezc.forward_t(&x, Some(&y), train).size(), [b, 100]);
            let (z, yy) = sng.forward_t(&x, train);
            assert_eq!((z.size(), yy.size()), (vec![b, 100], vec![b, 10]));
        }
        // The digit classifier: the Fader classifier's layout on one channel with 10 logits.
        let clf = FaderClassifier::new(
            &vs.root().sub("clf"),
            &ClassifierConfig {
                img_sz: s,
                img_fm: 1,
                n_attr: 10,
                init_fm: 16,
                max_fm: 128,
                hid_dim: 128,
            },
        )
        .unwrap();
        assert_eq!(clf.forward_t(&x, false).size(), [b, 10]);
    }
}

#[test]
#[should_panic(expected = "image must have shape")]
fn wrong_input_shapes_panic_with_a_readable_message() {
    let _serial = crate::common::serial();
    let vs = nn::VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &FaderConfig::small(32)).unwrap();
    ae.encode(&images(1, 3, 64, Device::Cpu), false);
}

#[test]
#[should_panic(expected = "needs more than one value per channel")]
fn batch_norm_on_single_values_panics_in_train_mode() {
    let _serial = crate::common::serial();
    let vs = nn::VarStore::new(Device::Cpu);
    let clf = FaderClassifier::new(
        &vs.root(),
        &ClassifierConfig {
            img_sz: 32,
            ..Default::default()
        },
    )
    .unwrap();
    let _ = clf.forward_t(&images(1, 3, 32, Device::Cpu), true);
}
