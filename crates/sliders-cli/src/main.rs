//! The `sliders` binary: parses the command line and dispatches to the commands in the library.

use clap::{Parser, Subcommand};

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
    /// Train what an experiment file describes (Fader model or evaluation classifier); re-running
    /// the same command resumes an interrupted run.
    Train {
        /// Experiment TOML files, lowest priority first (e.g. the experiment, then a profile).
        /// `SLIDERS__SECTION__KEY=value` variables override them.
        #[arg(long = "config", required = true)]
        config: Vec<std::path::PathBuf>,
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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Info => println!("{}", sliders_cli::info::Info::collect()),
        Command::Train { config } => sliders_cli::train::run(&config)?,
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
    }
    Ok(())
}
