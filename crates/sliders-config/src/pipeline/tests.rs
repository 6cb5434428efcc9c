//! Tests of the pipeline description: the profiles' stage graphs keep today's names, folders and
//! markers, and adding an attribute is one entry of data.toml's list.

use super::*;

const PIPELINE: &str = "encoders = [\"sng\", \"ind\", \"ind-cond\"]\ndigits = [\"mnist\"]\n";

fn experiments() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
}

fn names(stages: &[Stage]) -> Vec<&str> {
    stages.iter().map(|s| s.name.as_str()).collect()
}

#[test]
fn the_profiles_run_the_stages_they_ran_before() {
    let faders = [
        "fader-Mouth_Slightly_Open",
        "fader-Smiling",
        "fader-Eyeglasses",
        "fader-Male",
        "fader-Young",
    ];
    for (profile, digits) in [
        ("smoke", &["digits-mnist"][..]),
        ("quick", &["digits-mnist", "digits-fashion_mnist"][..]),
        ("paper", &["digits-mnist", "digits-fashion_mnist"][..]),
    ] {
        let p = Pipeline::load(&experiments().join(profile)).unwrap();
        let layout = RunLayout::new(Path::new("data/runs").join(profile));
        let stages = p.stages(&layout);
        let mut want = vec!["classifier"];
        want.extend(faders);
        want.extend([
            "cgan",
            "encoders-sng",
            "encoders-ind",
            "encoders-ind-cond",
            "eval",
        ]);
        want.extend(digits);
        assert_eq!(names(&stages), want, "{profile}");
    }
    let p = Pipeline::load(&experiments().join("quick")).unwrap();
    let stages = p.stages(&RunLayout::new("data/runs/quick"));
    let done: Vec<String> = stages
        .iter()
        .map(|s| s.done_path().display().to_string())
        .collect();
    assert_eq!(
        done,
        [
            "data/runs/quick/classifier/last_classifier.safetensors",
            "data/runs/quick/fader-mouth_slightly_open/last_ae.safetensors",
            "data/runs/quick/fader-smiling/last_ae.safetensors",
            "data/runs/quick/fader-eyeglasses/last_ae.safetensors",
            "data/runs/quick/fader-male/last_ae.safetensors",
            "data/runs/quick/fader-young/last_ae.safetensors",
            "data/runs/quick/cgan/G.safetensors",
            "data/runs/quick/encoders-sng/sng.safetensors",
            "data/runs/quick/encoders-ind/ey.safetensors",
            "data/runs/quick/encoders-ind-cond/ey.safetensors",
            "data/runs/quick/eval/metrics.json",
            "data/runs/quick/digits-mnist/eval/metrics.json",
            "data/runs/quick/digits-fashion_mnist/eval/metrics.json",
        ]
    );
    let eval = stages.iter().find(|s| s.kind == StageKind::Eval).unwrap();
    assert_eq!(eval.built_from.len(), 10, "every model stage before it");
    let enc = &stages[8];
    assert_eq!(enc.built_from, [StageName::cgan()]);
    assert_eq!(stages[2].judged_by, [StageName::classifier()]);
}

/// Adding an attribute is one entry of `[data] attributes` in the profile's data.toml: the
/// stage, its run folder and done marker, the evaluation's dependency, columns and runs follow.
#[test]
fn adding_an_attribute_is_one_entry_of_one_list() {
    let smoke = experiments().join("smoke");
    let data = std::fs::read_to_string(smoke.join("data.toml")).unwrap();
    let before = Pipeline::parse("smoke", &data, PIPELINE).unwrap();
    let data = data.replace("\"Eyeglasses\", ", "\"Bald\", \"Eyeglasses\", ");
    let after = Pipeline::parse("smoke", &data, PIPELINE).unwrap();
    assert_eq!(after.attributes.len(), before.attributes.len() + 1);
    assert_eq!(
        after.attributes.last().unwrap(),
        "Bald",
        "after the table's own"
    );

    let layout = RunLayout::new("runs");
    let stages = after.stages(&layout);
    let bald = stages
        .iter()
        .find(|s| s.name == StageName::fader("Bald"))
        .expect("a fader-Bald stage");
    assert_eq!(bald.name.as_str(), "fader-Bald");
    assert_eq!(bald.kind, StageKind::Fader("Bald".into()));
    assert_eq!(bald.run_dir, Path::new("runs/fader-bald"));
    assert_eq!(
        bald.done_path(),
        Path::new("runs/fader-bald/last_ae.safetensors")
    );
    let eval = stages.iter().find(|s| s.kind == StageKind::Eval).unwrap();
    assert!(eval.built_from.contains(&bald.name));

    let mut exp: Experiment = crate::load::load(&[
        crate::load::Layer::from_str("data.toml", &data).unwrap(),
        crate::load::Layer::from_str("eval.toml", "kind = \"eval\"\nrun_dir = \"runs/eval\"\n")
            .unwrap(),
    ])
    .unwrap()
    .0;
    exp.fill_eval_defaults();
    assert_eq!(exp.eval().attributes, after.attributes);
    assert!(
        exp.eval()
            .fader_runs
            .contains(&PathBuf::from("runs/fader-bald")),
        "{:?}",
        exp.eval().fader_runs
    );
    assert_eq!(
        exp.eval().classifier,
        Path::new("runs/classifier/best_classifier.safetensors")
    );
    assert!(exp.validate().is_ok());
}

