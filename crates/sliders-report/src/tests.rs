//! Tests of the render on hand-built inputs: what a run is comes from its `kind`, the training
//! length table, the header.

use crate::deviations::Deviation;
use crate::inputs::{DigitsRun, EvalRun, ReportInputs, TrainingRun};
use crate::render::{digits_page, render};
use crate::resolved::ResolvedRun;
use sliders_config::data::AttributeSpec;
use sliders_config::run_record::{MetricsTable, Provenance};
use sliders_config::train::{Experiment, ExperimentKind};
use sliders_config::wall_clock::{Invocation, WallClock};
use std::collections::BTreeMap;

/// A run's resolved config of `kind`, having read `data_source`.
pub(crate) fn resolved(kind: ExperimentKind, data_source: &str) -> ResolvedRun {
    ResolvedRun {
        experiment: Experiment::new(kind, "data/runs/x".into()),
        provenance: Provenance {
            git_commit: "abc".into(),
            seed: 0,
            device: "cpu".into(),
            sliders_version: "0.1.0".into(),
            libtorch_version: "2.11.0".into(),
            data_source: data_source.into(),
        },
    }
}

/// A training run named `name` of `kind` whose last validation row is `csv_eval_row` under
/// `columns`.
pub(crate) fn run(name: &str, kind: ExperimentKind, columns: &str, eval_row: &str) -> TrainingRun {
    let csv = format!("step,phase,{columns}\n10,eval,{eval_row}\n");
    TrainingRun {
        name: name.into(),
        resolved: resolved(kind, "synthetic data/synthetic (none configured)"),
        metrics: MetricsTable::parse("metrics.csv", &csv).unwrap(),
    }
}

/// Inputs with no run at all.
pub(crate) fn empty() -> ReportInputs {
    ReportInputs {
        profile: "smoke".into(),
        device_asked: "cpu".into(),
        git_commit: "1234567".into(),
        timings: BTreeMap::new(),
        wall_clock: None,
        runs: Vec::new(),
        digits: Vec::new(),
        eval: EvalRun::default(),
        deviations: Vec::new(),
        figures: Vec::new(),
        local: Vec::new(),
    }
}

#[test]
fn what_a_run_is_comes_from_its_kind_not_its_folder_name() {
    let mut inputs = empty();
    inputs.runs = vec![
        // A Fader run in a folder whose name says nothing.
        run(
            "my-run",
            ExperimentKind::Fader,
            "val_rec_mse,val_lat_dis_accu,val_swap_accu",
            "0.01,0.5,0.875",
        ),
        // A classifier in a folder named like a Fader run.
        run(
            "fader-looking",
            ExperimentKind::Classifier,
            "val_accu_Smiling",
            "0.5",
        ),
    ];
    let md = render(&inputs);
    assert!(md.contains("| my-run | 0.0100 | 0.500 | 0.875 |"), "{md}");
    assert!(
        md.contains(
            "Evaluation classifier:\n\n| attribute | accuracy |\n|---|---|\n| Smiling | 0.500 |"
        ),
        "{md}"
    );
    assert!(!md.contains("| fader-looking | n/a"), "{md}");
    // The header reads the first run's resolved config; untimed runs are said so.
    assert!(md.contains("- **Split**: auto ("), "{md}");
    assert!(
        md.contains("| my-run | not recorded (not run by this reproduce) |"),
        "{md}"
    );
    assert!(
        md.contains("The evaluation has not run: no tables."),
        "{md}"
    );
}

#[test]
fn the_training_length_table_states_each_run_and_a_reduced_scale_in_bold() {
    let mut inputs = empty();
    let mut fader = run("fader-male", ExperimentKind::Fader, "a", "1");
    fader.resolved.experiment.fader_train_mut().total_steps = 1200;
    fader.resolved.experiment.fader_train_mut().lambda_lat_dis = 0.01;
    fader.resolved.experiment.fader_train_mut().lambda_schedule = 600;
    fader.resolved.experiment.data.attributes = AttributeSpec::Names(vec!["Male".into()]);
    let mut cgan = run("cgan", ExperimentKind::Cgan, "a", "1");
    cgan.resolved.experiment.cgan_train_mut().total_steps = 80;
    cgan.resolved.experiment.step_scale = 0.1;
    inputs.runs = vec![cgan, fader];
    inputs.timings.insert("fader-Male".into(), 40.4);
    inputs.timings.insert("cgan".into(), 100.0);
    let md = render(&inputs);
    assert!(
        md.contains(
            "| run | trained for | step scale |\n|---|---|---|\n| cgan | 80 steps | 0.1 |\n\
             | fader-male | 1200 steps (λ_lat_dis 0.01, reached after 600 steps) | 1 |\n"
        ),
        "{md}"
    );
    assert!(md.contains("- **Reduced training**: these runs"), "{md}");
    assert!(md.contains(": cgan ×0.1. Their numbers"), "{md}");
    // Timed under its stage's name (`fader-Male`, from its attribute): not listed as untimed.
    assert!(!md.contains("| fader-male | not recorded"), "{md}");
    assert!(md.contains("| **sum of stages** | **140** |\n"), "{md}");
    // Runs from before the wall clock was kept say so.
    assert!(
        md.contains("| whole run (wall clock) | not recorded |"),
        "{md}"
    );
}

