//! Our side of `cargo xtask bench train`: times one training iteration of sliders-train, the
//! baseline being `benches/python/train_step_reference.py` (PyTorch eager, same networks, steps,
//! modes, batch and thread count).
//!
//! Cases:
//! - `fader64`, `fader256`: one Fader iteration exactly as `FaderTrainer` runs it with the default
//!   configuration (fader-networks.md §4.2-4.3): [`lat_dis_update`] then [`autoencoder_update`]
//!   (λ_ae 1, λ_lat_dis 1e-4, clipping 5 per network, Adam lr 2e-4, β (0.5, 0.999)). 64 px:
//!   `FaderConfig::small(64)` (5 layers, init_fm 32, max_fm 512); 256 px: the reference defaults
//!   (6 layers). Batch 32, one attribute.
//! - `cgan64`: one IcGAN cGAN iteration (icgan.md §3.4) built from `IcganGenerator` /
//!   `IcganDiscriminator` and our [`Adam`]: three separate D forwards (real, wrong y, detached
//!   fake), `L_D = L_real + 0.5·L_wrong + 0.5·L_fake`, D step; then `L_G = BCE(D(x_fake, y'), 1)`
//!   on the same fake, G step. No clipping (the reference has none). 64 px, batch 64.
//!
//! The batches are made once (data loading is not timed); each timed block ends with a CUDA
//! synchronisation. Prints one line `ours: case=… steps_per_s=… ms_per_step=…` and, with
//! `--breakdown`, the mean milliseconds of each sub-step (synchronised after each; slower).
//! `--plain-adam` uses `Adam::step_plain` (the out-of-place update) to measure the in-place one;
//! `--plain-backward` makes `backward_step_clip` zero `.grad`, `backward()` and read `.grad`
//! (the path before the gradient-returning backward), to measure that one.
//!
//! `--channels-last` lays the Fader cases' images and convolution weights out channels-last
//! (`fader_train.channels_last`).
//!
//! `--case cl64` alternates, step by step in one process, the 64 px Fader iteration in the
//! standard layout and channels-last (two models), and prints both medians.
//!
//! `--case adam64` times only the two Adam updates of a 64 px Fader iteration, in-place against
//! plain, alternating in one process.
//!
//! `--case ab64` alternates, step by step, the current update with the plain-backward and
//! plain-backward + plain-Adam ones on the 64 px Fader iteration.
//!
//! usage: bench_step --case fader64 [--device cpu|cuda] [--threads N] [--warmup W] [--steps S]
//!        [--breakdown] [--plain-adam] [--plain-backward] [--channels-last]

use sliders_config::nets::{FaderConfig, IcganConfig};
use sliders_nets::{FaderAutoEncoder, IcganDiscriminator, IcganGenerator, LatentDiscriminator};
use sliders_train::fader::{autoencoder_loss, autoencoder_update, lat_dis_update};
use sliders_train::layout::{channels_last, vars_to_channels_last};
use sliders_train::optim::{Adam, AdamConfig};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tch::nn::VarStore;
use tch::{Device, Kind, Reduction, Tensor};

const CLIP: f64 = 5.0;
const LAMBDA_LAT: f64 = 1e-4;

struct Args {
    case: String,
    device: Device,
    threads: i32,
    warmup: usize,
    steps: usize,
    breakdown: bool,
    plain_adam: bool,
    plain_backward: bool,
    channels_last: bool,
}

fn parse() -> Args {
    let mut a = Args {
        case: String::new(),
        device: Device::Cpu,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get() as i32),
        warmup: 3,
        steps: 10,
        breakdown: false,
        plain_adam: false,
        plain_backward: false,
        channels_last: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--case" => a.case = val(),
            "--device" => {
                a.device = match val().as_str() {
                    "cpu" => Device::Cpu,
                    "cuda" => Device::Cuda(0),
                    d => panic!("--device cpu|cuda, not {d}"),
                }
            }
            "--threads" => a.threads = val().parse().expect("--threads N"),
            "--warmup" => a.warmup = val().parse().expect("--warmup N"),
            "--steps" => a.steps = val().parse().expect("--steps N"),
            "--breakdown" => a.breakdown = true,
            "--plain-adam" => a.plain_adam = true,
            "--plain-backward" => a.plain_backward = true,
            "--channels-last" => a.channels_last = true,
            _ => panic!("unknown argument {k}"),
        }
    }
    a
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Set once from `--plain-adam` / `--plain-backward` before the networks are built.
static PLAIN_ADAM: AtomicBool = AtomicBool::new(false);
static PLAIN_BACKWARD: AtomicBool = AtomicBool::new(false);
static CHANNELS_LAST: AtomicBool = AtomicBool::new(false);

