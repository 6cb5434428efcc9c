//! Tests of the driver on a fake loop (one two-element weight pulled towards a target that changes
//! with the step): the cadence of rows, evaluations and checkpoints, the final work, a resumed
//! run equal to an uninterrupted one, and a loop that never checkpoints.

use super::*;
use crate::optim::{Adam, AdamConfig};
use std::path::{Path, PathBuf};
use tch::nn::{Init, VarStore};
use tch::{Kind, Tensor};

struct Fake {
    core: LoopCore,
    vs: VarStore,
    w: Tensor,
    opt: Adam,
    cadence: Cadence,
    opened: u32,
    finished: Vec<bool>,
}

impl Fake {
    fn new(dir: &Path, cadence: Cadence) -> Self {
        let vs = VarStore::new(Device::Cpu);
        let w = vs.root().var("w", &[2], Init::Const(1.0));
        let opt = Adam::new(
            &vs,
            AdamConfig {
                lr: 0.1,
                ..AdamConfig::fader()
            },
        );
        let run = RunDir::create(dir).unwrap();
        Self {
            core: LoopCore::new(run, Device::Cpu, 0, SamplerConfig::default()),
            vs,
            w,
            opt,
            cadence,
            opened: 0,
            finished: Vec::new(),
        }
    }

    fn weights(&self) -> Vec<f32> {
        Vec::<f32>::try_from(&self.w.detach()).unwrap()
    }
}

impl TrainLoop for Fake {
    type Data = Vec<f64>;

    fn core(&self) -> &LoopCore {
        &self.core
    }

    fn core_mut(&mut self) -> &mut LoopCore {
        &mut self.core
    }

    fn cadence(&self) -> Cadence {
        self.cadence
    }
    fn columns(&self) -> Vec<String> {
        ["step_echo", "loss", "images_per_sec", "val"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
    fn loss_names(&self) -> &'static [&'static str] {
        &["loss"]
    }
    fn slots(&mut self) -> Vec<Slot<'_>> {
        vec![Slot {
            name: "w",
            vs: &mut self.vs,
            opt: &mut self.opt,
        }]
    }
    fn open_data(&mut self) -> Result<Vec<f64>, TrainError> {
        self.opened += 1;
        Ok(vec![0.5, -1.0, 2.0])
    }
    fn step(&mut self, targets: &Vec<f64>, t: u64, losses: &mut IntervalMeans) {
        let target = targets[(t % 3) as usize];
        let loss = (&self.w - target).square().sum(Kind::Float);
        self.opt.backward_step_clip(&loss, 0.0);
        losses.add(0, &loss.detach());
        self.core.counters.batches_drawn += 1;
    }
    fn log_row(&self, step: u64, means: Metrics) -> Metrics {
        let mut row = vec![("step_echo".to_string(), step as f64)];
        row.extend(means);
        row
    }
    fn epoch_end(&mut self, _step: u64) -> Result<Option<(Metrics, Vec<String>)>, TrainError> {
        let val = self.w.sum(Kind::Float).double_value(&[]);
        let mut improved = Vec::new();
        if self.core.counters.best_rec.is_none_or(|b| val < b) {
            self.core.counters.best_rec = Some(val);
            improved.push("best".to_string());
        }
        Ok(Some((vec![("val".to_string(), val)], improved)))
    }
    fn finish(&mut self, trained: bool) -> Result<(), TrainError> {
        self.finished.push(trained);
        Ok(())
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sliders-driver-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const CADENCE: Cadence = Cadence {
    total_steps: 10,
    log_every: 3,
    steps_per_epoch: Some(4),
    checkpoint_every: Some(5),
    images_per_step: 8,
};

/// `kind@step` of each event.
fn summary(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Event::Started { start_step, .. } => format!("started@{start_step}"),
            Event::Logged { step, .. } => format!("logged@{step}"),
            Event::Evaluated { step, .. } => format!("evaluated@{step}"),
            Event::Checkpointed { step } => format!("checkpointed@{step}"),
            Event::Finished { step } => format!("finished@{step}"),
        })
        .collect()
}

fn metrics_without_timing(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    text.lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(4); // images_per_sec
            cells.join(",")
        })
        .collect()
}

