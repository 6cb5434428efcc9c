//! `cargo xtask test`: the one test gate that `.ci/run` calls. Setup first, then the tidy check
//! (generated files such as `docs/deviations.list` up to date), formatting, clippy with warnings
//! denied, and every test of the workspace; the CUDA-graph crates again as built without the CUDA
//! bridge; then, where the CelebA sample is at `../shared/celeba`,
//! the tests that need it (`#[ignore]`d elsewhere, with their reason). All run, and the command
//! fails if any of them failed.

use anyhow::{Result, bail};
use std::path::Path;
use std::process::Command;

/// Runs the gate from the workspace root.
pub fn run(root: &Path, cargo_test_args: &[String]) -> Result<()> {
    // The child cargo calls inherit LIBTORCH from this process (the user's, or the cargo config's
    // `.libtorch` link that setup points at the install): the same value a later plain `cargo
    // build` or `cargo xtask reproduce` sees, so libtorch's bindings and everything above them are
    // built once, not once per value (a second build filled a CI machine's disk).
    crate::setup::run(root)?;
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
            .status()?;
        if !status.success() {
            eprintln!("==> {name} failed ({status})");
            failed.push(name);
        }
    }
    if let Err(e) = without_cuda_bridge(root, &cargo) {
        eprintln!("==> tests without the CUDA bridge failed: {e}");
        failed.push("tests without the CUDA bridge");
    }
    if let Err(e) = celeba_sample_tests(root, &cargo) {
        eprintln!("==> CelebA-sample tests failed: {e}");
        failed.push("CelebA-sample tests");
    }
    if !failed.is_empty() {
        bail!("failed: {}", failed.join(", "));
    }
    println!("==> all checks passed");
    Ok(())
}

/// Where the build without the CUDA bridge goes: its own folder, so the main build's
/// sliders-torch-ext (with the bridge where CUDA is found) is not rebuilt back and forth.
const NO_CUDA_TARGET: &str = "target/no-cuda-bridge";

/// The crates with CUDA-graph code, built and tested as on a machine without CUDA
/// (`SLIDERS_NO_CUDA_GRAPH=1`, docs/gpu.md#the-c-bridge): where the main build found CUDA (a
/// PyTorch CUDA wheel), this is the only build of the code paths a CPU-only libtorch takes.
fn without_cuda_bridge(root: &Path, cargo: &str) -> Result<()> {
    let args = [
        "test",
        "-p",
        "sliders-torch-ext",
        "-p",
        "sliders-train",
        "--lib",
        "--tests",
    ];
    println!(
        "==> without the CUDA bridge: SLIDERS_NO_CUDA_GRAPH=1 cargo {}",
        args.join(" ")
    );
    let status = Command::new(cargo)
        .args(args)
        .env("SLIDERS_NO_CUDA_GRAPH", "1")
        .env("CARGO_TARGET_DIR", root.join(NO_CUDA_TARGET))
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("cargo test without the bridge: {status}");
    }
    Ok(())
}

/// The CelebA sample the ignored real-face tests read (research-only, never in the repository).
const CELEBA_SAMPLE: &str = "../shared/celeba";

/// The test targets whose ignored tests are exactly the ones that need the CelebA sample:
/// (package, test target); no other package has a target of these names.
const CELEBA_SAMPLE_TESTS: [(&str, &str); 5] = [
    ("sliders-celeba", "real_sample"),
    ("sliders-gender", "celeba_agreement"),
    ("sliders-edit", "celeba_photos"),
    ("sliders-align", "detect"),
    ("sliders-serve", "faces_align"),
];

/// Runs the ignored CelebA-sample tests when the sample is there; otherwise says they were not
/// run (they are `#[ignore]`d, so `cargo test` lists them as ignored, never as passed).
fn celeba_sample_tests(root: &Path, cargo: &str) -> Result<()> {
    if !root
        .join(CELEBA_SAMPLE)
        .join("list_attr_celeba.txt")
        .is_file()
    {
        println!(
            "==> CelebA-sample tests: not run, no sample in {CELEBA_SAMPLE} (they stay ignored; \
             put the sample there and rerun `cargo xtask test` to run them)"
        );
        return Ok(());
    }
    // One invocation over the workspace: the same feature resolution as the main test build, so
    // nothing is rebuilt (a `-p` run per package would rebuild libtorch's bindings).
    let mut args = vec!["test", "--workspace", "--no-fail-fast"];
    for (_, target) in CELEBA_SAMPLE_TESTS {
        args.extend(["--test", target]);
    }
    args.extend(["--", "--ignored"]);
    println!("==> CelebA-sample tests: cargo {}", args.join(" "));
    let status = Command::new(cargo).args(&args).current_dir(root).status()?;
    if !status.success() {
        bail!("{status}");
    }
    Ok(())
}
