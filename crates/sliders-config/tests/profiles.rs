//! Every profile under `experiments/` loads as `cargo xtask reproduce` layers it (the profile's
//! `data.toml`, then each kind's file; `digits.toml` alone), holds only its kind's sections,
//! validates, and gives the values its files set (a few checked per kind and profile).

use sliders_config::load::{Layer, load};
use sliders_config::train::{Experiment, ExperimentKind, SECTIONS};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn experiments() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
}

/// Loads `files` (no environment variables) and checks what every experiment must satisfy.
fn load_checked(files: &[PathBuf]) -> Experiment {
    let layers: Vec<Layer> = files.iter().map(|f| Layer::from_file(f).unwrap()).collect();
    let (mut exp, merged) =
        load::<Experiment>(&layers).unwrap_or_else(|e| panic!("{files:?}: {e}"));
    let own = exp.kind().sections();
    for key in merged.keys().filter(|k| SECTIONS.contains(&k.as_str())) {
        assert!(own.contains(&key.as_str()), "{files:?}: [{key}]");
    }
    exp.fill_eval_defaults();
    exp.validate().unwrap_or_else(|e| panic!("{files:?}: {e}"));
    exp
}

/// Every experiment of every profile folder (one with a `data.toml`), by `profile/file`.
fn every_profile() -> BTreeMap<String, Experiment> {
    let mut out = BTreeMap::new();
    for dir in std::fs::read_dir(experiments()).unwrap() {
        let dir = dir.unwrap().path();
        let data = dir.join("data.toml");
        if !data.is_file() {
            continue;
        }
        let profile = dir.file_name().unwrap().to_string_lossy().to_string();
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            let name = file.file_stem().unwrap().to_string_lossy().to_string();
            if file.extension().is_none_or(|e| e != "toml")
                || ["data", "pipeline"].contains(&name.as_str())
            {
                continue;
            }
            let files = if name == "digits" {
                vec![file.clone()]
            } else {
                vec![data.clone(), file.clone()]
            };
            out.insert(format!("{profile}/{name}"), load_checked(&files));
        }
    }
    out
}

#[test]
fn every_profile_loads_to_the_values_its_files_set() {
    let all = every_profile();
    for profile in ["smoke", "quick", "paper"] {
        for kind in ["fader", "classifier", "cgan", "encoders", "eval", "digits"] {
            let exp = &all[&format!("{profile}/{kind}")];
            assert_eq!(exp.kind(), ExperimentKind::from_name(kind).unwrap());
            assert_eq!(
                exp.run_dir,
                Path::new("data/runs").join(profile).join(match kind {
                    "fader" => "fader-smiling",
                    "encoders" => "encoders-ind",
                    "digits" => "digits-mnist",
                    k => k,
                })
            );
        }
    }
    assert!(all.len() >= 18, "{:?}", all.keys());

    let fader = &all["smoke/fader"];
    assert_eq!(fader.data.image_size, 32);
    assert_eq!(fader.fader().n_layers, 4);
    let t = fader.fader_train();
    assert_eq!(
        (t.total_steps, t.lambda_schedule, t.eval_max_images),
        (1200, 600, 256)
    );
    assert_eq!(t.lambda_lat_dis, 1e-2);
    assert_eq!(all["quick/fader"].fader_train().total_steps, 8000);
    assert_eq!(all["quick/fader"].data.image_size, 64);
    assert_eq!(all["paper/fader"].fader().n_layers, 7);
    assert_eq!(all["paper/fader"].data.image_size, 256);

    assert_eq!(all["smoke/classifier"].classifier_train().total_steps, 600);
    assert_eq!(
        all["paper/classifier"].classifier_train().total_steps,
        60000
    );

    assert_eq!(all["smoke/cgan"].icgan().ngf, 24);
    assert_eq!(all["smoke/cgan"].cgan_train().total_steps, 1500);
    assert_eq!(all["paper/cgan"].cgan_train().total_steps, 71350);
    assert_eq!(all["paper/cgan"].data.image_size, 64);

    let enc = all["smoke/encoders"].encoder_train();
    assert_eq!((enc.dataset_size, enc.epochs), (12800, 2));
    assert_eq!(enc.cgan_run, Path::new("data/runs/smoke/cgan"));
    assert_eq!(all["smoke/encoders"].icgan_encoder().nf, 32);

    let eval = all["smoke/eval"].eval();
    assert_eq!((eval.images_per_value, eval.fid), (50, false));
    assert_eq!(eval.attributes.len(), 5, "filled from data.attributes");
    let young = all["quick/eval"].eval().grid_alphas_for("Young");
    assert_eq!((young[0], young[young.len() - 1]), (-9.0, 10.0));

    let digits = &all["smoke/digits"];
    assert_eq!(digits.cgan_train().total_steps, 300);
    assert_eq!(digits.digits().max_test_images, 500);
    assert_eq!(digits.classifier_train().total_steps, 200);
    assert_eq!(all["quick/digits"].cgan_train().total_steps, 5000);
    assert_eq!(all["paper/digits"].encoder_train().dataset_size, 60160);
}
