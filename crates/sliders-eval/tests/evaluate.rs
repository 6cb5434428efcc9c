//! The evaluation end to end on tiny synthetic data with small untrained models saved as
//! `sliders train` would: every table cell is there with its n and interval, FID is reported as
//! not computed (never as a number), and the synthetic-face machinery is exact (re-rendering a
//! test face reproduces its cached image; a perfect editor scores zero counterfactual error and a
//! do-nothing editor scores the input's).

use sliders_celeba::{Prepared, synthetic::SynthAttr};
use sliders_config::data::{AttributeSpec, DataConfig, SyntheticConfig};
use sliders_config::eval::EvalConfig;
use sliders_config::nets::{
    ClassifierConfig, EncoderKind, FaderConfig, IcganConfig, IcganEncoderConfig,
};
use sliders_config::train::{DeviceChoice, EvalSpec, Experiment, ExperimentKind, Spec};
use sliders_eval::table::{AttributeEdits, ROWS, TABLE};
use sliders_eval::testset::TestSet;
use sliders_eval::{Results, evaluate, synthetic};
use sliders_nets::checkpoint::save_with_metadata;
use sliders_nets::{EncoderRole, FaderAutoEncoder, FaderClassifier, IcganEncoder, IcganGenerator};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tch::{Device, nn::VarStore};

const ATTRS: [&str; 2] = ["Eyeglasses", "Smiling"];

fn root() -> PathBuf {
    std::env::temp_dir().join(format!("sliders-eval-test-{}", std::process::id()))
}

fn data_config() -> DataConfig {
    let root = root();
    DataConfig {
        celeba_dir: root.join("no-celeba-here"),
        cache_dir: root.join("cache"),
        image_size: 32,
        attributes: AttributeSpec::Names(ATTRS.iter().map(|s| s.to_string()).collect()),
        synthetic: SyntheticConfig {
            dir: root.join("synthetic"),
            n_images: 600,
            width: 64,
            seed: 5,
        },
        ..DataConfig::default()
    }
}

fn meta(attrs: &[&str]) -> String {
    serde_json::to_string(&attrs).unwrap()
}

/// Saves untrained models the way the trainers do and returns the eval config.
fn models(dir: &Path) -> EvalConfig {
    tch::manual_seed(1);
    std::fs::create_dir_all(dir).unwrap();
    let vs = VarStore::new(Device::Cpu);
    let clf_cfg = ClassifierConfig {
        img_sz: 32,
        init_fm: 8,
        max_fm: 32,
        hid_dim: 16,
        n_attr: 4,
        ..ClassifierConfig::default()
    };
    let clf = FaderClassifier::new(&vs.root(), &clf_cfg).unwrap();
    let classifier = dir.join("classifier.safetensors");
    save_with_metadata(
        &vs,
        &clf,
        &classifier,
        &[("sliders.attributes", &meta(&ATTRS))],
    )
    .unwrap();
    let mut fader_runs = Vec::new();
    for a in ATTRS {
        let run = dir.join(format!("fader-{a}"));
        std::fs::create_dir_all(&run).unwrap();
        let vs = VarStore::new(Device::Cpu);
        let cfg = FaderConfig {
            init_fm: 8,
            max_fm: 32,
            hid_dim: 16,
            n_attr: 2,
            ..FaderConfig::small(32)
        };
        let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
        save_with_metadata(
            &vs,
            &ae,
            run.join("best_rec_ae.safetensors"),
            &[("sliders.attributes", &meta(&[a]))],
        )
        .unwrap();
        fader_runs.push(run);
    }
    let cgan = dir.join("cgan");
    std::fs::create_dir_all(&cgan).unwrap();
    let vs = VarStore::new(Device::Cpu);
    let g_cfg = IcganConfig {
        img_sz: 32,
        ny: 2,
        ngf: 8,
        ndf: 8,
        ..IcganConfig::default()
    };
    let g = IcganGenerator::new(&vs.root(), &g_cfg).unwrap();
    save_with_metadata(
        &vs,
        &g,
        cgan.join("G.safetensors"),
        &[("sliders.attributes", &meta(&ATTRS))],
    )
    .unwrap();
    let enc = dir.join("encoders-ind");
    std::fs::create_dir_all(&enc).unwrap();
    let e_cfg = IcganEncoderConfig {
        kind: EncoderKind::Ind,
        img_sz: 32,
        ny: 2,
        nf: 8,
        n_conv_layers: 3,
        ..IcganEncoderConfig::default()
    };
    for (role, file) in [(EncoderRole::Z, "ez"), (EncoderRole::Y, "ey")] {
        let vs = VarStore::new(Device::Cpu);
        let net = IcganEncoder::new(&vs.root(), &e_cfg, role).unwrap();
        save_with_metadata(&vs, &net, enc.join(format!("{file}.safetensors")), &[]).unwrap();
    }
    EvalConfig {
        classifier,
        fader_runs,
        cgan_run: Some(cgan),
        encoder_runs: vec![enc],
        attributes: ATTRS.iter().map(|s| s.to_string()).collect(),
        images_per_value: 3,
        fid: false,
        batch_size: 5,
        alphas: vec![0.0, 1.0],
        grid_faces: 3,
        grid_alphas: vec![0.0, 2.0],
        grid_alphas_by_attribute: [("Eyeglasses".to_string(), vec![-5.0, 0.0, 1.0, 5.0])].into(),
        ..EvalConfig::default()
    }
}

