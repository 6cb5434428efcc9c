//! `sliders bench`: times our training iterations ([`sliders_bench`]: the 64 and 256 px
//! Fader steps, the 64 px cGAN step) on this machine and, given the PyTorch baseline script
//! (`benches/python/train_step_reference.py`, found from the current folder by default) and a
//! Python with torch, the same iteration in PyTorch eager twice: with `torch.optim.Adam` as the
//! reference code has it, and tuned: `Adam(fused=True)`, foreach clipping and, on CUDA, cuDNN
//! autotuning as ours has (docs/gpu.md#benchmarks).
//! Each round runs every side once, the order rotating round by round, with the same device and
//! thread count; the figure of a side is its median steps/s, and on CUDA its peak allocated
//! memory. On CUDA ours is the multi-tensor Adam and a replayed CUDA graph (`--eager`: no graph).
//! `cargo xtask bench train` is the older eager-only comparison with the report file.

use anyhow::{Context, Result, bail};
use sliders_bench::{self as bench, StepOptions};
use sliders_config::train::DeviceChoice;
use sliders_metrics::stats::median;
use sliders_train::optim::Update;
use std::path::PathBuf;
use std::process::Command;

/// Options of `sliders bench`.
pub struct Options {
    /// Cases among [`bench::CASES`].
    pub cases: Vec<String>,
    /// Where both sides run.
    pub device: DeviceChoice,
    /// Threads of both sides (None: libtorch's default).
    pub threads: Option<usize>,
    /// Untimed iterations before each timed run.
    pub warmup: usize,
    /// Timed iterations per run.
    pub steps: usize,
    /// Alternating rounds.
    pub rounds: usize,
    /// Ours with channels-last Fader layouts (`fader_train.channels_last`).
    pub channels_last: bool,
    /// Ours as a replayed CUDA graph on CUDA (the default; false: eager).
    pub cuda_graph: bool,
    /// Our Adam's update; `None`: the device's default (per tensor on the CPU, multi-tensor on
    /// CUDA).
    pub adam: Option<sliders_train::optim::Update>,
    /// The PyTorch baseline script; `None` times ours only.
    pub pytorch_script: Option<PathBuf>,
    /// The Python that runs it.
    pub python: PathBuf,
}

/// The baseline script to run: `given`, else `benches/python/train_step_reference.py` under the
/// current folder; none with `no_pytorch`. [`run`] refuses one that is not there.
pub fn baseline_script(given: Option<PathBuf>, no_pytorch: bool) -> Option<PathBuf> {
    (!no_pytorch)
        .then(|| given.unwrap_or_else(|| PathBuf::from("benches/python/train_step_reference.py")))
}

/// The Python that runs the baseline: `given`, else the torch venv's that sliders was built
/// against (when it is on this machine), else `python3`.
pub fn baseline_python(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| {
        let built = PathBuf::from(env!("SLIDERS_TORCH_PYTHON"));
        if built.is_file() {
            built
        } else {
            PathBuf::from("python3")
        }
    })
}

/// The sides of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Our iteration.
    Ours,
    /// PyTorch eager with `torch.optim.Adam` (the reference code's optimiser).
    PyTorch,
    /// PyTorch eager tuned: `torch.optim.Adam(fused=True)`, foreach clipping and, on CUDA, cuDNN
    /// autotuning.
    PyTorchFused,
}

impl Side {
    fn label(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::PyTorch => "PyTorch",
            Self::PyTorchFused => "PyTorch fused",
        }
    }
}

/// One side's figures in one case: steps/s per round, and the peak allocated MiB (CUDA).
#[derive(Debug, Default)]
pub struct SideFigures {
    /// Steps/s, one per round.
    pub rates: Vec<f64>,
    /// The largest peak over the rounds (CUDA only).
    pub peak_mib: Option<f64>,
}

