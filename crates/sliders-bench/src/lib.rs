//! sliders-bench: the training iterations that `sliders bench` and `cargo xtask bench train` time,
//! each the same as the PyTorch baseline `benches/python/train_step_reference.py` builds, and the
//! optimiser variants they are measured against ([`plain`]), kept out of sliders-train's
//! production code (docs/architecture.md#benchmarks):
//! - `fader64`, `fader256`: one Fader iteration exactly as `FaderTrainer` runs it with the default
//!   configuration (docs/fader-networks.md#latent-discriminator-step, #autoencoder-step):
//!   [`lat_dis_update`] then [`autoencoder_update`] (λ_ae 1, λ_lat_dis 1e-4, clipping 5 per
//!   network, Adam lr 2e-4, β (0.5, 0.999)). 64 px: `FaderConfig::small(64)` (5 layers, init_fm
//!   32, max_fm 512); 256 px: the reference defaults (6 layers). Batch 32, one attribute.
//! - `cgan64`: one IcGAN cGAN iteration (docs/icgan.md#loss-and-iteration) built from
//!   `IcganGenerator` / `IcganDiscriminator` and our [`Adam`]: three separate D forwards (real,
//!   wrong y, detached fake), `L_D = L_real + 0.5·L_wrong + 0.5·L_fake`, D step; then
//!   `L_G = BCE(D(x_fake, y'), 1)` on the same fake, G step. No clipping (the reference has none).
//!   64 px, batch 64.
//!
//! The batches are made once (data loading is not timed); timed blocks end with a CUDA
//! synchronisation. On CUDA the optimisers are the multi-tensor Adam and, unless
//! [`StepOptions::cuda_graph`] is off, the whole iteration is a replayed CUDA graph. The optimiser variants measured against these iterations (plain backward,
//! plain Adam) are built in the `bench_step` example and [`plain`]; the criterion benchmark
//! `benches/train_step.rs` times [`FaderModels::update`] at the smoke size
//! (docs/architecture.md#benchmarks).

pub mod plain;

use sliders_config::nets::{FaderConfig, IcganConfig};
use sliders_nets::{FaderAutoEncoder, IcganDiscriminator, IcganGenerator, LatentDiscriminator};
use sliders_torch_ext::graph::CudaGraph;
use sliders_train::fader::{autoencoder_loss, autoencoder_update, lat_dis_update};
use sliders_train::layout::{channels_last, vars_to_channels_last};
use sliders_train::optim::{Adam, AdamConfig, Update};
use std::time::Instant;
use tch::nn::VarStore;
use tch::{Device, Kind, Reduction, Tensor};

const CLIP: f64 = 5.0;
const LAMBDA_LAT: f64 = 1e-4;

/// The benchmarked cases and what each is.
pub const CASES: [(&str, &str); 3] = [
    (
        "fader64",
        "Fader step (lat_dis + AE), 64 px, 5 layers, init_fm 32, max_fm 512, batch 32",
    ),
    (
        "fader256",
        "Fader step (lat_dis + AE), 256 px, reference defaults (6 layers), batch 32",
    ),
    (
        "cgan64",
        "IcGAN cGAN step (3 D forwards + G step), 64 px, batch 64",
    ),
];

/// How the iteration is built.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepOptions {
    /// Fader cases: images and convolution weights channels-last (`fader_train.channels_last`).
    pub channels_last: bool,
    /// On CUDA, capture the whole iteration as a CUDA graph on its first call and replay it
    /// after (docs/gpu.md#cuda-graphs); eager when capture fails (said once on stderr).
    pub cuda_graph: bool,
    /// Adam's update (docs/gpu.md#multi-tensor-adam); `None`: the device's default.
    pub adam: Option<Update>,
}

/// Waits for the device's queued work (CUDA); nothing on the CPU.
pub fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Sub-step timings (ms, summed over calls) of the iterations run with timing on.
#[derive(Debug, Default)]
pub struct Parts(pub Vec<(&'static str, f64)>);

impl Parts {
    /// Runs `f`; when `on`, adds its time (synchronised) to the sub-step `name`.
    pub fn time<T>(
        &mut self,
        on: bool,
        dev: Device,
        name: &'static str,
        f: impl FnOnce() -> T,
    ) -> T {
        if !on {
            return f();
        }
        let t0 = Instant::now();
        let out = f();
        sync(dev);
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, s)) => *s += ms,
            None => self.0.push((name, ms)),
        }
        out
    }
}

/// One training iteration: `(sub-step timings, whether to time the sub-steps)`.
pub type Iteration = Box<dyn FnMut(&mut Parts, bool)>;

/// The iteration of `case` (one of [`CASES`]) on `device`, its networks and batches made now.
pub fn iteration(case: &str, device: Device, opts: StepOptions) -> Result<Iteration, String> {
    let eager: Iteration = match case {
        "fader64" => Box::new(fader(64, device, opts)),
        "fader256" => Box::new(fader(256, device, opts)),
        "cgan64" => Box::new(cgan(device, opts)),
        c => {
            return Err(format!(
                "unknown case {c:?}: use one of {}",
                CASES.map(|(k, _)| k).join(", ")
            ));
        }
    };
    Ok(match device {
        Device::Cuda(_) if opts.cuda_graph => graphed(eager, device),
        _ => eager,
    })
}