#[test]
fn the_whole_runs_wall_clock_follows_the_sum_of_its_stages() {
    let mut inputs = empty();
    inputs.timings.insert("fader-Male".into(), 40.4);
    inputs.timings.insert("fader-Smiling".into(), 50.0);
    let run = |jobs, seconds, stage_seconds| Invocation {
        jobs,
        stages: 2,
        seconds,
        stage_seconds,
    };
    inputs.wall_clock = Some(WallClock {
        invocations: vec![run(2, 51.0, 90.4)],
    });
    let md = render(&inputs);
    assert!(
        md.contains(
            "| **sum of stages** | **90** |\n| **whole run** (wall clock, `--jobs 2`) | **51** |\n"
        ),
        "{md}"
    );
    inputs.wall_clock = Some(WallClock {
        invocations: vec![run(2, 51.0, 70.0), run(1, 10.0, 10.0), run(2, 1.0, 10.4)],
    });
    let md = render(&inputs);
    assert!(
        md.contains("| **whole run** (wall clock, 3 invocations, `--jobs 1`/`2`) | **62** |"),
        "{md}"
    );
    // A stage redone since (its first time still in an invocation), or trained before the
    // record began: the invocations did not make these outputs.
    for stage_seconds in [[70.0, 10.0, 30.0], [20.0, 10.0, 10.4]] {
        let [a, b, c] = stage_seconds;
        inputs.wall_clock = Some(WallClock {
            invocations: vec![run(2, 51.0, a), run(1, 10.0, b), run(2, 1.0, c)],
        });
        let md = render(&inputs);
        assert!(
            md.contains(
                "| whole run (wall clock) | not known for these outputs: the 3 recorded \
                 invocations (62 s) did not make all of them"
            ),
            "{md}"
        );
        assert!(!md.contains("**whole run**"), "{md}");
    }
}

#[test]
fn the_data_line_the_synthetic_note_and_the_deviations_are_stated() {
    let mut inputs = empty();
    inputs.runs = vec![run("classifier", ExperimentKind::Classifier, "a", "1")];
    inputs.eval.tables_md =
        Some("### Table\n\n### Notes\n\n- data: synthetic faces, 32 px\n".into());
    inputs.deviations = vec![Deviation {
        at: "crates/a.rs:3".into(),
        text: "why".into(),
    }];
    inputs.figures = vec!["accuracy.png".into(), "slide_Male.png".into()];
    let md = render(&inputs);
    assert!(
        md.contains("- **Data**: synthetic faces, 32 px\n  — **synthetic faces**"),
        "{md}"
    );
    assert!(md.contains("- **Device**: `cpu` (asked for `cpu`); **git commit** `1234567`"));
    assert!(md.ends_with("- `crates/a.rs:3`: why\n"), "{md}");
    assert!(
        md.contains("![slide_Male.png](figures/slide_Male.png)"),
        "{md}"
    );
    assert!(
        !md.contains("![accuracy.png](figures/accuracy.png)"),
        "{md}"
    );
}

#[test]
fn the_digits_section_states_each_runs_length_and_links_its_figures() {
    let mut inputs = empty();
    let mut resolved = resolved(ExperimentKind::Digits, "mnist data/digits");
    let e = &mut resolved.experiment;
    (
        e.step_scale,
        e.icgan_mut().ngf,
        e.cgan_train_mut().total_steps,
    ) = (0.3, 64, 1500);
    let enc = e.encoder_train_mut();
    (enc.epochs, enc.dataset_size) = (2, 18048);
    e.classifier_train_mut().total_steps = 900;
    inputs.digits = vec![DigitsRun {
        name: "digits-fashion_mnist".into(),
        resolved,
        tables_md: Some("| the table |\n![chart](figures/digits_fashion_mnist_fig4a.png)\n".into()),
        metrics: BTreeMap::new(),
        figures: vec![
            "digits_fashion_mnist_fig4a.png".into(),
            "digits_fashion_mnist_ind.png".into(),
        ],
    }];
    let md = digits_page(&inputs);
    assert!(
        md.contains(
            "Run `digits-fashion_mnist` (trained: cGAN 1500 steps (ngf 64), encoders 2 epochs \
             over 18048 generated triples, classifier 900 steps; **reduced training**, step \
             scale 0.3 of the profile)"
        ),
        "{md}"
    );
    assert!(md.contains("| the table |"), "{md}");
    assert!(
        md.contains("![digits_fashion_mnist_ind.png](figures/digits_fashion_mnist_ind.png)"),
        "{md}"
    );
    assert_eq!(
        md.matches("figures/digits_fashion_mnist_fig4a.png").count(),
        1,
        "a chart the table embeds is not listed again: {md}"
    );
    assert!(render(&inputs).contains("| digits-fashion_mnist | cGAN 1500 steps"));
}

