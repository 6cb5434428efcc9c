//! Alignment accuracy under random similarity transforms, on aligned CelebA images (default
//! `../shared/celeba/img_align_celeba`, every image's landmarks compared with themselves):
//!
//! 1. the sample image (89×109, CelebA downscaled 2×) is brought back to CelebA's 178×218 by
//!    bilinear upsampling; MTCNN's landmarks on it, fitted to the template, give the reference
//!    alignment `A0` (photo → Fader frame, 256 px);
//! 2. a random similarity `T` (rotation ±30°, scale 0.5–2, a random shift) places that image in
//!    a larger canvas (1.2–2× the transformed image's bounding box) filled with smooth random
//!    colour noise;
//! 3. the canvas is detected and aligned, giving `A1`; the face used is the detection whose eye
//!    midpoint is nearest the true one (a face must be found within one inter-ocular distance).
//!
//! Landmarks are refined as `align_faces` does (`sliders_align::refine`, on both the reference
//! and the canvas); `--raw` measures MTCNN's single pass instead.
//!
//! Reported, as fractions of the inter-ocular distance: the landmark error (detected eyes in
//! the canvas against `T` of the reference eyes) and the alignment error (`A1 ∘ T` against `A0`
//! on the reference eyes, in the frame), median, 95th percentile and maximum; misses; time per
//! canvas of detection + alignment.
//!
//! ```sh
//! cargo run --release -p sliders-align --example accuracy -- [DIR] [--trials N] [--seed S] [--raw]
//! ```

use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sliders_align::warp::sample;
use sliders_align::{Detector, Face, Frame, Similarity, Template, fit_to_frame, refine, warp};
use std::path::PathBuf;
use std::time::Instant;

const FADER: Frame = Frame {
    x0: 0.0,
    y0: 20.0,
    width: 178.0,
    height: 178.0,
};
const SIZE: u32 = 256;