#[test]
fn the_cadence_logs_evaluates_and_checkpoints_on_its_steps() {
    let due = |step| CADENCE.due(step);
    let none = Due::default();
    assert_eq!(due(1), none);
    assert_eq!(due(3), Due { log: true, ..none });
    assert_eq!(
        due(4),
        Due {
            log: true,
            epoch_end: true,
            checkpoint: true
        }
    );
    assert_eq!(
        due(5),
        Due {
            log: true,
            checkpoint: true,
            ..none
        }
    );
    assert_eq!(due(10), due(4), "the last step ends an epoch");

    let dir = temp_dir("cadence");
    let mut fake = Fake::new(&dir, CADENCE);
    let mut events = Vec::new();
    let counters = drive(&mut fake, &mut |e| events.push(e)).unwrap();
    assert_eq!(
        summary(&events),
        [
            "started@0",
            "logged@3",
            "logged@4",
            "evaluated@4",
            "checkpointed@4",
            "logged@5",
            "checkpointed@5",
            "logged@6",
            "logged@8",
            "evaluated@8",
            "checkpointed@8",
            "logged@9",
            "logged@10",
            "evaluated@10",
            "checkpointed@10",
            "finished@10",
        ]
    );
    assert_eq!((counters.step, counters.batches_drawn), (10, 10));
    assert_eq!((fake.opened, &fake.finished[..]), (1, &[true][..]));
    let rows = metrics_without_timing(&dir);
    assert_eq!(rows[0], "step,phase,step_echo,loss,val");
    assert!(rows[1].starts_with("3,train,3,"), "{rows:?}");
    assert!(rows[3].starts_with("4,eval,,,"), "{rows:?}");
    assert_eq!(rows.len(), 1 + 7 + 3, "{rows:?}");
    assert!(state::find(&dir.join("checkpoints")).is_some());
    drop(fake);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_resumed_drive_continues_bit_for_bit() {
    let straight_dir = temp_dir("straight");
    let mut straight = Fake::new(&straight_dir, CADENCE);
    drive(&mut straight, &mut |_| {}).unwrap();

    let broken_dir = temp_dir("broken");
    let mut first = Fake::new(&broken_dir, CADENCE);
    // Fails at the row of step 7: after the checkpoint of step 5, with the row of step 6 written.
    let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        drive(&mut first, &mut |e| {
            if let Event::Logged { step: 8, .. } = e {
                panic!("simulated crash");
            }
        })
    }));
    assert!(died.is_err());
    drop(first);
    let mut resumed = Fake::new(&broken_dir, CADENCE);
    resume(&mut resumed).unwrap();
    assert_eq!(
        resumed.core.counters.step, 5,
        "resumes from the last checkpoint"
    );
    let mut events = Vec::new();
    let counters = drive(&mut resumed, &mut |e| events.push(e)).unwrap();
    assert_eq!(summary(&events)[..2], ["started@5", "logged@6"]);
    assert_eq!(counters, straight.core.counters);
    assert_eq!(resumed.weights(), straight.weights());
    assert_eq!(
        metrics_without_timing(&broken_dir),
        metrics_without_timing(&straight_dir),
        "rows repeated or skipped"
    );
    drop((straight, resumed));
    std::fs::remove_dir_all(&straight_dir).ok();
    std::fs::remove_dir_all(&broken_dir).ok();
}

#[test]
fn a_finished_run_driven_again_opens_no_data_and_only_finishes() {
    let dir = temp_dir("finished");
    let mut fake = Fake::new(&dir, CADENCE);
    drive(&mut fake, &mut |_| {}).unwrap();
    drop(fake);
    let mut again = Fake::new(&dir, CADENCE);
    resume(&mut again).unwrap();
    let before = again.weights();
    let mut events = Vec::new();
    drive(&mut again, &mut |e| events.push(e)).unwrap();
    assert_eq!(summary(&events), ["started@10", "finished@10"]);
    assert_eq!((again.opened, &again.finished[..]), (0, &[false][..]));
    assert_eq!(again.weights(), before);
    assert_eq!(metrics_without_timing(&dir).len(), 1 + 7 + 3);
    drop(again);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_loop_without_checkpoints_saves_no_state_and_ends_its_only_epoch_at_the_last_step() {
    let dir = temp_dir("no-checkpoints");
    let cadence = Cadence {
        total_steps: 7,
        log_every: 3,
        steps_per_epoch: None,
        checkpoint_every: None,
        images_per_step: 8,
    };
    let mut fake = Fake::new(&dir, cadence);
    let mut events = Vec::new();
    drive(&mut fake, &mut |e| events.push(e)).unwrap();
    assert_eq!(
        summary(&events),
        [
            "started@0",
            "logged@3",
            "logged@6",
            "logged@7",
            "evaluated@7",
            "finished@7"
        ]
    );
    assert!(state::find(&dir.join("checkpoints")).is_none());
    drop(fake);
    std::fs::remove_dir_all(&dir).ok();
}
