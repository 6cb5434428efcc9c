//! Links the `sliders` binary and its tests against libtorch (see sliders-torch-link).

fn main() {
    sliders_torch_link::link_libtorch();
    sliders_torch_link::emit_locked_version("tch", "SLIDERS_TCH_VERSION");
}
