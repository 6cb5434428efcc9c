//! Links the benchmark crate's tests, examples and benchmarks against libtorch (see
//! sliders-torch-link).

fn main() {
    sliders_torch_link::link_libtorch();
}
