//! The cGAN on its own (IcGAN paper §3.1-3.2, its Figure 3 for the grid): whether
//! its samples vary with z and follow y. Two checks a broken generator fails: sample diversity
//! (pixel variance across z at a fixed y, against the variance of real test images) and label
//! following (the judge's accuracy on samples generated with an attribute on and off); and the
//! labelled sample grid (rows: one z each; columns: no attribute on, then each attribute on alone).

use crate::judge::AttributeJudge;
use crate::results::{Cell, Grid, Results, proportion_cell};
use crate::testset::TestSet;
use crate::{EvalError, batched};
use sliders_edit::infer::Generator;
use sliders_metrics::stats::proportion;
use tch::{Device, Kind, Tensor};

/// Table name of the cells made here.
pub const TABLE: &str = "cgan";
/// Label rows (taken from the test set) and z draws per label row of the diversity measure.
const DIVERSITY_LABELS: i64 = 16;
const DIVERSITY_Z: i64 = 16;
/// Samples per attribute value of the label-following measure.
const FOLLOW_PER_VALUE: i64 = 64;
/// Rows (z draws) of the sample grid.
const GRID_ROWS: i64 = 8;

/// Mean over pixels and channels of the variance across the first dimension.
fn pixel_variance(x: &Tensor) -> f64 {
    x.to_kind(Kind::Double)
        .var_dim(Some(&[0i64][..]), false, false)
        .mean(Kind::Double)
        .double_value(&[])
}

/// G's code for label rows `positions` of the test set (±1, G's columns; unannotated columns −1).
fn codes(g: &Generator, test: &TestSet, positions: &[usize]) -> Tensor {
    let cols: Vec<Option<usize>> = g.attributes.iter().map(|a| test.column(a).ok()).collect();
    let v: Vec<f32> = positions
        .iter()
        .flat_map(|&p| {
            cols.iter().map(move |c| match c {
                Some(c) if test.has(p, *c) => 1.0,
                _ => -1.0,
            })
        })
        .collect();
    Tensor::from_slice(&v).view([positions.len() as i64, g.attributes.len() as i64])
}

/// Diversity, label following and the sample grid; `pool` are test positions whose labels
/// serve as y.
#[allow(clippy::too_many_arguments)]
pub fn run(
    g: &Generator,
    judge: &AttributeJudge,
    test: &TestSet,
    pool: &[usize],
    batch: usize,
    device: Device,
    seed: u64,
    out: &mut Results,
) -> Result<(), EvalError> {
    tch::manual_seed(seed as i64 ^ 0xc6a1);
    let sample = |z: &Tensor, y: &Tensor| {
        let zy = Tensor::cat(&[z, y], 1);
        let nz = g.nz;
        batched(&zy, batch, device, |b| {
            g.generate(&b.narrow(1, 0, nz), &b.narrow(1, nz, b.size()[1] - nz))
        })
    };
    // Diversity: DIVERSITY_Z samples for each of DIVERSITY_LABELS label rows.
    let k = (DIVERSITY_LABELS as usize).min(pool.len());
    let y = codes(g, test, &pool[..k]).repeat_interleave_self_int(DIVERSITY_Z, 0, None);
    let z = Tensor::randn([y.size()[0], g.nz], (Kind::Float, Device::Cpu));
    let samples = sample(&z, &y).view([k as i64, DIVERSITY_Z, -1]);
    let within: f64 = (0..k as i64)
        .map(|i| pixel_variance(&samples.get(i)))
        .sum::<f64>()
        / k as f64;
    let real = pixel_variance(&test.images(pool).view([pool.len() as i64, -1]));
    let n = (k as i64 * DIVERSITY_Z) as u64;
    out.cells
        .push(Cell::value(TABLE, "G", "all", "diversity", within, n));
    out.cells.push(Cell::value(
        TABLE,
        "real test images",
        "all",
        "diversity",
        real,
        pool.len() as u64,
    ));
    out.cells.push(Cell::value(
        TABLE,
        "G",
        "all",
        "diversity_ratio",
        within / real.max(1e-12),
        n,
    ));
    follows_y(g, judge, test, pool, &sample, batch, out)?;
    out.grids.push(sample_grid(g, &sample));
    Ok(())
}

/// The judge's accuracy on samples made with each attribute on (+1) and off (−1), the other
/// columns from test label rows.
fn follows_y(
    g: &Generator,
    judge: &AttributeJudge,
    test: &TestSet,
    pool: &[usize],
    sample: &impl Fn(&Tensor, &Tensor) -> Tensor,
    batch: usize,
    out: &mut Results,
) -> Result<(), EvalError> {
    for (j, attr) in g.attributes.iter().enumerate() {
        if !judge.knows(attr) {
            continue;
        }
        let rows: Vec<usize> = (0..2 * FOLLOW_PER_VALUE as usize)
            .map(|i| pool[i % pool.len()])
            .collect();
        let y = codes(g, test, &rows);
        let want: Vec<bool> = (0..rows.len()).map(|i| i % 2 == 0).collect();
        let col: Vec<f32> = want.iter().map(|&w| if w { 1.0 } else { -1.0 }).collect();
        y.narrow(1, j as i64, 1)
            .copy_(&Tensor::from_slice(&col).unsqueeze(1));
        let z = Tensor::randn([y.size()[0], g.nz], (Kind::Float, Device::Cpu));
        let p = judge.probability(&sample(&z, &y), attr, batch)?;
        let hits = p
            .iter()
            .zip(&want)
            .filter(|(p, w)| (**p >= 0.5) == **w)
            .count();
        out.cells.push(proportion_cell(
            TABLE,
            "G",
            attr,
            "follows_y",
            proportion(hits as u64, want.len() as u64),
        ));
    }
    Ok(())
}

/// Rows: one z each; columns: every attribute off, then each attribute on alone.
fn sample_grid(g: &Generator, sample: &impl Fn(&Tensor, &Tensor) -> Tensor) -> Grid {
    let na = g.attributes.len() as i64;
    let cols = na + 1;
    let mut y = Tensor::full([cols, na], -1.0, (Kind::Float, Device::Cpu));
    for j in 0..na {
        let _ = y.get(j + 1).get(j).fill_(1.0);
    }
    let z = Tensor::randn([GRID_ROWS, g.nz], (Kind::Float, Device::Cpu));
    let zs = z.repeat_interleave_self_int(cols, 0, None);
    y = y.repeat([GRID_ROWS, 1]);
    let img = sample(&zs, &y);
    let mut col_labels = vec!["none on".to_string()];
    col_labels.extend(g.attributes.iter().map(|a| format!("{a} on")));
    Grid {
        name: "cgan_samples".into(),
        title: "cGAN samples G(z, y): rows one z each, columns y (every attribute −1, then one +1)"
            .into(),
        row_labels: (1..=GRID_ROWS).map(|i| format!("z{i}")).collect(),
        col_labels,
        cells: (0..GRID_ROWS)
            .map(|r| (0..cols).map(|c| img.get(r * cols + c)).collect())
            .collect(),
    }
}
