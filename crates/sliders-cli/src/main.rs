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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Info => println!("{}", sliders_cli::info::Info::collect()),
    }
    Ok(())
}
