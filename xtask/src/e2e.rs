//! `cargo xtask e2e`: the browser test of `sliders serve` (issue #10). Builds `sliders`, installs
//! the pinned node packages of `tests/e2e` (`npm ci`; playwright-core only, no browser download),
//! and runs `tests/e2e/serve.test.js` against trained models (default: the Fader models of
//! `data/runs/<profile>/fader-*`, which `cargo xtask reproduce --profile smoke` trains) in
//! headless Debian chromium. Needs `chromium` and `node`/`npm`; a missing one is an error that
//! says what to install (`cargo xtask test` does not run this).

use anyhow::{Context, Result, bail};
use sliders_config::layout::{Checkpoint, RunLayout};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Options of `cargo xtask e2e`.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Profile whose `data/runs/<profile>/fader-*` models to serve.
    #[arg(long, default_value = "smoke")]
    pub profile: String,
    /// Serve these run folders instead (repeatable).
    #[arg(long = "model")]
    pub models: Vec<PathBuf>,
    /// The chromium binary.
    #[arg(long, default_value = "/usr/bin/chromium")]
    pub chromium: PathBuf,
    /// Folder for the screenshot.
    #[arg(long, default_value = "tests/e2e/out")]
    pub out: PathBuf,
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs the browser test.
pub fn run(root: &Path, opts: &Options) -> Result<()> {
    if !opts.chromium.is_file() {
        bail!(
            "no chromium at {}; fix: `apt-get install -y chromium` (Debian), or pass --chromium PATH",
            opts.chromium.display()
        );
    }
    for tool in ["node", "npm"] {
        if !have(tool) {
            bail!(
                "`{tool}` is not installed; fix: `apt-get install -y nodejs npm` (node 18 or later)"
            );
        }
    }
    let models = if opts.models.is_empty() {
        let runs = root.join("data/runs").join(&opts.profile);
        let pipeline = crate::reproduce::pipeline_of(root, &opts.profile)?;
        let layout = RunLayout::new(&runs);
        let found: Vec<PathBuf> = pipeline
            .attributes
            .iter()
            .map(|a| layout.fader(a))
            .filter(|d| Checkpoint::LAST_AE.in_run(d).is_file())
            .collect();
        if found.is_empty() {
            bail!(
                "no trained Fader model in {}; fix: run `cargo xtask reproduce --profile {}` first, \
                 or pass --model RUN",
                runs.display(),
                opts.profile
            );
        }
        found
    } else {
        opts.models.iter().map(|m| root.join(m)).collect()
    };
    crate::setup::run(root)?;
    let sliders = crate::reproduce::build_sliders(root, opts.profile != "smoke")?;
    let e2e = root.join("tests/e2e");
    println!("==> npm ci (tests/e2e)");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&e2e)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .status()
        .context("running npm ci")?;
    if !status.success() {
        bail!("npm ci in {} failed", e2e.display());
    }
    println!("==> browser test ({} model(s))", models.len());
    // From the workspace, so that the models' resolved.toml paths (data/…) resolve.
    let mut cmd = Command::new("node");
    cmd.arg(e2e.join("serve.test.js"))
        .arg("--bin")
        .arg(&sliders)
        .arg("--chromium")
        .arg(&opts.chromium)
        .arg("--out")
        .arg(root.join(&opts.out))
        .current_dir(root);
    for m in &models {
        cmd.arg("--model").arg(m);
    }
    let status = cmd.status().context("running node")?;
    if !status.success() {
        bail!("the browser test failed (see above)");
    }
    Ok(())
}
