//! The encoder comparison of the IcGAN paper (Figure 4a, docs/icgan.md#figure-4a): for each layout
//! (SNG, IND, IND-COND), the reconstruction MSE of `G(Ez(x), thr(Ey(x)))` on real test images
//! (95% interval over images, and paired against IND on the same images), the z MSE on the
//! held-out generated images of its encoder dataset (interval over those images), Ey's attribute
//! accuracy on real test images, and the judge's attribute accuracy on the reconstructions; and a
//! figure of the same faces reconstructed by each layout.

use crate::judge::AttributeJudge;
use crate::output::fmt_cell;
use crate::results::{Cell, Grid, Results, proportion_cell};
use crate::testset::TestSet;
use crate::{EvalError, batched};
use sliders_config::layout::file;
use sliders_config::train::EncoderTrainConfig;
use sliders_edit::infer::{Generator, IcganEncoders, threshold};
use sliders_metrics::image::mse_per_image;
use sliders_metrics::stats::{mean_interval, paired_difference, proportion};
use sliders_train::icgan::encoder_data::EncoderDataset;
use sliders_train::icgan::encoders::DATASET_FILE;
use std::fmt::Write as _;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Table name of the cells made here.
pub const TABLE: &str = sliders_config::results::table::ENCODERS;
/// The bar chart of the comparison (drawn by [`crate::figures`]), under `figures/`.
pub const FIGURE: &str = "fig4a_encoders.png";
/// Held-out generated images used for the z error (at most).
const Z_TEST_MAX: usize = 2048;

/// The training fraction of an encoder run's dataset, from its `resolved.toml`.
fn train_fraction(run: &Path) -> f64 {
    std::fs::read_to_string(run.join(file::RESOLVED))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| t.get("encoder_train")?.get("train_fraction")?.as_float())
        .unwrap_or(EncoderTrainConfig::default().train_fraction)
}

/// What one layout's pass over the test images gave.
struct LayoutPass {
    /// The layout's name (`SNG`, …).
    name: &'static str,
    /// Per-image reconstruction MSE, in test-set order.
    rec_mse: Vec<f64>,
    /// The first reconstructions, for the figure.
    rec: Tensor,
}

/// Scores every layout on `positions` of the test set: per layout the reconstruction MSE with its
/// 95% interval over images, the paired difference to IND on the same images, the z error with its
/// interval over held-out generated images, Ey's accuracy and the judge on the reconstructions.
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
    // The "mean face" baseline: every image reconstructed as the mean of the evaluated images, the
    // best a reconstruction that ignores its input can do. An inversion that keeps each face's
    // hair and skin must beat it clearly.
    let mean_face = x
        .mean_dim(Some(&[0i64][..]), true, Kind::Float)
        .expand_as(&x);
    let mean_face_mse = mean_interval(&mse_per_image(&mean_face, &x));
    out.cells.push(proportion_cell(
        TABLE,
        "mean face",
        "all",
        "rec_mse",
        mean_face_mse,
    ));
    let mut passes = Vec::new();
    for enc in layouts {
        let pass = score_layout(g, enc, judge, test, positions, &x, batch, device, out)?;
        out.cells.push(Cell::value(
            TABLE,
            pass.name,
            "all",
            "rec_vs_mean_face",
            mean_interval(&pass.rec_mse).value / mean_face_mse.value.max(1e-12),
            positions.len() as u64,
        ));
        out.cells.push(z_error(TABLE, enc, batch, device)?);
        passes.push(pass);
    }
    let recs: Vec<(&str, &[f64])> = passes.iter().map(|p| (p.name, &p.rec_mse[..])).collect();
    paired_to_ind(TABLE, &recs, out);
    let k = grid_faces.min(positions.len()) as i64;
    let mut grid_rows = vec![("original".to_string(), x.narrow(0, 0, k))];
    grid_rows.extend(
        passes
            .iter()
            .map(|p| (p.name.to_string(), p.rec.narrow(0, 0, k))),
    );
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

