//! Links the alignment crate's tests and examples against libtorch (see sliders-torch-link).

fn main() {
    sliders_torch_link::link_libtorch();
}
