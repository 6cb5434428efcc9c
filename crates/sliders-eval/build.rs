//! Links the evaluation crate's tests against libtorch (see sliders-torch-link).

fn main() {
    sliders_torch_link::link_libtorch();
}
