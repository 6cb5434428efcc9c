//! libtorch's global switches that tch 0.24 does not bind (docs/gpu.md#the-c-bridge).

use crate::ExtError;
use crate::ffi::{self, check};

/// `torch.backends.cudnn.deterministic = on`: cuDNN then picks only deterministic convolution
/// algorithms, so two runs of the same step compute the same numbers (the CUDA tests comparing a
/// graphed step with the eager one need it). Global to the process; no effect on the CPU.
pub fn set_deterministic_cudnn(on: bool) -> Result<(), ExtError> {
    // SAFETY: a plain flag; the bridge catches every exception.
    check("set_deterministic_cudnn", unsafe {
        ffi::sliders_ext_set_deterministic_cudnn(on.into())
    })
}

/// Whether cuDNN is restricted to deterministic algorithms ([`set_deterministic_cudnn`]).
pub fn deterministic_cudnn() -> Result<bool, ExtError> {
    let mut on = 0;
    // SAFETY: `on` outlives the call, which writes one int.
    check("deterministic_cudnn", unsafe {
        ffi::sliders_ext_deterministic_cudnn(&mut on)
    })?;
    Ok(on != 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_switch_is_set_and_read_back_through_the_bridge() {
        let before = super::deterministic_cudnn().unwrap();
        for on in [!before, before] {
            super::set_deterministic_cudnn(on).unwrap();
            assert_eq!(super::deterministic_cudnn().unwrap(), on);
        }
    }
}
