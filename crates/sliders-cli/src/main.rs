//! The `sliders` binary: parses the command line and dispatches to the commands in the library.

use clap::{Args, Parser, Subcommand, ValueEnum};
use sliders_config::train::DeviceChoice;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "sliders",
    version,
    about = "Fader Networks and IcGAN: train, evaluate, edit faces"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Versions (sliders, tch, libtorch), the device sliders would use and why, thread count.
    Info,
    /// Train what an experiment file describes (a Fader model, the evaluation classifier, IcGAN's
    /// cGAN or encoders, or IcGAN on digits); re-running the same command resumes an interrupted
    /// run. One process writes into a run folder at a time, and a restart may change only the run's
    /// length (steps, epochs, intervals, step_scale): another config is refused, listing what
    /// changed.
    Train {
        /// Experiment TOML files, lowest priority first (e.g. the experiment, then a profile).
        /// `SLIDERS__SECTION__KEY=value` variables override them.
        #[arg(long = "config", required = true)]
        config: Vec<std::path::PathBuf>,
        /// Delete what the run folder holds (saved state, models, metrics, resolved.toml) and
        /// start over, instead of continuing the run it holds.
        #[arg(long)]
        force_restart: bool,
    },
    /// Evaluate trained runs (a `kind = "eval"` experiment): the Fader-vs-IcGAN table, the
    /// encoder comparison and the extra measurements, as CSV, JSON and Markdown in its run folder.
    Eval {
        /// Experiment TOML files, lowest priority first; `SLIDERS__…` variables override them.
        #[arg(long = "config", required = true)]
        config: Vec<std::path::PathBuf>,
    },
    /// Write a profile's report (README.md, figures, CSV and Parquet tables, metrics.json) from
    /// its runs; `cargo xtask reproduce` calls it last.
    Report {
        /// Profile name (the report's title).
        #[arg(long, default_value = "smoke")]
        profile: String,
        /// The profile's run folder.
        #[arg(long, default_value = "data/runs/smoke")]
        runs: std::path::PathBuf,
        /// Output folder.
        #[arg(long, default_value = "reports/smoke")]
        out: std::path::PathBuf,
        /// The device the pipeline was asked for (shown in the header).
        #[arg(long, default_value = "auto")]
        device_asked: String,
    },
    /// Edit your own photos with a trained model: `--set Smiling=1.5 --set Eyeglasses=0`.
    /// Writes `<out>/<name>.png` at the model's resolution (and `<name>_pasted.png` with
    /// `--paste-back`). Exits non-zero if any input failed, after doing the others.
    Edit {
        #[command(flatten)]
        common: CommonArgs,
        /// Attribute values, `Name=value`, repeatable. 0 = absent, 1 = present; any real value
        /// (e.g. 1.5 or -0.5) exaggerates. Names come from the model (a wrong one lists them).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// Output folder (created if needed).
        #[arg(long)]
        out: PathBuf,
        /// Also blend each edit back into the original photo at its full size.
        #[arg(long)]
        paste_back: bool,
    },
    /// Time our training steps (the 64 and 256 px Fader steps, the 64 px cGAN step) and the same
    /// steps in PyTorch eager (`benches/python/train_step_reference.py`, with `torch.optim.Adam`
    /// and with `Adam(fused=True)`), rotating rounds on the same device and thread count; prints
    /// steps/s of each, the ratios and, on CUDA, peak memory.
    /// `cargo xtask bench train` runs the same comparison and writes reports/benchmarks.md.
    Bench {
        /// Comma-separated cases: fader64, fader256, cgan64.
        #[arg(long, default_value = "fader64", value_delimiter = ',')]
        cases: Vec<String>,
        /// Where both sides run.
        #[arg(long, value_enum, default_value_t = Device::Auto)]
        device: Device,
        /// Threads of both sides (default: libtorch's, usually the cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Untimed iterations before each timed run.
        #[arg(long, default_value_t = 3)]
        warmup: usize,
        /// Timed iterations per run.
        #[arg(long, default_value_t = 10)]
        steps: usize,
        /// Rounds (ours, PyTorch, PyTorch fused; the order rotates each round).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Fader cases: channels-last layouts on both sides.
        #[arg(long)]
        channels_last: bool,
        /// On CUDA, time ours eagerly instead of as a replayed CUDA graph.
        #[arg(long)]
        eager: bool,
        /// Our Adam's update: `per-tensor` or `multi-tensor` (default: per tensor on the CPU,
        /// multi-tensor on CUDA).
        #[arg(long, value_enum)]
        adam: Option<AdamUpdate>,
        /// The PyTorch baseline script (default: benches/python/train_step_reference.py under
        /// the current folder).
        #[arg(long)]
        pytorch_script: Option<PathBuf>,
        /// Time ours alone.
        #[arg(long, conflicts_with = "pytorch_script")]
        no_pytorch: bool,
        /// The Python with torch that runs the baseline (default: the torch venv sliders was
        /// built against, else python3).
        #[arg(long)]
        python: Option<PathBuf>,
    },
    /// Slide one attribute over a range: a labelled grid, one row per photo, one column per value.
    Interpolate {
        #[command(flatten)]
        common: CommonArgs,
        /// The attribute to slide (as the model names it).
        #[arg(long)]
        attr: String,
        /// First value.
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        from: f64,
        /// Last value.
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
        to: f64,
        /// Number of columns (values from --from to --to, both included).
        #[arg(long, default_value_t = 9)]
        steps: usize,
        /// Other attributes held fixed, `Name=value`, repeatable.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// The grid, a PNG file.
        #[arg(long)]
        out: PathBuf,
        /// Also write an animated GIF beside it (same name, `.gif`).
        #[arg(long)]
        gif: bool,
    },
    /// A local web page with one slider per attribute: upload a photo (or pick a test face) and
    /// drag. Serves until Ctrl-C; prints the page's URL on stdout once listening.
    Serve {
        /// Run folders or checkpoints (repeatable; e.g. one Fader model per attribute). Applied
        /// models edit the photo in sequence, in this order.
        #[arg(long = "model", required = true, num_args = 1..)]
        model: Vec<PathBuf>,
        /// Port (0: any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to listen on (the default is this machine only).
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Largest photo accepted, in MB.
        #[arg(long, default_value_t = 10)]
        max_upload_mb: u64,
        /// A folder of JPEG/PNG test faces (default: the first model's test split).
        #[arg(long)]
        faces: Option<PathBuf>,
        /// Where the models run (the CPU is fast enough at 64 px).
        #[arg(long, value_enum, default_value_t = Device::Cpu)]
        device: Device,
        /// Save every upload into this folder (default: uploads are never written to disk).
        #[arg(long)]
        save_uploads: Option<PathBuf>,
        /// Most photo sessions held in memory at once (the least recently used goes first).
        #[arg(long, default_value_t = 64)]
        max_sessions: usize,
        /// Minutes before an unused session is dropped.
        #[arg(long, default_value_t = 30)]
        session_ttl_min: u64,
        #[command(flatten)]
        limits: sliders_cli::edit::LimitArgs,
        /// MB that uploads being decoded may hold at once (counted from each photo's header);
        /// an upload that does not fit now is answered 503 with Retry-After.
        #[arg(long, default_value_t = sliders_serve::DEFAULT_MEMORY_BUDGET_MB, value_name = "MB")]
        memory_budget_mb: u64,
        /// Model passes run at once (0: one per core, at most 8).
        #[arg(long, default_value_t = 0)]
        workers: usize,
    },
}

