//! How far alignment moves an image that is already in the aligned CelebA frame, per way of
//! fitting the similarity, split by one attribute's label (docs/face-alignment.md#similarity-fit).
//! For each image (every `--every`th of the folder, up to `--limit`): detect and refine the five
//! landmarks as `--crop auto` does, fit the similarity onto the template with each weighting,
//! and record its scale, angle and shift, and the mean displacement of the model crop's corners
//! and of the landmarks (pixels of the 178×218 aligned image). Ideal: the identity for every
//! image, whatever its label. A fit that shrinks smiling faces (mouth corners apart) more than
//! others makes a re-framed smiling face differ from its original framing.
//!
//! ```sh
//! cargo run --release -p sliders-align --example frame_residual -- \
//!     [DIR] [--attr list_attr_celeba.txt] [--attribute Smiling] [--every 10] [--limit 800] \
//!     [--dump landmarks.txt]
//! ```
//!
//! `--dump` also writes each image's name, label and refined landmarks (x y of the five, pixels
//! of the 178×218 frame), one line each.

use sliders_align::{Detector, Frame, Similarity, Template, fit_points, refine};

const ALIGNED_WIDTH: f64 = Frame::ALIGNED.width;
const ALIGNED_HEIGHT: f64 = Frame::ALIGNED.height;
use std::collections::HashMap;
use std::path::PathBuf;

/// The fits compared: name, and the weights of (left eye, right eye, nose, left and right mouth
/// corner), or `None` for alignment's own four points ([`fit_points`]: the two corners' midpoint
/// in place of both).
const FITS: [(&str, Option<[f64; 5]>); 5] = [
    ("five equal", Some([1.0, 1.0, 1.0, 1.0, 1.0])),
    ("eyes only", Some([1.0, 1.0, 0.0, 0.0, 0.0])),
    ("eyes+nose", Some([1.0, 1.0, 1.0, 0.0, 0.0])),
    ("mouth 0.25", Some([1.0, 1.0, 1.0, 0.25, 0.25])),
    ("mouth-mid", None),
];

/// Per fit and label: sums of scale, angle (degrees), tx, ty, corner and landmark displacement.
type Sums = HashMap<(usize, bool), ([f64; 6], usize)>;

fn labels(path: &std::path::Path, attribute: &str) -> Result<HashMap<String, bool>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines().skip(1);
    let names: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    let col = names
        .iter()
        .position(|n| *n == attribute)
        .ok_or(format!("{attribute} is not a column of {}", path.display()))?;
    Ok(lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((f.first()?.to_string(), *f.get(col + 1)? == "1"))
        })
        .collect())
}

/// The mean distance `t` moves `points`.
fn moved(t: &Similarity, points: &[[f64; 2]]) -> f64 {
    let d: f64 = points
        .iter()
        .map(|&p| {
            let q = t.apply(p);
            (q[0] - p[0]).hypot(q[1] - p[1])
        })
        .sum();
    d / points.len() as f64
}

fn record(sums: &mut Sums, landmarks: &[[f64; 2]; 5], dst: &[[f64; 2]; 5], label: bool) {
    // The Fader's crop (rows 20..198, the whole width) as corners in aligned pixels.
    let corners = [
        [0.0, 20.0],
        [ALIGNED_WIDTH, 20.0],
        [0.0, 198.0],
        [ALIGNED_WIDTH, 198.0],
    ];
    for (k, (_, weights)) in FITS.iter().enumerate() {
        let fit = match weights {
            Some(w) => Similarity::fit_weighted(landmarks, dst, w),
            None => Similarity::fit(&fit_points(landmarks), &fit_points(dst)),
        };
        let Some(t) = fit else {
            continue;
        };
        let v = [
            t.scale(),
            t.angle().to_degrees(),
            t.tx,
            t.ty,
            moved(&t, &corners),
            moved(&t, landmarks),
        ];
        let e = sums.entry((k, label)).or_insert(([0.0; 6], 0));
        e.0.iter_mut().zip(v).for_each(|(s, x)| *s += x);
        e.1 += 1;
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/celeba");
    let (mut dir, mut attr) = (
        PathBuf::from(format!("{root}/img_align_celeba")),
        PathBuf::from(format!("{root}/list_attr_celeba.txt")),
    );
    let (mut attribute, mut every, mut limit) = ("Smiling".to_string(), 10usize, 800usize);
    let mut dump: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--attr" => attr = PathBuf::from(val()?),
            "--attribute" => attribute = val()?,
            "--every" => every = val()?.parse()?,
            "--limit" => limit = val()?.parse()?,
            "--dump" => dump = Some(PathBuf::from(val()?)),
            _ => dir = PathBuf::from(a),
        }
    }
    let labels = labels(&attr, &attribute)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png"))
        .collect();
    files.sort();
    tch::set_num_threads(1);
    let detector = Detector::load_default(tch::Device::Cpu)?;
    let template = Template::celeba();
    let dst = template
        .points
        .map(|[u, v]| [u * ALIGNED_WIDTH, v * ALIGNED_HEIGHT]);
    let mut sums = Sums::new();
    // Every face's landmarks (fractions of the image), for the template's calibration.
    let mut faces: Vec<[[f64; 2]; 5]> = Vec::new();
    let mut lines = String::new();
    for path in files.iter().step_by(every.max(1)).take(limit) {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let Some(&label) = labels.get(name.as_ref()) else {
            continue;
        };
        let img = image::open(path)?.to_rgb8();
        let (sx, sy) = (
            ALIGNED_WIDTH / f64::from(img.width()),
            ALIGNED_HEIGHT / f64::from(img.height()),
        );
        let Some(face) = detector
            .detect(&img)
            .first()
            .map(|f| refine(&detector, &template, &img, f))
        else {
            continue;
        };
        let lm = face.landmarks.map(|[x, y]| [x * sx, y * sy]);
        record(&mut sums, &lm, &dst, label);
        let coords: Vec<String> = lm.iter().flatten().map(|v| format!("{v:.3}")).collect();
        lines += &format!("{name} {} {}\n", u8::from(label), coords.join(" "));
        faces.push(lm.map(|[x, y]| [x / ALIGNED_WIDTH, y / ALIGNED_HEIGHT]));
    }
    if let Some(path) = &dump {
        std::fs::write(path, &lines)?;
    }
    let (calibrated, mean) = template.calibrated(&faces);
    println!(
        "alignment's mean fit over {} images: scale {:.4}, angle {:+.3}°, shift ({:+.2}, {:+.2}) px",
        faces.len(),
        mean.scale(),
        mean.angle().to_degrees(),
        mean.tx,
        mean.ty
    );
    println!("template calibrated so that this mean is the identity (u v per landmark):");
    for [u, v] in calibrated.points {
        println!("{u:.6} {v:.6}");
    }
    println!(
        "{attribute}: fit | label | n | scale | angle° | tx | ty | corners moved px | landmarks moved px"
    );
    for (k, (name, _)) in FITS.iter().enumerate() {
        for label in [false, true] {
            let Some((s, n)) = sums.get(&(k, label)) else {
                continue;
            };
            let m = s.map(|x| x / *n as f64);
            println!(
                "{name:>10} | {label:>5} | {n:>4} | {:.4} | {:+.2} | {:+.2} | {:+.2} | {:.2} | {:.2}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            );
        }
    }
    Ok(())
}
