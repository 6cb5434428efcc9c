//! Shared test fixture: a small synthetic-face dataset prepared once per test binary, a lock that
//! serialises tests (libtorch's generator is global, and resume checks need exact repeatability),
//! and small experiment configs.

#![allow(dead_code)]

use sliders_celeba::Prepared;
use sliders_config::data::{
    AttributeEncoding, AttributeSpec, DataConfig, FlipMode, Framing, SamplerConfig, SyntheticConfig,
};
use sliders_config::nets::{
    ClassifierConfig, EncoderKind, FaderConfig, IcganConfig, IcganEncoderConfig,
};
use sliders_config::train::{
    CganSpec, CganTrainConfig, ClassifierSpec, ClassifierTrainConfig, DeviceChoice,
    EncoderTrainConfig, EncodersSpec, Experiment, ExperimentKind, FaderSpec, FaderTrainConfig,
    Spec,
};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};
use tch::nn::VarStore;

/// Serialises the tests of one binary.
pub fn lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The lock of [`lock`] for a test that compares a graphed CUDA run with an eager one: fails
/// where there is no CUDA device, and sets deterministic cuDNN so both runs can pick the same
/// kernels.
pub fn deterministic_cuda() -> MutexGuard<'static, ()> {
    assert!(tch::Cuda::is_available(), "no CUDA device here");
    let guard = lock();
    sliders_torch_ext::settings::set_deterministic_cudnn(true).unwrap();
    guard
}

/// A fresh folder under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sliders-train-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The data config of the fixture: synthetic faces at 32 px with `attributes`.
pub fn data_config(attributes: &[&str]) -> DataConfig {
    let root = std::env::temp_dir().join(format!("sliders-train-data-{}", std::process::id()));
    DataConfig {
        celeba_dir: root.join("no-celeba-here"),
        cache_dir: root.join("cache"),
        image_size: 32,
        attributes: AttributeSpec::Names(attributes.iter().map(|s| s.to_string()).collect()),
        synthetic: SyntheticConfig {
            dir: root.join("synthetic"),
            n_images: 1200,
            width: 64,
            seed: 0,
        },
        sampler: SamplerConfig {
            batch_size: 32,
            ..SamplerConfig::default()
        },
        ..DataConfig::default()
    }
}

/// The IcGAN data of the fixture: IcGAN framing, ±1 attributes, per-image flips
/// (docs/icgan.md#data). Use it alone in a test binary (the synthetic set is generated once per
/// binary).
pub fn icgan_data_config(attributes: &[&str]) -> DataConfig {
    let base = data_config(attributes);
    DataConfig {
        framing: Framing::Icgan,
        encoding: AttributeEncoding::PlusMinus,
        sampler: SamplerConfig {
            flip: FlipMode::PerImage,
            ..base.sampler.clone()
        },
        ..base
    }
}

/// The fixture prepared for `attributes` (generated once, cached on disk for the binary's life).
pub fn prepared(attributes: &[&str]) -> Prepared {
    prepared_with(&data_config(attributes))
}

/// The fixture prepared with `cfg` (see [`prepared`]).
pub fn prepared_with(cfg: &DataConfig) -> Prepared {
    static GENERATED: OnceLock<()> = OnceLock::new();
    let cfg = cfg.clone();
    GENERATED.get_or_init(|| {
        sliders_celeba::prepare(&cfg, &mut |_| {}).expect("synthetic data");
    });
    sliders_celeba::prepare(&cfg, &mut |_| {}).expect("synthetic data")
}

/// A small Fader experiment on the fixture.
pub fn fader_experiment(
    run_dir: PathBuf,
    attributes: &[&str],
    train: FaderTrainConfig,
) -> Experiment {
    Experiment {
        seed: 3,
        device: DeviceChoice::Cpu,
        data: data_config(attributes),
        spec: Spec::Fader(FaderSpec {
            fader: FaderConfig {
                init_fm: 16,
                max_fm: 128,
                hid_dim: 128,
                ..FaderConfig::small(32)
            },
            fader_train: train,
        }),
        ..Experiment::new(ExperimentKind::Fader, run_dir)
    }
}

/// A small classifier experiment on the fixture.
pub fn classifier_experiment(
    run_dir: PathBuf,
    attributes: &[&str],
    train: ClassifierTrainConfig,
) -> Experiment {
    Experiment {
        seed: 5,
        device: DeviceChoice::Cpu,
        data: data_config(attributes),
        spec: Spec::Classifier(ClassifierSpec {
            classifier: ClassifierConfig {
                init_fm: 16,
                max_fm: 128,
                hid_dim: 128,
                ..ClassifierConfig::default()
            },
            classifier_train: train,
        }),
        ..Experiment::new(ExperimentKind::Classifier, run_dir)
    }
}

/// A small IcGAN cGAN experiment (ngf = ndf = 32) on the IcGAN fixture data.
pub fn cgan_experiment(
    run_dir: PathBuf,
    attributes: &[&str],
    train: CganTrainConfig,
) -> Experiment {
    Experiment {
        seed: 7,
        device: DeviceChoice::Cpu,
        data: icgan_data_config(attributes),
        spec: Spec::Cgan(CganSpec {
            icgan: IcganConfig {
                ngf: 32,
                ndf: 32,
                ..IcganConfig::default()
            },
            cgan_train: train,
        }),
        ..Experiment::new(ExperimentKind::Cgan, run_dir)
    }
}

/// A small IcGAN encoder experiment (nf = 16) of `kind` for the cGAN run in `cgan_run`.
pub fn encoder_experiment(
    run_dir: PathBuf,
    attributes: &[&str],
    kind: EncoderKind,
    train: EncoderTrainConfig,
) -> Experiment {
    Experiment {
        seed: 11,
        device: DeviceChoice::Cpu,
        data: icgan_data_config(attributes),
        spec: Spec::Encoders(EncodersSpec {
            icgan_encoder: IcganEncoderConfig {
                nf: 16,
                ..IcganEncoderConfig::default()
            },
            encoder_train: EncoderTrainConfig {
                encoder_kind: kind,
                ..train
            },
        }),
        ..Experiment::new(ExperimentKind::Encoders, run_dir)
    }
}

/// Ok when every variable of `a` equals its namesake in `b` exactly; else the first difference.
pub fn same_weights(a: &VarStore, b: &VarStore) -> Result<(), String> {
    weights_within(a, b, 0.0)
}

/// Every variable of `a` within `tol` (largest absolute difference) of `b`'s of the same name.
pub fn weights_within(a: &VarStore, b: &VarStore, tol: f64) -> Result<(), String> {
    let (va, vb) = (a.variables(), b.variables());
    for (name, t) in &va {
        let diff = (t - &vb[name]).abs().max().double_value(&[]);
        if diff > tol {
            return Err(format!("{name} differs by {diff}"));
        }
    }
    Ok(())
}

/// metrics.csv without the timing column, which differs between runs.
pub fn metrics_without_timing(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let skip = header.iter().position(|h| *h == "images_per_sec").unwrap();
    lines
        .map(|l| {
            l.split(',')
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| c)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}