/// Options shared by `edit` and `interpolate`.
#[derive(Args)]
struct CommonArgs {
    /// A training run folder (Fader: uses best_accu_ae, else best_rec_ae, else last_ae; IcGAN:
    /// the encoders run, which names its cGAN) or one checkpoint file.
    #[arg(long)]
    model: PathBuf,
    /// JPEG or PNG files, or folders of them (not searched recursively).
    #[arg(long, required = true, num_args = 1..)]
    input: Vec<PathBuf>,
    /// How to find the face: `auto` (detect faces with MTCNN; a photo framed like aligned CelebA
    /// gets the CelebA crop, any other face is aligned to the model's frame; no face is an error
    /// unless the photo is 178:218), `align` (detect and align every face), `celeba`, `center`,
    /// or a box `x,y,w,h` in pixels.
    #[arg(long, default_value = "auto")]
    crop: String,
    /// Where the model runs.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    device: Device,
    /// Images per forward pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[command(flatten)]
    limits: sliders_cli::edit::LimitArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum Device {
    /// CUDA when available, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// The first CUDA device.
    Cuda,
}

impl Device {
    fn choice(self) -> DeviceChoice {
        match self {
            Device::Auto => DeviceChoice::Auto,
            Device::Cpu => DeviceChoice::Cpu,
            Device::Cuda => DeviceChoice::Cuda,
        }
    }
}

/// `sliders bench --adam`.
#[derive(Clone, Copy, ValueEnum)]
enum AdamUpdate {
    /// One parameter at a time (the CPU default).
    PerTensor,
    /// All parameters in one fused kernel (the CUDA default).
    MultiTensor,
}

impl AdamUpdate {
    fn update(self) -> sliders_train::optim::Update {
        match self {
            AdamUpdate::PerTensor => sliders_train::optim::Update::PerTensor,
            AdamUpdate::MultiTensor => sliders_train::optim::Update::MultiTensor,
        }
    }
}

impl CommonArgs {
    fn into_common(self, set: Vec<String>) -> sliders_cli::edit::Common {
        sliders_cli::edit::Common {
            model: self.model,
            inputs: self.input,
            set,
            crop: self.crop,
            device: self.device.choice(),
            batch_size: self.batch_size.max(1),
            limits: self.limits.limits(),
        }
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Info => println!("{}", sliders_cli::info::Info::collect()),
        Command::Train {
            config,
            force_restart,
        } => sliders_cli::train::run(&config, force_restart)?,
        Command::Eval { config } => sliders_cli::eval::run(&config)?,
        Command::Report {
            profile,
            runs,
            out,
            device_asked,
        } => {
            let readme = sliders_cli::report::run(&sliders_cli::report::ReportOptions {
                profile,
                runs,
                out,
                device_asked,
            })?;
            println!("{}", readme.display());
        }
        Command::Edit {
            common,
            set,
            out,
            paste_back,
        } => {
            sliders_cli::logging::init(None)?;
            sliders_cli::edit::edit(&common.into_common(set), &out, paste_back)?
        }
        Command::Interpolate {
            common,
            attr,
            from,
            to,
            steps,
            set,
            out,
            gif,
        } => {
            sliders_cli::logging::init(None)?;
            sliders_cli::edit::interpolate(
                &common.into_common(set),
                &attr,
                (from, to, steps),
                &out,
                gif,
            )?
        }
        cmd @ Command::Bench { .. } => run_bench(cmd)?,
        cmd @ Command::Serve { .. } => run_serve(cmd)?,
    }
    Ok(())
}

/// `sliders bench`: the training-step benchmark with its PyTorch baseline, if any.
fn run_bench(command: Command) -> anyhow::Result<()> {
    let Command::Bench {
        cases,
        device,
        threads,
        warmup,
        steps,
        rounds,
        channels_last,
        eager,
        adam,
        pytorch_script,
        no_pytorch,
        python,
    } = command
    else {
        unreachable!("run_bench is only called with Command::Bench")
    };
    sliders_cli::bench::run(&sliders_cli::bench::Options {
        cases,
        device: device.choice(),
        threads,
        warmup,
        steps,
        rounds,
        channels_last,
        cuda_graph: !eager,
        adam: adam.map(AdamUpdate::update),
        pytorch_script: sliders_cli::bench::baseline_script(pytorch_script, no_pytorch),
        python: sliders_cli::bench::baseline_python(python),
    })?;
    Ok(())
}

/// `sliders serve`: logging, then the web editor's server until it is stopped.
fn run_serve(command: Command) -> anyhow::Result<()> {
    let Command::Serve {
        model,
        port,
        host,
        max_upload_mb,
        faces,
        device,
        save_uploads,
        max_sessions,
        session_ttl_min,
        limits,
        memory_budget_mb,
        workers,
    } = command
    else {
        unreachable!("run_serve is only called with Command::Serve")
    };
    sliders_cli::logging::init(None)?;
    sliders_cli::serve::run(sliders_cli::serve::Options {
        models: model,
        port,
        host,
        max_upload_mb,
        faces,
        device: device.choice(),
        save_uploads,
        max_sessions,
        session_ttl: std::time::Duration::from_secs(session_ttl_min.saturating_mul(60)),
        limits: limits.limits(),
        memory_budget_mb,
        workers,
    })?;
    Ok(())
}
