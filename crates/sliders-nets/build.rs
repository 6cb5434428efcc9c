//! Links libtorch into every binary, test and bench of this package (see sliders-torch-link).
fn main() {
    sliders_torch_link::link_libtorch();
}
