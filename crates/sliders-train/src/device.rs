//! Resolves the configured device (`auto|cpu|cuda`) to a tch device, with an error that says why
//! CUDA was asked for and cannot be had.

use crate::error::TrainError;
use sliders_config::train::DeviceChoice;
use tch::Device;

/// The device for `choice`: `auto` takes CUDA when libtorch sees a device. On CUDA it also turns
/// on cuDNN autotuning (`torch.backends.cudnn.benchmark`, docs/gpu.md#cudnn-autotuning): every
/// batch of a run has the same shape, so the fastest convolution algorithm is measured once.
pub fn resolve(choice: DeviceChoice) -> Result<Device, TrainError> {
    let device = pick(choice)?;
    if device.is_cuda() {
        tch::Cuda::cudnn_set_benchmark(true);
    }
    Ok(device)
}

fn pick(choice: DeviceChoice) -> Result<Device, TrainError> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Auto => Ok(Device::cuda_if_available()),
        DeviceChoice::Cuda if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        DeviceChoice::Cuda => Err(TrainError::Config(
            "device = \"cuda\" but libtorch sees no CUDA device (run `sliders info` for the reason); \
             use device = \"auto\" or \"cpu\""
                .to_string(),
        )),
    }
}

/// A short name for logs and the resolved config: `cpu` or `cuda:0`.
pub fn name(device: Device) -> String {
    match device {
        Device::Cuda(i) => format!("cuda:{i}"),
        _ => "cpu".to_string(),
    }
}
