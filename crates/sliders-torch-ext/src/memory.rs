//! The CUDA caching allocator's peak of allocated bytes (`torch.cuda.max_memory_allocated`), so
//! benchmarks report ours and PyTorch's peak memory the same way. `None` off CUDA or in a build
//! without the CUDA bridge.

use crate::ExtError;
use tch::Device;

/// The most bytes allocated on `device` since [`reset_peak`] (or the start).
pub fn peak_allocated(device: Device) -> Result<Option<u64>, ExtError> {
    let Device::Cuda(index) = device else {
        return Ok(None);
    };
    peak_on(index)
}

/// Starts a new peak on `device` (nothing off CUDA).
pub fn reset_peak(device: Device) -> Result<(), ExtError> {
    match device {
        Device::Cuda(index) => reset_on(index),
        _ => Ok(()),
    }
}

#[cfg(sliders_cuda_graph)]
fn peak_on(index: usize) -> Result<Option<u64>, ExtError> {
    let mut bytes = 0i64;
    // SAFETY: `bytes` outlives the call, which writes it once.
    let r = unsafe { crate::ffi::sliders_ext_cuda_peak_allocated(index as i32, &mut bytes) };
    crate::ffi::check("peak_allocated", r)?;
    Ok(Some(bytes.max(0) as u64))
}

#[cfg(sliders_cuda_graph)]
fn reset_on(index: usize) -> Result<(), ExtError> {
    // SAFETY: no pointers are passed.
    crate::ffi::check("reset_peak", unsafe {
        crate::ffi::sliders_ext_cuda_reset_peak(index as i32)
    })
}

#[cfg(not(sliders_cuda_graph))]
fn peak_on(_: usize) -> Result<Option<u64>, ExtError> {
    Ok(None)
}

#[cfg(not(sliders_cuda_graph))]
fn reset_on(_: usize) -> Result<(), ExtError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_has_no_peak_to_report() {
        assert_eq!(peak_allocated(Device::Cpu).unwrap(), None);
        reset_peak(Device::Cpu).unwrap();
    }
}
