//! IcGAN's loops on synthetic faces at 32 px (docs/icgan.md#conditional-gan, #encoders): the
//! frozen/detached network of each cGAN step, overfitting a fixed batch (D and every encoder),
//! resume equivalence of the cGAN and encoder loops, a short cGAN run whose samples follow y, and
//! the encoder dataset and runs.

mod fixture;

use fixture::{
    cgan_experiment, deterministic_cuda, encoder_experiment, icgan_data_config, lock,
    metrics_without_timing, prepared_with, same_weights, temp_dir, weights_within,
};
use sliders_celeba::{Part, Prepared};
use sliders_config::nets::EncoderKind;
use sliders_config::train::{CganTrainConfig, DeviceChoice, EncoderTrainConfig};
use sliders_train::tensors::to_device;
use sliders_train::{CganTrainer, EncoderTrainer, Event};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use tch::{Device, Kind, Tensor, nn::VarStore};

const ATTRS: [&str; 3] = ["Eyeglasses", "Male", "Smiling"];

fn data() -> Prepared {
    prepared_with(&icgan_data_config(&ATTRS))
}

fn small_cgan(total_steps: u64) -> CganTrainConfig {
    CganTrainConfig {
        total_steps,
        epoch_size: 6 * 32,
        checkpoint_every: 4,
        log_every: 2,
        bn_refresh_steps: 3,
        bn_refresh_batch: 32,
        sample_rows: 2,
        ..CganTrainConfig::default()
    }
}

fn snapshot(vs: &VarStore, trainable: bool) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad() == trainable)
        .map(|(k, t)| (k, t.copy()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!v.is_empty());
    v
}

fn unchanged(before: &[(String, Tensor)], vs: &VarStore) -> bool {
    let now = vs.variables();
    before.iter().all(|(k, t)| now[k].equal(t))
}

fn fixed_batch(data: &Prepared, n: usize) -> (Tensor, Tensor) {
    let batch = data.eval_batches(Part::Train, n).next().unwrap();
    to_device(&batch, Device::Cpu)
}

#[test]
fn the_d_step_leaves_g_alone_and_the_g_step_leaves_d_alone() {
    let _g = lock();
    let data = data();
    let exp = cgan_experiment(temp_dir("icgan-modes"), &ATTRS, small_cgan(10));
    let mut t = CganTrainer::new(&exp, &data).unwrap();
    let (x, y) = fixed_batch(&data, 16);
    let y_wrong = t.wrong_labels(&y);
    assert_eq!(
        y_wrong
            .eq_tensor(&y)
            .all_dim(1, false)
            .any()
            .int64_value(&[]),
        0,
        "a mismatched label row equals the real one"
    );
    let y_fake = t.labels().narrow(0, 0, 16);
    let z = Tensor::randn([16, 100], (Kind::Float, Device::Cpu));
    let g_weights = snapshot(t.generator().0, true);
    let g_stats = snapshot(t.generator().0, false);
    let d_weights = snapshot(t.discriminator().0, true);
    let x_fake = t.generate(&z, &y_fake);
    assert!(
        !unchanged(&g_stats, t.generator().0),
        "G must generate in train mode (batch statistics)"
    );
    let _ = t.d_step(&x, &y, &y_wrong, &x_fake, &y_fake);
    assert!(
        unchanged(&g_weights, t.generator().0),
        "the D step changed G"
    );
    for (name, v) in t.generator().0.variables() {
        let g = v.grad();
        assert!(
            !g.defined() || g.abs().max().double_value(&[]) == 0.0,
            "the D step sent a gradient into G's {name}: x_fake was not detached"
        );
    }
    assert!(!unchanged(&d_weights, t.discriminator().0), "D must train");
    let d_weights = snapshot(t.discriminator().0, true);
    let d_stats = snapshot(t.discriminator().0, false);
    let _ = t.g_step(&x_fake, &y_fake);
    assert!(
        unchanged(&d_weights, t.discriminator().0),
        "the G step changed D's weights"
    );
    assert!(
        !unchanged(&d_stats, t.discriminator().0),
        "D runs in train mode in the G step, as the reference"
    );
    assert!(!unchanged(&g_weights, t.generator().0), "G must train");
}

