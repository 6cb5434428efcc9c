//! Links the `sliders` binary and its tests against libtorch (see sliders-torch-link), and records
//! the Python of the torch venv it links (the default interpreter of `sliders bench`'s baseline).

fn main() {
    sliders_torch_link::link_libtorch();
    sliders_torch_link::emit_locked_version("tch", "SLIDERS_TCH_VERSION");
    let python = sliders_torch_link::libtorch_dir()
        .ok()
        .and_then(|dir| sliders_torch_link::torch_python(&dir))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=SLIDERS_TORCH_PYTHON={python}");
}