/// `inner` captured as a CUDA graph on its first call (which runs it once for real, the graph's
/// warm-up) and replayed on every later call; its batches are made once, so they are the graph's
/// static inputs. When capture fails, says why once and runs `inner` eagerly from then on.
fn graphed(mut inner: Iteration, dev: Device) -> Iteration {
    let mut graph: Option<CudaGraph> = None;
    let mut eager = false;
    Box::new(move |p: &mut Parts, on: bool| {
        if eager {
            return inner(p, on);
        }
        if let Some(g) = &graph {
            return p.time(on, dev, "graph replay", || {
                g.replay().unwrap_or_else(|e| panic!("{e}"))
            });
        }
        match CudaGraph::capture(dev, 1, &mut || inner(&mut Parts::default(), false)) {
            Ok(g) => graph = Some(g),
            Err(e) => {
                eprintln!("CUDA graph: {e}; timing the eager iteration");
                eager = true;
            }
        }
    })
}

/// The most MiB libtorch's CUDA allocator had allocated since the last call (which starts a
/// new peak); `None` off CUDA.
pub fn take_peak_mib(device: Device) -> Option<f64> {
    let peak = sliders_torch_ext::memory::peak_allocated(device)
        .ok()
        .flatten();
    let _ = sliders_torch_ext::memory::reset_peak(device);
    peak.map(|b| b as f64 / (1024.0 * 1024.0))
}

/// Steps per second of `step` over `steps` iterations after `warmup` untimed ones.
pub fn steps_per_sec(step: &mut Iteration, device: Device, warmup: usize, steps: usize) -> f64 {
    let mut parts = Parts::default();
    for _ in 0..warmup {
        step(&mut parts, false);
    }
    sync(device);
    let t0 = Instant::now();
    for _ in 0..steps {
        step(&mut parts, false);
    }
    sync(device);
    steps as f64 / t0.elapsed().as_secs_f64()
}

fn adam(vs: &VarStore, update: Option<Update>) -> Adam {
    let update = update.unwrap_or_else(|| Update::default_for(vs.device()));
    Adam::with_update(vs, AdamConfig::fader(), update)
}

/// The networks and optimisers of a Fader iteration: the autoencoder and the latent
/// discriminator, each with its Adam (the 64 px case's `FaderConfig::small(64)`, else the
/// reference defaults at `img_sz`).
pub struct FaderModels {
    /// The autoencoder's variables.
    pub ae_vs: VarStore,
    /// The autoencoder.
    pub ae: FaderAutoEncoder,
    /// The latent discriminator's variables.
    pub lat_vs: VarStore,
    /// The latent discriminator.
    pub lat: LatentDiscriminator,
    /// The autoencoder's Adam.
    pub ae_opt: Adam,
    /// The latent discriminator's Adam.
    pub lat_opt: Adam,
}

impl FaderModels {
    /// Fresh models at `img_sz` on `dev` (channels-last as `opts` says).
    pub fn new(img_sz: i64, dev: Device, opts: StepOptions) -> Self {
        let cfg = if img_sz == 64 {
            FaderConfig::small(64)
        } else {
            FaderConfig {
                img_sz,
                ..FaderConfig::default()
            }
        };
        Self::with_config(&cfg, dev, opts)
    }

    /// Fresh models of configuration `cfg` on `dev` (channels-last as `opts` says).
    pub fn with_config(cfg: &FaderConfig, dev: Device, opts: StepOptions) -> Self {
        let ae_vs = VarStore::new(dev);
        let ae = FaderAutoEncoder::new(&ae_vs.root(), cfg).expect("valid config");
        let lat_vs = VarStore::new(dev);
        let lat = LatentDiscriminator::new(&lat_vs.root(), cfg).expect("valid config");
        if opts.channels_last {
            vars_to_channels_last(&ae_vs);
            vars_to_channels_last(&lat_vs);
        }
        let ae_opt = adam(&ae_vs, opts.adam);
        let lat_opt = adam(&lat_vs, opts.adam);
        Self {
            ae_vs,
            ae,
            lat_vs,
            lat,
            ae_opt,
            lat_opt,
        }
    }

    /// One iteration as `FaderTrainer` runs it: the latent discriminator's update on `(x1, y1)`,
    /// then the autoencoder's on `(x2, y2)`.
    pub fn update(&mut self, (x1, y1): (&Tensor, &Tensor), (x2, y2): (&Tensor, &Tensor)) {
        let _ = lat_dis_update(&self.ae, &self.lat, &mut self.lat_opt, x1, y1, CLIP);
        let _ = autoencoder_update(
            &self.ae,
            Some((&self.lat, LAMBDA_LAT)),
            &mut self.ae_opt,
            x2,
            y2,
            1.0,
            CLIP,
        );
    }
}