#[test]
fn the_discriminator_overfits_one_fixed_batch() {
    let _g = lock();
    let data = data();
    let exp = cgan_experiment(temp_dir("icgan-overfit-d"), &ATTRS, small_cgan(10));
    let mut t = CganTrainer::new(&exp, &data).unwrap();
    let (x, y) = fixed_batch(&data, 32);
    let y_wrong = t.wrong_labels(&y);
    let y_fake = t.labels().narrow(0, 32, 32);
    let z = Tensor::randn([32, 100], (Kind::Float, Device::Cpu));
    let x_fake = tch::no_grad(|| t.generate(&z, &y_fake));
    let first = t
        .d_step(&x, &y, &y_wrong, &x_fake, &y_fake)
        .0
        .double_value(&[]);
    let mut last = first;
    for _ in 0..30 {
        last = t
            .d_step(&x, &y, &y_wrong, &x_fake, &y_fake)
            .0
            .double_value(&[]);
    }
    assert!(
        last < 0.5 * first,
        "D loss {first} → {last}: no overfitting"
    );
}

/// On CUDA (ignored elsewhere; docs/gpu.md#cuda-graphs): a cGAN run whose iteration is a
/// replayed CUDA graph captures it and trains as the eager run does (the draws are made eagerly
/// either way; deterministic cuDNN, but autotuning may pick other algorithms, hence a tolerance).
#[test]
#[ignore = "needs a CUDA device"]
fn a_cuda_cgan_run_with_the_graphed_iteration_trains_as_the_eager_one() {
    let _g = deterministic_cuda();
    let data = data();
    let mut runs = Vec::new();
    for graph in [false, true] {
        let train = CganTrainConfig {
            cuda_graph: graph,
            ..small_cgan(12)
        };
        let dir = temp_dir(if graph { "cgan-graphed" } else { "cgan-eager" });
        let mut exp = cgan_experiment(dir, &ATTRS, train);
        exp.device = DeviceChoice::Cuda;
        let mut t = CganTrainer::new(&exp, &data).unwrap();
        t.run(&mut |_| {}).unwrap();
        assert_eq!(t.iteration_is_graphed(), graph);
        runs.push(t);
    }
    weights_within(runs[0].generator().0, runs[1].generator().0, 1e-3).unwrap();
}

#[test]
fn an_interrupted_and_resumed_cgan_run_ends_with_the_same_weights() {
    let _g = lock();
    let data = data();
    let straight_dir = temp_dir("icgan-resume-straight");
    let exp = cgan_experiment(straight_dir.clone(), &ATTRS, small_cgan(14));
    let mut straight = CganTrainer::new(&exp, &data).unwrap();
    straight.run(&mut |_| {}).unwrap();

    let broken_dir = temp_dir("icgan-resume-broken");
    let exp = cgan_experiment(broken_dir.clone(), &ATTRS, small_cgan(14));
    let mut first = CganTrainer::new(&exp, &data).unwrap();
    // Die at step 10: after the checkpoint of step 8 and the epoch end (samples) of step 6.
    let died = catch_unwind(AssertUnwindSafe(|| {
        first
            .run(&mut |e| {
                if let Event::Logged { step: 10, .. } = e {
                    panic!("simulated crash");
                }
            })
            .unwrap();
    }));
    assert!(died.is_err());
    drop(first);
    let mut resumed = CganTrainer::new(&exp, &data).unwrap();
    assert_eq!(
        resumed.counters().step,
        8,
        "resumes from the last checkpoint"
    );
    resumed.run(&mut |_| {}).unwrap();
    same_weights(straight.generator().0, resumed.generator().0).unwrap();
    same_weights(straight.discriminator().0, resumed.discriminator().0).unwrap();
    assert_eq!(straight.counters(), resumed.counters());
    assert_eq!(
        metrics_without_timing(&straight_dir.join("metrics.csv")),
        metrics_without_timing(&broken_dir.join("metrics.csv")),
        "metrics rows repeated or skipped"
    );
    for f in [
        "G.safetensors",
        "D.safetensors",
        "samples/epoch_001.png",
        "samples/epoch_003.png",
        "samples/final.png",
    ] {
        assert!(broken_dir.join(f).is_file(), "{f} missing");
    }
    let info = sliders_nets::checkpoint::read_info(broken_dir.join("G.safetensors")).unwrap();
    assert_eq!(info.metadata["sliders.bn_refreshed"], "true");
    assert_eq!(info.metadata["sliders.framing"], "icgan");
    assert!(info.metadata["sliders.attributes"].contains("Eyeglasses"));
}

