//! Measures the landmark template on aligned CelebA images and the detector's recall on them:
//! runs MTCNN on every image of a folder (default `../shared/celeba/img_align_celeba`), keeps
//! the most probable face of each, refines its landmarks as alignment does
//! (`sliders_align::refine`), averages them in coordinates normalised by the image's width and
//! height and writes them to `crates/sliders-align/data/celeba_template.txt`.
//! Prints the recall (images with at least one face), the spread of each landmark and the time
//! per image.
//!
//! ```sh
//! cargo run --release -p sliders-align --example template -- [DIR] [--limit N] [--dry-run]
//! ```

use sliders_align::{Detector, Template, refine};
use std::path::PathBuf;
use std::time::Instant;

/// Each landmark's mean and standard deviation, from the means `points` and the sums of
/// squares `sq` over `n` faces.
fn print_spread(points: &[[f64; 2]; 5], sq: &[[f64; 2]; 5], n: f64) {
    let names = ["left eye", "right eye", "nose", "left mouth", "right mouth"];
    for k in 0..5 {
        let sd = |d: usize| (sq[k][d] / n - points[k][d].powi(2)).max(0.0).sqrt();
        println!(
            "{:>11}: u {:.4} (sd {:.4})  v {:.4} (sd {:.4})",
            names[k],
            points[k][0],
            sd(0),
            points[k][1],
            sd(1)
        );
    }
}

/// The first `limit` JPEG and PNG files of `dir`, in name order.
fn images(dir: &std::path::Path, limit: usize) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            format!(
                "{}: {e} (pass the folder of aligned CelebA images)",
                dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png"))
        .collect();
    files.sort();
    files.truncate(limit);
    Ok(files)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/celeba/img_align_celeba"
    ));
    let (mut limit, mut dry) = (usize::MAX, false);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--limit" => limit = args.next().ok_or("--limit needs a number")?.parse()?,
            "--dry-run" => dry = true,
            _ => dir = PathBuf::from(a),
        }
    }
    let files = images(&dir, limit)?;
    // One libtorch thread: the networks' tensors are small, and on a busy machine a thread pool
    // spends more time waiting for its threads than computing (measured: 24 ms per 89x109 image
    // on one thread, 110-460 ms on two while other builds ran).
    tch::set_num_threads(1);
    let detector = Detector::load_default(tch::Device::Cpu)?;
    // Refinement needs a template to make its upright view: the committed one (a template that
    // is off by a little moves the face in the view; O-Net, reading the face, places the
    // landmarks nearly where they were).
    let seed = Template::celeba();
    let started = Instant::now();
    let (mut sum, mut sq) = ([[0.0f64; 2]; 5], [[0.0f64; 2]; 5]);
    let (mut found, mut several) = (0usize, 0usize);
    let mut missed: Vec<std::borrow::Cow<str>> = Vec::new();
    let mut all: Vec<[[f64; 2]; 5]> = Vec::new();
    for path in &files {
        let img = image::open(path)?.to_rgb8();
        let (w, h) = (f64::from(img.width()), f64::from(img.height()));
        let faces = detector.detect(&img);
        let Some(face) = faces.first().map(|f| refine(&detector, &seed, &img, f)) else {
            missed.push(path.file_name().unwrap_or_default().to_string_lossy());
            continue;
        };
        found += 1;
        several += usize::from(faces.len() > 1);
        all.push(face.landmarks.map(|[x, y]| [x / w, y / h]));
        for k in 0..5 {
            let p = [face.landmarks[k][0] / w, face.landmarks[k][1] / h];
            for d in 0..2 {
                sum[k][d] += p[d];
                sq[k][d] += p[d] * p[d];
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let n = found as f64;
    let points = sum.map(|s| [s[0] / n, s[1] / n]);
    println!(
        "recall: {found} / {} images = {:.2}% ({} with more than one face); {:.1} ms per image",
        files.len(),
        100.0 * n / files.len() as f64,
        several,
        1000.0 * secs / files.len() as f64
    );
    if !missed.is_empty() {
        println!("missed: {}", missed.join(" "));
    }
    print_spread(&points, &sq, n);
    let (template, mean) = Template {
        points,
        correction: None,
    }
    .calibrated(&all);
    println!(
        "alignment's mean fit: scale {:.4}, angle {:+.3}°, shift ({:+.2}, {:+.2}) px; calibrated",
        mean.scale(),
        mean.angle().to_degrees(),
        mean.tx,
        mean.ty
    );
    if !dry {
        let out = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/celeba_template.txt"
        ));
        let comment = format!(
            "MTCNN's five landmarks (left eye, right eye, nose, left and right mouth corner), refined,\n\
             averaged over {found} aligned CelebA images, as fractions u = x / width, v = y / height,\n\
             then calibrated: moved by the inverse of alignment's mean fit (four points, fit_points)\n\
             of those images onto the average, so that aligning an aligned image gives the identity\n\
             on average (docs/face-alignment.md#the-template).\n\
             Regenerate: cargo run --release -p sliders-align --example template"
        );
        std::fs::write(&out, template.to_text(&comment))?;
        println!(
            "wrote {} without a framing correction: fit it again with examples/framing_fit.rs \
             (docs/face-alignment.md#framing-correction)",
            out.display()
        );
    }
    Ok(())
}
