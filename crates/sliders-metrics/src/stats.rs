//! Uncertainty of reported figures: Wilson score intervals for accuracies, normal-approximation
//! intervals for means (every table of the evaluation carries the number of images behind a figure
//! and a 95% interval).

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

/// The median of `values` (the mean of the two middle ones for an even count; NaN when empty):
/// the benchmarks' summary of repeated timings.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The mean of `values` with its 95% interval (normal approximation: 1.96 standard errors of the
/// mean, sample standard deviation), in a [`Proportion`]'s fields (value, n, low, high). Fewer
/// than two values give the uninformative interval (−∞, ∞); none gives NaN.
pub fn mean_interval(values: &[f64]) -> Proportion {
    let n = values.len();
    let m = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Proportion {
            value: m,
            n: n as u64,
            low: f64::NEG_INFINITY,
            high: f64::INFINITY,
        };
    }
    let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = 1.96 * (var / n as f64).sqrt();
    Proportion {
        value: m,
        n: n as u64,
        low: m - half,
        high: m + half,
    }
}

/// Per-item differences `a[i] − b[i]` of two measurements on the same items, as a
/// [`mean_interval`]: the paired comparison, far tighter than comparing two unpaired intervals.
pub fn paired_difference(a: &[f64], b: &[f64]) -> Proportion {
    assert_eq!(a.len(), b.len(), "paired measurements on the same items");
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    mean_interval(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_interval_is_1_96_standard_errors() {
        // Values 1..=5: mean 3, sample sd sqrt(2.5), se sqrt(0.5).
        let m = mean_interval(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!((m.value, m.n), (3.0, 5));
        let half = 1.96 * 0.5f64.sqrt();
        assert!((m.low - (3.0 - half)).abs() < 1e-12 && (m.high - (3.0 + half)).abs() < 1e-12);
        assert!(mean_interval(&[2.0]).low.is_infinite());
        assert!(mean_interval(&[]).value.is_nan());
    }

    #[test]
    fn a_paired_difference_sees_a_constant_shift_that_unpaired_intervals_hide() {
        let a: Vec<f64> = (0..50).map(|i| (i % 7) as f64).collect();
        let b: Vec<f64> = a.iter().map(|v| v + 0.1).collect();
        let d = paired_difference(&a, &b);
        assert!((d.value + 0.1).abs() < 1e-12 && d.high < 0.0, "{d:?}");
        let (ia, ib) = (mean_interval(&a), mean_interval(&b));
        assert!(ia.high > ib.low, "the unpaired intervals overlap");
    }

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

    #[test]
    fn the_median_of_odd_even_and_empty_lists() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