#[test]
fn the_evaluation_finds_the_runs_beside_it_and_keeps_what_a_file_sets() {
    let root = std::env::temp_dir().join(format!("sliders-layout-{}", std::process::id()));
    let layout = RunLayout::new(&root);
    for dir in [layout.cgan(), layout.encoders(EncoderKind::Ind)] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let mut exp = Experiment::new(ExperimentKind::Eval, layout.eval());
    exp.data.attributes = AttributeSpec::Names(vec!["Male".into(), "Smiling".into()]);
    exp.fill_eval_defaults();
    assert_eq!(
        exp.eval().attributes,
        ["Smiling", "Male"],
        "the table's order"
    );
    assert_eq!(
        exp.eval().fader_runs,
        [layout.fader("Smiling"), layout.fader("Male")]
    );
    assert_eq!(exp.eval().cgan_run, Some(layout.cgan()));
    assert_eq!(exp.eval().encoder_runs, [layout.encoders(EncoderKind::Ind)]);

    let mut set = Experiment::new(ExperimentKind::Eval, layout.eval());
    set.eval_mut().fader_runs = vec!["elsewhere/fader".into()];
    set.eval_mut().attributes = vec!["Male".into()];
    set.fill_eval_defaults();
    assert_eq!(set.eval().fader_runs, [PathBuf::from("elsewhere/fader")]);
    assert_eq!(set.eval().attributes, ["Male"]);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_run_names_its_stage_from_its_settings() {
    let mut fader = Experiment::new(ExperimentKind::Fader, "runs/fader-smiling".into());
    fader.data.attributes = AttributeSpec::Names(vec!["Smiling".into()]);
    assert_eq!(
        StageName::of_experiment(&fader),
        Some(StageName::fader("Smiling"))
    );
    fader.data.attributes = AttributeSpec::Names(vec!["Male".into(), "Smiling".into()]);
    assert_eq!(StageName::of_experiment(&fader), None);
    let mut enc = Experiment::new(ExperimentKind::Encoders, "x".into());
    enc.encoder_train_mut().encoder_kind = EncoderKind::IndCond;
    assert_eq!(
        StageName::of_experiment(&enc).unwrap().as_str(),
        "encoders-ind-cond"
    );
    let mut digits = Experiment::new(ExperimentKind::Digits, "x".into());
    digits.data.source = DataSource::FashionMnist;
    assert_eq!(
        StageName::of_experiment(&digits).unwrap().as_str(),
        "digits-fashion_mnist"
    );
}

#[test]
fn a_description_without_attribute_names_or_with_unknown_keys_is_refused() {
    let err = Pipeline::parse("p", "[data]\nattributes = \"icgan18\"\n", PIPELINE).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("p/data.toml: [data] attributes must list"),
        "{err}"
    );
    let data = "[data]\nattributes = [\"Male\"]\n";
    let err = Pipeline::parse("p", data, "encoders = []\ndigits = []\nextra = 1\n").unwrap_err();
    assert!(err.to_string().contains("p/pipeline.toml"), "{err}");
    let err = Pipeline::parse("p", data, "encoders = [\"big\"]\ndigits = []\n").unwrap_err();
    assert!(err.to_string().contains("big"), "{err}");
}

/// What a stage needs finished before it starts (`reproduce --jobs N`): the Faders the
/// classifier (their checkpoint judge), the cGAN the classifier (which makes the shared face
/// data), the encoders the cGAN, the evaluation every model stage, the digits nothing.
#[test]
fn each_stage_needs_what_its_process_reads() {
    let p = Pipeline::load(&experiments().join("quick")).unwrap();
    let stages = p.stages(&RunLayout::new("runs"));
    let needs = |name: &str| -> Vec<&str> {
        let s = stages.iter().find(|s| s.name.as_str() == name).unwrap();
        s.needs().map(StageName::as_str).collect()
    };
    assert!(needs("classifier").is_empty());
    assert_eq!(needs("fader-Smiling"), ["classifier"]);
    assert_eq!(needs("cgan"), ["classifier"]);
    assert_eq!(needs("encoders-ind-cond"), ["cgan"]);
    let model_stages: Vec<&str> = names(&stages)
        .into_iter()
        .take_while(|n| *n != "eval")
        .collect();
    assert_eq!(needs("eval"), model_stages);
    assert!(needs("digits-mnist").is_empty());
    assert!(needs("digits-fashion_mnist").is_empty());
    let cgan = stages.iter().find(|s| s.kind == StageKind::Cgan).unwrap();
    assert!(
        cgan.built_from.is_empty() && cgan.judged_by.is_empty(),
        "never stale by it"
    );
}
