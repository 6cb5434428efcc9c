//! CUDA graph capture: refused off CUDA (everywhere), and on a CUDA device (ignored without one:
//! `cargo test -- --ignored` on a GPU machine) a replay reruns the captured kernels on the new
//! contents of the static inputs, and a step that waits for the host is an error, not a crash.

use sliders_torch_ext::graph::{BUILT, CudaGraph};
use tch::{Device, Kind, Tensor};

#[test]
fn capture_is_refused_off_cuda_with_a_reason() {
    let mut calls = 0;
    let err = CudaGraph::capture(Device::Cpu, 1, &mut || calls += 1)
        .err()
        .expect("no graph on the CPU");
    assert!(err.to_string().contains("CUDA"), "{err}");
    assert_eq!(calls, 0, "the step must not run when capture is refused");
}

#[test]
#[ignore = "needs a CUDA device"]
fn a_replay_reruns_the_captured_step_on_new_inputs() {
    assert!(tch::Cuda::is_available(), "no CUDA device here");
    assert!(
        std::hint::black_box(BUILT),
        "this build has no CUDA graph bridge"
    );
    let dev = Device::Cuda(0);
    let x = Tensor::zeros([1024], (Kind::Float, dev));
    let y = Tensor::zeros([1024], (Kind::Float, dev));
    let mut calls = 0;
    let graph = CudaGraph::capture(dev, 2, &mut || {
        calls += 1;
        y.shallow_clone().copy_(&(&x * 2.0 + 1.0));
    })
    .unwrap();
    assert_eq!(calls, 3, "two warm-up calls and the captured one");
    for v in [1.0, -3.5] {
        let _ = x.shallow_clone().fill_(v);
        graph.replay().unwrap();
        tch::Cuda::synchronize(0);
        let got = y.mean(Kind::Float).double_value(&[]);
        assert_eq!(got, 2.0 * v + 1.0);
    }
}

#[test]
#[ignore = "needs a CUDA device"]
fn a_step_that_waits_for_the_host_cannot_be_captured() {
    assert!(tch::Cuda::is_available(), "no CUDA device here");
    let dev = Device::Cuda(0);
    let x = Tensor::ones([16], (Kind::Float, dev));
    let err = CudaGraph::capture(dev, 0, &mut || {
        let _ = x.sum(Kind::Float).double_value(&[]);
    })
    .err()
    .expect("a host read inside capture must fail");
    assert!(!err.message.is_empty());
    // Eager work still runs afterwards.
    assert_eq!(x.sum(Kind::Float).double_value(&[]), 16.0);
}
