//! `cargo xtask bench train`: training-step throughput (GitHub issue 8). The release-built
//! `bench_step` example of sliders-bench (our Fader and cGAN steps, `FaderTrainer`'s own update
//! functions) against `benches/python/train_step_reference.py` (the same networks and steps in
//! PyTorch eager with `torch.optim.Adam` and `clip_grad_norm_`), on the same device with the same
//! thread count, in interleaved rounds (ours and PyTorch alternate, the order swapping every
//! round, so machine load affects both alike). Each run warms up, then times several steps; the
//! figure of a side is the median over rounds of its steps/s, and the ratio is ours / PyTorch. On
//! CUDA the peak GPU memory of each process is sampled with `nvidia-smi`. Writes
//! `reports/benchmarks.md` with the command, machine, versions, load average and figures.

use super::field;
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Options of the training-step benchmark.
pub struct TrainBench {
    /// Threads for both sides (`tch::set_num_threads` / `torch.set_num_threads`).
    pub threads: usize,
    /// Interleaved rounds per case (the 256 px Fader case uses one fewer on the CPU).
    pub rounds: usize,
    /// `cpu` or `cuda`.
    pub device: String,
    /// Cases among `fader64`, `fader256`, `cgan64`.
    pub cases: Vec<String>,
    /// Timed steps per run (default per case and device).
    pub steps: Option<usize>,
    /// The generated report.
    pub report: std::path::PathBuf,
}

const TRAIN_CASES: [(&str, &str); 6] = [
    (
        "fader64fed",
        "Fader step, 64 px as `fader64`, ours only: fed by the sampler (prefetch thread, two batches an iteration) against resident batches",
    ),
    (
        "fader64cl",
        "Fader step, 64 px as `fader64`; ours with `fader_train.channels_last`, PyTorch as the reference code runs (NCHW)",
    ),
    (
        "fader64cl-both",
        "Fader step, 64 px as `fader64`; both sides channels-last (PyTorch `torch.channels_last`)",
    ),
    (
        "fader64",
        "Fader step (lat_dis + AE), 64 px, 5 layers, init_fm 32, max_fm 512, batch 32",
    ),
    (
        "fader256",
        "Fader step (lat_dis + AE), 256 px, reference defaults (6 layers), batch 32",
    ),
    (
        "cgan64",
        "IcGAN cGAN step (3 D forwards + G step), 64 px, batch 64",
    ),
];

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// Peak `used_memory` (MiB) that `nvidia-smi` reports for `pid` (0 if never seen).
fn gpu_mem_mb(pid: u32) -> f64 {
    let out = Command::new("nvidia-smi")
        .args([
            "--query-compute-apps=pid,used_memory",
            "--format=csv,noheader,nounits",
        ])
        .output();
    let Ok(out) = out else { return 0.0 };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split(',').map(str::trim);
            let p: u32 = f.next()?.parse().ok()?;
            let m: f64 = f.next()?.parse().ok()?;
            (p == pid).then_some(m)
        })
        .fold(0.0, f64::max)
}

/// Runs `cmd`; on CUDA samples its GPU memory every 100 ms. Returns (stdout, peak MiB).
fn run_sampled(cmd: &mut Command, what: &str, cuda: bool) -> Result<(String, f64)> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let mut peak: f64 = 0.0;
    if cuda {
        while child.try_wait()?.is_none() {
            peak = peak.max(gpu_mem_mb(child.id()));
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let out = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    print!("{text}");
    Ok((text, peak))
}

fn text_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|t| t.strip_prefix(key)?.strip_prefix('='))
}

/// The median of `v` (as `sliders_metrics::stats::median`, which xtask cannot use: that crate
/// links libtorch, and xtask must build before libtorch is installed).
fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Per case: steps/s of each round (ours, PyTorch) and peak GPU MiB (ours, PyTorch).
struct CaseResult {
    case: String,
    ours: Vec<f64>,
    py: Vec<f64>,
    mem: (f64, f64),
    steps: usize,
    warmup: usize,
    /// `fader64fed`: `ours` is the fed step, `py` the same step on resident batches.
    fed: bool,
}

/// The two programs a case compares and where they run.
struct Sides<'a> {
    /// The release-built `bench_step` example.
    ours_bin: &'a Path,
    /// The venv's python and the PyTorch reference script it runs.
    python: &'a Path,
    script: &'a Path,
    /// Whether the device is CUDA (peak GPU memory is sampled).
    cuda: bool,
}

