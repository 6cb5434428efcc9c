//! The Fader loop's single steps: modes of the frozen networks and overfitting a fixed batch.

mod fixture;

use fixture::{fader_experiment, lock, prepared, temp_dir};
use sliders_celeba::Part;
use sliders_config::train::FaderTrainConfig;
use sliders_train::FaderTrainer;
use sliders_train::tensors::to_device;
use tch::{Device, Kind, Tensor, nn::VarStore};

fn snapshot(vs: &VarStore, suffix: &str) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(k, _)| k.ends_with(suffix))
        .map(|(k, t)| (k, t.copy()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!v.is_empty(), "no variable ends with {suffix}");
    v
}

fn unchanged(before: &[(String, Tensor)], vs: &VarStore) -> bool {
    let now = vs.variables();
    before.iter().all(|(k, t)| now[k].equal(t))
}

fn fixed_batch(trainer_data: &sliders_celeba::Prepared) -> (Tensor, Tensor) {
    let batch = trainer_data.eval_batches(Part::Train, 16).next().unwrap();
    to_device(&batch, Device::Cpu)
}

#[test]
fn the_latent_discriminator_step_uses_the_autoencoder_frozen_and_in_eval_mode() {
    let _g = lock();
    let data = prepared(&["Male"]);
    let exp = fader_experiment(
        temp_dir("modes-lat"),
        &["Male"],
        FaderTrainConfig::default(),
    );
    let mut t = FaderTrainer::new(&exp, &data).unwrap();
    let (x, y) = fixed_batch(&data);
    let (ae_vs, _) = t.autoencoder();
    let stats = snapshot(ae_vs, "running_mean");
    let weights = snapshot(ae_vs, "weight");
    let lat_stats = snapshot(t.latent_discriminator().0, "running_mean");
    let _ = t.lat_dis_step(&x, &y);
    let (ae_vs, _) = t.autoencoder();
    // In train mode the encoder's batch norms would have updated their running statistics.
    assert!(
        unchanged(&stats, ae_vs),
        "the autoencoder's BN statistics moved: it ran in train mode"
    );
    assert!(
        unchanged(&weights, ae_vs),
        "the autoencoder's weights moved in the discriminator step"
    );
    assert!(
        !unchanged(&lat_stats, t.latent_discriminator().0),
        "the discriminator itself must train"
    );
}

#[test]
fn the_autoencoder_step_uses_the_latent_discriminator_frozen_and_in_eval_mode() {
    let _g = lock();
    let data = prepared(&["Male"]);
    let exp = fader_experiment(temp_dir("modes-ae"), &["Male"], FaderTrainConfig::default());
    let mut t = FaderTrainer::new(&exp, &data).unwrap();
    let (x, y) = fixed_batch(&data);
    let lat_stats = snapshot(t.latent_discriminator().0, "running_mean");
    let lat_weights = snapshot(t.latent_discriminator().0, "weight");
    let ae_stats = snapshot(t.autoencoder().0, "running_mean");
    let _ = t.autoencoder_step(&x, &y, [1e-2, 0.0, 0.0]);
    assert!(
        unchanged(&lat_stats, t.latent_discriminator().0),
        "the latent discriminator's BN statistics moved: it ran in train mode"
    );
    assert!(
        unchanged(&lat_weights, t.latent_discriminator().0),
        "the discriminator was updated by the autoencoder step"
    );
    assert!(
        !unchanged(&ae_stats, t.autoencoder().0),
        "the autoencoder itself must run in train mode"
    );
}

#[test]
fn both_steps_overfit_one_fixed_batch() {
    let _g = lock();
    let data = prepared(&["Male"]);
    let exp = fader_experiment(temp_dir("overfit"), &["Male"], FaderTrainConfig::default());
    let mut t = FaderTrainer::new(&exp, &data).unwrap();
    let (x, y) = fixed_batch(&data);
    let first_rec = t.autoencoder_step(&x, &y, [0.0; 3]).double_value(&[]);
    let mut rec = first_rec;
    for _ in 0..60 {
        rec = t.autoencoder_step(&x, &y, [0.0; 3]).double_value(&[]);
    }
    assert!(
        rec < 0.5 * first_rec,
        "reconstruction {first_rec} → {rec}: no overfitting"
    );
    let first_dis = t.lat_dis_step(&x, &y).double_value(&[]);
    let mut dis = first_dis;
    for _ in 0..40 {
        dis = t.lat_dis_step(&x, &y).double_value(&[]);
    }
    assert!(
        dis < 0.5 * first_dis,
        "latent discriminator CE {first_dis} → {dis}: no overfitting"
    );
    assert!(x.kind() == Kind::Float);
}
