//! Our side of `cargo xtask bench train`: times one training iteration of sliders-train, the
//! baseline being `benches/python/train_step_reference.py` (PyTorch eager, same networks, steps,
//! modes, batch and thread count).
//!
//! Cases `fader64`, `fader256`, `cgan64`: the iterations of [`sliders_bench`] (see there).
//!
//! Prints one line `ours: case=… steps_per_s=… ms_per_step=…` and, with
//! `--breakdown`, the mean milliseconds of each sub-step (synchronised after each; slower).
//! `--plain-backward` (Fader cases) updates each network by `zero_grad`, `backward()`, clipping
//! the `.grad`s and `Adam::step` (the path before the gradient-returning backward), to measure
//! that one; with `--plain-adam` too, the step is [`PlainAdam::step`] (the out-of-place update,
//! on its own moments). These variants are built here ([`plain_update`]) and in
//! [`sliders_bench::plain`], not in the production optimiser.
//!
//! `--channels-last` lays the Fader cases' images and convolution weights out channels-last
//! (`fader_train.channels_last`).
//!
//! `--case cl64` alternates, step by step in one process, the 64 px Fader iteration in the
//! standard layout and channels-last (two models), and prints both medians.
//!
//! `--case fed64` measures the data pipeline (issue #8: it must not be the bottleneck): the 64 px
//! Fader iteration fed as `FaderTrainer` feeds it (a `BatchSampler` over 2,048 in-memory 64 px
//! images with per-batch flips, its prefetch thread, `tensors::to_device`, two batches an
//! iteration) against the same iteration on resident batches. Blocks of `--steps` iterations
//! alternate (resident, fed, ...), three of each after the warm-up; prints the median block
//! steps/s of each and their ratio.
//!
//! `--case adam64` times only the two Adam updates of a 64 px Fader iteration, in-place against
//! plain, alternating in one process.
//!
//! `--case ab64` alternates, step by step, the current update with the plain-backward and
//! plain-backward + plain-Adam ones on the 64 px Fader iteration.
//!
//! usage: bench_step --case fader64|fader256|cgan64|cl64|fed64|adam64|ab64 [--device cpu|cuda]
//!        [--threads N] [--warmup W] [--steps S] [--breakdown] [--plain-adam] [--plain-backward] [--channels-last]

use sliders_bench::plain::PlainAdam;
use sliders_bench::{self as bench, FaderModels, Iteration, Parts, StepOptions, fader_batch, sync};
use sliders_celeba::{BatchSampler, BatchSource};
use sliders_config::data::SamplerConfig;
use sliders_metrics::stats::median;
use sliders_train::fader::{autoencoder_loss, lat_dis_loss};
use sliders_train::optim::Adam;
use sliders_train::tensors::to_device;
use std::sync::Arc;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

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

