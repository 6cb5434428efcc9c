//! Evaluates trained runs without the CLI: `cargo run -p sliders-eval --example evaluate --
//! experiments/smoke/data.toml experiments/smoke/eval.toml` prints the tables in Markdown.

use sliders_config::load::{Layer, load};
use sliders_config::train::Experiment;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut layers = Vec::new();
    for f in std::env::args().skip(1) {
        layers.push(Layer::from_file(std::path::Path::new(&f))?);
    }
    if layers.is_empty() {
        return Err("usage: evaluate <experiment.toml>... (a kind = \"eval\" experiment)".into());
    }
    let (mut exp, _) = load::<Experiment>(&layers)?;
    exp.fill_eval_defaults();
    let data = sliders_celeba::prepare(&exp.data, &mut |_| {})?;
    let device = sliders_train::device::resolve(exp.device)?;
    let results = sliders_eval::evaluate(&exp, &data, device)?;
    println!("{}", sliders_eval::output::markdown(&results));
    Ok(())
}
