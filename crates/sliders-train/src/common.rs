//! Pieces the training loops share (Fader, classifier, cGAN, encoders, digits): the seeded data
//! stream that a resumed run fast-forwards, per-step seeding of libtorch's generator (so dropout
//! and random attributes repeat after a resume), the non-finite-loss check, and the metadata that
//! makes a saved model self-describing.

use crate::error::TrainError;
use sliders_celeba::{BatchSampler, BatchSource, Prefetcher, Prepared};
use sliders_config::data::SamplerConfig;
use std::sync::Arc;

/// A training batch stream over `source` whose draws are fixed by `seed` (the experiment seed
/// mixed with `data.sampler.seed`), positioned after `already_drawn` batches.
pub fn data_stream(
    source: Arc<BatchSource>,
    sampler: &SamplerConfig,
    seed: u64,
    already_drawn: u64,
) -> Result<Prefetcher, TrainError> {
    let cfg = SamplerConfig {
        seed: mix(seed, sampler.seed),
        ..sampler.clone()
    };
    let mut s = BatchSampler::try_new(source, &cfg)?;
    s.skip_batches(already_drawn);
    Ok(s.prefetch(cfg.prefetch))
}

/// Seeds libtorch's generators for step `step`, so every random draw of a step (dropout, random
/// attributes, noise) depends only on the experiment seed and the step, not on where a run resumed.
pub fn seed_step(seed: u64, step: u64) {
    tch::manual_seed(mix(seed, step.wrapping_add(0x5EED)) as i64 & i64::MAX);
}

/// A SplitMix64-style mix of two words.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fails with the step and the loss when a logged value is NaN or infinite.
pub fn check_finite(step: u64, values: &[(String, f64)]) -> Result<(), TrainError> {
    match values.iter().find(|(_, v)| !v.is_finite()) {
        Some((name, value)) => Err(TrainError::NonFinite {
            step,
            loss: name.clone(),
            value: *value,
        }),
        None => Ok(()),
    }
}

/// Metadata stored in every model checkpoint so that a model folder describes itself: attribute
/// names in `y` order, the framing and the image size it was trained on.
pub fn model_metadata(data: &Prepared) -> Vec<(String, String)> {
    let names: Vec<String> = data.selection.names().to_vec();
    vec![
        (
            "sliders.attributes".to_string(),
            serde_json::to_string(&names).expect("names serialise"),
        ),
        (
            "sliders.framing".to_string(),
            format!("{:?}", data.cache.params().framing).to_lowercase(),
        ),
        (
            "sliders.image_size".to_string(),
            data.cache.size().to_string(),
        ),
    ]
}

/// Borrowed form of [`model_metadata`] for `checkpoint::save_with_metadata`.
pub fn as_pairs(meta: &[(String, String)]) -> Vec<(&str, &str)> {
    meta.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Image count of a validation pass limited to `max_images` (0 = all).
pub fn eval_limit(len: usize, max_images: usize) -> usize {
    if max_images == 0 {
        len
    } else {
        len.min(max_images)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_losses_name_the_step_and_the_loss() {
        let _rng = crate::rng_lock();
        let ok = vec![("rec".to_string(), 0.5)];
        assert!(check_finite(3, &ok).is_ok());
        let bad = vec![("rec".to_string(), 0.5), ("lat_dis".to_string(), f64::NAN)];
        let err = check_finite(7, &bad).unwrap_err().to_string();
        assert!(err.contains("step 7") && err.contains("lat_dis"), "{err}");
    }

    #[test]
    fn step_seeds_repeat_and_differ() {
        let _rng = crate::rng_lock();
        seed_step(1, 10);
        let a = tch::Tensor::rand([4], (tch::Kind::Float, tch::Device::Cpu));
        seed_step(1, 10);
        let b = tch::Tensor::rand([4], (tch::Kind::Float, tch::Device::Cpu));
        seed_step(1, 11);
        let c = tch::Tensor::rand([4], (tch::Kind::Float, tch::Device::Cpu));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