/// `--case adam64`: the optimizer alone on the 64 px autoencoder and latent discriminator (both
/// Adams, as in one Fader iteration), gradients computed once; in-place and plain steps
/// alternate `steps` times in this process, so load affects both alike. Returns (in-place ms,
/// plain ms) per iteration, medians.
fn adam_only(dev: Device, steps: usize) -> (f64, f64) {
    let m = FaderModels::new(64, dev, StepOptions::default());
    let mut plains = plain_adams(&m);
    let mut opts = [m.ae_opt, m.lat_opt];
    let x = Tensor::rand([8, 3, 64, 64], (Kind::Float, dev));
    let y = Tensor::zeros([8, 2], (Kind::Float, dev));
    let (_, _, loss) = autoencoder_loss(&m.ae, Some((&m.lat, 1.0)), &x, &y, 1.0);
    loss.backward();
    let mut times = [Vec::new(), Vec::new()];
    for i in 0..steps + 2 {
        for plain in [i % 2 == 1, i % 2 == 0] {
            let t0 = Instant::now();
            if plain {
                plains.iter_mut().for_each(PlainAdam::step);
            } else {
                opts.iter_mut().for_each(Adam::step);
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

/// `--case cl64`: the 64 px Fader iteration in the standard layout and channels-last, two
/// separate models in one process, alternating step by step (the order rotating), so machine load
/// hits both alike. Returns the median ms of each.
fn cl64(dev: Device, steps: usize) -> (f64, f64) {
    let build = |channels_last| {
        let opts = StepOptions {
            channels_last,
            cuda_graph: false,
            adam: None,
        };
        bench::iteration("fader64", dev, opts).expect("a known case")
    };
    let (mut plain, mut cl) = (build(false), build(true));
    let mut parts = Parts::default();
    let (mut t_plain, mut t_cl) = (Vec::new(), Vec::new());
    for i in 0..steps + 1 {
        for k in 0..2 {
            let is_plain = (i + k) % 2 == 0;
            let t0 = Instant::now();
            if is_plain {
                plain(&mut parts, false);
            } else {
                cl(&mut parts, false);
            }
            sync(dev);
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            if i > 0 {
                if is_plain {
                    t_plain.push(ms);
                } else {
                    t_cl.push(ms);
                }
            }
        }
    }
    (median(&t_plain), median(&t_cl))
}

/// `--case fed64`: median block steps/s of the 64 px Fader iteration on resident batches and fed
/// by the sampler (see the module doc).
fn fed64(dev: Device, warmup: usize, steps: usize) -> (f64, f64) {
    let mut m = FaderModels::new(64, dev, StepOptions::default());
    let (n, size) = (2048usize, 64usize);
    let pixels: Vec<u8> = (0..n * 3 * size * size)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let labels: Vec<f32> = (0..n)
        .flat_map(|i| [(i % 2) as f32, 1.0 - (i % 2) as f32])
        .collect();
    let source = Arc::new(BatchSource::from_memory(
        Arc::new(pixels),
        3,
        size,
        (0..n).collect(),
        labels,
        2,
    ));
    let sampler = SamplerConfig::default();
    let stream = BatchSampler::new(source, &sampler).prefetch(sampler.prefetch);
    let resident = [
        to_device(&stream.next_batch(), dev),
        to_device(&stream.next_batch(), dev),
    ];
    let mut iteration = |fed: bool| {
        let fresh;
        let [(x1, y1), (x2, y2)] = if fed {
            fresh = [
                to_device(&stream.next_batch(), dev),
                to_device(&stream.next_batch(), dev),
            ];
            &fresh
        } else {
            &resident
        };
        m.update((x1, y1), (x2, y2));
    };
    for i in 0..warmup {
        iteration(i % 2 == 1);
    }
    sync(dev);
    let (mut t_resident, mut t_fed) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        for fed in [false, true] {
            let t0 = Instant::now();
            for _ in 0..steps {
                iteration(fed);
            }
            sync(dev);
            let rate = steps as f64 / t0.elapsed().as_secs_f64();
            if fed {
                t_fed.push(rate);
            } else {
                t_resident.push(rate);
            }
        }
    }
    (median(&t_resident), median(&t_fed))
}

fn ab64(dev: Device, steps: usize) -> [f64; 3] {
    let mut m = FaderModels::new(64, dev, StepOptions::default());
    let mut plains = plain_adams(&m);
    let ((x1, y1), (x2, y2)) = (fader_batch(32, 64, dev), fader_batch(32, 64, dev));
    let variants = [(false, false), (true, false), (true, true)];
    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    for i in 0..steps + 1 {
        for k in 0..3 {
            let v = (i + k) % 3;
            let (backward, adam) = variants[v];
            let t0 = Instant::now();
            let variant = Plain { backward, adam };
            plain_update(&mut m, &mut plains, (&x1, &y1), (&x2, &y2), variant);
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

/// The optimiser variants the production update (gradient-returning backward, in-place Adam)
/// is measured against.
#[derive(Debug, Clone, Copy)]
struct Plain {
    /// `zero_grad`, `backward()` (into every leaf's `.grad`), clip the `.grad`s, step.
    backward: bool,
    /// [`PlainAdam::step`] (out of place) for the step; only with `backward`.
    adam: bool,
}

/// Clipping and latent-discriminator weight of [`FaderModels::update`].
const CLIP: f64 = 5.0;
const LAMBDA_LAT: f64 = 1e-4;

/// Out-of-place Adams over the models' variables: the latent discriminator's, the autoencoder's.
fn plain_adams(m: &FaderModels) -> [PlainAdam; 2] {
    [
        PlainAdam::new(&m.lat_vs, m.lat_opt.config()),
        PlainAdam::new(&m.ae_vs, m.ae_opt.config()),
    ]
}

/// One update of `opt` (or, with `v.adam`, of `plain` from `opt`'s clipped gradients) from
/// `loss`, as `v` says.
fn apply(opt: &mut Adam, plain: &mut PlainAdam, loss: &Tensor, v: Plain) {
    if !v.backward {
        return opt.backward_step_clip(loss, CLIP);
    }
    opt.zero_grad();
    loss.backward();
    opt.clip_grad_norm(CLIP);
    if v.adam {
        plain.step();
    } else {
        opt.step();
    }
}

/// [`FaderModels::update`] with the optimiser variant `v` (the same losses, in the same order).
fn plain_update(
    m: &mut FaderModels,
    [lat_plain, ae_plain]: &mut [PlainAdam; 2],
    (x1, y1): (&Tensor, &Tensor),
    (x2, y2): (&Tensor, &Tensor),
    v: Plain,
) {
    let loss = lat_dis_loss(&m.ae, &m.lat, x1, y1);
    apply(&mut m.lat_opt, lat_plain, &loss, v);
    let (_, _, loss) = autoencoder_loss(&m.ae, Some((&m.lat, LAMBDA_LAT)), x2, y2, 1.0);
    apply(&mut m.ae_opt, ae_plain, &loss, v);
}

/// The Fader iteration of `case` (`fader64`, `fader256`) with the optimiser variant `v`.
fn plain_iteration(case: &str, dev: Device, opts: StepOptions, v: Plain) -> Iteration {
    let img_sz = match case {
        "fader64" => 64,
        "fader256" => 256,
        c => panic!("--plain-backward / --plain-adam time the Fader cases, not {c}"),
    };
    assert!(
        v.backward,
        "--plain-adam goes with --plain-backward (or use --case adam64)"
    );
    let (mut m, [(x1, y1), (x2, y2)]) = bench::fader_case(img_sz, dev, opts);
    let mut plains = plain_adams(&m);
    Box::new(move |_: &mut Parts, _: bool| {
        plain_update(&mut m, &mut plains, (&x1, &y1), (&x2, &y2), v)
    })
}

/// The cases that compare variants in one process (`ab64`, `cl64`, `fed64`, `adam64`): runs
/// `a.case` and prints its line when it is one of them, and says whether it was.
fn paired_case(a: &Args) -> bool {
    if a.case == "ab64" {
        tch::set_num_threads(a.threads);
        let [new, pb, old] = ab64(a.device, a.steps);
        println!(
            "ours: case=ab64 threads={} current_ms={new:.1} plain_backward_ms={pb:.1} plain_backward_and_adam_ms={old:.1} (medians of {} rotating)",
            tch::get_num_threads(),
            a.steps
        );
        return true;
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
        return true;
    }
    if a.case == "fed64" {
        tch::set_num_threads(a.threads);
        tch::manual_seed(0);
        let (resident, fed) = fed64(a.device, a.warmup, a.steps);
        println!(
            "ours: case=fed64 threads={} resident_steps_per_s={resident:.4} fed_steps_per_s={fed:.4} fed_over_resident={:.4} (median blocks of {} steps, 3 each, alternating)",
            tch::get_num_threads(),
            fed / resident,
            a.steps
        );
        return true;
    }
    if a.case == "adam64" {
        tch::set_num_threads(a.threads);
        let (fast, plain) = adam_only(a.device, a.steps);
        println!(
            "ours: case=adam64 threads={} in_place_ms={fast:.2} plain_ms={plain:.2} (AE + lat_dis Adam steps, medians of {} alternating)",
            tch::get_num_threads(),
            a.steps
        );
        return true;
    }
    false
}

fn main() {
    let a = parse();
    if paired_case(&a) {
        return;
    }
    tch::set_num_threads(a.threads);
    tch::manual_seed(0);
    let opts = StepOptions {
        channels_last: a.channels_last,
        cuda_graph: false,
        adam: None,
    };
    let plain = Plain {
        backward: a.plain_backward,
        adam: a.plain_adam,
    };
    let mut step = if a.plain_backward || a.plain_adam {
        plain_iteration(&a.case, a.device, opts, plain)
    } else {
        bench::iteration(&a.case, a.device, opts).unwrap_or_else(|e| panic!("{e}"))
    };
    let rate = bench::steps_per_sec(&mut step, a.device, a.warmup, a.steps);
    println!(
        "ours: case={} device={} threads={} steps={} steps_per_s={rate:.4} ms_per_step={:.2}{}",
        a.case,
        if a.device.is_cuda() { "cuda" } else { "cpu" },
        tch::get_num_threads(),
        a.steps,
        1e3 / rate,
        match (a.plain_adam, a.plain_backward) {
            (true, _) => " adam=plain backward=plain",
            (false, true) => " backward=plain",
            (false, false) => "",
        }
    );
    if a.breakdown {
        let mut parts = Parts::default();
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
