//! Compiles the C++ bridge (docs/gpu.md#the-c-bridge) against the libtorch that tch links:
//! `csrc/multi_tensor.cpp` and `csrc/settings.cpp` always, `csrc/cuda.cpp` (CUDA graphs, peak memory) only when CUDA is found, which it says
//! to the crate as `cfg(sliders_cuda_graph)`. CUDA is found when libtorch has `libtorch_cuda.so`
//! and the CUDA runtime headers are in `CUDA_HOME`/`CUDA_PATH`, `/usr/local/cuda`, or the
//! `nvidia` wheels beside a PyTorch wheel's `torch/`; `SLIDERS_NO_CUDA_GRAPH=1` turns it off.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(sliders_cuda_graph)");
    println!("cargo:rerun-if-changed=csrc");
    for var in [
        "LIBTORCH",
        "CUDA_HOME",
        "CUDA_PATH",
        "SLIDERS_NO_CUDA_GRAPH",
        "LIBTORCH_CXX11_ABI",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    sliders_torch_link::link_libtorch();
    let torch = match sliders_torch_link::libtorch_dir() {
        Ok(dir) => dir,
        Err(msg) => {
            println!("cargo::error={msg}");
            return;
        }
    };
    let cuda = cuda_includes(&torch);
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .file("csrc/multi_tensor.cpp")
        .file("csrc/settings.cpp")
        .include(torch.join("include"))
        .flag("-std=c++17")
        .flag(format!(
            "-D_GLIBCXX_USE_CXX11_ABI={}",
            std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into())
        ))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .flag_if_supported("-Wno-unused-parameter")
        .warnings(false);
    let lib = torch.join("lib");
    if !cuda.is_empty() {
        build.file("csrc/cuda.cpp").includes(&cuda);
        println!("cargo:rustc-cfg=sliders_cuda_graph");
        println!("cargo:rustc-link-search=native={}", lib.display());
        for name in ["torch_cuda", "c10_cuda"] {
            println!("cargo:rustc-link-lib=dylib={name}");
        }
    }
    build.compile("sliders_torch_ext");
    println!("cargo:rustc-link-search=native={}", lib.display());
    for name in ["torch_cpu", "c10"] {
        println!("cargo:rustc-link-lib=dylib={name}");
    }
}

/// The CUDA runtime headers' folders when libtorch at `torch` was built with CUDA and the headers
/// are found; empty (no CUDA graphs) otherwise. The first folder with `cuda_runtime_api.h` is
/// used; a PyTorch wheel's `nvidia/cu13/include` lacks the compiler-configuration headers
/// (`crt/host_config.h`), which then come from the next folder that has them (Triton's bundled
/// CUDA headers in the same wheel set); nothing else is taken from it.
fn cuda_includes(torch: &Path) -> Vec<PathBuf> {
    if std::env::var("SLIDERS_NO_CUDA_GRAPH").is_ok_and(|v| v == "1")
        || !torch.join("lib").join("libtorch_cuda.so").exists()
    {
        return vec![];
    }
    let mut candidates: Vec<PathBuf> = ["CUDA_HOME", "CUDA_PATH"]
        .iter()
        .filter_map(std::env::var_os)
        .map(|d| PathBuf::from(d).join("include"))
        .collect();
    candidates.push(PathBuf::from("/usr/local/cuda/include"));
    // A PyTorch wheel's CUDA runtime wheel (`cu13` for CUDA 13, `cuda_runtime` for 12), then
    // Triton's copy of the CUDA headers.
    if let Some(site) = torch.parent() {
        for sub in [
            "nvidia/cu13",
            "nvidia/cuda_runtime",
            "triton/backends/nvidia",
        ] {
            candidates.push(site.join(sub).join("include"));
        }
    }
    let has = |d: &PathBuf, f: &str| d.join(f).exists();
    let Some(runtime) = candidates.iter().find(|d| has(d, "cuda_runtime_api.h")) else {
        return vec![];
    };
    if has(runtime, "crt/host_config.h") {
        return vec![runtime.clone()];
    }
    match candidates.iter().find(|d| has(d, "crt/host_config.h")) {
        Some(crt) => vec![runtime.clone(), crt.clone()],
        None => vec![],
    }
}
