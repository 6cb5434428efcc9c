//! Detection and alignment time per photo (docs/face-alignment.md#measured): four CelebA sample
//! faces (brought to 178×218, turned and scaled) on 512×512 and 1024×1024 canvases, timed by
//! criterion for `Detector::detect` (the cascade) and `align_faces` (cascade, refinement and the
//! warp into a 256 px Fader frame), one libtorch thread. Then, in the same command, the baseline:
//! facenet-pytorch's own `MTCNN.detect` on the same canvases (`benches/python/mtcnn_baseline.py`
//! in the venv `cargo xtask setup` makes, one torch thread), and the ratios ours / theirs.
//!
//! ```sh
//! cargo bench -p sliders-align --bench detect_align
//! ```
//!
//! Needs the CelebA sample in `../shared/celeba` (research-only, not in the repository; without
//! it the benchmark says so and does nothing) and the MTCNN weights of `cargo xtask setup`.

use criterion::{Criterion, Throughput};
use image::{Rgb, RgbImage};
use sliders_align::{Detector, Frame, Similarity, Template, align_faces, warp};
use sliders_metrics::stats::median;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The sample images used (of the 8,000; spread over the sample).
const IMAGES: [usize; 4] = [1, 2000, 4000, 6000];
/// Canvas sides.
const SIDES: [u32; 2] = [512, 1024];
/// The Fader frame at 256 px (the paper's resolution).
const FADER: Frame = Frame {
    x0: 0.0,
    y0: 20.0,
    width: 178.0,
    height: 178.0,
};
/// Timed runs per canvas of the Python baseline.
const BASELINE_REPEATS: usize = 5;

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/celeba/img_align_celeba")
}

/// Sample image `n` brought to CelebA's 178×218.
fn face(n: usize) -> Option<RgbImage> {
    let img = image::open(sample_dir().join(format!("{n:06}.jpg"))).ok()?;
    Some(image::imageops::resize(
        &img.to_rgb8(),
        178,
        218,
        image::imageops::FilterType::Triangle,
    ))
}

/// Face `i` on a `side`×`side` canvas of smooth colour: its height 45% of the side, turned by
/// −15°, 0°, 10° or 20°, its centre off the canvas's centre by up to a fifth of the side.
fn canvas(face: &RgbImage, side: u32, i: usize) -> RgbImage {
    let angles = [-15.0f64, 0.0, 10.0, 20.0];
    let scale = 0.45 * f64::from(side) / 218.0;
    let rot = Similarity::new(scale, angles[i % 4].to_radians(), 0.0, 0.0);
    let [cx, cy] = rot.apply([89.0, 109.0]);
    let shift = [0.2, -0.1, 0.0, -0.2][i % 4] * f64::from(side);
    let t = Similarity {
        tx: f64::from(side) / 2.0 + shift - cx,
        ty: f64::from(side) / 2.0 - shift / 2.0 - cy,
        ..rot
    };
    let back = t.inverse();
    RgbImage::from_fn(side, side, |x, y| {
        let [u, v] = back.apply([f64::from(x) + 0.5, f64::from(y) + 0.5]);
        if (0.0..178.0).contains(&u) && (0.0..218.0).contains(&v) {
            Rgb(warp::sample(face, u, v).map(|c| c.round() as u8))
        } else {
            Rgb([(x / 4 % 180) as u8 + 40, (y / 3 % 160) as u8 + 50, 100])
        }
    })
}

/// Times `run` on every canvas per criterion iteration (criterion's time is per iteration, its
/// throughput in photos per second); returns the median ms per photo over criterion's samples.
fn bench(c: &mut Criterion, id: &str, canvases: &[RgbImage], run: impl Fn(&RgbImage)) -> f64 {
    let mut per_photo = Vec::new();
    let mut group = c.benchmark_group(id);
    group.throughput(Throughput::Elements(canvases.len() as u64));
    group.bench_function("photos", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                for img in canvases {
                    run(black_box(img));
                }
            }
            let e = t.elapsed();
            per_photo.push(e.as_secs_f64() * 1e3 / (iters as f64 * canvases.len() as f64));
            e
        })
    });
    group.finish();
    median(&per_photo)
}

