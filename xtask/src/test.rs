//! `cargo xtask test`: the one test gate that `.ci/run` calls. Setup first, then the tidy check
//! (generated files such as `docs/deviations.list` up to date), formatting, clippy with warnings
//! denied, and every test of the workspace; all run, and the command fails if any of them failed.

use anyhow::{Result, bail};
use std::path::Path;
use std::process::Command;

/// Runs the gate from the workspace root.
pub fn run(root: &Path, cargo_test_args: &[String]) -> Result<()> {
    let libtorch = crate::setup::run(root)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let steps: [(&str, Vec<&str>); 3] = [
        ("cargo fmt --check", vec!["fmt", "--all", "--", "--check"]),
        (
            "cargo clippy (warnings denied)",
            vec![
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        ("cargo test", {
            // Every test binary runs even when one fails, so one run names every failure.
            let mut args = vec!["test", "--workspace", "--no-fail-fast"];
            args.extend(cargo_test_args.iter().map(String::as_str));
            args
        }),
    ];
    let mut failed = Vec::new();
    println!("==> cargo xtask tidy");
    if let Err(e) = crate::tidy::run(root, false) {
        eprintln!("==> cargo xtask tidy failed: {e}");
        failed.push("cargo xtask tidy");
    }
    for (name, args) in steps {
        println!("==> {name}");
        let status = Command::new(&cargo)
            .args(&args)
            .current_dir(root)
            .env("LIBTORCH", &libtorch)
            .status()?;
        if !status.success() {
            eprintln!("==> {name} failed ({status})");
            failed.push(name);
        }
    }
    if !failed.is_empty() {
        bail!("failed: {}", failed.join(", "));
    }
    println!("==> all checks passed");
    Ok(())
}
