//! Loads an experiment the way `sliders train` does (files in order, then `SLIDERS__…` variables)
//! and prints the resolved TOML: `cargo run -p sliders-config --example resolve --
//! experiments/smoke/data.toml experiments/smoke/fader.toml`.

use sliders_config::load::{Layer, load};
use sliders_config::train::Experiment;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut layers = Vec::new();
    for f in std::env::args().skip(1) {
        layers.push(Layer::from_file(std::path::Path::new(&f))?);
    }
    layers.push(Layer::from_env_vars(std::env::vars())?);
    let (exp, _) = load::<Experiment>(&layers)?;
    print!("{}", toml::to_string(&exp)?);
    Ok(())
}
