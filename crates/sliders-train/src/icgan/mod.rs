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

/// Redraws (on the CPU) or candidates (on CUDA) per mismatched label in [`wrong_label_rows`].
const WRONG_CANDIDATES: i64 = 100;

/// For each row of `y` (`[n, ny]`), a uniform row of `labels` that differs from it in some
/// attribute (docs/icgan.md#batches): [`redrawn_while_equal`] on the CPU, [`first_differing`]
/// on CUDA. Both have the same law. The CPU keeps the loop because its check of the values costs
/// nothing there and it keeps the random stream of the runs already made; on CUDA that check
/// would make every training step wait for the GPU (docs/gpu.md#cuda-graphs). CUDA's generator
/// gives other numbers than the CPU's for the same seed anyway.
pub fn wrong_label_rows(labels: &Tensor, y: &Tensor) -> Tensor {
    if y.device().is_cuda() {
        first_differing(labels, y)
    } else {
        redrawn_while_equal(labels, y)
    }
}

/// Uniform rows of `labels`, each drawn again while it equals its row of `y`, at most
/// [`WRONG_CANDIDATES`] times (only a label matrix with a single distinct row, or astronomically
/// bad luck, exhausts them; the row then equals `y`).
pub fn redrawn_while_equal(labels: &Tensor, y: &Tensor) -> Tensor {
    let n = y.size()[0];
    let draw = || {
        let idx = Tensor::randint(labels.size()[0], [n], (Kind::Int64, y.device()));
        labels.index_select(0, &idx)
    };
    let mut wrong = draw();
    for _ in 0..WRONG_CANDIDATES {
        let same = wrong.eq_tensor(y).all_dim(1, true);
        if same.any().int64_value(&[]) == 0 {
            break;
        }
        wrong = draw().where_self(&same, &wrong);
    }
    wrong
}

/// For each row of `y`, the first of [`WRONG_CANDIDATES`] uniform rows of `labels` drawn at once
/// that differs from it (the first candidate when none does): chosen on the device, so nothing
/// waits for the values.
pub fn first_differing(labels: &Tensor, y: &Tensor) -> Tensor {
    let (n, ny) = (y.size()[0], y.size()[1]);
    let idx = Tensor::randint(
        labels.size()[0],
        [WRONG_CANDIDATES * n],
        (Kind::Int64, y.device()),
    );
    let candidates = labels.index_select(0, &idx).view([WRONG_CANDIDATES, n, ny]);
    let differs = candidates.ne_tensor(&y.unsqueeze(0)).any_dim(2, false);
    // argmax gives the first maximum: the first differing candidate (0 when none differs).
    let first = differs.to_kind(Kind::Int64).argmax(0, false);
    let at = first.view([1, n, 1]).expand([1, n, ny], false);
    candidates.gather(0, &at, false).squeeze_dim(0)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows A (half the table), B (30%) and C (20%) of two ±1 attributes.
    fn table() -> Tensor {
        let (a, b, c) = ([1f32, 1.0], [1f32, -1.0], [-1f32, -1.0]);
        let rows: Vec<[f32; 2]> = (0..10)
            .map(|i| match i {
                0..5 => a,
                5..8 => b,
                _ => c,
            })
            .collect();
        Tensor::from_slice(rows.as_flattened()).view([10, 2])
    }

    type Draw = fn(&Tensor, &Tensor) -> Tensor;
    const BOTH: [(&str, Draw); 2] = [
        ("redrawn_while_equal", redrawn_while_equal),
        ("first_differing", first_differing),
    ];

    #[test]
    fn wrong_labels_differ_from_y_and_follow_the_other_rows_frequencies() {
        let _g = crate::rng_lock();
        let labels = table();
        let n = 4000;
        let y = labels
            .get(0)
            .unsqueeze(0)
            .expand([n, 2], false)
            .contiguous();
        for (name, draw) in BOTH {
            tch::manual_seed(7);
            let w = draw(&labels, &y);
            assert_eq!(w.size(), [n, 2]);
            let same = w.eq_tensor(&y).all_dim(1, false).sum(Kind::Int64);
            assert_eq!(
                same.int64_value(&[]),
                0,
                "{name}: a wrong label equals its row"
            );
            // Among B (3 rows) and C (2 rows), B is drawn 60% of the time.
            let b = w.select(1, 1).lt(0.0).logical_and(&w.select(1, 0).gt(0.0));
            let share = b.to_kind(Kind::Double).mean(Kind::Double).double_value(&[]);
            assert!((share - 0.6).abs() < 0.03, "{name}: B share {share}");
        }
    }

    #[test]
    fn wrong_labels_of_mixed_rows_each_differ_from_their_own() {
        let _g = crate::rng_lock();
        let labels = table();
        let y = labels.index_select(0, &Tensor::from_slice(&[0i64, 5, 9, 0, 9]));
        for (name, draw) in BOTH {
            tch::manual_seed(8);
            let same = draw(&labels, &y).eq_tensor(&y).all_dim(1, false);
            assert_eq!(same.sum(Kind::Int64).int64_value(&[]), 0, "{name}");
        }
    }

    #[test]
    fn the_cpu_keeps_the_redraw_loop_and_its_random_stream() {
        let _g = crate::rng_lock();
        let labels = table();
        let y = labels.index_select(0, &Tensor::from_slice(&[0i64, 5, 9, 0]));
        tch::manual_seed(9);
        let ours = wrong_label_rows(&labels, &y);
        tch::manual_seed(9);
        assert!(ours.equal(&redrawn_while_equal(&labels, &y)));
    }
}