fn adam(vs: &VarStore) -> Adam {
    let mut opt = Adam::new(vs, AdamConfig::fader());
    opt.use_plain_step(PLAIN_ADAM.load(Ordering::Relaxed));
    opt.use_plain_backward(PLAIN_BACKWARD.load(Ordering::Relaxed));
    opt
}

/// Sub-step timings (ms, summed) for `--breakdown`.
#[derive(Default)]
struct Parts(Vec<(&'static str, f64)>);

impl Parts {
    fn time<T>(&mut self, on: bool, dev: Device, name: &'static str, f: impl FnOnce() -> T) -> T {
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

fn fader(img_sz: i64, dev: Device) -> impl FnMut(&mut Parts, bool) {
    let cfg = if img_sz == 64 {
        FaderConfig::small(64)
    } else {
        FaderConfig {
            img_sz,
            ..FaderConfig::default()
        }
    };
    let bs = 32;
    let ae_vs = VarStore::new(dev);
    let ae = FaderAutoEncoder::new(&ae_vs.root(), &cfg).expect("valid config");
    let lat_vs = VarStore::new(dev);
    let lat = LatentDiscriminator::new(&lat_vs.root(), &cfg).expect("valid config");
    let cl = CHANNELS_LAST.load(Ordering::Relaxed);
    if cl {
        vars_to_channels_last(&ae_vs);
        vars_to_channels_last(&lat_vs);
    }
    let mut ae_opt = adam(&ae_vs);
    let mut lat_opt = adam(&lat_vs);
    let batch = || {
        let x = Tensor::rand([bs, 3, img_sz, img_sz], (Kind::Float, dev)) * 2.0 - 1.0;
        let y = Tensor::randint(2, [bs], (Kind::Int64, dev))
            .one_hot(2)
            .to_kind(Kind::Float);
        (x, y)
    };
    let ((x1, y1), (x2, y2)) = (batch(), batch());
    let (x1, x2) = if cl {
        (channels_last(&x1), channels_last(&x2))
    } else {
        (x1, x2)
    };
    move |p: &mut Parts, on: bool| {
        // Keep the VarStores alive with the closure.
        let _ = (&ae_vs, &lat_vs);
        let _ = p.time(on, dev, "lat_dis_update", || {
            lat_dis_update(&ae, &lat, &mut lat_opt, &x1, &y1, CLIP)
        });
        if !on {
            let _ = autoencoder_update(
                &ae,
                Some((&lat, LAMBDA_LAT)),
                &mut ae_opt,
                &x2,
                &y2,
                1.0,
                CLIP,
            );
            return;
        }
        let (_, _, loss) = p.time(on, dev, "ae forward", || {
            autoencoder_loss(&ae, Some((&lat, LAMBDA_LAT)), &x2, &y2, 1.0)
        });
        p.time(on, dev, "ae backward+clip+adam", || {
            ae_opt.backward_step_clip(&loss, CLIP)
        });
    }
}

fn bce(p: &Tensor, target: f64) -> Tensor {
    p.binary_cross_entropy::<Tensor>(&p.full_like(target), None, Reduction::Mean)
}

fn cgan(dev: Device) -> impl FnMut(&mut Parts, bool) {
    let cfg = IcganConfig::default();
    let bs = 64;
    let g_vs = VarStore::new(dev);
    let g = IcganGenerator::new(&g_vs.root(), &cfg).expect("valid config");
    let d_vs = VarStore::new(dev);
    let d = IcganDiscriminator::new(&d_vs.root(), &cfg).expect("valid config");
    let mut g_opt = adam(&g_vs);
    let mut d_opt = adam(&d_vs);
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

/// `--case adam64`: the optimizer alone on the 64 px autoencoder and latent discriminator (both
/// Adams, as in one Fader iteration), gradients computed once; in-place and plain steps
/// alternate `steps` times in this process, so load affects both alike. Returns (in-place ms,
/// plain ms) per iteration, medians.
fn adam_only(dev: Device, steps: usize) -> (f64, f64) {
    let cfg = FaderConfig::small(64);
    let ae_vs = VarStore::new(dev);
    let ae = FaderAutoEncoder::new(&ae_vs.root(), &cfg).expect("valid config");
    let lat_vs = VarStore::new(dev);
    let lat = LatentDiscriminator::new(&lat_vs.root(), &cfg).expect("valid config");
    let mut opts = [
        Adam::new(&ae_vs, AdamConfig::fader()),
        Adam::new(&lat_vs, AdamConfig::fader()),
    ];
    let x = Tensor::rand([8, 3, 64, 64], (Kind::Float, dev));
    let y = Tensor::zeros([8, 2], (Kind::Float, dev));
    let (_, _, loss) = autoencoder_loss(&ae, Some((&lat, 1.0)), &x, &y, 1.0);
    loss.backward();
    let mut times = [Vec::new(), Vec::new()];
    for i in 0..steps + 2 {
        for plain in [i % 2 == 1, i % 2 == 0] {
            let t0 = Instant::now();
            for o in &mut opts {
                if plain {
                    o.step_plain();
                } else {
                    o.step();
                }
            }
            sync(dev);
            if i >= 2 {
                times[usize::from(plain)].push(t0.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let [mut a, mut b] = times;
    (med(&mut a), med(&mut b))
}

/// `--case ab64`: the 64 px Fader iteration with the optimizer variants (both in-place, plain
/// backward, plain backward and plain Adam) alternating step by step in one process (the order
/// rotating), so load affects all alike. Returns the median ms per iteration of each variant.
fn median(t: &mut [f64]) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// `--case cl64`: the 64 px Fader iteration in the standard layout and channels-last, two
/// separate models in one process, alternating step by step (the order rotating), so machine load
/// hits both alike. Returns the median ms of each.
fn cl64(dev: Device, steps: usize) -> (f64, f64) {
    CHANNELS_LAST.store(false, Ordering::Relaxed);
    let mut plain = fader(64, dev);
    CHANNELS_LAST.store(true, Ordering::Relaxed);
    let mut cl = fader(64, dev);
    let mut parts = Parts::default();
    let (mut t_plain, mut t_cl) = (Vec::new(), Vec::new());
    for i in 0..steps + 1 {
        for k in 0..2 {
            let t0 = Instant::now();
            if (i + k) % 2 == 0 {
                plain(&mut parts, false);
            } else {
                cl(&mut parts, false);
            }
            sync(dev);
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            if i > 0 {
                if (i + k) % 2 == 0 {
                    t_plain.push(ms);
                } else {
                    t_cl.push(ms);
                }
            }
        }
    }
    (median(&mut t_plain), median(&mut t_cl))
}

fn ab64(dev: Device, steps: usize) -> [f64; 3] {
    let cfg = FaderConfig::small(64);
    let ae_vs = VarStore::new(dev);
    let ae = FaderAutoEncoder::new(&ae_vs.root(), &cfg).expect("valid config");
    let lat_vs = VarStore::new(dev);
    let lat = LatentDiscriminator::new(&lat_vs.root(), &cfg).expect("valid config");
    let mut ae_opt = Adam::new(&ae_vs, AdamConfig::fader());
    let mut lat_opt = Adam::new(&lat_vs, AdamConfig::fader());
    let batch = || {
        let x = Tensor::rand([32, 3, 64, 64], (Kind::Float, dev)) * 2.0 - 1.0;
        let y = Tensor::randint(2, [32], (Kind::Int64, dev))
            .one_hot(2)
            .to_kind(Kind::Float);
        (x, y)
    };
    let ((x1, y1), (x2, y2)) = (batch(), batch());
    let variants = [(false, false), (true, false), (true, true)];
    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    for i in 0..steps + 1 {
        for k in 0..3 {
            let v = (i + k) % 3;
            let (plain_backward, plain_adam) = variants[v];
            for o in [&mut ae_opt, &mut lat_opt] {
                o.use_plain_backward(plain_backward);
                o.use_plain_step(plain_adam);
            }
            let t0 = Instant::now();
            let _ = lat_dis_update(&ae, &lat, &mut lat_opt, &x1, &y1, CLIP);
            let _ = autoencoder_update(
                &ae,
                Some((&lat, LAMBDA_LAT)),
                &mut ae_opt,
                &x2,
                &y2,
                1.0,
                CLIP,
            );
            sync(dev);
            if i > 0 {
                times[v].push(t0.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    times.map(|mut t| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    })
}

/// One timed iteration: `(sub-step timings, whether to time the sub-steps)`.
type StepFn = dyn FnMut(&mut Parts, bool);

fn main() {
    let a = parse();
    if a.case == "ab64" {
        tch::set_num_threads(a.threads);
        let [new, pb, old] = ab64(a.device, a.steps);
        println!(
            "ours: case=ab64 threads={} current_ms={new:.1} plain_backward_ms={pb:.1} plain_backward_and_adam_ms={old:.1} (medians of {} rotating)",
            tch::get_num_threads(),
            a.steps
        );
        return;
    }
    if a.case == "cl64" {
        tch::set_num_threads(a.threads);
        tch::manual_seed(0);
        let (plain, cl) = cl64(a.device, a.steps);
        println!(
            "ours: case=cl64 threads={} standard_ms={plain:.1} channels_last_ms={cl:.1} speedup={:.3} (medians of {} alternating)",
            tch::get_num_threads(),
            plain / cl,
            a.steps
        );
        return;
    }
    if a.case == "adam64" {
        tch::set_num_threads(a.threads);
        let (fast, plain) = adam_only(a.device, a.steps);
        println!(
            "ours: case=adam64 threads={} in_place_ms={fast:.2} plain_ms={plain:.2} (AE + lat_dis Adam steps, medians of {} alternating)",
            tch::get_num_threads(),
            a.steps
        );
        return;
    }
    PLAIN_ADAM.store(a.plain_adam, Ordering::Relaxed);
    PLAIN_BACKWARD.store(a.plain_backward, Ordering::Relaxed);
    CHANNELS_LAST.store(a.channels_last, Ordering::Relaxed);
    tch::set_num_threads(a.threads);
    tch::manual_seed(0);
    let mut step: Box<StepFn> = match a.case.as_str() {
        "fader64" => Box::new(fader(64, a.device)),
        "fader256" => Box::new(fader(256, a.device)),
        "cgan64" => Box::new(cgan(a.device)),
        c => panic!("--case fader64|fader256|cgan64, not {c:?}"),
    };
    let mut parts = Parts::default();
    for _ in 0..a.warmup {
        step(&mut parts, false);
    }
    sync(a.device);
    let t0 = Instant::now();
    for _ in 0..a.steps {
        step(&mut parts, false);
    }
    sync(a.device);
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "ours: case={} device={} threads={} steps={} steps_per_s={:.4} ms_per_step={:.2}{}",
        a.case,
        if a.device.is_cuda() { "cuda" } else { "cpu" },
        tch::get_num_threads(),
        a.steps,
        a.steps as f64 / dt,
        dt / a.steps as f64 * 1e3,
        match (a.plain_adam, a.plain_backward) {
            (false, false) => "",
            (true, false) => " adam=plain",
            (false, true) => " backward=plain",
            (true, true) => " adam=plain backward=plain",
        }
    );
    if a.breakdown {
        for _ in 0..a.steps {
            step(&mut parts, true);
        }
        let total: f64 = parts.0.iter().map(|(_, ms)| ms).sum();
        for (name, ms) in &parts.0 {
            println!(
                "ours breakdown: {name:<22} {:>9.2} ms/step  {:>5.1}%",
                ms / a.steps as f64,
                100.0 * ms / total
            );
        }
    }
}
