//! Progress events that the loops emit; the CLI turns them into a progress bar and log lines.
//! Losses reach the host only at log intervals, so an event never forces a per-step sync.

use std::time::{Duration, Instant};

/// Something a training loop reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The loop starts (or resumes) at `start_step` of `total_steps`.
    Started {
        /// Steps already done (0 for a fresh run).
        start_step: u64,
        /// Steps in total.
        total_steps: u64,
        /// `cpu` or `cuda:N`.
        device: String,
    },
    /// Mean losses over the last log interval.
    Logged {
        /// Steps done.
        step: u64,
        /// Steps in total.
        total_steps: u64,
        /// Named mean values.
        values: Vec<(String, f64)>,
        /// Training images per second over the interval.
        images_per_sec: f64,
        /// Estimated time to the end.
        eta: Duration,
    },
    /// An evaluation on the validation split.
    Evaluated {
        /// Steps done.
        step: u64,
        /// Named metrics.
        values: Vec<(String, f64)>,
        /// Which best checkpoints this evaluation replaced (`best_rec`, `best_accu`).
        improved: Vec<String>,
    },
    /// The resumable state was saved.
    Checkpointed {
        /// Steps done.
        step: u64,
    },
    /// The loop finished all its steps.
    Finished {
        /// Steps done.
        step: u64,
    },
}

/// Measures images/s and the ETA between log intervals.
#[derive(Debug)]
pub struct Throughput {
    last: Instant,
    last_step: u64,
}

impl Throughput {
    /// Starts measuring at `step`.
    pub fn new(step: u64) -> Self {
        Self {
            last: Instant::now(),
            last_step: step,
        }
    }

    /// `(images/s, ETA)` since the last call, for `images_per_step` and `total` steps.
    pub fn tick(&mut self, step: u64, total: u64, images_per_step: u64) -> (f64, Duration) {
        let elapsed = self.last.elapsed().as_secs_f64().max(1e-9);
        let steps = step.saturating_sub(self.last_step) as f64;
        let steps_per_sec = steps / elapsed;
        self.last = Instant::now();
        self.last_step = step;
        let eta = if steps_per_sec > 0.0 {
            Duration::from_secs_f64(total.saturating_sub(step) as f64 / steps_per_sec)
        } else {
            Duration::ZERO
        };
        (steps_per_sec * images_per_step as f64, eta)
    }
}