/// Runs the training-step benchmark from the workspace root.
pub fn train(root: &Path, opts: &TrainBench) -> Result<()> {
    for c in &opts.cases {
        if !TRAIN_CASES.iter().any(|(k, _)| k == c) {
            bail!(
                "unknown case {c:?}: use fader64, fader64cl, fader64cl-both, fader64fed, fader256, cgan64"
            );
        }
    }
    let cuda = opts.device == "cuda";
    let (torch, python, ours_bin) = super::harness(root, "sliders-bench", "bench_step", "PyTorch")?;
    let script = root.join("benches/python/train_step_reference.py");
    let sides = Sides {
        ours_bin: &ours_bin,
        python: &python,
        script: &script,
        cuda,
    };
    let threads = opts.threads.to_string();
    let load_before = load_average();
    let mut torch_version = String::from("unknown");
    let mut results = Vec::new();
    for case in &opts.cases {
        let (steps, warmup, rounds) = match (case.as_str(), cuda) {
            (_, true) => (opts.steps.unwrap_or(20), 5, opts.rounds),
            ("fader256", false) => (opts.steps.unwrap_or(1), 1, opts.rounds.saturating_sub(1)),
            ("cgan64", false) => (opts.steps.unwrap_or(2), 1, opts.rounds),
            _ => (opts.steps.unwrap_or(5), 2, opts.rounds),
        };
        let rounds = rounds.max(1);
        let (steps_s, warmup_s) = (steps.to_string(), warmup.to_string());
        // The channels-last cases run the 64 px Fader step with the layout flag on one or both
        // sides; the data-pipeline case is bench_step's `fed64` (ours only).
        let (base, ours_cl, py_cl) = match case.as_str() {
            "fader64fed" => ("fed64", false, false),
            "fader64cl" => ("fader64", true, false),
            "fader64cl-both" => ("fader64", true, true),
            c => (c, false, false),
        };
        let args = [
            "--case",
            base,
            "--device",
            opts.device.as_str(),
            "--threads",
            threads.as_str(),
            "--warmup",
            warmup_s.as_str(),
            "--steps",
            steps_s.as_str(),
        ];
        let mut r = CaseResult {
            case: case.clone(),
            ours: Vec::new(),
            py: Vec::new(),
            mem: (0.0, 0.0),
            steps,
            warmup,
            fed: case == "fader64fed",
        };
        if r.fed {
            run_fed_rounds(&sides, rounds, &args, &mut r)?;
        } else {
            let layouts = (ours_cl, py_cl);
            run_paired_rounds(&sides, rounds, &args, layouts, &mut r, &mut torch_version)?;
        }
        results.push(r);
        write_train_report(opts, &torch, &torch_version, &load_before, &results)?;
    }
    Ok(())
}

/// `--channels-last` when `on`.
fn layout_flag(on: bool) -> Vec<&'static str> {
    if on { vec!["--channels-last"] } else { vec![] }
}

/// The progress line of a round.
fn announce_round(case: &str, round: usize, rounds: usize) {
    println!(
        "bench train: {case}, round {}/{rounds} (load average {})",
        round + 1,
        load_average()
    );
}

/// Runs our `bench_step` once with `args` (channels-last with `channels_last`); returns its
/// `ours:` line and the peak memory sampled.
fn ours_line(sides: &Sides, args: &[&str], channels_last: bool) -> Result<(String, f64)> {
    let (out, mem) = run_sampled(
        Command::new(sides.ours_bin)
            .args(args)
            .args(layout_flag(channels_last)),
        "bench_step",
        sides.cuda,
    )?;
    let line = out
        .lines()
        .find(|l| l.starts_with("ours:"))
        .context("no `ours:` line")?;
    Ok((line.to_string(), mem))
}

/// The data-pipeline case, ours against ours: the fed and resident blocks alternate inside one
/// `bench_step` process per round.
fn run_fed_rounds(sides: &Sides, rounds: usize, args: &[&str], r: &mut CaseResult) -> Result<()> {
    for round in 0..rounds {
        announce_round(&r.case, round, rounds);
        let (line, mem) = ours_line(sides, args, false)?;
        r.ours
            .push(field(&line, "fed_steps_per_s").context("no fed_steps_per_s")?);
        r.py.push(field(&line, "resident_steps_per_s").context("no resident_steps_per_s")?);
        r.mem.0 = r.mem.0.max(mem);
    }
    Ok(())
}

