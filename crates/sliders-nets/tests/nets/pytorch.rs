//! Checkpoint round trip with PyTorch: `tests/python/roundtrip.py` defines the same networks in
//! PyTorch (from the references described in docs/). Rust saves, PyTorch loads and compares outputs
//! on the same inputs (eval mode, max abs difference ≤ 1e-5); PyTorch saves random weights, Rust
//! loads and compares. Skipped, with a message, when the build found no Python with torch
//! (`SLIDERS_TORCH_PYTHON` is empty).

use std::collections::HashMap;

use sliders_config::nets::{
    ClassifierConfig, DeconvMethod, EncoderKind, FaderConfig, IcganConfig, IcganEncoderConfig,
    NormKind,
};
use sliders_nets::{
    EncoderRole, FaderAutoEncoder, FaderClassifier, IcganDiscriminator, IcganEncoder,
    IcganGenerator, LatentDiscriminator, NetsError, Network, PatchDiscriminator, SngEncoder,
    checkpoint,
};
use tch::{Device, Kind, Tensor, nn};

use crate::common::{images, max_diff, randn, randomize_running_stats, temp_dir};

const TOL: f64 = 1e-5;

/// Eval-mode outputs of a network on named inputs (`in.x`, `in.y`, `in.z`).
trait Run: Network {
    fn run(&self, io: &HashMap<String, Tensor>) -> Vec<Tensor>;
}

impl Run for FaderAutoEncoder {
    fn run(&self, io: &HashMap<String, Tensor>) -> Vec<Tensor> {
        let enc = self.encode(&io["in.x"], false);
        let dec = self.decode_all(&enc, &io["in.y"], false);
        enc.into_iter()
            .skip(1)
            .chain(dec.into_iter().skip(1))
            .collect()
    }
}

impl Run for LatentDiscriminator {
    fn run(&self, io: &HashMap<String, Tensor>) -> Vec<Tensor> {
        vec![self.forward_t(&io["in.z"], false)]
    }
}

impl Run for PatchDiscriminator {
    fn run(&self, io: &HashMap<String, Tensor>) -> Vec<Tensor> {
        vec![
            self.patch_map_t(&io["in.x"], false),
            self.forward_t(&io["in.x"], false),
        ]
    }
}

impl Run for FaderClassifier {
    fn run(&self, io: &HashMap<String, Tensor>) -> Vec<Tensor> {
        vec![self.forward_t(&io["in.x"], false)]
    }
}

impl Run for IcganGenerator {
    fn run(&self, io: &HashMap<String, Tensor>) -> Vec<Tensor> {
        vec![self.forward_t(&io["in.z"], &io["in.y"], false)]
    }
}

impl Run for IcganDiscriminator {
    fn run(&self, io: &HashMap<String, Tensor>) -> Vec<Tensor> {
        vec![self.forward_t(&io["in.x"], &io["in.y"], false)]
    }
}

impl Run for IcganEncoder {
    fn run(&self, io: &HashMap<String, Tensor>) -> Vec<Tensor> {
        let y = (self.role() == EncoderRole::ZCond).then(|| &io["in.y"]);
        vec![self.forward_t(&io["in.x"], y, false)]
    }
}

impl Run for SngEncoder {
    fn run(&self, io: &HashMap<String, Tensor>) -> Vec<Tensor> {
        let (z, y) = self.forward_t(&io["in.x"], false);
        vec![z, y]
    }
}

type Build = Box<dyn Fn(&nn::Path) -> Result<Box<dyn Run>, NetsError>>;