/// A random batch of `bs` images `[bs, 3, img_sz, img_sz]` in [-1, 1] and one-hot labels of one
/// attribute, on `dev`.
pub fn fader_batch(bs: i64, img_sz: i64, dev: Device) -> (Tensor, Tensor) {
    let x = Tensor::rand([bs, 3, img_sz, img_sz], (Kind::Float, dev)) * 2.0 - 1.0;
    let y = Tensor::randint(2, [bs], (Kind::Int64, dev))
        .one_hot(2)
        .to_kind(Kind::Float);
    (x, y)
}

/// A Fader case's models and its two batches of 32 (the latent discriminator's, the
/// autoencoder's), the images in the layout `opts` asks for.
pub fn fader_case(
    img_sz: i64,
    dev: Device,
    opts: StepOptions,
) -> (FaderModels, [(Tensor, Tensor); 2]) {
    let m = FaderModels::new(img_sz, dev, opts);
    let batch = || {
        let (x, y) = fader_batch(32, img_sz, dev);
        let x = if opts.channels_last {
            channels_last(&x)
        } else {
            x
        };
        (x, y)
    };
    (m, [batch(), batch()])
}

fn fader(img_sz: i64, dev: Device, opts: StepOptions) -> impl FnMut(&mut Parts, bool) {
    let (mut m, [(x1, y1), (x2, y2)]) = fader_case(img_sz, dev, opts);
    move |p: &mut Parts, on: bool| {
        if !on {
            m.update((&x1, &y1), (&x2, &y2));
            return;
        }
        let _ = p.time(on, dev, "lat_dis_update", || {
            lat_dis_update(&m.ae, &m.lat, &mut m.lat_opt, &x1, &y1, CLIP)
        });
        let (_, _, loss) = p.time(on, dev, "ae forward", || {
            autoencoder_loss(&m.ae, Some((&m.lat, LAMBDA_LAT)), &x2, &y2, 1.0)
        });
        p.time(on, dev, "ae backward+clip+adam", || {
            m.ae_opt.backward_step_clip(&loss, CLIP)
        });
    }
}

fn bce(p: &Tensor, target: f64) -> Tensor {
    p.binary_cross_entropy::<Tensor>(&p.full_like(target), None, Reduction::Mean)
}

fn cgan(dev: Device, opts: StepOptions) -> impl FnMut(&mut Parts, bool) {
    let cfg = IcganConfig::default();
    let bs = 64;
    let g_vs = VarStore::new(dev);
    let g = IcganGenerator::new(&g_vs.root(), &cfg).expect("valid config");
    let d_vs = VarStore::new(dev);
    let d = IcganDiscriminator::new(&d_vs.root(), &cfg).expect("valid config");
    let mut g_opt = adam(&g_vs, opts.adam);
    let mut d_opt = adam(&d_vs, opts.adam);
    let labels = || Tensor::randint(2, [bs, cfg.ny], (Kind::Float, dev)) * 2.0 - 1.0;
    let x = Tensor::rand([bs, cfg.nc, cfg.img_sz, cfg.img_sz], (Kind::Float, dev)) * 2.0 - 1.0;
    let (y, y_wrong, y_fake) = (labels(), labels(), labels());
    move |p: &mut Parts, on: bool| {
        let _ = (&g_vs, &d_vs);
        let fake = p.time(on, dev, "D step (3 forwards)", || {
            let l_real = bce(&d.forward_t(&x, &y, true), 1.0);
            let l_wrong = bce(&d.forward_t(&x, &y_wrong, true), 0.0);
            let z = Tensor::randn([bs, cfg.nz, 1, 1], (Kind::Float, dev));
            let fake = g.forward_t(&z, &y_fake, true);
            let l_fake = bce(&d.forward_t(&fake.detach(), &y_fake, true), 0.0);
            d_opt.backward_step_clip(&(l_real + l_wrong * 0.5 + l_fake * 0.5), 0.0);
            fake
        });
        p.time(on, dev, "G step", || {
            g_opt.backward_step_clip(&bce(&d.forward_t(&fake, &y_fake, true), 1.0), 0.0);
        });
    }
}

/// Serialises the unit tests that seed libtorch's global generator.
#[cfg(test)]
pub(crate) fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_builds_and_times_its_sub_steps_and_an_unknown_case_is_refused() {
        let _guard = rng_lock();
        tch::manual_seed(0);
        assert!(iteration("nope", Device::Cpu, StepOptions::default()).is_err());
        let mut step = iteration("fader64", Device::Cpu, StepOptions::default()).unwrap();
        let mut parts = Parts::default();
        step(&mut parts, true);
        let names: Vec<&str> = parts.0.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            ["lat_dis_update", "ae forward", "ae backward+clip+adam"]
        );
        assert!(parts.0.iter().all(|(_, ms)| *ms > 0.0));
        let rate = steps_per_sec(&mut step, Device::Cpu, 0, 1);
        assert!(rate.is_finite() && rate > 0.0, "{rate}");
    }
}
