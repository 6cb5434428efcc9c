//! IcGAN's encoder dataset (docs/icgan.md#encoder-dataset, `generateEncoderDataset.lua`): with the
//! BN-refreshed G in eval mode, N triples `(x' = G(z, y'), z, y')` with `z ~ N(0, I)` and `y'` the
//! rows of a random permutation of the training label matrix, each used once (wrapping around), in
//! batches of `generate_batch`. The first `train_fraction` (66%) rows are the training split, the
//! rest the test split, without shuffling.
//!
//! File: one safetensors file, `X` `U8 [N, nc, S, S]`, `Z` `F32 [N, nz]`, `Y` `F32 [N, ny]`, with
//! metadata (`sliders.kind = icgan-encoder-dataset`, the generator file, the seed). It is written
//! streaming (X batch by batch, Z and Y at the end) to a temporary name and renamed; it is read
//! back memory-mapped, X batch by batch, Z and Y in memory.
// Deviation: X is stored as u8 (`round((x'+1)·127.5)`, decoded as `v/255·2−1` like the real
// images) instead of the reference's float32 (docs/icgan.md#encoder-dataset): a quarter of the
// memory (2.2 GB instead of 9 GB at full size) for a quantisation error of at most 1/255.

use crate::common::mix;
use crate::error::TrainError;
use crate::run_dir::tmp_path;
use crate::tensors::upload;
use memmap2::Mmap;
use sliders_nets::IcganGenerator;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// `sliders.kind` of the dataset file.
pub const KIND: &str = "icgan-encoder-dataset";
const SALT: u64 = 0x0DA7_A5E7;

/// Number of triples generated for `rows` training label rows with batches of `batch`: whole
/// batches covering every row once (182,784 = 714 × 256 for 182,638 rows).
pub fn default_size(rows: usize, batch: usize) -> usize {
    rows.div_ceil(batch) * batch
}

/// Generates `n` triples with `g` (eval mode, no_grad) and writes them to `path`.
/// `labels` is the `[R, ny]` training label matrix; `seed` fixes z and the permutation.
pub fn generate(
    path: &Path,
    g: &IcganGenerator,
    labels: &Tensor,
    n: usize,
    batch: usize,
    seed: u64,
    metadata: &[(&str, &str)],
) -> Result<(), TrainError> {
    let cfg = g.config();
    let (nc, s, nz, ny) = (cfg.nc, cfg.img_sz, cfg.nz, cfg.ny);
    let device = labels.device();
    let rows = labels.size()[0];
    tch::manual_seed(mix(seed, SALT) as i64 & i64::MAX);
    let perm = Tensor::randperm(rows, (Kind::Int64, device));
    let image_bytes = (nc * s * s) as usize;
    let mut meta: BTreeMap<String, String> = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    meta.insert("sliders.kind".to_string(), KIND.to_string());
    meta.insert("sliders.seed".to_string(), seed.to_string());
    let x_len = n * image_bytes;
    let z_len = n * nz as usize * 4;
    let y_len = n * ny as usize * 4;
    let header = serde_json::json!({
        "__metadata__": meta,
        "X": {"dtype": "U8", "shape": [n, nc, s, s], "data_offsets": [0, x_len]},
        "Z": {"dtype": "F32", "shape": [n, nz], "data_offsets": [x_len, x_len + z_len]},
        "Y": {"dtype": "F32", "shape": [n, ny], "data_offsets": [x_len + z_len, x_len + z_len + y_len]},
    });
    let mut header = serde_json::to_string(&header).expect("header serialises");
    while !header.len().is_multiple_of(8) {
        header.push(' ');
    }
    let tmp = tmp_path(path);
    let file = File::create(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    let mut w = BufWriter::new(file);
    let io = |e| TrainError::io(&tmp, e);
    w.write_all(&(header.len() as u64).to_le_bytes())
        .map_err(io)?;
    w.write_all(header.as_bytes()).map_err(io)?;
    let mut zs: Vec<f32> = Vec::with_capacity(n * nz as usize);
    let mut ys: Vec<f32> = Vec::with_capacity(n * ny as usize);
    let mut done = 0usize;
    while done < n {
        let b = batch.min(n - done) as i64;
        let idx = (Tensor::arange_start(done as i64, done as i64 + b, (Kind::Int64, device))
            .remainder(rows))
        .to_kind(Kind::Int64);
        let y = labels.index_select(0, &perm.index_select(0, &idx));
        let z = Tensor::randn([b, nz], (Kind::Float, device));
        let x = tch::no_grad(|| g.forward_t(&z, &y, false));
        let bytes = ((x + 1.0) * 127.5)
            .clamp(0.0, 255.0)
            .round()
            .to_kind(Kind::Uint8)
            .to_device(Device::Cpu)
            .contiguous();
        let bytes = Vec::<u8>::try_from(bytes.view([-1])).expect("u8 tensor");
        w.write_all(&bytes).map_err(io)?;
        zs.extend(Vec::<f32>::try_from(z.to_device(Device::Cpu).view([-1])).expect("f32"));
        ys.extend(Vec::<f32>::try_from(y.to_device(Device::Cpu).view([-1])).expect("f32"));
        done += b as usize;
    }
    for v in zs.iter().chain(&ys) {
        w.write_all(&v.to_le_bytes()).map_err(io)?;
    }
    let file = w
        .into_inner()
        .map_err(|e| TrainError::io(&tmp, e.into_error()))?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| TrainError::io(path, e))
}

