//! Tests of the experiment file: defaults, layering, validation and step scaling.

use super::*;

#[test]
fn defaults_are_the_reference_flags() {
    let t = FaderTrainConfig::default();
    assert_eq!(t.steps_per_epoch(32), 1563);
    assert_eq!(t.lambda_lat_dis, 1e-4);
    assert_eq!(t.lambda_schedule, 500_000);
    assert_eq!(t.ae_optimizer.beta1, 0.5);
    assert!(t.validate(32).is_ok());
    assert_eq!(ClassifierTrainConfig::default().optimizer.lr, 1e-3);
    let c = CganTrainConfig::default();
    assert_eq!(c.steps_per_epoch(64), 2854);
    assert!(c.validate(64).is_ok());
    let e = EncoderTrainConfig::default();
    assert_eq!((e.optimizer.lr, e.optimizer.beta1), (1e-4, 0.1));
    assert!(e.validate().is_ok());
}

#[test]
fn impossible_settings_name_the_field_and_the_fix() {
    let t = FaderTrainConfig {
        lambda_ptc_dis: 0.5,
        ..Default::default()
    };
    let err = t.validate(32).unwrap_err();
    assert_eq!(err.field, "fader_train.lambda_ptc_dis");
    assert!(err.fix.contains("n_ptc_dis"), "{err}");
    let t = FaderTrainConfig {
        epoch_size: 8,
        ..Default::default()
    };
    assert_eq!(t.validate(32).unwrap_err().field, "fader_train.epoch_size");
    let t = ClassifierTrainConfig {
        optimizer: AdamSettings {
            beta1: 1.0,
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(
        t.validate(32).unwrap_err().field,
        "classifier_train.optimizer.beta1"
    );
}

#[test]
fn step_scale_shortens_the_loop_once_and_keeps_its_shape() {
    let mut e = Experiment::new(ExperimentKind::Fader, "x".into());
    let t = e.fader_train_mut();
    t.total_steps = 8000;
    t.epoch_size = 64_000;
    t.lambda_schedule = 4000;
    t.checkpoint_every = 1000;
    e.step_scale = 0.1;
    e.apply_step_scale(32).unwrap();
    let t = e.fader_train();
    assert_eq!(
        (
            t.total_steps,
            t.epoch_size,
            t.lambda_schedule,
            t.checkpoint_every
        ),
        (800, 6400, 400, 100)
    );
    assert_eq!(
        t.total_steps / t.steps_per_epoch(32),
        4,
        "same number of evaluations"
    );
    // A resolved config holds the scaled lengths: applying again changes nothing.
    let text = toml::to_string(&e).unwrap();
    let mut again: Experiment = toml::from_str(&text).unwrap();
    again.apply_step_scale(32).unwrap();
    assert_eq!(again.fader_train().total_steps, 800);
    // Tiny factors keep every length usable.
    let mut e = Experiment::new(ExperimentKind::Encoders, "x".into());
    e.step_scale = 0.01;
    e.apply_step_scale(64).unwrap();
    assert_eq!(e.encoder_train().epochs, 1);
    let mut e = Experiment::new(ExperimentKind::Classifier, "x".into());
    e.step_scale = 1e-9;
    e.apply_step_scale(64).unwrap();
    assert_eq!(e.classifier_train().total_steps, 1);
    assert_eq!(e.classifier_train().epoch_size, 64);
    for bad in [0.0, -1.0, 1.5, f64::NAN] {
        let mut e = Experiment::new(ExperimentKind::Fader, "x".into());
        e.step_scale = bad;
        assert_eq!(e.apply_step_scale(32).unwrap_err().field, "step_scale");
    }
}

#[test]
fn an_experiment_file_needs_only_what_differs() {
    let text = "kind = \"fader\"\nrun_dir = \"data/runs/x\"\n[fader_train]\ntotal_steps = 10\n";
    let exp: Experiment = toml::from_str(text).unwrap();
    assert_eq!(exp.kind(), ExperimentKind::Fader);
    assert_eq!(exp.fader_train().total_steps, 10);
    assert_eq!(exp.device, DeviceChoice::Auto);
    assert!(
        toml::from_str::<Experiment>("kind = \"fader\"\nrun_dir = \"x\"\nbogus = 1\n").is_err()
    );
    let text = "kind = \"encoders\"\nrun_dir = \"x\"\n[encoder_train]\nencoder_kind = \"ind-cond\"\n\
                cgan_run = \"runs/cgan\"\n[icgan_encoder]\nnf = 16\n";
    let exp: Experiment = toml::from_str(text).unwrap();
    assert_eq!(exp.kind(), ExperimentKind::Encoders);
    assert_eq!(exp.encoder_train().encoder_kind, EncoderKind::IndCond);
    assert_eq!(exp.icgan_encoder().nf, 16);
    let exp: Experiment =
        toml::from_str("kind = \"cgan\"\nrun_dir = \"x\"\n[cgan_train]\nbn_refresh_steps = 5\n")
            .unwrap();
    assert_eq!(exp.cgan_train().bn_refresh_steps, 5);
    let exp: Experiment = toml::from_str(
        "kind = \"digits\"\nrun_dir = \"x\"\n[data]\nsource = \"mnist\"\n[digits]\nencoders = [\"ind\", \"sng\"]\n",
    )
    .unwrap();
    assert_eq!(exp.kind(), ExperimentKind::Digits);
    assert_eq!(exp.digits().encoders, [EncoderKind::Ind, EncoderKind::Sng]);
    assert!(exp.digits().validate().is_ok());
    let bad = DigitsConfig {
        encoders: vec![],
        ..Default::default()
    };
    assert_eq!(bad.validate().unwrap_err().field, "digits.encoders");
}

/// Issue #21: an experiment holds, writes and reads only its kind's sections.
#[test]
fn a_file_holds_only_its_kinds_sections() {
    for kind in ExperimentKind::ALL {
        let exp = Experiment::new(kind, "x".into());
        let text = toml::to_string(&exp).unwrap();
        let table: toml::Table = text.parse().unwrap();
        let mut sections: Vec<&str> = table
            .keys()
            .map(String::as_str)
            .filter(|k| SECTIONS.contains(k))
            .collect();
        let mut own = kind.sections().to_vec();
        sections.sort();
        own.sort();
        assert_eq!(sections, own, "{kind:?}");
        assert_eq!(toml::from_str::<Experiment>(&text).unwrap(), exp);
        assert_eq!(ExperimentKind::from_name(kind.name()), Some(kind));
    }
    let err = toml::from_str::<Experiment>(
        "kind = \"cgan\"\nrun_dir = \"x\"\n[cgan_train]\ntotal_steps = 3\n[fader]\nn_layers = 3\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("remove [fader]: kind = \"cgan\" uses [data], [icgan], [cgan_train]"),
        "{err}"
    );
}

/// The digits kind reads the cGAN, encoder and classifier loops through the same accessors.
#[test]
fn digits_share_the_loop_sections() {
    let mut e = Experiment::new(ExperimentKind::Digits, "x".into());
    e.cgan_train_mut().total_steps = 7;
    e.classifier_train_mut().total_steps = 9;
    assert_eq!(e.cgan_train().total_steps, 7);
    assert_eq!(e.classifier_train().total_steps, 9);
    assert_eq!(e.encoder_train(), &EncoderTrainConfig::default());
    assert_eq!(e.digits(), &DigitsConfig::default());
}

#[test]
#[should_panic(expected = "a kind = \"fader\" experiment has no [cgan_train]")]
fn reading_another_kinds_section_is_a_bug() {
    let _ = Experiment::new(ExperimentKind::Fader, "x".into()).cgan_train();
}
