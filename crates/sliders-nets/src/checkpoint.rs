//! Checkpoint files (docs/architecture.md#models; docs/fader-networks.md#checkpoint-names for the
//! key names): one safetensors file per network whose tensor names are the PyTorch `state_dict`
//! keys, with the network's kind and configuration in the file's metadata, written atomically.
//!
//! Metadata keys: `sliders.kind` (e.g. `fader-autoencoder`), `sliders.config` (the JSON of the
//! configuration the network was built from), `sliders.version` (this crate's version) and
//! `format = pt` (the Hugging Face convention for PyTorch tensors). BN `running_mean` and
//! `running_var` are stored; PyTorch's `num_batches_tracked` has no tch counterpart: it is not
//! written, and it is ignored when a PyTorch file is loaded (PyTorch fills it in when missing).
//!
//! From Python, with a PyTorch module of the same structure (see `tests/python/roundtrip.py`,
//! which defines all of them from the references described in docs/):
//!
//! ```text
//! from safetensors import safe_open
//! from safetensors.torch import load_file, save_file
//! with safe_open(path, "pt") as f:
//!     meta = f.metadata()                       # sliders.kind, sliders.config (JSON), ...
//! model.load_state_dict(load_file(path), strict=False)   # only num_batches_tracked is missing
//! save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path2, metadata=meta)
//! ```
//!
//! From Rust: [`save`] / [`load`] with a network built at the root of its own `VarStore`, or
//! [`restore`] to rebuild the network from the configuration stored in the file.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tch::{Device, Kind, Tensor, nn};

use crate::NetsError;

/// Metadata key of the network kind.
pub const META_KIND: &str = "sliders.kind";
/// Metadata key of the configuration (JSON).
pub const META_CONFIG: &str = "sliders.config";
/// Metadata key of the writer's crate version.
pub const META_VERSION: &str = "sliders.version";

/// A network that can be checkpointed: its kind and its configuration.
pub trait Network {
    /// The stable name stored as `sliders.kind` (e.g. `fader-autoencoder`).
    fn kind(&self) -> String;
    /// The configuration it was built from, as JSON (stored as `sliders.config`).
    fn config_json(&self) -> String;
}

/// Serialises a configuration to the JSON stored in checkpoints.
pub fn config_to_json<T: Serialize>(config: &T) -> String {
    serde_json::to_string(config).expect("network configurations always serialise to JSON")
}

/// What a checkpoint file holds, read without loading the tensors into a network.
#[derive(Debug, Clone)]
pub struct CheckpointInfo {
    /// The file.
    pub path: PathBuf,
    /// `sliders.kind`, if present (absent in files written by plain PyTorch code).
    pub kind: Option<String>,
    /// `sliders.config`, if present.
    pub config_json: Option<String>,
    /// `sliders.version`, if present.
    pub version: Option<String>,
    /// All metadata, including the keys above and any extra ones.
    pub metadata: HashMap<String, String>,
    /// Tensor names and shapes, sorted by name.
    pub tensors: BTreeMap<String, Vec<i64>>,
}

impl CheckpointInfo {
    /// Parses the stored configuration, to build the network before [`load`]ing it.
    pub fn config<C: DeserializeOwned>(&self) -> Result<C, NetsError> {
        let json = self
            .config_json
            .as_deref()
            .ok_or_else(|| NetsError::CheckpointCorrupt {
                path: self.path.clone(),
                reason: format!(
                    "it has no `{META_CONFIG}` metadata (written by another program?), so the \
                     network cannot be rebuilt from it; build the network from its \
                     configuration and call checkpoint::load"
                ),
            })?;
        serde_json::from_str(json).map_err(|e| NetsError::CheckpointCorrupt {
            path: self.path.clone(),
            reason: format!("its `{META_CONFIG}` metadata does not parse: {e}"),
        })
    }
}

fn dtype_of(kind: Kind) -> Option<Dtype> {
    Some(match kind {
        Kind::Float => Dtype::F32,
        Kind::Double => Dtype::F64,
        Kind::Half => Dtype::F16,
        Kind::BFloat16 => Dtype::BF16,
        Kind::Int64 => Dtype::I64,
        _ => return None,
    })
}

fn kind_of(dtype: Dtype) -> Option<Kind> {
    Some(match dtype {
        Dtype::F32 => Kind::Float,
        Dtype::F64 => Kind::Double,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::I64 => Kind::Int64,
        _ => return None,
    })
}