/// A case against PyTorch: each round runs both sides once, alternating which goes first;
/// `layouts` turns channels-last on for (ours, PyTorch). Records the torch version PyTorch
/// reports.
fn run_paired_rounds(
    sides: &Sides,
    rounds: usize,
    args: &[&str],
    (ours_cl, py_cl): (bool, bool),
    r: &mut CaseResult,
    torch_version: &mut String,
) -> Result<()> {
    for round in 0..rounds {
        announce_round(&r.case, round, rounds);
        // Alternate which side goes first.
        for side in [round % 2, 1 - round % 2] {
            if side == 0 {
                let (line, mem) = ours_line(sides, args, ours_cl)?;
                r.ours
                    .push(field(&line, "steps_per_s").context("no steps_per_s")?);
                r.mem.0 = r.mem.0.max(mem);
            } else {
                let (out, mem) = run_sampled(
                    Command::new(sides.python)
                        .arg(sides.script)
                        .args(args)
                        .args(layout_flag(py_cl)),
                    "train_step_reference.py",
                    sides.cuda,
                )?;
                let line = out
                    .lines()
                    .find(|l| l.starts_with("python:"))
                    .context("no `python:` line")?;
                r.py.push(field(line, "steps_per_s").context("no steps_per_s")?);
                if let Some(v) = text_field(line, "torch") {
                    *torch_version = v.to_string();
                }
                r.mem.1 = r.mem.1.max(mem);
            }
        }
    }
    Ok(())
}

/// Writes the report (and prints the summary) for the cases measured so far; called after each
/// case, so an interrupted run still leaves the finished cases.
fn write_train_report(
    opts: &TrainBench,
    torch: &Path,
    torch_version: &str,
    load_before: &str,
    results: &[CaseResult],
) -> Result<()> {
    let cuda = opts.device == "cuda";
    let load_after = load_average();
    let command = format!(
        "cargo xtask bench train --device {} --threads {} --rounds {} --cases {}{}",
        opts.device,
        opts.threads,
        opts.rounds,
        opts.cases.join(","),
        opts.steps
            .map(|s| format!(" --steps {s}"))
            .unwrap_or_default()
    );
    let table = comparison_table(opts, results);
    let loads = (load_before, load_after.as_str());
    let mut md = report_preamble(opts, torch, torch_version, &command, loads, results.len());
    md.push_str(&table);
    let fed: Vec<&CaseResult> = results.iter().filter(|r| r.fed).collect();
    if !fed.is_empty() {
        fed_section(&mut md, &fed);
    }
    if cuda {
        md.push_str(
            "\nPeak GPU memory: the largest `nvidia-smi` `used_memory` of each process (CUDA \
             context and caching allocator included), sampled every 100 ms.\n",
        );
    }
    if let Some(dir) = opts.report.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&opts.report, md)
        .with_context(|| format!("writing {}", opts.report.display()))?;
    println!("wrote {}", opts.report.display());
    Ok(())
}

/// The table of the cases against PyTorch (one row per case; printed as a summary too).
fn comparison_table(opts: &TrainBench, results: &[CaseResult]) -> String {
    let threads = opts.threads.to_string();
    let cuda = opts.device == "cuda";
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| case | ours steps/s | PyTorch steps/s | ours / PyTorch | per-round ratios | rounds × steps (warm-up) |{}",
        if cuda {
            " peak GPU MiB ours / PyTorch |"
        } else {
            ""
        }
    );
    let _ = writeln!(
        table,
        "| --- | ---: | ---: | ---: | --- | --- |{}",
        if cuda { " --- |" } else { "" }
    );
    println!("\n== bench train ({}, {} threads) ==", opts.device, threads);
    for r in results.iter().filter(|r| !r.fed) {
        comparison_row(&mut table, r, cuda);
    }
    table
}

/// Prints one case's summary line and appends its row to the comparison table.
fn comparison_row(table: &mut String, r: &CaseResult, cuda: bool) {
    let (o, p) = (median(&r.ours), median(&r.py));
    let per_round: Vec<String> = r
        .ours
        .iter()
        .zip(&r.py)
        .map(|(a, b)| format!("{:.2}", a / b))
        .collect();
    let desc = TRAIN_CASES
        .iter()
        .find(|(k, _)| *k == r.case)
        .map_or("", |(_, d)| d);
    let mem = if cuda {
        format!(" {:.0} / {:.0} |", r.mem.0, r.mem.1)
    } else {
        String::new()
    };
    println!(
        "{:<9} ours {o:>8.3} steps/s  PyTorch {p:>8.3} steps/s  ratio {:.2}x  (rounds: {}){}",
        r.case,
        o / p,
        per_round.join(", "),
        if cuda {
            format!("  peak GPU MiB {:.0} / {:.0}", r.mem.0, r.mem.1)
        } else {
            String::new()
        }
    );
    // Rounds that disagree by more than a quarter mean the machine's load, not the code,
    // decided the ratio: say so instead of printing a figure to quote.
    let ratios: Vec<f64> = r.ours.iter().zip(&r.py).map(|(a, b)| a / b).collect();
    let spread = ratios.iter().cloned().fold(f64::MIN, f64::max)
        / ratios.iter().cloned().fold(f64::MAX, f64::min);
    let verdict = if ratios.len() > 1 && spread > 1.25 {
        format!(
            "{:.2}x (inconclusive: rounds differ {spread:.1}-fold)",
            o / p
        )
    } else {
        format!("**{:.2}x**", o / p)
    };
    let _ = writeln!(
        table,
        "| `{}`: {desc} | {o:.3} | {p:.3} | {verdict} | {} | {} × {} ({}) |{mem}",
        r.case,
        per_round.join(", "),
        r.ours.len(),
        r.steps,
        r.warmup
    );
}

