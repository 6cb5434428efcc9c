//! Moves data batches (`Vec<f32>` from the data crate) onto the training device as tensors.

use sliders_celeba::Batch;
use tch::{Device, Tensor};

/// Images `[N, 3, S, S]` in [-1, 1] and attributes `[N, W]` on `device`.
pub fn to_device(batch: &Batch, device: Device) -> (Tensor, Tensor) {
    let [n, c, h, w] = batch.shape.map(|d| d as i64);
    let x = Tensor::from_slice(&batch.images).view([n, c, h, w]);
    let y = Tensor::from_slice(&batch.attributes).view([n, batch.attr_width as i64]);
    if device == Device::Cpu {
        (x, y)
    } else {
        (
            x.pin_memory(Device::Cpu)
                .to_device_(device, x.kind(), true, false),
            y.to_device(device),
        )
    }
}
