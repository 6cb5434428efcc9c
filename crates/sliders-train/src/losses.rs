//! The attribute losses and accuracies of Fader Networks (docs/fader-networks.md#losses): one
//! softmax cross-entropy per binary attribute over its 2 one-hot columns, summed over attributes;
//! the adversarial target is the flipped attribute `1 − y`.

use tch::{Kind, Reduction, Tensor};

/// `Σ_attr CE(logits[:, 2a..2a+2], target_a)` where `target_a = argmax(y[:, 2a..2a+2])`, flipped to
/// `1 − target_a` when `flip` (the encoder's adversarial loss). `logits` and `y` are `[N, 2k]`.
pub fn attr_cross_entropy(logits: &Tensor, y: &Tensor, flip: bool) -> Tensor {
    let k = y.size()[1] / 2;
    let n = y.size()[0];
    // [N, k, 2] → per-attribute targets [N, k] → flattened CE over N·k rows, mean per attribute.
    let targets = y.view([n, k, 2]).argmax(2, false);
    let targets = if flip { 1 - targets } else { targets };
    let per_row = logits
        .view([n * k, 2])
        .cross_entropy_loss::<Tensor>(&targets.view([n * k]), None, Reduction::None, -100, 0.0)
        .view([n, k]);
    // Mean over the batch for each attribute, summed over attributes (the reference's loop).
    per_row.mean_dim(0, false, Kind::Float).sum(Kind::Float)
}

/// Correct predictions per attribute, `[k]` (as f32 counts): `argmax(logits chunk) == argmax(y chunk)`.
pub fn attr_correct(logits: &Tensor, y: &Tensor) -> Tensor {
    let k = y.size()[1] / 2;
    let n = y.size()[0];
    let pred = logits.view([n, k, 2]).argmax(2, false);
    let truth = y.view([n, k, 2]).argmax(2, false);
    pred.eq_tensor(&truth)
        .to_kind(Kind::Float)
        .sum_dim_intlist(0, false, Kind::Float)
}

/// One-hot attributes where every attribute takes a uniformly random value (the reference's
/// `flip_attributes(y, 'all')`; may equal the original). `[N, 2k]`.
pub fn random_attributes(like: &Tensor) -> Tensor {
    let (n, w) = (like.size()[0], like.size()[1]);
    let v = Tensor::randint(2, [n, w / 2], (Kind::Int64, like.device()));
    v.one_hot(2).view([n, w]).to_kind(like.kind())
}

/// `y` with attribute `a` set to value `v` (0 absent, 1 present) for every row.
pub fn set_attribute(y: &Tensor, a: i64, v: i64) -> Tensor {
    let out = y.copy();
    let _ = out.narrow(1, 2 * a, 1).fill_((1 - v) as f64);
    let _ = out.narrow(1, 2 * a + 1, 1).fill_(v as f64);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f32], shape: [i64; 2]) -> Tensor {
        Tensor::from_slice(v).view(shape)
    }

    #[test]
    fn cross_entropy_sums_attributes_and_flips_targets() {
        let _rng = crate::rng_lock();
        // Two attributes, two images; logits favour "absent" for attr 0 and "present" for attr 1.
        let logits = t(&[2.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 1.0], [2, 4]);
        let y = t(&[1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0], [2, 4]);
        let ce = |a: f64, b: f64| -((a).exp() / (a.exp() + b.exp())).ln();
        let want = ce(2.0, 0.0) + ce(1.0, 0.0);
        let got = attr_cross_entropy(&logits, &y, false).double_value(&[]);
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        let want_flip = ce(0.0, 2.0) + ce(0.0, 1.0);
        let got_flip = attr_cross_entropy(&logits, &y, true).double_value(&[]);
        assert!(
            (got_flip - want_flip).abs() < 1e-6,
            "{got_flip} vs {want_flip}"
        );
    }

    #[test]
    fn accuracy_counts_per_attribute() {
        let _rng = crate::rng_lock();
        let logits = t(&[2.0, 0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 1.0], [2, 4]);
        let y = t(&[1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0], [2, 4]);
        let c: Vec<f32> = attr_correct(&logits, &y).try_into().unwrap();
        assert_eq!(c, [1.0, 2.0]);
    }

    #[test]
    fn setting_and_randomising_attributes_keeps_one_hot_rows() {
        let _rng = crate::rng_lock();
        let y = t(&[1.0, 0.0, 0.0, 1.0], [1, 4]);
        let s: Vec<f32> = set_attribute(&y, 0, 1).view([-1]).try_into().unwrap();
        assert_eq!(s, [0.0, 1.0, 0.0, 1.0]);
        let r = random_attributes(&Tensor::zeros([64, 6], (Kind::Float, tch::Device::Cpu)));
        let sums: Vec<f32> = r
            .view([64, 3, 2])
            .sum_dim_intlist(2, false, Kind::Float)
            .view([-1])
            .try_into()
            .unwrap();
        assert!(sums.iter().all(|&s| s == 1.0));
        let present = r
            .view([64, 3, 2])
            .select(2, 1)
            .mean(Kind::Float)
            .double_value(&[]);
        assert!((0.3..0.7).contains(&present), "{present}");
    }
}
