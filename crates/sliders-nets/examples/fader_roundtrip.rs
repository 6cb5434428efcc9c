//! Builds a Fader Networks autoencoder at 64 px, slides one attribute on a random batch, saves the
//! model as safetensors (PyTorch `state_dict` keys, config in the metadata) and restores it from
//! the file alone: `cargo run -p sliders-nets --example fader_roundtrip -- /tmp/fader.safetensors`.

use sliders_config::nets::FaderConfig;
use sliders_nets::{FaderAutoEncoder, checkpoint, count_parameters};
use tch::{Device, Kind, Tensor, nn::VarStore};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        std::env::temp_dir()
            .join("fader.safetensors")
            .display()
            .to_string()
    });
    let cfg = FaderConfig {
        n_attr: 2,
        ..FaderConfig::small(64)
    };
    let vs = VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &cfg)?;
    println!(
        "autoencoder: {} parameters, latent {:?}",
        count_parameters(&vs),
        cfg.latent_shape()
    );
    let x = Tensor::rand([4, 3, 64, 64], (Kind::Float, Device::Cpu)) * 2 - 1;
    // One attribute, two one-hot columns [1 − α, α]; α = 1.5 slides beyond "present".
    let y = Tensor::from_slice(&[-0.5f32, 1.5])
        .view([1, 2])
        .repeat([4, 1]);
    let out = tch::no_grad(|| ae.decode(&ae.encode(&x, false), &y, false));
    println!("edited batch {:?}", out.size());
    checkpoint::save(&vs, &ae, &path)?;
    let (_vs2, ae2, cfg2) = checkpoint::restore(&path, Device::Cpu, FaderAutoEncoder::new)?;
    let again = tch::no_grad(|| ae2.decode(&ae2.encode(&x, false), &y, false));
    println!(
        "restored from {path} ({} layers): max difference {}",
        cfg2.n_layers,
        (out - again).abs().max().double_value(&[])
    );
    Ok(())
}
