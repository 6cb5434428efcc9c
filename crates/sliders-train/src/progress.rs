//! The bookkeeping every training loop shares: interval means of the step losses (kept on the
//! device until a log step, so logging costs one host sync per loss), `metrics.csv` rows, and the
//! [`Event`]s of a run (started, logged with throughput and ETA, evaluated, checkpointed,
//! finished).

use crate::common::check_finite;
use crate::device;
use crate::error::TrainError;
use crate::events::{Event, Throughput};
use crate::run_dir::MetricsLog;
use sliders_config::run_record::Phase;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Named sums of detached scalar losses and how many were added to each since the last
/// [`IntervalMeans::take`].
pub struct IntervalMeans {
    names: Vec<&'static str>,
    sums: Vec<Tensor>,
    counts: Vec<u64>,
    device: Device,
}

impl IntervalMeans {
    /// Empty sums of the losses `names`, on `device`.
    pub fn new(names: &[&'static str], device: Device) -> Self {
        let mut m = Self {
            names: names.to_vec(),
            sums: Vec::new(),
            counts: vec![0; names.len()],
            device,
        };
        m.reset();
        m
    }

    fn reset(&mut self) {
        self.sums = (0..self.names.len())
            .map(|_| Tensor::zeros([], (Kind::Float, self.device)))
            .collect();
        self.counts.iter_mut().for_each(|c| *c = 0);
    }

    /// Adds one value of loss `slot` (index into the names).
    pub fn add(&mut self, slot: usize, loss: &Tensor) {
        self.sums[slot] += loss;
        self.counts[slot] += 1;
    }

    /// The mean of each loss since the last call (0 for a loss never added, e.g. a disabled
    /// discriminator), and starts a new interval.
    pub fn take(&mut self) -> Vec<(String, f64)> {
        let means = self
            .names
            .iter()
            .zip(&self.sums)
            .zip(&self.counts)
            .map(|((name, sum), &count)| {
                let mean = if count == 0 {
                    0.0
                } else {
                    sum.double_value(&[]) / count as f64
                };
                (name.to_string(), mean)
            })
            .collect();
        self.reset();
        means
    }
}

/// A run's `metrics.csv` and event sink, from `Started` to `Finished`.
pub struct Progress<'a> {
    metrics: MetricsLog,
    throughput: Throughput,
    on_event: &'a mut dyn FnMut(Event),
    total: u64,
}

impl<'a> Progress<'a> {
    /// Opens `metrics_path` with `columns` (rows after `start_step`, left by an interrupted run,
    /// are dropped; `images_per_sec` must be among the columns) and emits `Started`.
    pub fn start(
        metrics_path: &Path,
        columns: &[String],
        start_step: u64,
        total: u64,
        device: Device,
        on_event: &'a mut dyn FnMut(Event),
    ) -> Result<Self, TrainError> {
        let col_refs: Vec<&str> = columns.iter().map(String::as_str).collect();
        let metrics = MetricsLog::open(metrics_path, &col_refs, start_step)?;
        on_event(Event::Started {
            start_step,
            total_steps: total,
            device: device::name(device),
        });
        Ok(Self {
            metrics,
            throughput: Throughput::new(start_step),
            on_event,
            total,
        })
    }

    /// Logs the training `values` at `step`: fails on a non-finite value, appends a `train` row
    /// with the throughput (`images_per_step` images each step) and emits `Logged`.
    pub fn log(
        &mut self,
        step: u64,
        images_per_step: u64,
        values: Vec<(String, f64)>,
    ) -> Result<(), TrainError> {
        check_finite(step, &values)?;
        let (ips, eta) = self.throughput.tick(step, self.total, images_per_step);
        let mut row: Vec<(&str, f64)> = values.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        row.push(("images_per_sec", ips));
        self.metrics.append(step, Phase::Train, &row)?;
        (self.on_event)(Event::Logged {
            step,
            total_steps: self.total,
            values,
            images_per_sec: ips,
            eta,
        });
        Ok(())
    }

    /// Records an evaluation: an `eval` row and an `Evaluated` event naming the best
    /// checkpoints it replaced.
    pub fn evaluated(
        &mut self,
        step: u64,
        values: Vec<(String, f64)>,
        improved: Vec<String>,
    ) -> Result<(), TrainError> {
        self.metrics.append(step, Phase::Eval, &values)?;
        (self.on_event)(Event::Evaluated {
            step,
            values,
            improved,
        });
        Ok(())
    }

    /// Emits `Checkpointed` (after the caller saved the state).
    pub fn checkpointed(&mut self, step: u64) {
        (self.on_event)(Event::Checkpointed { step });
    }

    /// Emits `Finished`.
    pub fn finished(self, step: u64) {
        (self.on_event)(Event::Finished { step });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_means_divide_by_each_losss_own_count_and_restart() {
        let mut m = IntervalMeans::new(&["a", "b", "never"], Device::Cpu);
        for v in [1.0f32, 2.0, 6.0] {
            m.add(0, &Tensor::from(v));
        }
        m.add(1, &Tensor::from(5.0f32));
        let got = m.take();
        assert_eq!(
            got,
            vec![
                ("a".to_string(), 3.0),
                ("b".to_string(), 5.0),
                ("never".to_string(), 0.0)
            ]
        );
        m.add(0, &Tensor::from(4.0f32));
        assert_eq!(m.take()[0].1, 4.0, "a new interval forgets the old sums");
    }

    #[test]
    fn progress_writes_rows_and_events_and_refuses_a_nan() {
        let dir = std::env::temp_dir().join(format!("sliders-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        let mut events = Vec::new();
        let mut sink = |e: Event| events.push(e);
        let columns: Vec<String> = ["loss", "images_per_sec", "val"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut p = Progress::start(&path, &columns, 0, 10, Device::Cpu, &mut sink).unwrap();
        p.log(5, 32, vec![("loss".into(), 0.5)]).unwrap();
        p.evaluated(5, vec![("val".into(), 0.9)], vec!["best".into()])
            .unwrap();
        p.checkpointed(5);
        let err = p.log(6, 32, vec![("loss".into(), f64::NAN)]).unwrap_err();
        assert!(err.to_string().contains("loss"), "{err}");
        p.finished(10);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "step,phase,loss,images_per_sec,val");
        assert!(lines[1].starts_with("5,train,0.5,"), "{text}");
        assert!(
            lines[1].ends_with(','),
            "no val cell on a train row: {text}"
        );
        assert_eq!(lines[2], "5,eval,,,0.9");
        assert_eq!(lines.len(), 3, "the NaN row is not written: {text}");
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e {
                Event::Started { .. } => "started",
                Event::Logged { .. } => "logged",
                Event::Evaluated { .. } => "evaluated",
                Event::Checkpointed { .. } => "checkpointed",
                Event::Finished { .. } => "finished",
            })
            .collect();
        assert_eq!(
            kinds,
            ["started", "logged", "evaluated", "checkpointed", "finished"]
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
