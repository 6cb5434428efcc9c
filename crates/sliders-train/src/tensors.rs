//! Moves data batches (ndarray arrays from the data crate) onto the training device as tensors,
//! through tch's ndarray conversion: the one place a batch crosses from tch-free code.

use sliders_celeba::Batch;
use tch::{Device, Tensor};

/// Images `[N, 3, S, S]` in [-1, 1] and attributes `[N, W]` on `device` ([`upload`]).
pub fn to_device(batch: &Batch, device: Device) -> (Tensor, Tensor) {
    let x = Tensor::try_from(&batch.images).expect("a batch's images are contiguous");
    let y = Tensor::try_from(&batch.attributes).expect("a batch's attributes are contiguous");
    (upload(&x, device), upload(&y, device))
}

/// A CPU tensor on `device`. To a GPU it goes through page-locked host memory and an
/// asynchronous copy: a plain copy from pageable memory waits for the device's stream to drain
/// (libtorch synchronises after it), so the host could not queue the next step while the GPU
/// runs this one (docs/gpu.md#data-transfers).
pub fn upload(t: &Tensor, device: Device) -> Tensor {
    if device == Device::Cpu {
        return t.shallow_clone();
    }
    // `pin_memory` takes the accelerator the memory is pinned for: `Device::Cpu` there is
    // refused by libtorch ("CPU device type not an accelerator"), which stopped every CUDA
    // training at its first batch until a run on an H100 showed it.
    t.pin_memory(device)
        .to_device_(device, t.kind(), true, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Batch {
        let images: Vec<f32> = (0..2 * 3 * 4 * 4).map(|i| i as f32 / 96.0 - 0.5).collect();
        Batch {
            images: sliders_celeba::ndarray::Array4::from_shape_vec((2, 3, 4, 4), images).unwrap(),
            attributes: sliders_celeba::ndarray::Array2::from_shape_vec(
                (2, 2),
                vec![1.0, 0.0, 0.0, 1.0],
            )
            .unwrap(),
            indices: vec![0, 1],
        }
    }

    #[test]
    fn a_cpu_batch_keeps_its_values_and_shapes() {
        let b = batch();
        let (x, y) = to_device(&b, Device::Cpu);
        assert_eq!(x.size(), [2, 3, 4, 4]);
        assert_eq!(y.size(), [2, 2]);
        assert_eq!(
            Vec::<f32>::try_from(x.flatten(0, -1)).unwrap(),
            b.images.as_slice().unwrap()
        );
        assert_eq!(
            Vec::<f32>::try_from(y.flatten(0, -1)).unwrap(),
            b.attributes.as_slice().unwrap()
        );
    }

    /// The pinned, non-blocking path: run with `--ignored` on a machine with a GPU.
    #[test]
    #[ignore = "needs a CUDA device"]
    fn a_cuda_batch_arrives_on_the_gpu_with_its_values() {
        assert!(tch::Cuda::is_available(), "no CUDA device here");
        let b = batch();
        let (x, y) = to_device(&b, Device::Cuda(0));
        assert_eq!(x.device(), Device::Cuda(0));
        assert_eq!(y.device(), Device::Cuda(0));
        let back = Vec::<f32>::try_from(x.to_device(Device::Cpu).flatten(0, -1)).unwrap();
        assert_eq!(back, b.images.as_slice().unwrap());
        let back = Vec::<f32>::try_from(y.to_device(Device::Cpu).flatten(0, -1)).unwrap();
        assert_eq!(back, b.attributes.as_slice().unwrap());
    }
}
