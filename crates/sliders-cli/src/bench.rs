//! `sliders bench`: times our training iterations ([`sliders_bench`]: the 64 and 256 px
//! Fader steps, the 64 px cGAN step) on this machine and, given the PyTorch baseline script
//! (`benches/python/train_step_reference.py`, found from the current folder by default) and a
//! Python with torch, the same iteration in PyTorch eager: rounds alternate the two sides (the
//! order swapping each round) with the same device and thread count, and the figure of a side is
//! its median steps/s. `cargo xtask bench train` is the same comparison with the report file.

use anyhow::{Context, Result, bail};
use sliders_bench::{self as bench, StepOptions};
use sliders_config::train::DeviceChoice;
use sliders_metrics::stats::median;
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

/// One case's figures: steps/s per round, ours and (when run) PyTorch's.
#[derive(Debug)]
pub struct CaseFigures {
    /// The case.
    pub case: String,
    /// Ours, one per round.
    pub ours: Vec<f64>,
    /// PyTorch's, one per round (empty without the baseline).
    pub pytorch: Vec<f64>,
}

fn pytorch_round(opts: &Options, script: &PathBuf, case: &str, cuda: bool) -> Result<f64> {
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
        .and_then(|l| {
            l.split_whitespace()
                .find_map(|t| t.strip_prefix("steps_per_s="))
                .and_then(|v| v.parse().ok())
        })
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
    let cuda = device.is_cuda();
    let step_opts = StepOptions {
        channels_last: opts.channels_last,
    };
    println!(
        "sliders bench: device {}, {} threads, {} rounds × {} steps ({} warm-up)",
        sliders_train::device::name(device),
        tch::get_num_threads(),
        opts.rounds,
        opts.steps,
        opts.warmup
    );
    let mut all = Vec::new();
    for case in &opts.cases {
        tch::manual_seed(0);
        let mut step = bench::iteration(case, device, step_opts).map_err(anyhow::Error::msg)?;
        let mut fig = CaseFigures {
            case: case.clone(),
            ours: Vec::new(),
            pytorch: Vec::new(),
        };
        for round in 0..opts.rounds {
            let ours_first = round % 2 == 0;
            for side in 0..2 {
                if (side == 0) == ours_first {
                    let rate = bench::steps_per_sec(&mut step, device, opts.warmup, opts.steps);
                    println!("{case} round {}: ours {rate:.3} steps/s", round + 1);
                    fig.ours.push(rate);
                } else if let Some(script) = &opts.pytorch_script {
                    let rate = pytorch_round(opts, script, case, cuda)?;
                    println!("{case} round {}: PyTorch {rate:.3} steps/s", round + 1);
                    fig.pytorch.push(rate);
                }
            }
        }
        let ours = median(&fig.ours);
        if fig.pytorch.is_empty() {
            println!(
                "{case}: ours {ours:.3} steps/s (median of {})",
                fig.ours.len()
            );
        } else {
            let py = median(&fig.pytorch);
            println!(
                "{case}: ours {ours:.3} steps/s, PyTorch {py:.3} steps/s, ours / PyTorch {:.2}x \
                 (medians of {} rounds)",
                ours / py,
                fig.ours.len()
            );
        }
        all.push(fig);
    }
    Ok(all)
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
        assert_eq!(figs[0].ours.len(), 1);
        assert!(figs[0].ours[0] > 0.0);
        assert!(figs[0].pytorch.is_empty());
    }
}
