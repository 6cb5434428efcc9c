//! The linked libtorch works: a tensor operation runs, and CUDA is visible whenever the machine
//! has an NVIDIA driver (which fails if libtorch_cuda was dropped by the linker).

use sliders_cli::info::{Info, nvidia_driver_present};
use tch::{Device, Kind, Tensor};

#[test]
fn a_tensor_operation_runs_on_the_cpu() {
    let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([2, 2]);
    let b = a.matmul(&a);
    let got: Vec<f32> = b.flatten(0, -1).try_into().unwrap();
    assert_eq!(got, [7.0, 10.0, 15.0, 22.0]);
}

#[test]
fn cuda_is_visible_whenever_an_nvidia_driver_is_loaded() {
    let info = Info::collect();
    if nvidia_driver_present() {
        assert!(
            info.probe.cuda_devices > 0,
            "driver present but CUDA not visible: {info}"
        );
        assert_eq!(info.device.device, Device::Cuda(0));
        let x = Tensor::ones([4], (Kind::Float, Device::Cuda(0)));
        assert_eq!(x.sum(Kind::Float).double_value(&[]), 4.0);
    } else {
        eprintln!("no NVIDIA driver here: checked that auto picks the CPU");
        assert_eq!(info.device.device, Device::Cpu);
    }
}

#[test]
fn info_names_versions_and_the_device() {
    let text = Info::collect().to_string();
    assert!(text.contains("tch       0.24"), "{text}");
    assert!(text.contains("libtorch  2.11"), "{text}");
    assert!(text.contains("device    "), "{text}");
}