/// facenet-pytorch's median ms per photo for each canvas side, or why there is none.
fn baseline(canvases: &[(u32, Vec<RgbImage>)]) -> Result<Vec<(u32, f64)>, String> {
    let dir = std::env::temp_dir().join(format!("sliders-detect-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for (side, imgs) in canvases {
        for (i, img) in imgs.iter().enumerate() {
            let p = dir.join(format!("{side}_{i}.png"));
            img.save(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            paths.push((*side, p));
        }
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/python/mtcnn_baseline.py"
    );
    let out = Command::new(env!("SLIDERS_TORCH_PYTHON"))
        .arg(script)
        .arg(BASELINE_REPEATS.to_string())
        .args(paths.iter().map(|(_, p)| p))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", env!("SLIDERS_TORCH_PYTHON")))?;
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        return Err(format!(
            "{script} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines() {
        eprintln!("  facenet-pytorch {}", line.replace('\t', " | "));
    }
    let mut result = Vec::new();
    for (side, _) in canvases {
        let ms: Vec<f64> = text
            .lines()
            .filter_map(|l| {
                let mut f = l.split('\t');
                let (path, ms) = (f.next()?, f.next()?);
                let name = Path::new(path).file_name()?.to_str()?;
                name.starts_with(&format!("{side}_"))
                    .then(|| ms.parse().ok())?
            })
            .collect();
        result.push((*side, median(&ms)));
    }
    Ok(result)
}

fn main() {
    let faces: Option<Vec<RgbImage>> = IMAGES.iter().map(|&n| face(n)).collect();
    let Some(faces) = faces else {
        eprintln!(
            "detect_align: the CelebA sample is not at {}; nothing measured",
            sample_dir().display()
        );
        return;
    };
    tch::set_num_threads(1);
    let detector = Detector::load_default(tch::Device::Cpu)
        .unwrap_or_else(|e| panic!("{e} (this benchmark needs `cargo xtask setup`)"));
    let template = Template::celeba();
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6))
        .configure_from_args();
    let canvases: Vec<(u32, Vec<RgbImage>)> = SIDES
        .iter()
        .map(|&s| {
            (
                s,
                faces
                    .iter()
                    .enumerate()
                    .map(|(i, f)| canvas(f, s, i))
                    .collect(),
            )
        })
        .collect();
    let mut ours = Vec::new();
    for (side, imgs) in &canvases {
        let found: Vec<usize> = imgs.iter().map(|i| detector.detect(i).len()).collect();
        eprintln!("{side}x{side}: faces found per canvas {found:?}");
        let detect = bench(&mut c, &format!("detect/{side}"), imgs, |img| {
            black_box(detector.detect(img));
        });
        let align = bench(&mut c, &format!("detect_align/{side}"), imgs, |img| {
            black_box(align_faces(&detector, &template, img, FADER, 256).ok());
        });
        ours.push((*side, detect, align));
    }
    c.final_summary();
    summary(&ours, baseline(&canvases));
}

/// Prints ours and the baseline per canvas side, and the ratios.
fn summary(ours: &[(u32, f64, f64)], theirs: Result<Vec<(u32, f64)>, String>) {
    println!(
        "\nper photo, median (one thread; ours = sliders-align, theirs = facenet-pytorch MTCNN.detect):"
    );
    println!(
        "canvas | ours detect | ours detect+align | theirs detect | detect ours/theirs | detect+align ours/theirs"
    );
    for &(side, detect, align) in ours {
        let t = theirs
            .as_ref()
            .ok()
            .and_then(|v| v.iter().find(|(s, _)| *s == side).map(|(_, ms)| *ms));
        match t {
            Some(t) => println!(
                "{side}x{side} | {detect:.1} ms | {align:.1} ms | {t:.1} ms | {:.2} | {:.2}",
                detect / t,
                align / t
            ),
            None => println!("{side}x{side} | {detect:.1} ms | {align:.1} ms | - | - | -"),
        }
    }
    if let Err(why) = theirs {
        println!("no baseline: {why}");
    }
}