/// Each layout's reconstruction error minus IND's on the same images (paired 95% interval): the
/// paper's finding (IND most faithful, docs/icgan.md#figure-4a) holds where these are above zero.
/// `passes`: (layout name, per-image reconstruction MSE in test-set order).
pub(crate) fn paired_to_ind(table: &str, passes: &[(&str, &[f64])], out: &mut Results) {
    let Some((_, ind)) = passes.iter().find(|(n, _)| *n == "IND") else {
        return;
    };
    for (name, rec) in passes.iter().filter(|(n, _)| *n != "IND") {
        out.cells.push(proportion_cell(
            table,
            name,
            "all",
            "rec_mse_minus_ind",
            paired_difference(rec, ind),
        ));
    }
}

/// Reconstructs the test images with one layout and adds its reconstruction, Ey and judge cells.
#[allow(clippy::too_many_arguments)]
fn score_layout(
    g: &Generator,
    enc: &IcganEncoders,
    judge: &AttributeJudge,
    test: &TestSet,
    positions: &[usize],
    x: &Tensor,
    batch: usize,
    device: Device,
    out: &mut Results,
) -> Result<LayoutPass, EvalError> {
    let name = enc.name();
    let n = positions.len() as u64;
    let mut ys = Vec::new();
    let rec = batched(x, batch, device, |xb| {
        let (z, y) = enc.encode(xb);
        let r = g.generate(&z, &threshold(&y));
        ys.push(y.to_device(Device::Cpu));
        r
    });
    let y = Tensor::cat(&ys, 0);
    let rec_mse = mse_per_image(&rec, x);
    out.cells.push(proportion_cell(
        TABLE,
        name,
        "all",
        "rec_mse",
        mean_interval(&rec_mse),
    ));
    // Attributes of G that the data annotates: Ey is scored on these.
    let known: Vec<(usize, usize, &String)> = g
        .attributes
        .iter()
        .enumerate()
        .filter_map(|(j, a)| test.column(a).ok().map(|c| (j, c, a)))
        .collect();
    ey_accuracy(name, &y, test, positions, &known, out);
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
    out.cells.push(proportion_cell(
        TABLE,
        name,
        "all",
        "rec_attr_accuracy",
        proportion(hits, trials),
    ));
    Ok(LayoutPass { name, rec_mse, rec })
}

/// Ey's accuracy (the sign of `y` against the labels) per attribute of `known` (G's column,
/// the test set's column, the name) and over every (image, attribute).
fn ey_accuracy(
    name: &str,
    y: &Tensor,
    test: &TestSet,
    positions: &[usize],
    known: &[(usize, usize, &String)],
    out: &mut Results,
) {
    let n = positions.len() as u64;
    let (mut hits, mut trials) = (0u64, 0u64);
    for &(j, col, attr) in known {
        let pred =
            Vec::<f32>::try_from(y.select(1, j as i64).to_kind(Kind::Float)).expect("f32 column");
        let h = positions
            .iter()
            .zip(&pred)
            .filter(|(p, v)| (**v >= 0.0) == test.has(**p, col))
            .count() as u64;
        out.cells.push(proportion_cell(
            TABLE,
            name,
            attr,
            "ey_accuracy",
            proportion(h, n),
        ));
        hits += h;
        trials += n;
    }
    out.cells.push(proportion_cell(
        TABLE,
        name,
        "all",
        "ey_accuracy",
        proportion(hits, trials),
    ));
}