/// The report's title and its bullets: command and date, the two sides, machine, versions, load
/// average (`loads`: before the first case, after the last) and method.
fn report_preamble(
    opts: &TrainBench,
    torch: &Path,
    torch_version: &str,
    command: &str,
    (load_before, load_after): (&str, &str),
    done: usize,
) -> String {
    let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut md = String::new();
    let _ = writeln!(md, "# Training-step benchmarks (generated)\n");
    let _ = writeln!(
        md,
        "Generated by `{command}` on {date}; do not edit by hand (rerun the command).\n"
    );
    let _ = writeln!(
        md,
        "- Ours: `crates/sliders-bench/examples/bench_step.rs` (release; `FaderTrainer`'s update \
         functions, our Adam and clipping). Baseline: `benches/python/train_step_reference.py` \
         (PyTorch eager, `torch.optim.Adam` defaults, `clip_grad_norm_`), same networks, modes, \
         batch and thread count."
    );
    let _ = writeln!(
        md,
        "- Machine: {nproc} logical CPUs, {}; device `{}`; {} threads on both sides.",
        cpu_model(),
        opts.device,
        opts.threads
    );
    let _ = writeln!(
        md,
        "- Versions: torch {torch_version} (Python), libtorch {} via tch 0.24.",
        sliders_torch_link::libtorch_version(torch).unwrap_or_else(|| "unknown".to_string())
    );
    let _ = writeln!(
        md,
        "- Load average (1, 5, 15 min): {load_before} before, {load_after} after the last case \
         below ({} of {} cases done).",
        done,
        opts.cases.len()
    );
    let _ = writeln!(
        md,
        "- Method: each round runs both sides once (order alternating), each after its warm-up \
         steps; a figure is the median over rounds of steps/s (one step = one full iteration). \
         The ratio is ours / PyTorch; above 1 means we are faster.\n"
    );
    md
}

/// The data-pipeline section: the fed step against the same step on resident batches (printed
/// as a summary too).
fn fed_section(md: &mut String, fed: &[&CaseResult]) {
    let _ = writeln!(
        md,
        "\n## The data pipeline feeding the step\n\n\
         Our 64 px Fader step fed by the sampler as `FaderTrainer` feeds it (a `BatchSampler` \
         over 2,048 in-memory 64 px images with per-batch flips, its prefetch thread, \
         `tensors::to_device`, two fresh batches an iteration) against the same step on \
         resident batches, in one process: blocks of the given steps alternate, three of \
         each; a round's figure is the median block. Target (issue #8): fed within 3% of \
         resident (ratio ≥ 0.97).\n\n\
         | case | fed steps/s | resident steps/s | fed / resident | per-round ratios | rounds × steps (warm-up) |\n\
         | --- | ---: | ---: | ---: | --- | --- |"
    );
    for r in fed {
        let (f, res) = (median(&r.ours), median(&r.py));
        let per_round: Vec<String> = r
            .ours
            .iter()
            .zip(&r.py)
            .map(|(a, b)| format!("{:.3}", a / b))
            .collect();
        println!(
            "{:<9} fed  {f:>8.3} steps/s  resident {res:>8.3} steps/s  ratio {:.3}  (rounds: {})",
            r.case,
            f / res,
            per_round.join(", ")
        );
        let _ = writeln!(
            md,
            "| `{}` | {f:.3} | {res:.3} | **{:.3}** | {} | {} × 3 × {} ({}) |",
            r.case,
            f / res,
            per_round.join(", "),
            r.ours.len(),
            r.steps,
            r.warmup
        );
    }
}
