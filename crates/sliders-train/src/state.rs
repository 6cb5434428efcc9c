//! The resumable state of a run: every network's weights (including batch-norm statistics), every
//! optimizer's moments and the loop's counters, saved together as one folder
//! `checkpoints/state/` that is replaced atomically (`state.tmp` is written, `state` moved to
//! `state.old`, `state.tmp` renamed to `state`, `state.old` removed). A run killed at any moment
//! finds either `state` or, inside the swap, `state.old`.

use crate::error::TrainError;
use crate::optim::Adam;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Tensor;
use tch::nn::VarStore;

/// The loop's counters and the best metrics so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Counters {
    /// Completed training steps (autoencoder steps for Fader).
    pub step: u64,
    /// Batches drawn from the training sampler so far (to fast-forward it on resume).
    pub batches_drawn: u64,
    /// Best (lowest) validation reconstruction error so far, if evaluated.
    pub best_rec: Option<f64>,
    /// Best (highest) validation swap / classification accuracy so far, if evaluated.
    pub best_accu: Option<f64>,
}

/// One network to save or restore: a name (file stem), its variables and its optimizer.
pub struct Slot<'a> {
    /// File stem, e.g. `ae`, `lat_dis`.
    pub name: &'a str,
    /// The network's variables.
    pub vs: &'a mut VarStore,
    /// Its optimizer.
    pub opt: &'a mut Adam,
}

fn counters_path(dir: &Path) -> PathBuf {
    dir.join("counters.json")
}

/// Saves the state into `checkpoints/state` of `checkpoints`.
pub fn save(
    checkpoints: &Path,
    slots: &mut [Slot<'_>],
    counters: &Counters,
) -> Result<(), TrainError> {
    let dir = checkpoints.join("state");
    let tmp = checkpoints.join("state.tmp");
    let old = checkpoints.join("state.old");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    for slot in slots.iter() {
        let weights = tmp.join(format!("{}.safetensors", slot.name));
        // Contiguous copies: safetensors stores the standard layout, and channels-last
        // variables (`fader_train.channels_last`) are not contiguous.
        let vars: Vec<(String, Tensor)> = slot
            .vs
            .variables()
            .into_iter()
            .map(|(k, v)| (k, v.contiguous()))
            .collect();
        Tensor::write_safetensors(&vars, &weights)
            .map_err(|e| TrainError::io_torch(&weights, e))?;
        slot.opt
            .save(&tmp.join(format!("{}.adam.safetensors", slot.name)))?;
    }
    let json = serde_json::to_string_pretty(counters).expect("counters serialise");
    std::fs::write(counters_path(&tmp), json).map_err(|e| TrainError::io(&tmp, e))?;
    if dir.exists() {
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(&dir, &old).map_err(|e| TrainError::io(&dir, e))?;
    }
    std::fs::rename(&tmp, &dir).map_err(|e| TrainError::io(&dir, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The state folder to resume from, if any: `state`, or `state.old` when a crash hit the swap.
pub fn find(checkpoints: &Path) -> Option<PathBuf> {
    ["state", "state.old"]
        .iter()
        .map(|n| checkpoints.join(n))
        .find(|d| counters_path(d).is_file())
}

/// The fix printed with every state file that cannot be restored.
const RESTART_FIX: &str = "rerun with `sliders train --force-restart` to delete the state and \
                           start over, or set another run_dir";

/// Restores weights, optimizer moments and counters from `dir`. Every file is checked before
/// anything is copied: a truncated or corrupt file, or a tensor of another shape than the
/// network's, is an error of one line naming the file (and tensor) and the fix.
pub fn load(dir: &Path, slots: &mut [Slot<'_>]) -> Result<Counters, TrainError> {
    for slot in slots.iter_mut() {
        let weights = dir.join(format!("{}.safetensors", slot.name));
        let expected: Vec<(String, Vec<i64>)> = slot
            .vs
            .variables()
            .into_iter()
            .map(|(k, v)| (k, v.size()))
            .collect();
        check_file(&weights, Some(&expected))?;
        slot.vs.load(&weights).map_err(|e| TrainError::Torch {
            path: weights.clone(),
            message: format!("{}; {RESTART_FIX}", first_line(&e.to_string())),
        })?;
        let adam = dir.join(format!("{}.adam.safetensors", slot.name));
        check_file(&adam, None)?;
        slot.opt.load(&adam)?;
    }
    let path = counters_path(dir);
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        TrainError::Config(format!(
            "{}: the state's counters are truncated or corrupt ({e}); {RESTART_FIX}",
            path.display()
        ))
    })
}

/// Checks that `path` is a whole safetensors file and, given `expected` (name, shape) pairs,
/// that it holds exactly those tensors with those shapes.
fn check_file(path: &Path, expected: Option<&[(String, Vec<i64>)]>) -> Result<(), TrainError> {
    let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
    let file = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| TrainError::Torch {
        path: path.to_path_buf(),
        message: format!(
            "the saved state file is truncated or corrupt ({e:?}, {} bytes); {RESTART_FIX}",
            bytes.len()
        ),
    })?;
    let Some(expected) = expected else {
        return Ok(());
    };
    let mismatch = |what: String| TrainError::Torch {
        path: path.to_path_buf(),
        message: format!(
            "{what}: the saved state belongs to a network of another shape (was the config \
             changed?); {RESTART_FIX}"
        ),
    };
    for (name, shape) in expected {
        match file.tensor(name) {
            Err(_) => return Err(mismatch(format!("tensor `{name}` is missing"))),
            Ok(view) => {
                let found: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
                if &found != shape {
                    return Err(mismatch(format!(
                        "tensor `{name}` has shape {found:?} in the file, the network expects {shape:?}"
                    )));
                }
            }
        }
    }
    if let Some(extra) = file
        .names()
        .into_iter()
        .find(|n| !expected.iter().any(|(e, _)| e == *n))
    {
        return Err(mismatch(format!("tensor `{extra}` is not in the network")));
    }
    Ok(())
}

/// The first line of a libtorch message, without its C++ backtrace.
pub fn first_line(message: &str) -> String {
    let cut = message
        .find("Exception raised from")
        .unwrap_or(message.len());
    message[..cut]
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("libtorch error")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The best scores decide which checkpoint a resumed run keeps, so they must come back
    /// bit for bit (serde_json's default float parser was 1 ulp off on this value).
    #[test]
    fn counters_survive_the_json_round_trip_exactly() {
        let counters = Counters {
            step: 12,
            batches_drawn: 3,
            best_rec: Some(1.021_696_865_558_624_3),
            best_accu: Some(0.1 + 0.2),
        };
        let json = serde_json::to_string_pretty(&counters).unwrap();
        let back: Counters = serde_json::from_str(&json).unwrap();
        assert_eq!(back, counters);
        assert_eq!(
            back.best_rec.unwrap().to_bits(),
            1.021_696_865_558_624_3f64.to_bits()
        );
    }
}
