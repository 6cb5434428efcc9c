//! The adversarial weight schedule of Fader Networks (docs/fader-networks.md#lambda-schedule):
//! lambda rises linearly from 0 to its maximum over the first `warmup_steps` autoencoder steps,
//! counted from 0.

/// `λ_eff(t) = λ · min(t, warmup) / warmup`; `warmup = 0` switches the schedule off (λ from the start).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearWarmup {
    /// The final weight λ (reference `lambda_lat_dis`, default 1e-4).
    pub max: f64,
    /// Autoencoder steps over which λ rises (reference `lambda_schedule`, default 500,000).
    pub warmup_steps: u64,
}

impl LinearWarmup {
    /// The weight at autoencoder step `t` (the first step is `t = 0`, where it is 0).
    pub fn value(&self, t: u64) -> f64 {
        if self.warmup_steps == 0 {
            return self.max;
        }
        self.max * t.min(self.warmup_steps) as f64 / self.warmup_steps as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rises_linearly_then_stays_at_its_maximum() {
        let s = LinearWarmup {
            max: 1e-4,
            warmup_steps: 500_000,
        };
        assert_eq!(s.value(0), 0.0);
        assert!((s.value(250_000) - 5e-5).abs() < 1e-18);
        assert_eq!(s.value(500_000), 1e-4);
        assert_eq!(s.value(1_563_000), 1e-4);
    }

    #[test]
    fn no_warmup_means_full_weight_from_the_start() {
        let s = LinearWarmup {
            max: 0.5,
            warmup_steps: 0,
        };
        assert_eq!(s.value(0), 0.5);
    }
}