/// Per attribute, the cosine between the generated mean difference
/// `mean G(z, y with a = +1) − mean G(z, y with a = −1)` (same z and other attributes, G in eval
/// mode) and the real one `mean(x | a = +1) − mean(x | a = −1)` over the training images.
fn attribute_alignment(t: &CganTrainer, data: &Prepared) -> Vec<f64> {
    tch::no_grad(|| {
        let (x, y) = fixed_batch(data, 1000);
        let n = 256;
        let base = t.labels().narrow(0, 0, n);
        let z = Tensor::randn([n, 100], (Kind::Float, Device::Cpu));
        (0..ATTRS.len() as i64)
            .map(|a| {
                let on = y.select(1, a).gt(0.0);
                let real = x
                    .index(&[Some(on.shallow_clone())])
                    .mean_dim(0, false, Kind::Float)
                    - x.index(&[Some(on.logical_not())])
                        .mean_dim(0, false, Kind::Float);
                let set = |v: f64| {
                    let yy = base.copy();
                    let _ = yy.select(1, a).fill_(v);
                    t.generator()
                        .1
                        .forward_t(&z, &yy, false)
                        .mean_dim(0, false, Kind::Float)
                };
                let fake = set(1.0) - set(-1.0);
                let dot = (&real * &fake).sum(Kind::Float).double_value(&[]);
                dot / (real.norm().double_value(&[]) * fake.norm().double_value(&[]) + 1e-12)
            })
            .collect()
    })
}

// MEASURED (seed 7, 400 steps, batch 32): alignment before [-0.040, -0.019, -0.004], after
// [0.751, 0.703, 0.700] for Eyeglasses, Male, Smiling; D(x) 0.55 → 0.69, D(G(z)) 0.42 → 0.43.
// The run took 585 s on the shared 2-core CPU (others compiling), far over the test budget, so it
// is ignored by default: `cargo test -p sliders-train --test icgan -- --ignored`.
#[test]
#[ignore = "about 10 minutes on a loaded 2-core CPU; run with --ignored"]
fn a_short_cgan_run_makes_samples_that_follow_y() {
    let _g = lock();
    let data = data();
    let dir = temp_dir("icgan-learns");
    let train = CganTrainConfig {
        total_steps: 400,
        epoch_size: 200 * 32,
        checkpoint_every: 10_000,
        log_every: 50,
        bn_refresh_steps: 100,
        bn_refresh_batch: 64,
        ..CganTrainConfig::default()
    };
    let exp = cgan_experiment(dir.clone(), &ATTRS, train);
    let mut t = CganTrainer::new(&exp, &data).unwrap();
    let before = attribute_alignment(&t, &data);
    let start = std::time::Instant::now();
    let mut logged = Vec::new();
    t.run(&mut |e| {
        if let Event::Logged { step, values, .. } = e {
            logged.push((step, values));
        }
    })
    .unwrap();
    let after = attribute_alignment(&t, &data);
    eprintln!(
        "cGAN run {:?}; alignment before {before:?} after {after:?}; logs {logged:?}",
        start.elapsed()
    );
    // Measured 0.70-0.75 (see above); 0.3 keeps a wide margin over the ~0 of an untrained G.
    for (a, name) in ATTRS.iter().enumerate() {
        assert!(
            after[a] >= 0.3,
            "{name}: generated attribute direction {:.3} (before {:.3}) does not follow the data",
            after[a],
            before[a]
        );
    }
    assert!(dir.join("samples/final.png").is_file());
    assert!(dir.join("samples/epoch_002.png").is_file());
}

