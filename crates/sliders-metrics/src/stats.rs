//! Uncertainty of reported figures: Wilson score intervals for accuracies (every table of the
//! evaluation carries the number of images behind a figure and a 95% interval).

/// A proportion with its sample size and a 95% Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proportion {
    /// Successes / n.
    pub value: f64,
    /// Number of trials.
    pub n: u64,
    /// Lower end of the 95% interval.
    pub low: f64,
    /// Upper end of the 95% interval.
    pub high: f64,
}

/// `successes` out of `n` with its 95% Wilson interval (z = 1.959964). `n = 0` gives NaN value
/// and the uninformative interval [0, 1].
pub fn proportion(successes: u64, n: u64) -> Proportion {
    const Z: f64 = 1.959_963_984_540_054;
    if n == 0 {
        return Proportion {
            value: f64::NAN,
            n,
            low: 0.0,
            high: 1.0,
        };
    }
    let nf = n as f64;
    let p = successes as f64 / nf;
    let z2 = Z * Z;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = Z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    Proportion {
        value: p,
        n,
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    }
}

/// Accuracy of predicted labels against the truth (equal lengths), as a [`Proportion`].
pub fn accuracy(predicted: &[bool], truth: &[bool]) -> Proportion {
    assert_eq!(predicted.len(), truth.len(), "one prediction per label");
    let hits = predicted.iter().zip(truth).filter(|(p, t)| p == t).count() as u64;
    proportion(hits, truth.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_matches_published_values() {
        // Newcombe (1998), example: 81 of 263 → 0.3080, 95% CI 0.2553 to 0.3662.
        let p = proportion(81, 263);
        assert!((p.value - 0.30798).abs() < 1e-4);
        assert!((p.low - 0.2553).abs() < 5e-4, "{p:?}");
        assert!((p.high - 0.3662).abs() < 5e-4, "{p:?}");
        // All correct: the interval stays below 1 at the top and leaves room below.
        let all = proportion(100, 100);
        assert_eq!(all.high, 1.0);
        assert!((all.low - 0.963).abs() < 1e-3, "{all:?}");
        assert!(proportion(0, 0).value.is_nan());
    }

    #[test]
    fn accuracy_counts_agreements() {
        let p = accuracy(&[true, false, true, true], &[true, true, true, false]);
        assert_eq!((p.value, p.n), (0.5, 4));
    }
}