struct Case {
    name: &'static str,
    build: Build,
    inputs: Vec<(&'static str, Tensor)>,
}

fn case<N: Run + 'static>(
    name: &'static str,
    build: impl Fn(&nn::Path) -> Result<N, NetsError> + 'static,
    inputs: Vec<(&'static str, Tensor)>,
) -> Case {
    Case {
        name,
        build: Box::new(move |p| Ok(Box::new(build(p)?) as Box<dyn Run>)),
        inputs,
    }
}

fn cases() -> Vec<Case> {
    let cpu = Device::Cpu;
    let b = 3;
    let ae = FaderConfig {
        n_attr: 4,
        ..FaderConfig::small(32)
    };
    let ae_up = FaderConfig {
        deconv_method: DeconvMethod::Upsampling,
        norm: NormKind::Instance,
        n_skip: 2,
        dec_dropout: 0.2,
        ..FaderConfig::small(32)
    };
    let ae_ps = FaderConfig {
        deconv_method: DeconvMethod::PixelShuffle,
        n_skip: 1,
        ..FaderConfig::small(32)
    };
    let dis_skip = FaderConfig {
        n_skip: 1,
        n_layers: 3,
        ..FaderConfig::small(32)
    };
    let clf = ClassifierConfig {
        img_sz: 32,
        n_attr: 6,
        ..ClassifierConfig::default()
    };
    let g32 = IcganConfig {
        img_sz: 32,
        ..IcganConfig::default()
    };
    let mnist = IcganConfig {
        nc: 1,
        ny: 10,
        ..IcganConfig::default()
    };
    let enc = IcganEncoderConfig {
        img_sz: 32,
        ..IcganEncoderConfig::default()
    };
    let enc_cond = IcganEncoderConfig {
        kind: EncoderKind::IndCond,
        ..enc.clone()
    };
    let enc_sng = IcganEncoderConfig {
        kind: EncoderKind::Sng,
        ..enc.clone()
    };
    let x32 = || images(b, 3, 32, cpu);
    let [c, h, w] = ae.latent_shape();
    vec![
        case(
            "ae",
            {
                let c = ae.clone();
                move |p| FaderAutoEncoder::new(p, &c)
            },
            vec![("in.x", x32()), ("in.y", randn(b, 4, cpu) * 2.0)],
        ),
        case(
            "ae_upsampling_instance_skip",
            {
                let c = ae_up.clone();
                move |p| FaderAutoEncoder::new(p, &c)
            },
            vec![("in.x", x32()), ("in.y", randn(b, 2, cpu))],
        ),
        case(
            "ae_pixelshuffle_skip",
            {
                let c = ae_ps.clone();
                move |p| FaderAutoEncoder::new(p, &c)
            },
            vec![("in.x", x32()), ("in.y", randn(b, 2, cpu))],
        ),
        case(
            "latent_dis",
            {
                let c = ae.clone();
                move |p| LatentDiscriminator::new(p, &c)
            },
            vec![("in.z", Tensor::randn([b, c, h, w], (Kind::Float, cpu)))],
        ),
        case(
            "latent_dis_skip",
            {
                let c = dis_skip.clone();
                move |p| LatentDiscriminator::new(p, &c)
            },
            vec![("in.z", Tensor::randn([b, 64, 8, 8], (Kind::Float, cpu)))],
        ),
        case(
            "patch_dis",
            {
                let c = FaderConfig::small(32);
                move |p| PatchDiscriminator::new(p, &c)
            },
            vec![("in.x", x32())],
        ),
        case(
            "classifier",
            move |p| FaderClassifier::new(p, &clf),
            vec![("in.x", x32())],
        ),
        case(
            "icgan_g32",
            {
                let c = g32.clone();
                move |p| IcganGenerator::new(p, &c)
            },
            vec![
                ("in.z", randn(b, 100, cpu)),
                ("in.y", randn(b, 18, cpu).sign()),
            ],
        ),
        case(
            "icgan_g64_mnist",
            {
                let c = mnist.clone();
                move |p| IcganGenerator::new(p, &c)
            },
            vec![
                ("in.z", randn(b, 100, cpu)),
                ("in.y", randn(b, 10, cpu).sign()),
            ],
        ),
        case(
            "icgan_d32",
            {
                let c = g32.clone();
                move |p| IcganDiscriminator::new(p, &c)
            },
            vec![("in.x", x32()), ("in.y", randn(b, 18, cpu).sign())],
        ),
        case(
            "icgan_d64",
            move |p| IcganDiscriminator::new(p, &IcganConfig::default()),
            vec![
                ("in.x", images(b, 3, 64, cpu)),
                ("in.y", randn(b, 18, cpu).sign()),
            ],
        ),
        case(
            "icgan_ez",
            {
                let c = enc.clone();
                move |p| IcganEncoder::new(p, &c, EncoderRole::Z)
            },
            vec![("in.x", x32())],
        ),
        case(
            "icgan_ey",
            {
                let c = enc.clone();
                move |p| IcganEncoder::new(p, &c, EncoderRole::Y)
            },
            vec![("in.x", x32())],
        ),
        case(
            "icgan_ez_cond",
            move |p| IcganEncoder::new(p, &enc_cond, EncoderRole::ZCond),
            vec![("in.x", x32()), ("in.y", randn(b, 18, cpu).sign())],
        ),
        case(
            "icgan_sng",
            move |p| SngEncoder::new(p, &enc_sng),
            vec![("in.x", x32())],
        ),
    ]
}

fn read(path: &std::path::Path) -> HashMap<String, Tensor> {
    Tensor::read_safetensors(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .collect()
}

#[test]
fn checkpoints_round_trip_with_pytorch() {
    let _serial = crate::common::serial();
    let python = env!("SLIDERS_TORCH_PYTHON");
    if python.is_empty() {
        eprintln!(
            "SKIPPED: no Python with torch beside this libtorch (SLIDERS_TORCH_PYTHON is empty); \
             run `cargo xtask setup` to provision one"
        );
        return;
    }
    let dir = temp_dir("pytorch");
    let cases = cases();
    for (i, c) in cases.iter().enumerate() {
        tch::manual_seed(100 + i as i64);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = (c.build)(&vs.root()).unwrap();
        randomize_running_stats(&vs);
        checkpoint::save(&vs, &*net, dir.join(format!("{}.rust.safetensors", c.name))).unwrap();
        let io: HashMap<String, Tensor> = c
            .inputs
            .iter()
            .map(|(k, t)| (k.to_string(), t.shallow_clone()))
            .collect();
        let outs = tch::no_grad(|| net.run(&io));
        let mut named: Vec<(String, Tensor)> = c
            .inputs
            .iter()
            .map(|(k, t)| (k.to_string(), t.shallow_clone()))
            .collect();
        named.extend(
            outs.into_iter()
                .enumerate()
                .map(|(i, t)| (format!("out.{i}"), t)),
        );
        Tensor::write_safetensors(&named, dir.join(format!("{}.io.safetensors", c.name))).unwrap();
    }
    let names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    let manifest = serde_json::json!({ "cases": names });
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/roundtrip.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&dir)
        .output()
        .expect("the provisioned Python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "PyTorch did not reproduce the Rust outputs:\n{stdout}"
    );
    assert_eq!(stdout.matches(" ok ").count(), cases.len(), "{stdout}");

    // PyTorch -> Rust.
    for c in &cases {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let net = (c.build)(&vs.root()).unwrap();
        let py = dir.join(format!("{}.py.safetensors", c.name));
        checkpoint::load(&mut vs, &*net, &py).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let io: HashMap<String, Tensor> = c
            .inputs
            .iter()
            .map(|(k, t)| (k.to_string(), t.shallow_clone()))
            .collect();
        let outs = tch::no_grad(|| net.run(&io));
        let want = read(&dir.join(format!("{}.pyout.safetensors", c.name)));
        assert_eq!(outs.len(), want.len(), "{}", c.name);
        for (i, o) in outs.iter().enumerate() {
            let d = max_diff(o, &want[&format!("out.{i}")]);
            assert!(d <= TOL, "{} output {i}: torch->rust max diff {d}", c.name);
        }
        eprintln!("{} torch->rust ok", c.name);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
