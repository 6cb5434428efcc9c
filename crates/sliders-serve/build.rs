//! Links libtorch into this package's tests (see sliders-torch-link).
fn main() {
    sliders_torch_link::link_libtorch();
}