/// The data, generated once per test binary (two tests generating at once would race).
fn prepared() -> Prepared {
    static GENERATED: Mutex<bool> = Mutex::new(false);
    let mut done = GENERATED.lock().unwrap_or_else(|e| e.into_inner());
    let p = sliders_celeba::prepare(&data_config(), &mut |_| {}).unwrap();
    *done = true;
    p
}

fn experiment(eval: EvalConfig) -> Experiment {
    Experiment {
        seed: 2,
        device: DeviceChoice::Cpu,
        data: data_config(),
        spec: Spec::Eval(EvalSpec { eval }),
        ..Experiment::new(ExperimentKind::Eval, root().join("eval"))
    }
}

fn check_table(r: &Results) {
    for attr in ATTRS {
        for row in ROWS {
            let c = r
                .get(TABLE, row, attr, "accuracy")
                .unwrap_or_else(|| panic!("{row}/{attr}"));
            let v = c.value.unwrap();
            assert_eq!(
                c.n, 6,
                "{row}/{attr}: the same 3 + 3 balanced images in every row"
            );
            assert!(c.low.unwrap() <= v && v <= c.high.unwrap(), "{c:?}");
            let fid = r.get(TABLE, row, attr, "fid").unwrap();
            assert!(
                fid.value.is_none() && fid.note.contains("switched off"),
                "{fid:?}"
            );
        }
        for row in ["IcGAN AE", "FadNet AE"] {
            let mse = r.get(TABLE, row, attr, "mse").unwrap().value.unwrap();
            let psnr = r.get(TABLE, row, attr, "psnr").unwrap().value.unwrap();
            // PSNR is the mean over images of 10·log10(4 / MSE_i): by Jensen at least the PSNR of
            // the pooled MSE.
            assert!(
                psnr.is_finite() && psnr >= 10.0 * (4.0 / mse).log10() - 1e-9,
                "{mse} {psnr}"
            );
        }
        assert!(r.get(TABLE, "Real Image", attr, "mse").is_none());
        for alpha in ["0", "1"] {
            let c = r
                .get(
                    "slider_response",
                    "absent",
                    attr,
                    &format!("p_judge@{alpha}"),
                )
                .unwrap();
            assert_eq!(c.n, 3);
            assert!((0.0..=1.0).contains(&c.value.unwrap()));
            // Synthetic faces: the true value of the same edits, on the same images.
            let t = r
                .get(
                    "slider_response",
                    "absent",
                    attr,
                    &format!("true_value@{alpha}"),
                )
                .unwrap();
            assert_eq!(t.n, 3);
            assert!((0.0..=1.0).contains(&t.value.unwrap()), "{t:?}");
        }
        let cf = r
            .get(synthetic::TABLE, "Input (unedited)", attr, "cf_mse")
            .unwrap();
        assert!(cf.value.unwrap() > 0.0, "flipping {attr} changes the face");
    }
    let ey = r.get("encoders", "IND", "all", "ey_accuracy").unwrap();
    assert_eq!(ey.n, 2 * 6, "two attributes on 6 images");
    let z = r.get("encoders", "IND", "all", "z_mse").unwrap();
    assert!(
        z.value.is_none(),
        "no encoder dataset in this run: missing, not zero"
    );
    let names: Vec<&str> = r.grids.iter().map(|g| g.name.as_str()).collect();
    let curves: Vec<&str> = r.curves.iter().map(|c| c.name.as_str()).collect();
    for want in ["response_Smiling", "response_truth_Smiling"] {
        assert!(curves.contains(&want), "{curves:?}");
    }
    for want in ["slide_Eyeglasses", "swap_Smiling", "encoders"] {
        assert!(names.contains(&want), "{names:?}");
    }
    let slide = r.grids.iter().find(|g| g.name == "slide_Smiling").unwrap();
    assert_eq!((slide.cells.len(), slide.cells[0].len()), (3, 4));
    // An attribute with its own range gets its own columns.
    let wide = r
        .grids
        .iter()
        .find(|g| g.name == "slide_Eyeglasses")
        .unwrap();
    assert_eq!((wide.cells.len(), wide.cells[0].len()), (3, 6));
    assert_eq!(wide.col_labels[2..], ["α=-5", "α=0", "α=1", "α=5"]);
}