// Deviation: PyTorch's BN `num_batches_tracked` counter is neither stored nor read (tch keeps no
// such counter; it only matters for BN with momentum=None, which no reference network uses).
fn is_ignored_key(name: &str) -> bool {
    name.ends_with("num_batches_tracked")
}

/// Saves every variable of `vs` (trainable or not, e.g. BN running statistics) under its name,
/// with `net`'s kind and configuration as metadata. The file is written to a temporary name in
/// the same folder and renamed, so a crash never leaves a half-written checkpoint; the folder
/// is created if needed.
///
/// Build each network at the root of its own `VarStore` so the names are the `state_dict` keys.
pub fn save<N: Network + ?Sized>(
    vs: &nn::VarStore,
    net: &N,
    path: impl AsRef<Path>,
) -> Result<(), NetsError> {
    save_with_metadata(vs, net, path, &[])
}

/// [`save`] with extra metadata entries (e.g. the training step or the git commit).
pub fn save_with_metadata<N: Network + ?Sized>(
    vs: &nn::VarStore,
    net: &N,
    path: impl AsRef<Path>,
    extra: &[(&str, &str)],
) -> Result<(), NetsError> {
    let path = path.as_ref();
    let vars: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
    let mut blobs = Vec::with_capacity(vars.len());
    for (name, t) in &vars {
        let dtype = dtype_of(t.kind()).ok_or_else(|| NetsError::UnsupportedKind {
            name: name.clone(),
            kind: format!("{:?}", t.kind()),
        })?;
        let t = t.detach().to_device(Device::Cpu).contiguous();
        let numel = t.numel();
        let mut bytes = vec![0u8; numel * t.kind().elt_size_in_bytes()];
        t.f_copy_data_u8(&mut bytes, numel)?;
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        blobs.push((name.clone(), dtype, shape, bytes));
    }
    let views = blobs
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| NetsError::CheckpointCorrupt {
                    path: path.to_path_buf(),
                    reason: format!("tensor {name} cannot be serialised: {e}"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut meta = HashMap::new();
    meta.insert("format".to_string(), "pt".to_string());
    meta.insert(META_KIND.to_string(), net.kind());
    meta.insert(META_CONFIG.to_string(), net.config_json());
    meta.insert(
        META_VERSION.to_string(),
        env!("CARGO_PKG_VERSION").to_string(),
    );
    for (k, v) in extra {
        meta.insert((*k).to_string(), (*v).to_string());
    }
    let bytes = safetensors::tensor::serialize(views, &Some(meta)).map_err(|e| {
        NetsError::CheckpointCorrupt {
            path: path.to_path_buf(),
            reason: format!("the tensors cannot be serialised: {e}"),
        }
    })?;
    write_atomically(path, &sorted_metadata(bytes))
}

/// The serialised file with its metadata keys in sorted order. safetensors 0.3 writes the
/// metadata from a `HashMap`, whose order changes from run to run, so two identical trainings
/// wrote files that differed in their header bytes; sorted, equal weights give equal files.
fn sorted_metadata(bytes: Vec<u8>) -> Vec<u8> {
    let Some(n) = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
    else {
        return bytes;
    };
    let Some(Ok(mut header)) = bytes
        .get(8..8 + n)
        .map(serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>)
    else {
        return bytes;
    };
    if let Some(serde_json::Value::Object(meta)) = header.get_mut("__metadata__") {
        let sorted: BTreeMap<String, serde_json::Value> =
            std::mem::take(meta).into_iter().collect();
        *meta = sorted.into_iter().collect();
    }
    let Ok(mut head) = serde_json::to_vec(&header) else {
        return bytes;
    };
    head.resize(head.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + head.len() + bytes.len() - 8 - n);
    out.extend_from_slice(&(head.len() as u64).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&bytes[8 + n..]);
    out
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), NetsError> {
    sliders_fs::write_atomic(path, bytes).map_err(|source| NetsError::CheckpointIo {
        path: path.to_path_buf(),
        source,
        fix: "check that the folder can be created, is writable and the disk is not full",
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, NetsError> {
    std::fs::read(path).map_err(|source| NetsError::CheckpointIo {
        path: path.to_path_buf(),
        fix: if source.kind() == std::io::ErrorKind::NotFound {
            "check the path, or train (or save) the network first"
        } else {
            "check the file's permissions"
        },
        source,
    })
}

fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<(SafeTensors<'a>, CheckpointInfo), NetsError> {
    let corrupt = |reason: String| NetsError::CheckpointCorrupt {
        path: path.to_path_buf(),
        reason,
    };
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| corrupt(format!("{e:?}")))?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| corrupt(format!("{e:?}")))?;
    let metadata = meta.metadata().clone().unwrap_or_default();
    let tensors = st
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let shape = view.shape().iter().map(|&d| d as i64).collect();
            (name, shape)
        })
        .collect();
    let info = CheckpointInfo {
        path: path.to_path_buf(),
        kind: metadata.get(META_KIND).cloned(),
        config_json: metadata.get(META_CONFIG).cloned(),
        version: metadata.get(META_VERSION).cloned(),
        metadata,
        tensors,
    };
    Ok((st, info))
}

/// Reads a checkpoint's metadata and tensor shapes.
pub fn read_info(path: impl AsRef<Path>) -> Result<CheckpointInfo, NetsError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    Ok(parse(path, &bytes)?.1)
}