/// A tiny cGAN run whose G the encoder tests use.
fn tiny_cgan_run(data: &Prepared) -> PathBuf {
    let dir = temp_dir("icgan-for-encoders");
    let exp = cgan_experiment(dir.clone(), &ATTRS, small_cgan(4));
    CganTrainer::new(&exp, data)
        .unwrap()
        .run(&mut |_| {})
        .unwrap();
    dir
}

fn encoder_train(cgan_run: PathBuf) -> EncoderTrainConfig {
    EncoderTrainConfig {
        cgan_run,
        dataset_size: 200,
        generate_batch: 64,
        batch_size: 32,
        epochs: 2,
        log_every: 2,
        checkpoint_every: 100,
        eval_max_images: 64,
        ..EncoderTrainConfig::default()
    }
}

fn falls_by_half(name: &str, steps: usize, mut step: impl FnMut() -> f64) {
    let first = step();
    let mut last = first;
    for _ in 0..steps {
        last = step();
    }
    eprintln!("overfit {name}: {first} → {last} in {steps} steps");
    assert!(
        last < 0.5 * first,
        "{name}: {first} → {last}: no overfitting"
    );
}

#[test]
fn every_encoder_overfits_one_fixed_batch_and_a_run_saves_it() {
    let _g = lock();
    let data = data();
    let cgan = tiny_cgan_run(&data);
    let (x_real, y_real) = fixed_batch(&data, 32);
    for kind in [EncoderKind::Ind, EncoderKind::Sng, EncoderKind::IndCond] {
        let dir = temp_dir(&format!("icgan-enc-{kind:?}"));
        // lr 1e-3 instead of the reference's 1e-4: at 1e-4 the IND-COND Ez went only from 1.05 to
        // 0.65 in 120 steps on this batch; the test checks the steps, not the schedule.
        let mut train = encoder_train(cgan.clone());
        train.optimizer.lr = 1e-3;
        let exp = encoder_experiment(dir.clone(), &ATTRS, kind, train);
        let mut t = EncoderTrainer::new(&exp, &data).unwrap();
        let ds = t.dataset();
        assert_eq!((ds.len(), ds.train_len()), (200, 132));
        assert_eq!(ds.shape(), [200, 3, 32, 32]);
        let idx: Vec<i64> = (0..32).collect();
        let (x, z, y) = ds.batch(&idx, Device::Cpu);
        assert!(x.min().double_value(&[]) >= -1.0 && x.max().double_value(&[]) <= 1.0);
        match kind {
            EncoderKind::Ind => {
                falls_by_half("Ez", 40, || t.ez_step(&x, &z, None).double_value(&[]));
                falls_by_half("Ey", 40, || t.ey_step(&x_real, &y_real).double_value(&[]));
            }
            EncoderKind::IndCond => {
                // The untrained test G makes nearly identical images (per-pixel spread across
                // this batch measured 0.0045, against 0.31 for real faces), so after the first
                // BN the y maps, which do vary, drown the image signal: on those images the
                // conditioned Ez fell only 1.28 → 0.78 in 40 steps. The step itself is checked
                // on varied images (real faces with their labels, the generated z as targets),
                // where it overfits as fast as IND's Ez (measured 1.04 → 0.005).
                let spread = |t: &tch::Tensor| {
                    t.std_dim(0i64, true, false)
                        .mean(tch::Kind::Float)
                        .double_value(&[])
                };
                assert!(spread(&x) < 0.05 && spread(&x_real) > 0.2);
                falls_by_half("Ez cond", 40, || {
                    t.ez_step(&x_real, &z, Some(&y_real)).double_value(&[])
                });
            }
            EncoderKind::Sng => {
                falls_by_half("SNG", 40, || {
                    let (lz, ly) = t.sng_step(&x, &z, &y);
                    (lz + ly).double_value(&[])
                });
            }
        }
        let counters = t.run(&mut |_| {}).unwrap();
        assert_eq!(counters.step, 2 * 4);
        let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
        assert_eq!(
            metrics.lines().filter(|l| l.contains(",eval,")).count(),
            2,
            "{metrics}"
        );
        let files: &[&str] = match kind {
            EncoderKind::Sng => &["sng.safetensors", "best_sng.safetensors"],
            _ => &["ez.safetensors", "ey.safetensors", "best_ez.safetensors"],
        };
        for f in files {
            assert!(dir.join(f).is_file(), "{kind:?}: {f} missing");
        }
    }
}

