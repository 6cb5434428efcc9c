//! Prints p(male) for each image file given as an argument.
//!
//! `cargo run -p sliders-gender --example judge -- [--framing aligned|fader|icgan] IMAGE...`
//!
//! `--framing` says what the images show (default `aligned`: whole aligned CelebA images,
//! 178x218 or the same proportions); it applies to every image after it.

use sliders_gender::{FramedImage, Framing, GenderJudge, default_model_path};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut framing = Framing::CelebaAligned;
    let mut jobs = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--framing" {
            framing = match args.next().as_deref() {
                Some("aligned") => Framing::CelebaAligned,
                Some("fader") => Framing::Fader,
                Some("icgan") => Framing::Icgan,
                other => {
                    return Err(
                        format!("--framing takes aligned, fader or icgan, not {other:?}").into(),
                    );
                }
            };
        } else {
            jobs.push((arg, framing));
        }
    }
    if jobs.is_empty() {
        return Err("usage: judge [--framing aligned|fader|icgan] IMAGE...".into());
    }
    let judge = GenderJudge::load(default_model_path())?;
    let mut images = Vec::with_capacity(jobs.len());
    for (path, framing) in &jobs {
        let image = image::open(path).map_err(|e| format!("{path}: {e}"))?;
        images.push(FramedImage::from_rgb(image.to_rgb8(), *framing));
    }
    for ((path, _), p) in jobs.iter().zip(judge.judge(&images)?) {
        println!("{p:.4}\t{path}");
    }
    Ok(())
}
