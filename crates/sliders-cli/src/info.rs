//! `sliders info`: versions (sliders, tch, libtorch), the device sliders would use and why, cuDNN,
//! and the CPU thread count.

use std::fmt;
use std::path::Path;
use tch::Device;

/// Where a run with `device = auto` would go, and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceChoice {
    /// The device `auto` resolves to.
    pub device: Device,
    /// One sentence on why.
    pub reason: String,
}

/// What the machine offers, as libtorch and the OS report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// CUDA devices libtorch can use.
    pub cuda_devices: usize,
    /// Whether an NVIDIA kernel driver is loaded (`/proc/driver/nvidia/version` exists).
    pub nvidia_driver: bool,
    /// Whether the linked libtorch was built with CUDA (`libtorch_cuda.so` registered).
    pub libtorch_has_cuda: bool,
}

impl Probe {
    /// Asks libtorch and the OS.
    pub fn detect() -> Self {
        let cuda_devices = if tch::Cuda::is_available() {
            usize::try_from(tch::Cuda::device_count()).unwrap_or(0)
        } else {
            0
        };
        Self {
            cuda_devices,
            nvidia_driver: nvidia_driver_present(),
            libtorch_has_cuda: tch::utils::has_cuda(),
        }
    }
}

/// Whether an NVIDIA kernel driver is loaded on this machine.
pub fn nvidia_driver_present() -> bool {
    Path::new("/proc/driver/nvidia/version").exists() || Path::new("/dev/nvidia0").exists()
}

/// The device `auto` picks for a probe, with the reason in words.
pub fn choose_device(probe: Probe) -> DeviceChoice {
    if probe.cuda_devices > 0 {
        return DeviceChoice {
            device: Device::Cuda(0),
            reason: format!(
                "CUDA is available ({} device(s)); using cuda:0",
                probe.cuda_devices
            ),
        };
    }
    let reason = match (probe.nvidia_driver, probe.libtorch_has_cuda) {
        (false, _) => "no NVIDIA driver on this machine (/proc/driver/nvidia/version is absent)",
        (true, false) => {
            "an NVIDIA driver is present, but the linked libtorch has no CUDA support (a CPU \
             build); install the CUDA torch wheel or point LIBTORCH at a CUDA libtorch"
        }
        (true, true) => {
            "an NVIDIA driver is present and libtorch has CUDA, but it sees no usable device: \
             check that the driver supports the wheel's CUDA version and CUDA_VISIBLE_DEVICES"
        }
    };
    DeviceChoice {
        device: Device::Cpu,
        reason: reason.to_string(),
    }
}

/// Everything `sliders info` prints.
#[derive(Debug, Clone)]
pub struct Info {
    /// This crate's version.
    pub sliders: &'static str,
    /// The tch version in Cargo.lock.
    pub tch: &'static str,
    /// The libtorch version found at build time.
    pub libtorch: &'static str,
    /// Where libtorch was at build time (the binary's RUNPATH).
    pub libtorch_dir: &'static str,
    /// The machine probe.
    pub probe: Probe,
    /// The device `auto` picks.
    pub device: DeviceChoice,
    /// Whether cuDNN is available.
    pub cudnn: bool,
    /// libtorch's intra-op CPU threads.
    pub threads: i32,
}

impl Info {
    /// Collects the report.
    pub fn collect() -> Self {
        let probe = Probe::detect();
        Self {
            sliders: env!("CARGO_PKG_VERSION"),
            tch: env!("SLIDERS_TCH_VERSION"),
            libtorch: env!("SLIDERS_LIBTORCH_VERSION"),
            libtorch_dir: env!("SLIDERS_LIBTORCH_DIR"),
            probe,
            device: choose_device(probe),
            cudnn: tch::Cuda::cudnn_is_available(),
            threads: tch::get_num_threads(),
        }
    }
}

impl fmt::Display for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let device = match self.device.device {
            Device::Cuda(i) => format!("cuda:{i}"),
            _ => "cpu".to_string(),
        };
        writeln!(f, "sliders   {}", self.sliders)?;
        writeln!(f, "tch       {}", self.tch)?;
        writeln!(f, "libtorch  {} ({})", self.libtorch, self.libtorch_dir)?;
        writeln!(f, "device    {device}: {}", self.device.reason)?;
        writeln!(
            f,
            "cuda      built with CUDA: {}; NVIDIA driver: {}; devices: {}",
            yes_no(self.probe.libtorch_has_cuda),
            yes_no(self.probe.nvidia_driver),
            self.probe.cuda_devices
        )?;
        writeln!(f, "cudnn     {}", yes_no(self.cudnn))?;
        write!(f, "threads   {} (libtorch intra-op)", self.threads)
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuda_is_chosen_when_a_device_is_visible() {
        let probe = Probe {
            cuda_devices: 2,
            nvidia_driver: true,
            libtorch_has_cuda: true,
        };
        assert_eq!(choose_device(probe).device, Device::Cuda(0));
    }

    #[test]
    fn cpu_reasons_name_the_missing_piece() {
        let no_driver = Probe {
            cuda_devices: 0,
            nvidia_driver: false,
            libtorch_has_cuda: true,
        };
        let choice = choose_device(no_driver);
        assert_eq!(choice.device, Device::Cpu);
        assert!(
            choice.reason.contains("no NVIDIA driver"),
            "{}",
            choice.reason
        );
        let cpu_build = Probe {
            nvidia_driver: true,
            libtorch_has_cuda: false,
            ..no_driver
        };
        assert!(choose_device(cpu_build).reason.contains("no CUDA support"));
    }
}