/// Loads a checkpoint into the variables of `vs`, which holds `net` (built at its root).
///
/// Fails without changing any variable when the file's `sliders.kind` (if present) is not
/// `net`'s kind, or when the tensors do not match: the error lists every shape mismatch (name,
/// expected shape, found shape), every variable missing from the file and every unexpected
/// tensor. `num_batches_tracked` entries of PyTorch files are ignored. Values are converted to
/// the variables' element type and device.
pub fn load<N: Network + ?Sized>(
    vs: &mut nn::VarStore,
    net: &N,
    path: impl AsRef<Path>,
) -> Result<CheckpointInfo, NetsError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let (st, info) = parse(path, &bytes)?;
    let kind = net.kind();
    if let Some(found) = &info.kind
        && *found != kind
    {
        return Err(NetsError::CheckpointKind {
            path: path.to_path_buf(),
            expected: kind,
            found: found.clone(),
        });
    }
    let vars: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
    let mut details = String::new();
    for (name, var) in &vars {
        match info.tensors.get(name) {
            None => details.push_str(&format!(
                "  missing from the file: {name} {:?}\n",
                var.size()
            )),
            Some(found) if *found != var.size() => details.push_str(&format!(
                "  shape mismatch {name}: model expects {:?}, file has {found:?}\n",
                var.size()
            )),
            Some(_) => {}
        }
    }
    for (name, shape) in &info.tensors {
        if !vars.contains_key(name) && !is_ignored_key(name) {
            details.push_str(&format!("  unexpected in the file: {name} {shape:?}\n"));
        }
    }
    if !details.is_empty() {
        return Err(NetsError::CheckpointMismatch {
            path: path.to_path_buf(),
            kind,
            details,
        });
    }
    let mut values = Vec::with_capacity(vars.len());
    for (name, var) in &vars {
        let view = st.tensor(name).map_err(|e| NetsError::CheckpointCorrupt {
            path: path.to_path_buf(),
            reason: format!("tensor {name}: {e:?}"),
        })?;
        let file_kind = kind_of(view.dtype()).ok_or_else(|| NetsError::UnsupportedKind {
            name: name.clone(),
            kind: format!("{:?}", view.dtype()),
        })?;
        let t = Tensor::f_from_data_size(view.data(), &var.size(), file_kind)?;
        values.push((var, t));
    }
    tch::no_grad(|| -> Result<(), NetsError> {
        for (var, t) in values {
            let mut var = var.shallow_clone();
            var.f_copy_(&t.to_device(var.device()))?;
        }
        Ok(())
    })?;
    Ok(info)
}

/// Rebuilds a network from a checkpoint: reads its configuration, builds the network with
/// `build` at the root of a new `VarStore` on `device`, and loads the weights.
///
/// ```no_run
/// # use sliders_nets::{checkpoint, FaderAutoEncoder};
/// let (vs, ae, cfg) = checkpoint::restore("ae.safetensors", tch::Device::Cpu, FaderAutoEncoder::new)?;
/// # Ok::<(), sliders_nets::NetsError>(())
/// ```
pub fn restore<C, N>(
    path: impl AsRef<Path>,
    device: Device,
    build: impl FnOnce(&nn::Path, &C) -> Result<N, NetsError>,
) -> Result<(nn::VarStore, N, C), NetsError>
where
    C: DeserializeOwned,
    N: Network,
{
    let path = path.as_ref();
    let info = read_info(path)?;
    let cfg: C = info.config()?;
    let mut vs = nn::VarStore::new(device);
    let net = build(&vs.root(), &cfg)?;
    load(&mut vs, &net, path)?;
    Ok((vs, net, cfg))
}