/// One case's figures: ours and (when run) PyTorch's two baselines.
#[derive(Debug)]
pub struct CaseFigures {
    /// The case.
    pub case: String,
    /// Ours.
    pub ours: SideFigures,
    /// PyTorch eager (empty without the baseline).
    pub pytorch: SideFigures,
    /// PyTorch with the fused Adam (empty without the baseline).
    pub pytorch_fused: SideFigures,
}

impl CaseFigures {
    fn side(&mut self, side: Side) -> &mut SideFigures {
        match side {
            Side::Ours => &mut self.ours,
            Side::PyTorch => &mut self.pytorch,
            Side::PyTorchFused => &mut self.pytorch_fused,
        }
    }
}

/// A number after `key=` in a line of the baseline's output.
fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace()
        .find_map(|t| t.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
}

/// One PyTorch run: steps/s and, on CUDA, peak MiB.
fn pytorch_round(
    opts: &Options,
    script: &PathBuf,
    case: &str,
    cuda: bool,
    fused: bool,
) -> Result<(f64, Option<f64>)> {
    let mut cmd = Command::new(&opts.python);
    cmd.arg(script).args([
        "--case",
        case,
        "--device",
        if cuda { "cuda" } else { "cpu" },
        "--threads",
        &tch::get_num_threads().to_string(),
        "--warmup",
        &opts.warmup.to_string(),
        "--steps",
        &opts.steps.to_string(),
    ]);
    if opts.channels_last {
        cmd.arg("--channels-last");
    }
    if fused {
        cmd.arg("--fused");
    }
    let out = cmd.output().with_context(|| {
        format!(
            "running {} {}: is Python with torch installed? (--python)",
            opts.python.display(),
            script.display()
        )
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "{} failed ({}): {}{}",
            script.display(),
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    text.lines()
        .find(|l| l.starts_with("python:"))
        .and_then(|l| Some((field(l, "steps_per_s")?, field(l, "peak_mem_mb"))))
        .with_context(|| {
            format!(
                "{}: no `python: … steps_per_s=` line in {text}",
                script.display()
            )
        })
}

/// Runs the benchmark, printing a line per round and a summary per case; returns the figures.
pub fn run(opts: &Options) -> Result<Vec<CaseFigures>> {
    let device = sliders_train::device::resolve(opts.device)?;
    if let Some(n) = opts.threads {
        tch::set_num_threads(n.max(1) as i32);
    }
    if opts.steps == 0 || opts.rounds == 0 {
        bail!("--steps and --rounds must be at least 1");
    }
    if let Some(script) = &opts.pytorch_script
        && !script.is_file()
    {
        bail!(
            "{}: no such PyTorch baseline script; run from the sliders repository or pass \
             --pytorch-script, or --no-pytorch to time ours alone",
            script.display()
        );
    }
    let step_opts = StepOptions {
        channels_last: opts.channels_last,
        cuda_graph: opts.cuda_graph,
        adam: opts.adam,
    };
    let update = opts.adam.unwrap_or_else(|| Update::default_for(device));
    let graphed = device.is_cuda() && opts.cuda_graph;
    let ours_is = format!(
        "{} Adam, {}",
        match update {
            Update::PerTensor => "per-tensor",
            Update::MultiTensor => "multi-tensor",
        },
        if graphed {
            "replayed CUDA graph"
        } else {
            "eager"
        }
    );
    println!(
        "sliders bench: device {}, {} threads, {} rounds × {} steps ({} warm-up); ours: {ours_is}",
        sliders_train::device::name(device),
        tch::get_num_threads(),
        opts.rounds,
        opts.steps,
        opts.warmup
    );
    let mut all = Vec::new();
    for case in &opts.cases {
        let fig = run_case(opts, case, device, step_opts)?;
        print_summary(&fig);
        all.push(fig);
    }
    Ok(all)
}

/// The rounds of one case: every side once per round, the order rotating.
fn run_case(
    opts: &Options,
    case: &str,
    device: tch::Device,
    step_opts: StepOptions,
) -> Result<CaseFigures> {
    tch::manual_seed(0);
    let mut step = bench::iteration(case, device, step_opts).map_err(anyhow::Error::msg)?;
    let mut fig = CaseFigures {
        case: case.to_string(),
        ours: SideFigures::default(),
        pytorch: SideFigures::default(),
        pytorch_fused: SideFigures::default(),
    };
    let sides: &[Side] = match opts.pytorch_script {
        Some(_) => &[Side::Ours, Side::PyTorch, Side::PyTorchFused],
        None => &[Side::Ours],
    };
    for round in 0..opts.rounds {
        for k in 0..sides.len() {
            let side = sides[(round + k) % sides.len()];
            let (rate, peak) = match (side, &opts.pytorch_script) {
                (Side::Ours, _) | (_, None) => {
                    let _ = bench::take_peak_mib(device);
                    let rate = bench::steps_per_sec(&mut step, device, opts.warmup, opts.steps);
                    (rate, bench::take_peak_mib(device))
                }
                (_, Some(script)) => {
                    let fused = side == Side::PyTorchFused;
                    pytorch_round(opts, script, case, device.is_cuda(), fused)?
                }
            };
            let mem = peak
                .map(|m| format!(", peak {m:.0} MiB"))
                .unwrap_or_default();
            println!(
                "{case} round {}: {} {rate:.3} steps/s{mem}",
                round + 1,
                side.label()
            );
            let f = fig.side(side);
            f.rates.push(rate);
            f.peak_mib = match (f.peak_mib, peak) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
    }
    Ok(fig)
}

/// The case's medians, and ours over each baseline.
fn print_summary(fig: &CaseFigures) {
    let ours = median(&fig.ours.rates);
    let mem = |f: &SideFigures| {
        f.peak_mib
            .map(|m| format!(" ({m:.0} MiB)"))
            .unwrap_or_default()
    };
    let mut line = format!("{}: ours {ours:.3} steps/s{}", fig.case, mem(&fig.ours));
    for (label, f) in [
        ("PyTorch", &fig.pytorch),
        ("PyTorch fused", &fig.pytorch_fused),
    ] {
        if !f.rates.is_empty() {
            let theirs = median(&f.rates);
            line += &format!(
                ", {label} {theirs:.3}{}, ours / {label} {:.2}x",
                mem(f),
                ours / theirs
            );
        }
    }
    println!("{line} (medians of {} rounds)", fig.ours.rates.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(cases: &[&str], script: Option<PathBuf>) -> Options {
        Options {
            cases: cases.iter().map(|c| c.to_string()).collect(),
            device: DeviceChoice::Cpu,
            threads: Some(1),
            warmup: 0,
            steps: 1,
            rounds: 1,
            channels_last: false,
            cuda_graph: true,
            adam: None,
            pytorch_script: script,
            python: PathBuf::from("python3"),
        }
    }

    #[test]
    fn an_unknown_case_and_a_missing_script_are_refused_with_the_fix() {
        let err = run(&options(&["fader65"], None)).unwrap_err().to_string();
        assert!(err.contains("fader64, fader256, cgan64"), "{err}");
        let err = run(&options(&["fader64"], Some(PathBuf::from("/nope/ref.py"))))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/nope/ref.py") && err.contains("--no-pytorch"),
            "{err}"
        );
    }

    #[test]
    fn ours_alone_gives_one_positive_figure_per_round() {
        let figs = run(&options(&["fader64"], None)).unwrap();
        assert_eq!(figs.len(), 1);
        assert_eq!(figs[0].ours.rates.len(), 1);
        assert!(figs[0].ours.rates[0] > 0.0);
        assert_eq!(figs[0].ours.peak_mib, None, "no peak memory on the CPU");
        assert!(figs[0].pytorch.rates.is_empty() && figs[0].pytorch_fused.rates.is_empty());
    }
}
