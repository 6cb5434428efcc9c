//! Helpers shared by the tests.

use tch::{Device, Kind, Tensor, nn};

/// CPU, plus the first GPU when libtorch sees one (otherwise says the GPU run is skipped).
pub fn devices() -> Vec<Device> {
    let mut d = vec![Device::Cpu];
    if tch::Cuda::is_available() {
        d.push(Device::Cuda(0));
    } else {
        eprintln!("CUDA is not available: the CUDA variant of this test is skipped");
    }
    d
}

/// Images `[b, c, s, s]` uniform in [−1, 1].
pub fn images(b: i64, c: i64, s: i64, device: Device) -> Tensor {
    Tensor::rand([b, c, s, s], (Kind::Float, device)) * 2.0 - 1.0
}

/// Normal values `[b, n]`.
pub fn randn(b: i64, n: i64, device: Device) -> Tensor {
    Tensor::randn([b, n], (Kind::Float, device))
}

/// Largest absolute difference.
pub fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size(), "shapes differ");
    (a.to_device(Device::Cpu).to_kind(Kind::Double)
        - b.to_device(Device::Cpu).to_kind(Kind::Double))
    .abs()
    .max()
    .double_value(&[])
}

/// Smallest and largest value.
pub fn range(t: &Tensor) -> (f64, f64) {
    (t.min().double_value(&[]), t.max().double_value(&[]))
}

/// Asserts every value is finite.
pub fn assert_finite(t: &Tensor, what: &str) {
    let finite = t.isfinite().all().int64_value(&[]) == 1;
    assert!(finite, "{what} has non-finite values");
}

/// Gives BN running statistics random values (so eval-mode outputs depend on them).
pub fn randomize_running_stats(vs: &nn::VarStore) {
    tch::no_grad(|| {
        for (name, mut t) in vs.variables() {
            if name.ends_with("running_mean") {
                let _ = t.uniform_(-0.2, 0.2);
            } else if name.ends_with("running_var") {
                let _ = t.uniform_(0.5, 1.5);
            }
        }
    });
}

/// A fresh temporary folder for one test.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sliders-nets-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the tests of this binary one at a time: libtorch's random generator is global, so a
/// test that seeds it (`tch::manual_seed`) must not share it with tests running in parallel.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}
