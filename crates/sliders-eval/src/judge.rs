//! The evaluation classifier as a probability judge. The trained Fader and IcGAN models the
//! evaluation edits with are loaded and run by `sliders_edit::infer`, the one inference layer the
//! editor uses too.

use crate::EvalError;
use sliders_train::judge::Judge;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// The evaluation classifier answering `p(attribute present)`.
pub struct AttributeJudge {
    judge: Judge,
}

impl AttributeJudge {
    /// Loads the classifier checkpoint.
    pub fn load(path: &Path, device: Device) -> Result<Self, EvalError> {
        Ok(Self {
            judge: Judge::load(path, device)?,
        })
    }

    /// Attributes it knows.
    pub fn attributes(&self) -> &[String] {
        self.judge.attributes()
    }

    /// Whether it was trained on `attr`.
    pub fn knows(&self, attr: &str) -> bool {
        self.judge.attributes().iter().any(|a| a == attr)
    }

    /// `p(attr present)` for images `[n, 3, S, S]` (eval mode, batches of `batch`), on the CPU.
    pub fn probability(&self, x: &Tensor, attr: &str, batch: usize) -> Result<Vec<f64>, EvalError> {
        let off = self.judge.offsets(&[attr.to_string()])?[0];
        let n = x.size()[0];
        let mut out = Vec::with_capacity(n as usize);
        tch::no_grad(|| {
            for start in (0..n).step_by(batch.max(1)) {
                let len = (batch as i64).min(n - start);
                let logits = self.judge.logits(&x.narrow(0, start, len));
                let p = logits
                    .narrow(1, off, 2)
                    .softmax(1, Kind::Float)
                    .select(1, 1)
                    .to_device(Device::Cpu)
                    .to_kind(Kind::Double);
                out.extend(Vec::<f64>::try_from(p).expect("f64 probabilities"));
            }
        });
        Ok(out)
    }
}
