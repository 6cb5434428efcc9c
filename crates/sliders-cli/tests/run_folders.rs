//! Run folders as `sliders train` treats them (issue #22), with the smoke classifier shortened to a
//! few steps on a small synthetic set of each test's own: one process per folder (a second fails
//! at once naming the holder's PID), a restart with another config refused with the changed keys
//! and both fixes, `--force-restart`, a longer run resuming, validation before any folder is made,
//! a configured data path that holds no CelebA, a malformed variable, a truncated state file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn quoted(p: &Path) -> String {
    format!("\"{}\"", p.display())
}

/// `sliders train` of the smoke classifier into `run`, on synthetic faces under `tmp`, for
/// `steps` steps (a checkpoint every 2), with `env` on top.
fn train(tmp: &Path, run: &Path, steps: u64, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sliders"));
    cmd.current_dir(repo()).args([
        "train",
        "--config",
        "experiments/smoke/data.toml",
        "--config",
        "experiments/smoke/classifier.toml",
    ]);
    cmd.args(args);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("SLIDERS__")) {
        cmd.env_remove(k);
    }
    let steps = steps.to_string();
    let vars = [
        ("SLIDERS__RUN_DIR", quoted(run)),
        ("SLIDERS__DEVICE", "\"cpu\"".into()),
        ("SLIDERS__DATA__CACHE_DIR", quoted(&tmp.join("cache"))),
        (
            "SLIDERS__DATA__SYNTHETIC__DIR",
            quoted(&tmp.join("synthetic")),
        ),
        ("SLIDERS__DATA__SYNTHETIC__N_IMAGES", "200".into()),
        ("SLIDERS__CLASSIFIER_TRAIN__TOTAL_STEPS", steps),
        ("SLIDERS__CLASSIFIER_TRAIN__EPOCH_SIZE", "64".into()),
        ("SLIDERS__CLASSIFIER_TRAIN__CHECKPOINT_EVERY", "2".into()),
        ("SLIDERS__CLASSIFIER_TRAIN__EVAL_MAX_IMAGES", "32".into()),
    ];
    for (k, v) in vars {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn output(mut cmd: Command) -> Output {
    cmd.output().expect("the sliders binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn resolved(run: &Path) -> toml::Table {
    std::fs::read_to_string(run.join("resolved.toml"))
        .unwrap()
        .parse()
        .unwrap()
}

/// Issue #22, finding 5: two trainings started at once into one folder both exited 0.
#[test]
fn two_trainings_started_at_once_into_one_folder_one_fails_at_once_naming_the_other() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    // Prepare the data first, so both processes reach the folder within milliseconds.
    let o = output(train(tmp.path(), &tmp.path().join("warm"), 2, &[], &[]));
    assert!(o.status.success(), "{}", text(&o));
    let spawn = |lr: &str| {
        train(
            tmp.path(),
            &run,
            120,
            &[("SLIDERS__CLASSIFIER_TRAIN__OPTIMIZER__LR", lr)],
            &[],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let started = Instant::now();
    let (a, b) = (spawn("0.001"), spawn("0.002"));
    let (pid_a, pid_b) = (a.id(), b.id());
    let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let (winner, loser, winner_pid) = match (oa.status.success(), ob.status.success()) {
        (true, false) => (&oa, &ob, pid_a),
        (false, true) => (&ob, &oa, pid_b),
        _ => panic!(
            "exactly one must succeed:\n--- a\n{}\n--- b\n{}",
            text(&oa),
            text(&ob)
        ),
    };
    let msg = text(loser);
    assert!(
        msg.contains(&format!("is in use by process {winner_pid}"))
            && msg.contains(&run.display().to_string())
            && msg.contains("another run_dir"),
        "{msg}"
    );
    assert!(!msg.contains("panicked"), "{msg}");
    assert!(winner.status.success());
    assert!(started.elapsed() < Duration::from_secs(300));
    // The folder holds one run: the winner's learning rate.
    let lr = resolved(&run)["classifier_train"]["optimizer"]["lr"].as_float();
    let winner_lr = if winner_pid == pid_a { 0.001 } else { 0.002 };
    assert_eq!(lr, Some(winner_lr));
}

/// A process holding the lock: a start on its folder fails before any data is prepared.
#[test]
fn a_start_on_a_held_folder_fails_at_once_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    let _held = sliders_train::run_lock::RunLock::acquire(&run).unwrap();
    let started = Instant::now();
    let o = output(train(tmp.path(), &run, 2, &[], &[]));
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(1), "{msg}");
    assert!(
        msg.contains(&format!("in use by process {}", std::process::id())),
        "{msg}"
    );
    assert!(!run.join("resolved.toml").exists());
    assert!(
        !tmp.path().join("synthetic").exists(),
        "it prepared data before checking the lock"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

/// Issue #22, finding 5: a restart with another seed or learning rate continued the old state and
/// rewrote resolved.toml. Now it is refused; `--force-restart` starts over; a longer run resumes.
#[test]
fn a_changed_config_is_refused_force_restart_starts_over_and_a_longer_run_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let o = output(train(tmp.path(), &run, 4, &[], &[]));
    assert!(o.status.success(), "{}", text(&o));
    let first = resolved(&run);
    assert!(
        first["run"]["data_source"]
            .as_str()
            .is_some_and(|s| s.starts_with("synthetic ")),
        "{first:?}"
    );

    let changed = [
        ("SLIDERS__SEED", "7"),
        ("SLIDERS__CLASSIFIER_TRAIN__OPTIMIZER__LR", "0.01"),
    ];
    let o = output(train(tmp.path(), &run, 4, &changed, &[]));
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(1), "{msg}");
    for want in [
        "holds a run of another configuration",
        "seed: 0 → 7",
        "classifier_train.optimizer.lr: 0.001 → 0.01",
        "another run_dir",
        "--force-restart",
    ] {
        assert!(msg.contains(want), "missing {want:?} in:\n{msg}");
    }
    assert!(!msg.contains("total_steps:"), "lengths are free:\n{msg}");
    assert_eq!(
        resolved(&run),
        first,
        "a refused restart rewrote resolved.toml"
    );

    let o = output(train(tmp.path(), &run, 4, &changed, &["--force-restart"]));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(resolved(&run)["seed"].as_integer(), Some(7));
    let log = std::fs::read_to_string(run.join("train.log")).unwrap();
    assert!(log.contains("training 4 steps"), "{log}");
    assert!(!log.contains("resuming"), "{log}");

    // Only the length changes: the run resumes where it stopped.
    let o = output(train(tmp.path(), &run, 6, &changed, &[]));
    assert!(o.status.success(), "{}", text(&o));
    let log = std::fs::read_to_string(run.join("train.log")).unwrap();
    assert!(log.contains("resuming at step 4 of 6"), "{log}");
    assert_eq!(
        resolved(&run)["classifier_train"]["total_steps"].as_integer(),
        Some(6)
    );

    // Issue #22, finding 6: a truncated state file was blamed on "was the config changed?".
    let state = run.join("checkpoints/state/classifier.safetensors");
    let bytes = std::fs::read(&state).unwrap();
    std::fs::write(&state, &bytes[..bytes.len() / 2]).unwrap();
    let o = output(train(tmp.path(), &run, 8, &changed, &[]));
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(1), "{msg}");
    assert!(
        msg.contains("classifier.safetensors")
            && msg.contains("truncated or corrupt")
            && msg.contains("--force-restart")
            && !msg.contains("was the config changed")
            && !msg.contains("frame #"),
        "{msg}"
    );
}

