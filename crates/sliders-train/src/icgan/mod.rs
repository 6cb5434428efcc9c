//! IcGAN's training stages (docs/icgan.md#pipeline): the conditional GAN with the BN refresh
//! ([`cgan`], #conditional-gan; its iteration and CUDA-graph capture in [`cgan_step`]), the generated encoder dataset ([`encoder_data`], #encoder-dataset)
//! and the encoders IND, SNG and IND-COND ([`encoders`], #encoder-training); plus what they share:
//! the model shape that follows the data, the training label matrix `p_y` is drawn from (#batches),
//! and the sample-grid PNG writer.

pub mod cgan;
pub mod cgan_step;
pub mod digits;
pub mod encoder_data;
pub mod encoders;

pub use cgan::{CganTrainer, Conditioning};
pub use encoders::EncoderTrainer;

use crate::error::TrainError;
use sliders_celeba::{BatchSource, Prepared};
use sliders_config::data::AttributeEncoding;
use sliders_config::nets::IcganConfig;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// The cGAN shape a run uses: `base` (a cGAN experiment's `[icgan]`) with `img_sz`, `ny` and `nc`
/// (3) taken from the data.
pub fn model_config(base: &IcganConfig, data: &Prepared) -> Result<IcganConfig, TrainError> {
    if data.encoding != AttributeEncoding::PlusMinus {
        return Err(TrainError::Config(
            "an IcGAN model needs data.encoding = \"plus_minus\" (y ∈ {−1, +1}, icgan.md §2.2)"
                .to_string(),
        ));
    }
    let cfg = IcganConfig {
        img_sz: data.cache.size() as i64,
        ny: data.attr_width() as i64,
        nc: 3,
        ..base.clone()
    };
    cfg.validate()
        .map_err(|e| TrainError::Config(format!("[icgan]: {e}")))?;
    Ok(cfg)
}

/// The label rows of `source` as a `[N, ny]` float tensor on `device` (the matrix `p_y` and the
/// mismatched labels are drawn from, docs/icgan.md#batches).
pub fn label_matrix(source: &BatchSource, device: Device) -> Tensor {
    let w = source.attr_width();
    let mut rows = Vec::with_capacity(source.len() * w);
    for k in 0..source.len() {
        rows.extend_from_slice(source.label(k));
    }
    Tensor::from_slice(&rows)
        .view([source.len() as i64, w as i64])
        .to_device(device)
}

/// `n` rows of `labels` drawn uniformly without replacement within the batch (with replacement
/// across batches, as `randperm(N)[1:B]` in `sampleY`), using libtorch's generator. When
/// `n > N` rows repeat.
pub fn sample_label_rows(labels: &Tensor, n: i64) -> Tensor {
    let rows = labels.size()[0];
    let idx = if n <= rows {
        Tensor::randperm(rows, (Kind::Int64, labels.device())).narrow(0, 0, n)
    } else {
        Tensor::randint(rows, [n], (Kind::Int64, labels.device()))
    };
    labels.index_select(0, &idx)
}

/// Writes images `[N, C, S, S]` (C = 1 or 3) in [-1, 1] as a PNG grid of `rows × cols` tiles (row-major,
/// 1-pixel white gaps), atomically.
pub fn write_grid_png(
    path: &Path,
    images: &Tensor,
    rows: usize,
    cols: usize,
) -> Result<(), TrainError> {
    let size = images.size();
    let (n, s) = (size[0] as usize, size[2] as usize);
    assert_eq!(
        n,
        rows * cols,
        "grid of {rows}×{cols} needs {} images",
        rows * cols
    );
    let images = if size[1] == 1 {
        images.expand([size[0], 3, size[2], size[3]], false)
    } else {
        images.shallow_clone()
    };
    let bytes = ((images.detach().to_device(Device::Cpu).to_kind(Kind::Float) + 1.0) * 127.5)
        .clamp(0.0, 255.0)
        .round()
        .to_kind(Kind::Uint8)
        .permute([0, 2, 3, 1])
        .contiguous();
    let data = Vec::<u8>::try_from(bytes.view([-1])).expect("u8 tensor");
    let (w, h) = (cols * (s + 1) + 1, rows * (s + 1) + 1);
    let mut img = image::RgbImage::from_pixel(w as u32, h as u32, image::Rgb([255, 255, 255]));
    for k in 0..n {
        let (r, c) = (k / cols, k % cols);
        for y in 0..s {
            for x in 0..s {
                let o = ((k * s + y) * s + x) * 3;
                img.put_pixel(
                    (c * (s + 1) + 1 + x) as u32,
                    (r * (s + 1) + 1 + y) as u32,
                    image::Rgb([data[o], data[o + 1], data[o + 2]]),
                );
            }
        }
    }
    let tmp = crate::run_dir::tmp_path(path);
    img.save_with_format(&tmp, image::ImageFormat::Png)
        .map_err(|e| TrainError::Config(format!("{}: cannot write the PNG: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| TrainError::io(path, e))
}

/// The conditioning of a sample grid (docs/icgan.md#editing, training-time display): `rows` base
/// label rows `[rows, ny]`, each repeated over `1 + ny` columns: the base row, then the base row
/// with attribute `j` set to +1. Returns `[rows·(1+ny), ny]`.
pub fn grid_labels(base: &Tensor) -> Tensor {
    let (rows, ny) = (base.size()[0], base.size()[1]);
    let mut out = Vec::new();
    for r in 0..rows {
        let row = base.get(r);
        out.push(row.shallow_clone());
        for j in 0..ny {
            let y = row.copy();
            let _ = y.get(j).fill_(1.0);
            out.push(y);
        }
    }
    Tensor::stack(&out, 0)
}