#[test]
fn evaluation_of_untrained_models_fills_every_cell_honestly() {
    let data = prepared();
    let eval = models(&root().join("models"));
    let results = evaluate(&experiment(eval), &data, Device::Cpu).unwrap();
    check_table(&results);
    let md = sliders_eval::output::markdown(&results);
    sliders_eval::output::write(&results, &md, &root().join("out")).unwrap();
    let md = std::fs::read_to_string(root().join("out/tables.md")).unwrap();
    assert!(md.contains("| FadNet Swap |"), "{md}");
    assert!(md.contains("true value on synthetic faces"), "{md}");
}

#[test]
fn counterfactuals_are_exact_on_synthetic_faces() {
    let data = prepared();
    let test = TestSet::load(&data).unwrap();
    let positions: Vec<usize> = (0..8).collect();
    let cfg = data_config();
    let params = data.cache.params();
    let (same, _) = synthetic::rendered(
        &test,
        &positions,
        SynthAttr::Eyeglasses,
        &cfg.synthetic,
        params,
        false,
    )
    .unwrap();
    let cached = test.images(&positions);
    let diff = (&same - &cached).abs().max().double_value(&[]);
    assert!(
        diff < 1e-6,
        "re-rendered faces differ from the cache by {diff}"
    );
    let (cf, outside) = synthetic::rendered(
        &test,
        &positions,
        SynthAttr::Eyeglasses,
        &cfg.synthetic,
        params,
        true,
    )
    .unwrap();
    let labels = test.labels(&positions, "Eyeglasses").unwrap();
    let edits = vec![AttributeEdits {
        attribute: "Eyeglasses".into(),
        positions: positions.clone(),
        labels: labels.clone(),
        inputs: cached.copy(),
        // A perfect editor (swap = counterfactual) and a do-nothing one (swap = input).
        fader: Some((cached.copy(), cf.copy())),
        icgan: Some((cached.copy(), cached.copy())),
    }];
    let mut r = Results::default();
    synthetic::run(&edits, &test, &cfg.synthetic, params, &mut r);
    let get = |row: &str, m: &str| {
        r.get(synthetic::TABLE, row, "Eyeglasses", m)
            .unwrap()
            .value
            .unwrap()
    };
    assert!(get("FadNet Swap", "cf_mse") < 1e-12);
    assert!(
        get("FadNet Swap", "outside_mse") < 1e-12,
        "the counterfactual only changes the region"
    );
    assert!((get("IcGAN Swap", "cf_mse") - get("Input (unedited)", "cf_mse")).abs() < 1e-12);
    assert!(get("Input (unedited)", "cf_mse") > 1e-3);
    assert!(
        outside.mean(tch::Kind::Float).double_value(&[]) > 0.5,
        "most pixels lie outside the glasses"
    );
}
