//! `cargo xtask bench data`: end-to-end data-pipeline figures, each against a baseline measured
//! in the same run. Preprocessing: the release-built `bench_preprocess` example of sliders-celeba
//! against `benches/python/preprocess_reference.py` (Pillow + numpy, the Fader reference's way),
//! both on the same images with the same thread count; best of `rounds` alternating runs each.
//! Then the training sampler's throughput at 64 and 256 px (batch 32, one thread). The training
//! step benchmark is in `bench/train.rs`.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

mod train;

/// What both PyTorch-comparison benchmarks start from: the torch install, its venv's python (for
/// the `baseline` side) and our side's example `example` of `package`, built in release.
fn harness(
    root: &Path,
    package: &str,
    example: &str,
    baseline: &str,
) -> Result<(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf)> {
    let torch = crate::setup::run(root)?;
    let python = sliders_torch_link::torch_python(&torch).with_context(|| {
        format!("the cached torch venv has no python (needed for the {baseline} baseline)")
    })?;
    let ours = crate::build::binary(root, package, example, crate::build::Kind::Example, true)?;
    Ok((torch, python, ours))
}
pub use train::{TrainBench, train};

/// Options of the data benchmark.
pub struct DataBench {
    /// CelebA folder (default: `../shared/celeba`).
    pub celeba_dir: std::path::PathBuf,
    /// Output side of the preprocessing benchmark.
    pub size: u32,
    /// Threads for both implementations.
    pub threads: usize,
    /// Alternating rounds; the best of each side is reported.
    pub rounds: usize,
}

fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace()
        .find_map(|t| t.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
}

fn run_capture(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd.output().with_context(|| format!("starting {what}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    print!("{text}");
    Ok(text)
}

/// Runs the data benchmark from the workspace root.
pub fn data(root: &Path, opts: &DataBench) -> Result<()> {
    if !opts.celeba_dir.join("img_align_celeba").is_dir() {
        bail!(
            "no CelebA images in {}: pass --celeba-dir (the project's sample is ../shared/celeba)",
            opts.celeba_dir.display()
        );
    }
    let (_, python, ours_bin) = harness(root, "sliders-celeba", "bench_preprocess", "Pillow")?;
    let script = root.join("benches/python/preprocess_reference.py");
    let (size, threads) = (opts.size.to_string(), opts.threads.to_string());
    let dir = opts.celeba_dir.to_string_lossy().into_owned();
    // (images/s, peak RSS MB, CPU ms per image) of the fastest round of each side.
    let mut best_ours: Option<(f64, f64, f64)> = None;
    let mut best_py: Option<(f64, f64, f64)> = None;
    let mut sampler_lines = Vec::new();
    for round in 0..opts.rounds.max(1) {
        println!("bench data: round {}", round + 1);
        let sampler_sizes = if round == 0 { "64,256" } else { "" };
        let ours = run_capture(
            Command::new(&ours_bin).args([
                dir.as_str(),
                "--size",
                &size,
                "--threads",
                &threads,
                "--sampler-sizes",
                sampler_sizes,
            ]),
            "bench_preprocess",
        )?;
        let py = run_capture(
            Command::new(&python).arg(&script).args([
                dir.as_str(),
                "--size",
                &size,
                "--threads",
                &threads,
            ]),
            "preprocess_reference.py",
        )?;
        for (text, best, who) in [
            (&ours, &mut best_ours, "ours"),
            (&py, &mut best_py, "python"),
        ] {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("{who}:")))
                .with_context(|| format!("no `{who}:` line in the output"))?;
            let ips = field(line, "images_per_s").context("no images_per_s")?;
            let rss = field(line, "peak_rss_mb").context("no peak_rss_mb")?;
            let cpu = field(line, "cpu_ms_per_image").unwrap_or(f64::NAN);
            if best.is_none_or(|(b, _, _)| ips > b) {
                *best = Some((ips, rss, cpu));
            }
        }
        sampler_lines.extend(
            ours.lines()
                .filter(|l| l.starts_with("sampler:"))
                .map(str::to_owned),
        );
    }
    let best_ours = best_ours.expect("at least one round");
    let best_py = best_py.expect("at least one round");
    print_data_result(&size, &threads, opts.rounds.max(1), best_ours, best_py);
    for l in sampler_lines {
        println!("{l}");
    }
    Ok(())
}

/// Prints the data benchmark's result: the best round of each side (images/s, CPU ms per image,
/// peak RSS MB) and their ratios.
fn print_data_result(
    size: &str,
    threads: &str,
    rounds: usize,
    best_ours: (f64, f64, f64),
    best_py: (f64, f64, f64),
) {
    let (o, orss, ocpu) = best_ours;
    let (p, prss, pcpu) = best_py;
    println!("\n== bench data (size {size}, {threads} threads, best of {rounds} rounds) ==");
    println!(
        "preprocess  ours   {o:>9.1} images/s  {ocpu:>6.3} CPU ms/image  peak RSS {orss:>7.1} MB"
    );
    println!(
        "preprocess  python {p:>9.1} images/s  {pcpu:>6.3} CPU ms/image  peak RSS {prss:>7.1} MB"
    );
    println!(
        "ratio (ours vs python): {:.2}x images/s, {:.2}x less CPU per image, {:.2}x less peak RSS",
        o / p,
        pcpu / ocpu,
        prss / orss
    );
}