/// z MSE of `Ez` on the held-out rows of the layout's encoder dataset (IND-COND: with Ey's
/// thresholded output, as at inference).
pub(crate) fn z_error(
    table: &str,
    enc: &IcganEncoders,
    batch: usize,
    device: Device,
) -> Result<Cell, EvalError> {
    let path = enc.run.join(DATASET_FILE);
    if !path.is_file() {
        return Ok(Cell::missing(
            table,
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
    let mut per_row = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(batch.max(1)) {
        let (x, z, _) = ds.batch(chunk, device);
        let (zp, _) = enc.encode(&x);
        let d = (zp.to_kind(Kind::Double) - z.to_kind(Kind::Double))
            .square()
            .mean_dim(1, false, Kind::Double)
            .to_device(Device::Cpu);
        per_row.extend(Vec::<f64>::try_from(d).expect("a 1-d tensor"));
    }
    Ok(proportion_cell(
        table,
        enc.name(),
        "all",
        "z_mse",
        mean_interval(&per_row),
    ))
}

/// The comparison's section of `tables.md`: the table with intervals, the paired differences to
/// IND, the figure, and a sentence on whether IND is the most faithful as the paper found.
pub(crate) fn markdown(s: &mut String, results: &Results) {
    let e = TABLE;
    let layouts: Vec<&str> = ["mean face", "SNG", "IND", "IND-COND"]
        .into_iter()
        .filter(|r| results.get(e, r, "all", "rec_mse").is_some())
        .collect();
    if layouts.is_empty() {
        return;
    }
    s.push_str(
        "\n### IcGAN encoder comparison (IcGAN paper, Figure 4a)\n\n\
         MSE on the [−1, 1] scale ± the half width of its 95% interval over images; `− IND`: the \
         layout's reconstruction MSE minus IND's on the same images (paired 95% interval: above \
         zero means IND is more faithful); accuracies in % with 95% Wilson intervals.\n\n\
         | Encoder | rec. MSE (real test) | − IND (paired) | z MSE (held-out generated) | Ey accuracy (%) | judge on reconstructions (%) |\n\
         |---|---|---|---|---|---|\n",
    );
    for row in &layouts {
        let _ = writeln!(
            s,
            "| {row} | {} | {} | {} | {} | {} |",
            fmt_cell(results.get(e, row, "all", "rec_mse"), 4, false),
            fmt_cell(results.get(e, row, "all", "rec_mse_minus_ind"), 4, false),
            fmt_cell(results.get(e, row, "all", "z_mse"), 4, false),
            fmt_cell(results.get(e, row, "all", "ey_accuracy"), 1, true),
            fmt_cell(results.get(e, row, "all", "rec_attr_accuracy"), 1, true),
        );
    }
    if let Some(c) = results.get(e, layouts[0], "all", "rec_mse") {
        let _ = writeln!(
            s,
            "\n{} real test images per layout. The mean face row reconstructs every image as \
             the mean of these images: what an inversion that ignores its input scores.",
            c.n
        );
    }
    let _ = writeln!(s, "\n{}", verdict(results, TABLE));
    let _ = writeln!(s, "\n![encoder comparison](figures/{FIGURE})");
}

/// Whether IND reconstructs most faithfully, as the IcGAN paper's Figure 4a found, from the paired
/// differences: IND is best where every other layout's difference is above zero, another layout
/// is where its difference is below zero, and the data does not separate them otherwise.
pub(crate) fn verdict(results: &Results, table: &str) -> String {
    let diffs: Vec<(&str, f64, f64, f64)> = ["SNG", "IND-COND"]
        .into_iter()
        .filter_map(|r| {
            let c = results.get(table, r, "all", "rec_mse_minus_ind")?;
            Some((r, c.value?, c.low?, c.high?))
        })
        .collect();
    if diffs.is_empty() {
        let evaluated: Vec<&str> = ["SNG", "IND", "IND-COND"]
            .into_iter()
            .filter(|r| results.get(table, r, "all", "rec_mse").is_some())
            .collect();
        let evaluated = match evaluated.as_slice() {
            [] => "none".to_string(),
            [one] => format!("only {one}"),
            more => more.join(" and "),
        };
        return format!(
            "The paper's finding (IND most faithful) cannot be checked here: it needs IND and \
             another layout on the same images, and this run evaluated {evaluated}."
        );
    }
    let describe =
        |(r, v, l, h): &(&str, f64, f64, f64)| format!("{r} − IND = {v:+.4} [{l:+.4}, {h:+.4}]");
    let all: Vec<String> = diffs.iter().map(describe).collect();
    let better: Vec<&str> = diffs.iter().filter(|d| d.3 < 0.0).map(|d| d.0).collect();
    let worse = diffs.iter().filter(|d| d.2 > 0.0).count();
    let head = if worse == diffs.len() {
        "**IND is the most faithful layout, as in the paper's Figure 4a**".to_string()
    } else if !better.is_empty() {
        format!(
            "**Not as in the paper: {} reconstructs more faithfully than IND**",
            better.join(" and ")
        )
    } else {
        "**IND is not separated from the other layouts at this number of images** (the paper \
         found IND most faithful)"
            .to_string()
    };
    format!("{head}: {}.", all.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sliders_metrics::stats::Proportion;

    fn with_differences(sng: (f64, f64, f64), ind_cond: (f64, f64, f64)) -> Results {
        let mut r = Results::default();
        for (row, (value, low, high)) in [("SNG", sng), ("IND-COND", ind_cond)] {
            let p = Proportion {
                value,
                n: 100,
                low,
                high,
            };
            r.cells
                .push(proportion_cell(TABLE, row, "all", "rec_mse_minus_ind", p));
        }
        r
    }

    #[test]
    fn the_verdict_follows_the_paired_intervals() {
        let best = verdict(
            &with_differences((0.002, 0.001, 0.003), (0.001, 0.0005, 0.0015)),
            TABLE,
        );
        assert!(best.starts_with("**IND is the most faithful"), "{best}");
        let beaten = verdict(
            &with_differences((0.002, 0.001, 0.003), (-0.001, -0.0015, -0.0005)),
            TABLE,
        );
        assert!(
            beaten.contains("Not as in the paper: IND-COND reconstructs more faithfully"),
            "{beaten}"
        );
        let tied = verdict(
            &with_differences((0.002, 0.001, 0.003), (0.0001, -0.0004, 0.0006)),
            TABLE,
        );
        assert!(tied.contains("not separated"), "{tied}");
        assert!(
            tied.contains("IND-COND − IND = +0.0001 [-0.0004, +0.0006]"),
            "{tied}"
        );
        let none = verdict(&Results::default(), TABLE);
        assert!(none.contains("cannot be checked") && none.ends_with("evaluated none."));
        let mut only_ind = Results::default();
        let p = Proportion {
            value: 0.05,
            n: 100,
            low: 0.046,
            high: 0.054,
        };
        only_ind
            .cells
            .push(proportion_cell(TABLE, "IND", "all", "rec_mse", p));
        let one = verdict(&only_ind, TABLE);
        assert!(one.ends_with("this run evaluated only IND."), "{one}");
    }

    #[test]
    fn the_section_shows_intervals_the_paired_column_and_the_figure() {
        let mut r = with_differences((0.002, 0.001, 0.003), (0.001, 0.0005, 0.0015));
        for (row, v) in [("SNG", 0.05), ("IND", 0.048), ("IND-COND", 0.049)] {
            let p = Proportion {
                value: v,
                n: 100,
                low: v - 0.004,
                high: v + 0.004,
            };
            r.cells
                .push(proportion_cell(TABLE, row, "all", "rec_mse", p));
        }
        let mut s = String::new();
        markdown(&mut s, &r);
        assert!(
            s.contains("| SNG | 0.0500 ± 0.0040 | 0.0020 ± 0.0010 |"),
            "{s}"
        );
        assert!(s.contains("| IND | 0.0480 ± 0.0040 | — |"), "{s}");
        assert!(s.contains(&format!("figures/{FIGURE}")), "{s}");
        assert!(s.contains("**IND is the most faithful"), "{s}");
    }
}
