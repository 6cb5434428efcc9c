//! Tests of the scheduler: what may start, on the smoke profile's real stage graph, and the loop
//! on trivial processes.

use super::*;
use sliders_config::layout::RunLayout;
use sliders_config::pipeline::Pipeline;
use std::path::Path;
use std::process::Command;

/// The smoke profile's stages (classifier, five Faders, cGAN, three encoders, eval, digits).
fn smoke() -> Vec<pipeline::Stage> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    Pipeline::load(&root.join("experiments/smoke"))
        .unwrap()
        .stages(&RunLayout::new("runs"))
}

/// The indices of the stages whose names start with `prefix`.
fn named(stages: &[pipeline::Stage], prefix: &str) -> Vec<usize> {
    (0..stages.len())
        .filter(|&i| stages[i].name.as_str().starts_with(prefix))
        .collect()
}

/// Marks the stages `which` finished.
fn finished(state: &mut [State], which: &[usize]) {
    for &i in which {
        state[i] = State::Finished;
    }
}

#[test]
fn faders_wait_for_the_classifier_encoders_for_the_cgan_eval_for_all() {
    let stages = smoke();
    let refs: Vec<&pipeline::Stage> = stages.iter().collect();
    let needs = needs(&refs);
    let mut state = vec![State::Pending; stages.len()];
    let (classifier, faders) = (named(&stages, "classifier"), named(&stages, "fader-"));
    let (cgan, encoders) = (named(&stages, "cgan"), named(&stages, "encoders-"));
    let (eval, digits) = (named(&stages, "eval"), named(&stages, "digits-"));
    assert_eq!((faders.len(), encoders.len(), digits.len()), (5, 3, 1));
    // At first: the classifier and the digits, which need nothing.
    let first = [classifier.clone(), digits.clone()].concat();
    assert_eq!(ready(&needs, &state, 20), first);
    state[classifier[0]] = State::Running;
    assert_eq!(ready(&needs, &state, 20), digits, "the Faders wait for it");
    finished(&mut state, &classifier);
    let mut second = [faders.clone(), cgan.clone(), digits.clone()].concat();
    second.sort_unstable();
    assert_eq!(ready(&needs, &state, 20), second);
    finished(&mut state, &[faders.clone(), digits].concat());
    assert_eq!(
        ready(&needs, &state, 20),
        cgan,
        "the rest waits for the cGAN"
    );
    finished(&mut state, &cgan);
    assert_eq!(ready(&needs, &state, 20), encoders);
    finished(&mut state, &encoders[..2]);
    assert_eq!(
        ready(&needs, &state, 20),
        encoders[2..],
        "eval waits for all"
    );
    finished(&mut state, &encoders[2..]);
    assert_eq!(ready(&needs, &state, 20), eval);
    assert_eq!(widest_level(&needs), 6, "five Faders and the cGAN");
}

#[test]
fn no_more_than_the_limit_run_and_a_failure_stops_new_starts() {
    let stages = smoke();
    let refs: Vec<&pipeline::Stage> = stages.iter().collect();
    let needs = needs(&refs);
    let mut state = vec![State::Pending; stages.len()];
    finished(&mut state, &named(&stages, "classifier"));
    let faders = named(&stages, "fader-");
    assert_eq!(ready(&needs, &state, 2), faders[..2]);
    state[faders[0]] = State::Running;
    assert_eq!(ready(&needs, &state, 2), faders[1..2]);
    state[faders[1]] = State::Running;
    assert!(ready(&needs, &state, 2).is_empty(), "two run");
    assert_eq!(ready(&needs, &state, 1), Vec::<usize>::new());
    state[faders[0]] = State::Failed;
    assert!(
        ready(&needs, &state, 20).is_empty(),
        "nothing new after a failure"
    );
}

#[test]
fn stages_outside_the_invocation_are_not_waited_for() {
    let stages = smoke();
    let only: Vec<&pipeline::Stage> = stages
        .iter()
        .filter(|s| s.name.as_str().starts_with("encoders-") || s.name.as_str() == "eval")
        .collect();
    let needs = needs(&only);
    let state = vec![State::Pending; only.len()];
    assert_eq!(
        ready(&needs, &state, 5),
        [0, 1, 2],
        "the cGAN is not part of it"
    );
    assert_eq!(needs[3], [0, 1, 2]);
    assert_eq!(widest_level(&needs), 3);
}

/// A launcher of `sh -c <script>` per stage that records what happened.
struct Scripts {
    scripts: Vec<&'static str>,
    started: Vec<usize>,
    ended: Vec<usize>,
}

impl Launcher for Scripts {
    fn name(&self, stage: usize) -> &str {
        self.scripts[stage]
    }
    fn start(&mut self, stage: usize) -> Result<Option<Launch>> {
        self.started.push(stage);
        let child = Command::new("sh")
            .args(["-c", self.scripts[stage]])
            .spawn()?;
        Ok(Some(Launch { child, log: None }))
    }
    fn ended(&mut self, stage: usize, _seconds: f64) -> Result<()> {
        self.ended.push(stage);
        Ok(())
    }
    fn failure(&self, stage: usize, status: ExitStatus) -> anyhow::Error {
        anyhow::anyhow!("{} failed ({status})", self.scripts[stage])
    }
}

#[test]
fn the_loop_runs_every_ready_stage_and_none_after_a_failure() {
    // 0 and 1 are independent, 2 needs 0, 3 needs 1.
    let needs = vec![vec![], vec![], vec![0], vec![1]];
    let mut ok = Scripts {
        scripts: vec!["exit 0", "true", ":", "exit 0 # four"],
        started: vec![],
        ended: vec![],
    };
    let out = run(&needs, 2, &mut ok);
    assert!(out.failure.is_none());
    assert_eq!(out.started, 4);
    assert_eq!(ok.started[..2], [0, 1]);
    ok.ended.sort_unstable();
    assert_eq!(ok.ended, [0, 1, 2, 3]);

    // With one job, the failure of 0 leaves 1, 2 and 3 unstarted.
    let mut failing = Scripts {
        scripts: vec!["exit 3", "true", ":", "true # four"],
        started: vec![],
        ended: vec![],
    };
    let out = run(&needs, 1, &mut failing);
    assert_eq!(failing.started, [0]);
    let err = out.failure.expect("a failure");
    assert!(err.to_string().starts_with("exit 3 failed"), "{err}");
}
