//! What the sliders-edit tests share: tiny models with random weights saved with the metadata
//! `sliders train` writes, generated photos, and job builders.

#![allow(dead_code)] // each test file uses a part of it

use sliders_config::nets::{EncoderKind, FaderConfig, IcganConfig, IcganEncoderConfig};
use sliders_edit::{Crop, EditJob, Setting};
use sliders_nets::checkpoint::{self, Network};
use sliders_nets::{EncoderRole, FaderAutoEncoder, IcganEncoder, IcganGenerator};
use std::path::{Path, PathBuf};
use tch::{Device, nn::VarStore};

pub const SIZE: i64 = 16;
pub const ATTRS: [&str; 2] = ["Eyeglasses", "Smiling"];

pub fn meta(framing: &str) -> Vec<(&'static str, String)> {
    vec![
        ("sliders.attributes", serde_json_list(&ATTRS)),
        ("sliders.framing", framing.to_string()),
        ("sliders.image_size", SIZE.to_string()),
    ]
}

pub fn serde_json_list(names: &[&str]) -> String {
    format!(
        "[{}]",
        names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(",")
    )
}

pub fn save<N: Network>(vs: &VarStore, net: &N, path: &Path, framing: &str) {
    let m = meta(framing);
    let pairs: Vec<(&str, &str)> = m.iter().map(|(k, v)| (*k, v.as_str())).collect();
    checkpoint::save_with_metadata(vs, net, path, &pairs).unwrap();
}

/// A Fader run folder with a random 16 px two-attribute autoencoder as `best_accu_ae`.
pub fn fader_run(dir: &Path) -> PathBuf {
    let run = dir.join("fader");
    let cfg = FaderConfig {
        init_fm: 8,
        max_fm: 32,
        n_attr: 2 * ATTRS.len() as i64,
        ..FaderConfig::small(SIZE)
    };
    let vs = VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
    save(&vs, &ae, &run.join("best_accu_ae.safetensors"), "fader");
    run
}

/// A cGAN run (`G.safetensors`) and an IND encoders run whose resolved.toml names it by a path
/// relative to `dir` (as `sliders train` writes it, relative to the project folder).
pub fn icgan_runs(dir: &Path) -> (PathBuf, PathBuf) {
    let cgan = dir.join("runs/cgan");
    let enc = dir.join("runs/encoders");
    let g_cfg = IcganConfig {
        img_sz: SIZE,
        nz: 8,
        ny: ATTRS.len() as i64,
        ngf: 8,
        ndf: 8,
        ..IcganConfig::default()
    };
    let vs = VarStore::new(Device::Cpu);
    let g = IcganGenerator::new(&vs.root(), &g_cfg).unwrap();
    save(&vs, &g, &cgan.join("G.safetensors"), "icgan");
    let e_cfg = IcganEncoderConfig {
        kind: EncoderKind::Ind,
        img_sz: SIZE,
        nz: 8,
        ny: ATTRS.len() as i64,
        nf: 8,
        n_conv_layers: 2,
        fc_z: None,
        fc_y: 16,
        ..IcganEncoderConfig::default()
    };
    for (role, name) in [(EncoderRole::Z, "ez"), (EncoderRole::Y, "ey")] {
        let vs = VarStore::new(Device::Cpu);
        let net = IcganEncoder::new(&vs.root(), &e_cfg, role).unwrap();
        save(&vs, &net, &enc.join(format!("{name}.safetensors")), "icgan");
    }
    std::fs::write(
        enc.join("resolved.toml"),
        "kind = \"encoders\"\n[encoder_train]\ncgan_run = \"runs/cgan\"\n",
    )
    .unwrap();
    (cgan, enc)
}

/// Synthetic faces shaped like aligned CelebA images (64x78), as PNG files in `dir`.
pub fn synthetic_faces(dir: &Path, n: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let w = 64;
    let h = sliders_celeba::synthetic::height_for(w);
    sliders_celeba::synthetic::faces(n, 7)
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let path = dir.join(format!("face{i}.png"));
            sliders_celeba::synthetic::render(p, w, h)
                .save(&path)
                .unwrap();
            path
        })
        .collect()
}

pub fn settings(list: &[&str]) -> Vec<Setting> {
    list.iter().map(|s| Setting::parse(s).unwrap()).collect()
}

pub fn job(inputs: Vec<PathBuf>, out: &Path, paste_back: bool) -> EditJob {
    EditJob {
        inputs,
        settings: settings(&["Smiling=1.5", "Eyeglasses=0"]),
        crop: Crop::Auto,
        out_dir: out.to_path_buf(),
        paste_back,
        batch_size: 2,
        limits: Default::default(),
    }
}

pub fn dims(path: &Path) -> (u32, u32) {
    image::image_dimensions(path).unwrap()
}
