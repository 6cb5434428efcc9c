//! The channels-last option (`fader_train.channels_last`) computes the same Fader update as the
//! standard layout, within float tolerance, and its state saves and restores.

use sliders_config::nets::FaderConfig;
use sliders_nets::{FaderAutoEncoder, LatentDiscriminator};
use sliders_train::fader::{autoencoder_update, lat_dis_update};
use sliders_train::layout::{channels_last, is_channels_last, vars_to_channels_last};
use sliders_train::optim::{Adam, AdamConfig};
use sliders_train::state::{self, Counters, Slot};
use std::collections::HashMap;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

struct Model {
    ae_vs: VarStore,
    ae: FaderAutoEncoder,
    lat_vs: VarStore,
    lat: LatentDiscriminator,
}

fn model(cfg: &FaderConfig) -> Model {
    tch::manual_seed(5);
    let ae_vs = VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&ae_vs.root(), cfg).unwrap();
    let lat_vs = VarStore::new(Device::Cpu);
    let lat = LatentDiscriminator::new(&lat_vs.root(), cfg).unwrap();
    Model {
        ae_vs,
        ae,
        lat_vs,
        lat,
    }
}

/// A copy of every variable of `vs`, by name.
fn snapshot(vs: &VarStore) -> HashMap<String, Tensor> {
    vs.variables()
        .into_iter()
        .map(|(k, v)| (k, v.detach().copy()))
        .collect()
}

/// `‖Δa − Δb‖ / ‖Δa‖` over all variables, where `Δ` is each store's change since `start`.
///
/// Adam moves every weight by about ±lr whatever its gradient's size, so a weight whose gradient
/// is float noise moves by ±lr on either layout with a random sign: weight-wise differences of
/// 2·lr are expected and say nothing. The whole update is what must agree.
fn update_difference(start: &HashMap<String, Tensor>, a: &VarStore, b: &VarStore) -> f64 {
    let (va, vb) = (a.variables(), b.variables());
    let (mut diff, mut norm) = (0.0, 0.0);
    for (k, s) in start {
        let (da, db) = (&va[k] - s, &vb[k] - s);
        diff += (&da - &db).square().sum(Kind::Double).double_value(&[]);
        norm += da.square().sum(Kind::Double).double_value(&[]);
    }
    (diff / norm).sqrt()
}

#[test]
fn the_channels_last_step_is_the_standard_step() {
    let cfg = FaderConfig {
        init_fm: 16,
        max_fm: 64,
        hid_dim: 64,
        ..FaderConfig::small(32)
    };
    let plain = model(&cfg);
    let fast = model(&cfg);
    let (ae_start, lat_start) = (snapshot(&plain.ae_vs), snapshot(&plain.lat_vs));
    for (k, v) in fast.ae_vs.variables() {
        assert!(v.equal(&ae_start[&k]), "same seed, same weights: {k}");
    }
    vars_to_channels_last(&fast.ae_vs);
    vars_to_channels_last(&fast.lat_vs);
    let relaid = fast
        .ae_vs
        .trainable_variables()
        .iter()
        .filter(|v| v.dim() == 4)
        .all(is_channels_last);
    assert!(relaid, "every conv weight is channels-last");
    let mut opts: Vec<(Adam, Adam)> = [&plain, &fast]
        .iter()
        .map(|m| {
            (
                Adam::new(&m.ae_vs, AdamConfig::fader()),
                Adam::new(&m.lat_vs, AdamConfig::fader()),
            )
        })
        .collect();
    let (mut fast_opt, mut plain_opt) = (opts.pop().unwrap(), opts.pop().unwrap());
    let x = Tensor::rand([8, 3, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
    let y = Tensor::randint(2, [8], (Kind::Int64, Device::Cpu))
        .one_hot(2)
        .to_kind(Kind::Float);
    let x_cl = channels_last(&x);
    for step in 0..3 {
        for (m, opt, input) in [(&plain, &mut plain_opt, &x), (&fast, &mut fast_opt, &x_cl)] {
            // The same dropout masks on both sides.
            tch::manual_seed(100 + step);
            let _ = lat_dis_update(&m.ae, &m.lat, &mut opt.1, input, &y, 5.0);
            let _ =
                autoencoder_update(&m.ae, Some((&m.lat, 1e-2)), &mut opt.0, input, &y, 1.0, 5.0);
        }
    }
    let (d_ae, d_lat) = (
        update_difference(&ae_start, &plain.ae_vs, &fast.ae_vs),
        update_difference(&lat_start, &plain.lat_vs, &fast.lat_vs),
    );
    println!("relative update difference: ae {d_ae:e}, lat_dis {d_lat:e}");
    assert!(
        d_ae < 0.01 && d_lat < 0.01,
        "ae {d_ae:e}, lat_dis {d_lat:e}"
    );
    // A different update is caught: one more step on one side only.
    tch::manual_seed(7);
    let _ = autoencoder_update(&fast.ae, None, &mut fast_opt.0, &x_cl, &y, 1.0, 5.0);
    let d = update_difference(&ae_start, &plain.ae_vs, &fast.ae_vs);
    assert!(d > 0.2, "{d}");

    // The resumable state of channels-last variables saves (as the standard layout) and restores
    // into channels-last variables.
    let dir = std::env::temp_dir().join(format!("sliders-cl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut fast = fast;
    let counters = Counters::default();
    state::save(
        &dir,
        &mut [Slot {
            name: "ae",
            vs: &mut fast.ae_vs,
            opt: &mut fast_opt.0,
        }],
        &counters,
    )
    .unwrap();
    let mut back = model(&cfg);
    vars_to_channels_last(&back.ae_vs);
    let mut back_opt = Adam::new(&back.ae_vs, AdamConfig::fader());
    state::load(
        &state::find(&dir).unwrap(),
        &mut [Slot {
            name: "ae",
            vs: &mut back.ae_vs,
            opt: &mut back_opt,
        }],
    )
    .unwrap();
    for (k, v) in fast.ae_vs.variables() {
        assert!(v.equal(&back.ae_vs.variables()[&k]), "{k}");
    }
    assert!(
        back.ae_vs
            .trainable_variables()
            .iter()
            .filter(|v| v.dim() == 4)
            .all(is_channels_last)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