#[test]
fn an_interrupted_and_resumed_encoder_run_ends_with_the_same_weights() {
    let _g = lock();
    let data = data();
    let cgan = tiny_cgan_run(&data);
    for kind in [EncoderKind::IndCond, EncoderKind::Sng] {
        let train = EncoderTrainConfig {
            epochs: 3,
            checkpoint_every: 5,
            ..encoder_train(cgan.clone())
        };
        let straight_dir = temp_dir(&format!("icgan-enc-resume-straight-{kind:?}"));
        let exp = encoder_experiment(straight_dir.clone(), &ATTRS, kind, train.clone());
        let mut straight = EncoderTrainer::new(&exp, &data).unwrap();
        straight.run(&mut |_| {}).unwrap();

        let broken_dir = temp_dir(&format!("icgan-enc-resume-broken-{kind:?}"));
        let exp = encoder_experiment(broken_dir.clone(), &ATTRS, kind, train);
        let mut first = EncoderTrainer::new(&exp, &data).unwrap();
        // Die at step 8, before that epoch end's checkpoint: the last one is the mid-epoch
        // checkpoint of step 5, so the resumed run must rebuild epoch 2's permutation and the
        // real-image stream position.
        let died = catch_unwind(AssertUnwindSafe(|| {
            first
                .run(&mut |e| {
                    if let Event::Logged { step: 8, .. } = e {
                        panic!("simulated crash");
                    }
                })
                .unwrap();
        }));
        assert!(died.is_err());
        drop(first);
        let mut resumed = EncoderTrainer::new(&exp, &data).unwrap();
        assert_eq!(resumed.counters().step, 5, "{kind:?}: resumes from step 5");
        resumed.run(&mut |_| {}).unwrap();
        match kind {
            EncoderKind::Sng => {
                same_weights(straight.sng().unwrap().0, resumed.sng().unwrap().0).unwrap()
            }
            _ => {
                same_weights(straight.ez().unwrap().0, resumed.ez().unwrap().0).unwrap();
                same_weights(straight.ey().unwrap().0, resumed.ey().unwrap().0).unwrap();
            }
        }
        assert_eq!(straight.counters(), resumed.counters());
        assert_eq!(
            metrics_without_timing(&straight_dir.join("metrics.csv")),
            metrics_without_timing(&broken_dir.join("metrics.csv")),
            "{kind:?}: metrics rows repeated or skipped"
        );
    }
}

/// On CUDA (ignored elsewhere; docs/gpu.md#cuda-graphs): an IND-COND encoder run (both `Ez` and
/// `Ey`) whose iteration is a replayed CUDA graph captures it and trains as the eager run does
/// (deterministic cuDNN, but autotuning may pick other algorithms, hence a tolerance).
#[test]
#[ignore = "needs a CUDA device"]
fn a_cuda_encoder_run_with_the_graphed_iteration_trains_as_the_eager_one() {
    let _g = deterministic_cuda();
    let data = data();
    let cgan = tiny_cgan_run(&data);
    let mut runs = Vec::new();
    for graph in [false, true] {
        let train = EncoderTrainConfig {
            cuda_graph: graph,
            ..encoder_train(cgan.clone())
        };
        let dir = temp_dir(if graph { "enc-graphed" } else { "enc-eager" });
        let mut exp = encoder_experiment(dir, &ATTRS, EncoderKind::IndCond, train);
        exp.device = DeviceChoice::Cuda;
        let mut t = EncoderTrainer::new(&exp, &data).unwrap();
        t.run(&mut |_| {}).unwrap();
        assert_eq!(t.iteration_is_graphed(), graph);
        runs.push(t);
    }
    weights_within(runs[0].ez().unwrap().0, runs[1].ez().unwrap().0, 1e-3).unwrap();
    weights_within(runs[0].ey().unwrap().0, runs[1].ey().unwrap().0, 1e-3).unwrap();
}
