//! The binaries xtask runs (`sliders`, the benchmarks' examples): built with cargo here, or, on a
//! machine without a Rust toolchain (a GPU box the binaries were copied to), taken from the folder
//! that `SLIDERS_PREBUILT_BIN` names.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Names a folder holding binaries built elsewhere (`sliders`, `bench_step`, ...): xtask runs
/// those instead of calling cargo.
pub const PREBUILT_VAR: &str = "SLIDERS_PREBUILT_BIN";

/// What a binary is to cargo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `[[bin]]` of the package.
    Bin,
    /// An `examples/` program of the package.
    Example,
}

/// Builds `name` (a binary or example of `package`) and returns its path, or returns the prebuilt
/// one when `SLIDERS_PREBUILT_BIN` is set.
pub fn binary(
    root: &Path,
    package: &str,
    name: &str,
    kind: Kind,
    release: bool,
) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(PREBUILT_VAR) {
        return prebuilt(Path::new(&dir), name);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let profile = target.join(if release { "release" } else { "debug" });
    let built = match kind {
        Kind::Bin => profile.join(name),
        Kind::Example => profile.join("examples").join(name),
    };
    println!(
        "==> building {name}{}",
        if release { " (release)" } else { "" }
    );
    if !built.exists() {
        println!("{}", first_build_hint(release));
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(&cargo);
    // Not `--quiet`: a first build takes minutes, and cargo's own progress (the crate it is
    // compiling, n of m) is what tells the user it is moving.
    // `--workspace` with the one target: features resolved over the whole workspace, as in
    // `cargo xtask test`, so this build reuses the test build's dependencies instead of building
    // a second copy of many of them (`-p` resolves them for one package).
    cmd.args(["build", "--workspace"]).current_dir(root);
    match kind {
        Kind::Bin => cmd.args(["--bin", name]),
        Kind::Example => cmd.args(["--example", name]),
    };
    if release {
        cmd.arg("--release");
    }
    let status = cmd
        .status()
        .with_context(|| format!("running {cargo} build"))?;
    if !status.success() {
        bail!("building {name} (package {package}) failed");
    }
    Ok(built)
}

/// What a user is told before a build that starts from nothing: how long it took when measured.
fn first_build_hint(release: bool) -> String {
    format!(
        "    first build{}: about 400 crates and the libtorch bindings; it took 12.5 minutes on a \
         2-core machine (measured 2026-12), then seconds after a change. Cargo's progress follows.",
        if release { " (release)" } else { "" }
    )
}

/// `dir/name`, which must exist.
fn prebuilt(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    if !path.is_file() {
        bail!(
            "{PREBUILT_VAR}={}: there is no `{name}` in it. Fix: copy the `{name}` built on \
             another machine (target/<profile>/ or target/<profile>/examples/) into that folder, \
             or unset {PREBUILT_VAR} to build here with cargo",
            dir.display()
        );
    }
    println!("==> {name}: prebuilt, {}", path.display());
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prebuilt_binary_is_taken_from_its_folder_and_a_missing_one_is_named() {
        let dir = std::env::temp_dir().join(format!("sliders-prebuilt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = prebuilt(&dir, "sliders").unwrap_err().to_string();
        assert!(
            err.contains("no `sliders`") && err.contains(PREBUILT_VAR),
            "{err}"
        );
        std::fs::write(dir.join("sliders"), b"").unwrap();
        assert_eq!(prebuilt(&dir, "sliders").unwrap(), dir.join("sliders"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
