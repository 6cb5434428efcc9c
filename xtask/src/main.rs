//! `cargo xtask …`: the project's automation (setup of libtorch, the test gate). Plain
//! `std::process` calls; no libtorch dependency, so it builds in seconds on a fresh machine.

mod setup;
mod test;

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
    /// Setup, then `cargo fmt --check`, clippy with warnings denied, and the workspace's tests.
    Test {
        /// Extra arguments passed to `cargo test` (after `--workspace`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        cargo_test_args: Vec<String>,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Setup => setup::run(&repo_root()).map(|_| ()),
        Command::Test { cargo_test_args } => test::run(&repo_root(), &cargo_test_args),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

/// The workspace root (xtask lives one level below it).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}
