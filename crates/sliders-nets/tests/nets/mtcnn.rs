//! MTCNN against facenet-pytorch on the same weights: `tests/python/mtcnn_reference.py` runs the
//! package's own PNet/RNet/ONet on the inputs written here, and every output must agree within
//! 1e-4. Needs the weights and the venv that `cargo xtask setup` provisions (CI runs setup
//! first); without them the test fails and says so rather than passing.

use std::collections::HashMap;

use sliders_nets::mtcnn::{MtcnnNets, default_weights_dir};
use tch::{Device, Kind, Tensor};

use crate::common::{max_diff, temp_dir};

const TOL: f64 = 1e-4;

#[test]
fn mtcnn_matches_facenet_pytorch_on_its_weights() {
    // It seeds libtorch's global generator, which the other tests of this binary also seed.
    let _serial = crate::common::serial();
    let python = env!("SLIDERS_TORCH_PYTHON");
    assert!(
        !python.is_empty(),
        "no Python with torch beside this libtorch: run `cargo xtask setup`"
    );
    let weights = default_weights_dir();
    let nets = MtcnnNets::load(&weights, Device::Cpu).unwrap();
    tch::manual_seed(7);
    let opts = (Kind::Float, Device::Cpu);
    // Normalised pixels lie in [-1, 1]; odd sizes exercise the ceil-mode pooling.
    let inputs = [
        ("p", Tensor::rand([2, 3, 37, 53], opts) * 2.0 - 1.0),
        ("r", Tensor::rand([4, 3, 24, 24], opts) * 2.0 - 1.0),
        ("o", Tensor::rand([4, 3, 48, 48], opts) * 2.0 - 1.0),
    ];
    let dir = temp_dir("mtcnn");
    let (inp, outp) = (dir.join("in.safetensors"), dir.join("out.safetensors"));
    Tensor::write_safetensors(&inputs, &inp).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/mtcnn_reference.py"
    );
    let status = std::process::Command::new(python)
        .arg(script)
        .arg(&inp)
        .arg(&outp)
        .status()
        .unwrap();
    assert!(status.success(), "{script} failed: {status}");
    let reference: HashMap<String, Tensor> = Tensor::read_safetensors(&outp)
        .unwrap()
        .into_iter()
        .collect();
    let ours = tch::no_grad(|| {
        let (p0, p1) = nets.pnet.forward(&inputs[0].1);
        let (r0, r1) = nets.rnet.forward(&inputs[1].1);
        let (o0, o1, o2) = nets.onet.forward(&inputs[2].1);
        [
            ("p.0", p0),
            ("p.1", p1),
            ("r.0", r0),
            ("r.1", r1),
            ("o.0", o0),
            ("o.1", o1),
            ("o.2", o2),
        ]
    });
    for (name, t) in &ours {
        let d = max_diff(t, &reference[*name]);
        assert!(d <= TOL, "{name}: max |Rust − PyTorch| = {d:e}");
    }
    // Trained weights separate faces from noise: not every probability sits at 0.5.
    let spread = ours[3].1.select(1, 1).std(false).double_value(&[]);
    assert!(spread > 1e-3, "R-Net probabilities do not vary: {spread}");
    let _ = std::fs::remove_dir_all(&dir);
}