#[test]
fn the_metrics_hold_the_evaluation_and_each_runs_last_row() {
    let mut inputs = empty();
    inputs.eval.metrics.insert("fader_vs_icgan/x".into(), 0.5);
    let mut cgan = run("cgan", ExperimentKind::Cgan, "loss_d,val", "");
    cgan.metrics =
        MetricsTable::parse("m", "step,phase,loss_d,val\n5,train,0.7,\n6,eval,,0.25\n").unwrap();
    inputs.runs = vec![cgan];
    let m = inputs.metrics();
    assert_eq!(m["fader_vs_icgan/x"], 0.5);
    assert_eq!(m["train/cgan/last/val"], 0.25);
    assert_eq!(m["train/cgan/last/loss_d"], 0.7);
}

#[test]
fn on_celeba_only_digits_figures_go_under_figures() {
    let dir = std::env::temp_dir().join(format!("sliders-report-celeba-{}", std::process::id()));
    let (runs, out, repo) = (dir.join("runs"), dir.join("out"), dir.join("repo"));
    let eval = runs.join("eval");
    std::fs::create_dir_all(eval.join("figures")).unwrap();
    std::fs::create_dir_all(repo.join("docs")).unwrap();
    std::fs::write(repo.join(crate::deviations::LIST), "# header\n").unwrap();
    let text = crate::resolved::tests::resolved_text(ExperimentKind::Eval);
    std::fs::write(eval.join("resolved.toml"), text).unwrap();
    for n in [
        "slide_Male.png",
        "swap_Male.png",
        "cgan_samples.png",
        "encoders.png",
    ] {
        std::fs::write(eval.join("figures").join(n), n).unwrap();
    }
    for n in ["accuracy.png", "response_Male.png", "fig4a_encoders.png"] {
        std::fs::write(eval.join("figures").join(n), n).unwrap();
    }
    let readme = crate::write(&crate::ReportOptions {
        profile: "quick".into(),
        runs,
        out: out.clone(),
        device_asked: "cpu".into(),
        repo,
    })
    .unwrap();
    let md = std::fs::read_to_string(readme).unwrap();
    // Nothing made from CelebA under figures/: faces and charts alike are local.
    assert!(crate::inputs::pngs(&out.join("figures"), "").is_empty());
    assert_eq!(crate::inputs::pngs(&out.join("local"), "").len(), 7);
    assert!(
        !md.contains("](figures/"),
        "no link to a missing figure: {md}"
    );
    assert!(md.contains("- sliding an attribute (FadNet): [slide_Male.png](local/slide_Male.png)"));
    assert!(md.contains("- slider response: [response_Male.png](local/response_Male.png)"));
    assert!(md.contains(
        "- encoder comparison (Figure 4a): [fig4a_encoders.png](local/fig4a_encoders.png)"
    ));
    assert!(md.contains("--profile quick --data ../shared/celeba --only eval --only report"));
    assert!(
        md.contains("[accuracy per attribute and row](local/accuracy.png) (chart kept out of git"),
        "{md}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_runs_root_without_a_wall_clock_reads_and_a_broken_one_is_named() {
    let dir = std::env::temp_dir().join(format!("sliders-report-clock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("timings.json"), "{\"cgan\": 12.5}").unwrap();
    let parts = crate::inputs::collect(&dir).unwrap();
    assert_eq!(parts.timings.get("cgan"), Some(&12.5));
    assert_eq!(parts.wall_clock, None, "an old runs root");
    let clock = "{\"invocations\": [{\"jobs\": 2, \"stages\": 3, \"seconds\": 9.0}]}";
    std::fs::write(dir.join("wall_clock.json"), clock).unwrap();
    let parts = crate::inputs::collect(&dir).unwrap();
    assert_eq!(parts.wall_clock.unwrap().seconds(), 9.0);
    std::fs::write(dir.join("wall_clock.json"), "{\"seconds\": 9}").unwrap();
    let err = crate::inputs::collect(&dir).unwrap_err().to_string();
    assert!(
        err.contains("wall_clock.json") && err.contains("delete it"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