/// A generated dataset, X memory-mapped, Z and Y in memory.
#[derive(Debug)]
pub struct EncoderDataset {
    path: PathBuf,
    mmap: Mmap,
    x_offset: usize,
    shape: [i64; 4],
    z: Tensor,
    y: Tensor,
    train_len: usize,
}

impl EncoderDataset {
    /// Opens `path`; the first `floor(train_fraction·N)` rows form the training split.
    pub fn open(path: &Path, train_fraction: f64) -> Result<Self, TrainError> {
        let file = File::open(path).map_err(|e| TrainError::io(path, e))?;
        // SAFETY: the file is written once (temporary name, then renamed) and never modified.
        #[allow(unsafe_code)]
        let mmap = unsafe { Mmap::map(&file) }.map_err(|e| TrainError::io(path, e))?;
        let corrupt = |why: String| {
            TrainError::Config(format!(
                "{}: not an encoder dataset ({why}); delete it to generate it again",
                path.display()
            ))
        };
        let st =
            safetensors::SafeTensors::deserialize(&mmap).map_err(|e| corrupt(format!("{e:?}")))?;
        let x = st.tensor("X").map_err(|e| corrupt(format!("X: {e:?}")))?;
        let shape: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
        if x.dtype() != safetensors::Dtype::U8 || shape.len() != 4 {
            return Err(corrupt("X must be U8 [N, C, S, S]".to_string()));
        }
        let x_offset = x.data().as_ptr() as usize - mmap.as_ptr() as usize;
        let read = |name: &str| -> Result<Tensor, TrainError> {
            let v = st
                .tensor(name)
                .map_err(|e| corrupt(format!("{name}: {e:?}")))?;
            if v.dtype() != safetensors::Dtype::F32
                || v.shape().len() != 2
                || v.shape()[0] as i64 != shape[0]
            {
                return Err(corrupt(format!("{name} must be F32 [N, k]")));
            }
            let dims: Vec<i64> = v.shape().iter().map(|&d| d as i64).collect();
            Tensor::f_from_data_size(v.data(), &dims, Kind::Float)
                .map_err(|e| corrupt(e.to_string()))
        };
        let z = read("Z")?;
        let y = read("Y")?;
        let n = shape[0] as usize;
        let train_len = ((n as f64) * train_fraction).floor() as usize;
        drop(st);
        Ok(Self {
            path: path.to_path_buf(),
            mmap,
            x_offset,
            shape: [shape[0], shape[1], shape[2], shape[3]],
            z,
            y,
            train_len,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of triples N.
    pub fn len(&self) -> usize {
        self.shape[0] as usize
    }

    /// Whether it holds no triple.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows of the training split (the first ones); the rest is the test split.
    pub fn train_len(&self) -> usize {
        self.train_len
    }

    /// `[N, nc, S, S]`.
    pub fn shape(&self) -> [i64; 4] {
        self.shape
    }

    /// All of Z `[N, nz]` (CPU).
    pub fn z(&self) -> &Tensor {
        &self.z
    }

    /// All of Y `[N, ny]` (CPU).
    pub fn y(&self) -> &Tensor {
        &self.y
    }

    /// Rows `indices` as `(x' [B, nc, S, S] in [−1, 1], z [B, nz], y' [B, ny])` on `device`.
    pub fn batch(&self, indices: &[i64], device: Device) -> (Tensor, Tensor, Tensor) {
        let img = (self.shape[1] * self.shape[2] * self.shape[3]) as usize;
        let mut bytes = Vec::with_capacity(indices.len() * img);
        for &i in indices {
            let o = self.x_offset + i as usize * img;
            bytes.extend_from_slice(&self.mmap[o..o + img]);
        }
        let b = indices.len() as i64;
        let bytes =
            Tensor::from_slice(&bytes).view([b, self.shape[1], self.shape[2], self.shape[3]]);
        let x = upload(&bytes, device).to_kind(Kind::Float) / 255.0 * 2.0 - 1.0;
        let idx = Tensor::from_slice(indices);
        (
            x,
            upload(&self.z.index_select(0, &idx), device),
            upload(&self.y.index_select(0, &idx), device),
        )
    }
}
