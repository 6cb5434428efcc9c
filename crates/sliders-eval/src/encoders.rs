//! The encoder comparison of the IcGAN paper (Figure 4a, docs/icgan.md#figure-4a): for each layout
//! (SNG, IND, IND-COND), the reconstruction MSE of `G(Ez(x), thr(Ey(x)))` on real test images, the
//! z MSE on the held-out generated images of its encoder dataset, Ey's attribute accuracy on real
//! test images, and the judge's attribute accuracy on the reconstructions; and a figure of the same
//! faces reconstructed by each layout.

use crate::models::{AttributeJudge, Generator, IcganEncoders, threshold};
use crate::results::{Cell, Grid, Results};
use crate::testset::TestSet;
use crate::{EvalError, batched};
use sliders_config::train::EncoderTrainConfig;
use sliders_metrics::image::mse;
use sliders_metrics::stats::proportion;
use sliders_train::icgan::encoder_data::EncoderDataset;
use sliders_train::icgan::encoders::DATASET_FILE;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Table name of the cells made here.
pub const TABLE: &str = "encoders";
/// Held-out generated images used for the z error (at most).
const Z_TEST_MAX: usize = 2048;

/// The training fraction of an encoder run's dataset, from its `resolved.toml`.
fn train_fraction(run: &Path) -> f64 {
    std::fs::read_to_string(run.join("resolved.toml"))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| t.get("encoder_train")?.get("train_fraction")?.as_float())
        .unwrap_or(EncoderTrainConfig::default().train_fraction)
}

/// Scores every layout on `positions` of the test set.
#[allow(clippy::too_many_arguments)]
pub fn run(
    g: &Generator,
    layouts: &[IcganEncoders],
    judge: &AttributeJudge,
    test: &TestSet,
    positions: &[usize],
    batch: usize,
    device: Device,
    grid_faces: usize,
    out: &mut Results,
) -> Result<(), EvalError> {
    let x = test.images(positions);
    let n = positions.len() as u64;
    // Attributes of G that the data annotates: Ey is scored on these.
    let known: Vec<(usize, usize, &String)> = g
        .attributes
        .iter()
        .enumerate()
        .filter_map(|(j, a)| test.column(a).ok().map(|c| (j, c, a)))
        .collect();
    // The "mean face" baseline: every image reconstructed as the mean of the evaluated images, the
    // best a reconstruction that ignores its input can do. An inversion that keeps each face's
    // hair and skin must beat it clearly.
    let mean_face = x
        .mean_dim(Some(&[0i64][..]), true, Kind::Float)
        .expand_as(&x);
    let mean_face_mse = mse(&mean_face, &x);
    out.cells.push(Cell::value(
        TABLE,
        "mean face",
        "all",
        "rec_mse",
        mean_face_mse,
        n,
    ));
    let k = grid_faces.min(positions.len()) as i64;
    let mut grid_rows = vec![("original".to_string(), x.narrow(0, 0, k))];
    for enc in layouts {
        let name = enc.name();
        let mut ys = Vec::new();
        let rec = batched(&x, batch, device, |xb| {
            let (z, y) = enc.encode(xb);
            let r = g.generate(&z, &threshold(&y));
            ys.push(y.to_device(Device::Cpu));
            r
        });
        let y = Tensor::cat(&ys, 0);
        let rec_mse = mse(&rec, &x);
        out.cells
            .push(Cell::value(TABLE, name, "all", "rec_mse", rec_mse, n));
        out.cells.push(Cell::value(
            TABLE,
            name,
            "all",
            "rec_vs_mean_face",
            rec_mse / mean_face_mse.max(1e-12),
            n,
        ));
        // Ey accuracy: sign of Ey against the labels, over every (image, attribute).
        let mut hits = 0u64;
        let mut trials = 0u64;
        for &(j, col, attr) in &known {
            let pred = Vec::<f32>::try_from(y.select(1, j as i64).to_kind(Kind::Float))
                .expect("f32 column");
            let h = positions
                .iter()
                .zip(&pred)
                .filter(|(p, v)| (**v >= 0.0) == test.has(**p, col))
                .count() as u64;
            out.cells.push(Cell::proportion(
                TABLE,
                name,
                attr,
                "ey_accuracy",
                proportion(h, n),
            ));
            hits += h;
            trials += n;
        }
        out.cells.push(Cell::proportion(
            TABLE,
            name,
            "all",
            "ey_accuracy",
            proportion(hits, trials),
        ));
        // The judge on the reconstructions, for the attributes it knows.
        let (mut hits, mut trials) = (0u64, 0u64);
        let rec_dev = rec.to_device(device);
        for &(_, col, attr) in known.iter().filter(|(_, _, a)| judge.knows(a)) {
            let p = judge.probability(&rec_dev, attr, batch)?;
            hits += positions
                .iter()
                .zip(&p)
                .filter(|(pos, p)| (**p >= 0.5) == test.has(**pos, col))
                .count() as u64;
            trials += n;
        }
        out.cells.push(Cell::proportion(
            TABLE,
            name,
            "all",
            "rec_attr_accuracy",
            proportion(hits, trials),
        ));
        out.cells.push(z_error(enc, batch, device)?);
        grid_rows.push((name.to_string(), rec.narrow(0, 0, k)));
    }
    out.grids.push(Grid {
        name: "encoders".into(),
        title: "IcGAN reconstructions G(Ez(x), thr(Ey(x))) per encoder layout".into(),
        row_labels: grid_rows.iter().map(|(n, _)| n.clone()).collect(),
        col_labels: (0..k).map(|i| format!("face {}", i + 1)).collect(),
        cells: grid_rows
            .iter()
            .map(|(_, t)| (0..k).map(|i| t.get(i)).collect())
            .collect(),
    });
    Ok(())
}

/// z MSE of `Ez` on the held-out rows of the layout's encoder dataset (IND-COND: with Ey's
/// thresholded output, as at inference).
fn z_error(enc: &IcganEncoders, batch: usize, device: Device) -> Result<Cell, EvalError> {
    let path = enc.run.join(DATASET_FILE);
    if !path.is_file() {
        return Ok(Cell::missing(
            TABLE,
            enc.name(),
            "all",
            "z_mse",
            "the run's encoder dataset is gone",
        ));
    }
    let ds = EncoderDataset::open(&path, train_fraction(&enc.run))?;
    let rows: Vec<i64> = (ds.train_len()..ds.len().min(ds.train_len() + Z_TEST_MAX))
        .map(|i| i as i64)
        .collect();
    let mut sum = 0.0;
    for chunk in rows.chunks(batch.max(1)) {
        let (x, z, _) = ds.batch(chunk, device);
        let (zp, _) = enc.encode(&x);
        sum += zp
            .to_kind(Kind::Double)
            .mse_loss(&z.to_kind(Kind::Double), tch::Reduction::Sum)
            .double_value(&[]);
    }
    let nz = ds.z().size()[1] as f64;
    Ok(Cell::value(
        TABLE,
        enc.name(),
        "all",
        "z_mse",
        sum / (rows.len() as f64 * nz).max(1.0),
        rows.len() as u64,
    ))
}