/// Issue #22, finding 6: `data.sampler.batch_size = 0` panicked (exit 101) and left a run
/// folder with resolved.toml.
#[test]
fn an_invalid_config_is_a_clear_error_and_leaves_no_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let o = output(train(
        tmp.path(),
        &run,
        2,
        &[("SLIDERS__DATA__SAMPLER__BATCH_SIZE", "0")],
        &[],
    ));
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(1), "{msg}");
    assert!(
        msg.contains("data.sampler.batch_size") && msg.contains("at least 1"),
        "{msg}"
    );
    assert!(!msg.contains("panicked"), "{msg}");
    assert!(!run.exists(), "an invalid config left {}", run.display());
}

/// Issue #22, finding 4: a wrong data path trained on synthetic faces after a WARN.
#[test]
fn a_configured_data_path_without_celeba_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let missing = tmp.path().join("no-such-dir");
    let o = output(train(
        tmp.path(),
        &run,
        2,
        &[("SLIDERS__DATA__CELEBA_DIR", &quoted(&missing))],
        &[],
    ));
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(1), "{msg}");
    assert!(
        msg.contains("data.celeba_dir")
            && msg.contains(&missing.display().to_string())
            && msg.contains("environment variable SLIDERS__DATA__CELEBA_DIR")
            && msg.contains("does not exist")
            && msg.contains("Fix:"),
        "{msg}"
    );
    assert!(!run.exists());
    assert!(
        !tmp.path().join("synthetic").exists(),
        "fell back to synthetic faces"
    );
}

/// Issue #22, finding 6: an unclosed TOML value said "did not match any variant of untagged enum".
#[test]
fn an_unclosed_toml_value_in_a_variable_names_the_variable() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let o = output(train(
        tmp.path(),
        &run,
        2,
        &[("SLIDERS__DATA__ATTRIBUTES", "[\"Smiling")],
        &[],
    ));
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(1), "{msg}");
    assert!(
        msg.contains("environment variable SLIDERS__DATA__ATTRIBUTES")
            && msg.contains("malformed TOML")
            && !msg.contains("untagged"),
        "{msg}"
    );
    assert!(!run.exists());
}

/// Issue #22, finding 6: the cGAN-run error of `sliders edit` named an `encoders-ind` experiment
/// file under experiments/smoke that does not exist. Every experiment file the sources name must.
#[test]
fn every_experiment_file_named_in_the_sources_exists() {
    let mut named = 0;
    let mut missing = Vec::new();
    let mut stack = vec![repo().join("crates"), repo().join("xtask")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices("experiments/") {
                let rest = &text[i..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || "/_-.".contains(c)))
                    .unwrap_or(rest.len());
                let name = rest[..end].trim_end_matches('.');
                if name.ends_with(".toml") {
                    named += 1;
                    if !repo().join(name).is_file() {
                        missing.push(format!("{}: {name}", path.display()));
                    }
                }
            }
        }
    }
    assert!(named >= 3, "only {named} experiment files named");
    assert!(missing.is_empty(), "named but missing: {missing:#?}");
}
