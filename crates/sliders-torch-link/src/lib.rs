//! Build-script helper shared by every package that uses `tch`: it makes that package's binaries,
//! tests, examples and benches link `libtorch.so` with `--no-as-needed` (otherwise the CUDA kernels in
//! `libtorch_cuda.so` are never registered and `Device::cuda_if_available()` silently says CPU) and
//! carry a RUNPATH to libtorch's `lib/`, so nothing needs `LD_LIBRARY_PATH` (which still overrides
//! the RUNPATH when a binary is carried to another machine).
//!
//! Use it from a `build.rs` as `fn main() { sliders_torch_link::link_libtorch(); }`.

use std::path::{Path, PathBuf};

/// Where libtorch is, from the `LIBTORCH` variable that `.cargo/config.toml` sets (to the
/// `.libtorch` link made by `cargo xtask setup`) or that the user exported. Symbolic links are
/// resolved so that the RUNPATH names the real folder.
pub fn libtorch_dir() -> Result<PathBuf, String> {
    let raw = std::env::var_os("LIBTORCH").ok_or_else(|| {
        "LIBTORCH is not set: run `cargo xtask setup` from the sliders workspace (it installs or \
         finds libtorch and points .libtorch at it), or export LIBTORCH=/path/to/libtorch"
            .to_string()
    })?;
    let dir = PathBuf::from(raw);
    dir.canonicalize().map_err(|e| {
        format!(
            "LIBTORCH={} cannot be opened ({e}): run `cargo xtask setup` to install or find \
             libtorch, or point LIBTORCH at a folder with include/ and lib/",
            dir.display()
        )
    })
}

/// The link arguments for a libtorch at `dir` (its `lib/` holds `libtorch.so`).
pub fn link_args(dir: &Path) -> Vec<String> {
    let lib = dir.join("lib");
    vec![
        "-Wl,--no-as-needed".to_string(),
        format!("-L{}", lib.display()),
        "-ltorch".to_string(),
        format!("-Wl,-rpath,{}", lib.display()),
    ]
}

/// The libtorch version recorded in the libtorch folder (`build-version` of a libtorch zip, or
/// `version.py` of a PyTorch wheel), if any.
pub fn libtorch_version(dir: &Path) -> Option<String> {
    if let Ok(text) = std::fs::read_to_string(dir.join("build-version")) {
        return Some(text.trim().to_string());
    }
    let text = std::fs::read_to_string(dir.join("version.py")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("__version__ = "))
        .map(|v| v.trim().trim_matches(['\'', '"']).to_string())
}

/// The Python interpreter of the venv a wheel's torch folder lives in
/// (`<venv>/lib/pythonX.Y/site-packages/torch` gives `<venv>/bin/python`), if there is one.
/// Tests that compare against PyTorch use it; a plain libtorch zip has none.
pub fn torch_python(dir: &Path) -> Option<PathBuf> {
    let venv = dir.ancestors().nth(4)?;
    let python = venv.join("bin").join("python");
    python.is_file().then_some(python)
}

/// Prints the cargo instructions; call it from `build.rs`. On failure it stops the build with one
/// readable line instead of a backtrace.
pub fn link_libtorch() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let dir = match libtorch_dir() {
        Ok(dir) => dir,
        Err(msg) => {
            println!("cargo::error={msg}");
            return;
        }
    };
    for arg in link_args(&dir) {
        println!("cargo:rustc-link-arg={arg}");
    }
    let version = libtorch_version(&dir).unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=SLIDERS_LIBTORCH_VERSION={version}");
    println!("cargo:rustc-env=SLIDERS_LIBTORCH_DIR={}", dir.display());
    let python = torch_python(&dir).map(|p| p.display().to_string());
    println!(
        "cargo:rustc-env=SLIDERS_TORCH_PYTHON={}",
        python.unwrap_or_default()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_args_keep_libtorch_and_set_runpath() {
        let args = link_args(Path::new("/opt/torch"));
        assert_eq!(
            args,
            [
                "-Wl,--no-as-needed",
                "-L/opt/torch/lib",
                "-ltorch",
                "-Wl,-rpath,/opt/torch/lib"
            ]
        );
    }

    #[test]
    fn version_is_read_from_a_wheel_or_a_zip() {
        let dir = std::env::temp_dir().join(format!("sliders-link-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("version.py"),
            "from typing import Optional\n__version__ = '2.11.0+cu130'\n",
        )
        .unwrap();
        assert_eq!(libtorch_version(&dir).as_deref(), Some("2.11.0+cu130"));
        std::fs::write(dir.join("build-version"), "2.11.0+cpu\n").unwrap();
        assert_eq!(libtorch_version(&dir).as_deref(), Some("2.11.0+cpu"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// The version of `package` that the workspace's `Cargo.lock` pins, if found.
pub fn locked_version(lock_text: &str, package: &str) -> Option<String> {
    let needle = format!("name = \"{package}\"");
    let mut lines = lock_text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == needle {
            let version = lines.next()?.trim().strip_prefix("version = ")?;
            return Some(version.trim_matches('"').to_string());
        }
    }
    None
}

/// Sets the compile-time variable `var` to the locked version of `package` ("unknown" if the
/// workspace has no `Cargo.lock` yet), for version reports such as `sliders info`.
pub fn emit_locked_version(package: &str, var: &str) {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let lock = manifest
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.is_file());
    if let Some(lock) = &lock {
        println!("cargo:rerun-if-changed={}", lock.display());
    }
    let version = lock
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| locked_version(&text, package))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env={var}={version}");
}

#[cfg(test)]
mod lock_tests {
    use super::locked_version;

    #[test]
    fn finds_the_locked_version_of_a_package() {
        let lock = "[[package]]\nname = \"tch-extra\"\nversion = \"9.9.9\"\n\n[[package]]\nname = \"tch\"\nversion = \"0.24.0\"\n";
        assert_eq!(locked_version(lock, "tch").as_deref(), Some("0.24.0"));
        assert_eq!(locked_version(lock, "torch-sys"), None);
    }
}