/// Low-frequency colour noise: a coarse random grid upsampled bilinearly.
fn background(rng: &mut ChaCha8Rng, w: u32, h: u32) -> RgbImage {
    let grid = RgbImage::from_fn(8, 8, |_, _| image::Rgb(rng.r#gen::<[u8; 3]>()));
    let (sx, sy) = (8.0 / f64::from(w), 8.0 / f64::from(h));
    RgbImage::from_fn(w, h, |x, y| {
        let c = sample(&grid, (f64::from(x) + 0.5) * sx, (f64::from(y) + 0.5) * sy);
        image::Rgb(c.map(|v| v.round() as u8))
    })
}

/// `image` drawn into `canvas` through `t` (bilinear; the canvas shows outside the image).
fn place(canvas: &mut RgbImage, image: &RgbImage, t: &Similarity) {
    let back = t.inverse();
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    for (x, y, px) in canvas.enumerate_pixels_mut() {
        let [u, v] = back.apply([f64::from(x) + 0.5, f64::from(y) + 0.5]);
        if (0.0..w).contains(&u) && (0.0..h).contains(&v) {
            px.0 = sample(image, u, v).map(|c| c.round() as u8);
        }
    }
}

fn dist(p: [f64; 2], q: [f64; 2]) -> f64 {
    (p[0] - q[0]).hypot(p[1] - q[1])
}

fn percentile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// The random transform and canvas for a `w`×`h` image.
fn random_placement(rng: &mut ChaCha8Rng, w: f64, h: f64) -> (Similarity, u32, u32) {
    let angle = rng.gen_range(-30.0f64..=30.0).to_radians();
    let scale = 2f64.powf(rng.gen_range(-1.0..=1.0));
    let t = Similarity::new(scale, angle, 0.0, 0.0);
    let (lo, hi) = t.bounds(w, h);
    let (bw, bh) = (hi[0] - lo[0], hi[1] - lo[1]);
    let (cw, ch) = (bw * rng.gen_range(1.2..2.0), bh * rng.gen_range(1.2..2.0));
    let tx = rng.gen_range(0.0..=cw - bw) - lo[0];
    let ty = rng.gen_range(0.0..=ch - bh) - lo[1];
    (
        Similarity { tx, ty, ..t },
        cw.ceil() as u32,
        ch.ceil() as u32,
    )
}

/// The detection in `faces` whose eye midpoint is nearest `mid`, if within `iod`.
fn matching(faces: &[Face], mid: [f64; 2], iod: f64) -> Option<&Face> {
    let m = |f: &Face| {
        let [l, r] = [f.landmarks[0], f.landmarks[1]];
        dist([(l[0] + r[0]) / 2.0, (l[1] + r[1]) / 2.0], mid)
    };
    faces
        .iter()
        .filter(|f| m(f) <= iod)
        .min_by(|a, b| m(a).total_cmp(&m(b)))
}

/// What one trial gave.
enum Outcome {
    /// No face in the untransformed image: no reference.
    Unusable,
    /// The transformed face was not found (seconds spent).
    Miss(f64),
    /// Seconds, then the two eyes' landmark and alignment errors.
    Hit(f64, [f64; 2], [f64; 2]),
}

/// The detector and settings shared by the trials.
struct Bench {
    detector: Detector,
    template: Template,
    raw: bool,
}

impl Bench {
    /// The face's landmarks as alignment uses them (refined unless `--raw`).
    fn settle(&self, image: &RgbImage, face: &Face) -> Face {
        if self.raw {
            *face
        } else {
            refine(&self.detector, &self.template, image, face)
        }
    }

    /// One trial on the image at `path`.
    fn trial(
        &self,
        rng: &mut ChaCha8Rng,
        path: &std::path::Path,
    ) -> Result<Outcome, Box<dyn std::error::Error>> {
        let small = image::open(path)?.to_rgb8();
        let up = Similarity::new(2.0, 0.0, 0.0, 0.0);
        let base = warp(&small, &up, small.width() * 2, small.height() * 2);
        let Some(reference) = self.detector.detect(&base).first().copied() else {
            return Ok(Outcome::Unusable);
        };
        let reference = self.settle(&base, &reference);
        let a0 = fit_to_frame(&reference, &self.template, FADER, SIZE, SIZE);
        let eyes = [reference.landmarks[0], reference.landmarks[1]];
        let (w, h) = (f64::from(base.width()), f64::from(base.height()));
        let (t, cw, ch) = random_placement(rng, w, h);
        let mut canvas = background(rng, cw, ch);
        place(&mut canvas, &base, &t);
        let started = Instant::now();
        let faces = self.detector.detect(&canvas);
        let true_eyes = eyes.map(|e| t.apply(e));
        let mid = [
            (true_eyes[0][0] + true_eyes[1][0]) / 2.0,
            (true_eyes[0][1] + true_eyes[1][1]) / 2.0,
        ];
        let iod = dist(true_eyes[0], true_eyes[1]);
        let Some(face) = matching(&faces, mid, iod) else {
            return Ok(Outcome::Miss(started.elapsed().as_secs_f64()));
        };
        let face = self.settle(&canvas, face);
        let a1 = fit_to_frame(&face, &self.template, FADER, SIZE, SIZE);
        let _aligned = warp(&canvas, &a1, SIZE, SIZE);
        let secs = started.elapsed().as_secs_f64();
        let frame_iod = self.template.eye_distance(FADER, SIZE, SIZE);
        let landmark = [0, 1].map(|k| dist(face.landmarks[k], true_eyes[k]) / iod);
        let align = [0, 1].map(|k| dist(a1.apply(true_eyes[k]), a0.apply(eyes[k])) / frame_iod);
        if align.iter().any(|&e| e > 0.05) {
            println!(
                "{}: alignment error {:.1}% / {:.1}% (rotation {:.1}°, scale {:.2})",
                path.display(),
                100.0 * align[0],
                100.0 * align[1],
                t.angle().to_degrees(),
                t.scale()
            );
        }
        Ok(Outcome::Hit(secs, landmark, align))
    }
}

/// Median, 95th percentile, maximum and the count above 5% of one error list.
fn summarise(name: &str, v: &mut [f64]) {
    if v.is_empty() {
        return;
    }
    let (med, p95) = (percentile(v, 0.5), percentile(v, 0.95));
    let over = v.iter().filter(|&&e| e > 0.05).count();
    println!(
        "{name:>9} error / inter-ocular distance: median {:.2}%, 95th percentile {:.2}%, \
         max {:.2}%, {over} of {} eyes above 5%",
        100.0 * med,
        100.0 * p95,
        100.0 * v[v.len() - 1],
        v.len()
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/celeba/img_align_celeba"
    ));
    let (mut trials, mut seed, mut raw) = (200usize, 24u64, false);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--trials" => trials = args.next().ok_or("--trials needs a number")?.parse()?,
            "--seed" => seed = args.next().ok_or("--seed needs a number")?.parse()?,
            "--raw" => raw = true,
            _ => dir = PathBuf::from(a),
        }
    }
    // One libtorch thread: the networks' tensors are small, and on a busy machine a thread pool
    // spends more time waiting for its threads than computing (measured: 24 ms per 89x109 image
    // on one thread, 110-460 ms on two while other builds ran).
    tch::set_num_threads(1);
    let bench = Bench {
        detector: Detector::load_default(tch::Device::Cpu)?,
        template: Template::celeba(),
        raw,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut landmark_err, mut align_err) = (Vec::new(), Vec::new());
    let (mut misses, mut unusable, mut secs) = (0usize, 0usize, 0.0f64);
    for i in 0..trials {
        // Images spread over the sample: 1, 41, 81, …
        let path = dir.join(format!("{:06}.jpg", 1 + (i * 40) % 8000));
        match bench.trial(&mut rng, &path)? {
            Outcome::Unusable => unusable += 1,
            Outcome::Miss(s) => {
                misses += 1;
                secs += s;
            }
            Outcome::Hit(s, landmark, align) => {
                secs += s;
                landmark_err.extend(landmark);
                align_err.extend(align);
            }
        }
    }
    let done = trials - unusable;
    let kind = if raw {
        "MTCNN's single-pass"
    } else {
        "refined"
    };
    println!(
        "{kind} landmarks; {trials} trials ({unusable} without a reference detection), {misses} \
         of {done} transformed faces not found; {:.0} ms per canvas (detection + alignment)",
        1000.0 * secs / done as f64
    );
    summarise("landmark", &mut landmark_err);
    summarise("alignment", &mut align_err);
    Ok(())
}
