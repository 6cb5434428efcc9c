//! The Fader-vs-IcGAN table (docs/fader-networks.md#evaluation-and-table-1, Table 1 in the paper's
//! shape): per attribute, on a balanced set of test images (the same for every row), the judge's
//! accuracy against the intended value (the original for Real and AE rows, the flipped one for Swap
//! rows) with a 95% Wilson interval, FID/KID against held-out real test images, and reconstruction
//! MSE/PSNR for AE rows. Also the sliding-attribute and swap grids and the slider-response sweep.

use crate::EvalError;
use crate::judge::AttributeJudge;
use crate::naturalness::Naturalness;
use crate::results::{Cell, Curves, Grid, Results, proportion_cell};
use crate::synthetic::Family;
use crate::testset::TestSet;
use sliders_celeba::CacheParams;
use sliders_celeba::synthetic::SynthAttr;
use sliders_config::data::SyntheticConfig;
use sliders_config::eval::EvalConfig;
use sliders_edit::infer::{FaderModel, Generator, IcganEncoders, threshold};
use sliders_metrics::image::{mse, psnr};
use sliders_metrics::stats::{accuracy, mean_interval};
use tch::{Device, Tensor};

/// Table name of the cells made here.
pub const TABLE: &str = sliders_config::results::table::FADER_VS_ICGAN;
/// Row names, in the paper's order.
pub const ROWS: [&str; 5] = [
    "Real Image",
    "IcGAN AE",
    "IcGAN Swap",
    "FadNet AE",
    "FadNet Swap",
];

/// The images of one attribute's protocol, kept for the synthetic-face measurements.
pub struct AttributeEdits {
    /// The attribute.
    pub attribute: String,
    /// Test-set positions of the balanced images.
    pub positions: Vec<usize>,
    /// Their labels.
    pub labels: Vec<bool>,
    /// Inputs `[n, 3, S, S]` (CPU).
    pub inputs: Tensor,
    /// Fader reconstructions and swaps, if a Fader model covers the attribute.
    pub fader: Option<(Tensor, Tensor)>,
    /// IcGAN reconstructions and swaps, if G covers the attribute.
    pub icgan: Option<(Tensor, Tensor)>,
}

/// Everything the table needs.
pub struct TableInputs<'a> {
    /// Settings.
    pub cfg: &'a EvalConfig,
    /// Seed of the selections.
    pub seed: u64,
    /// Device of the networks.
    pub device: Device,
    /// Test images.
    pub test: &'a TestSet,
    /// Positions the edits are made on (the first half).
    pub pool: &'a [usize],
    /// The accuracy judge.
    pub judge: &'a AttributeJudge,
    /// Fader models (one per attribute, or multi-attribute).
    pub faders: &'a [FaderModel],
    /// IcGAN's generator and the encoder layout of the table.
    pub icgan: Option<(&'a Generator, &'a IcganEncoders)>,
    /// FID/KID against the second half.
    pub naturalness: &'a Naturalness,
    /// On synthetic faces, their generator and the cache's preprocessing: the slider response
    /// then also reads the true intensity of each edit (see [`crate::synthetic::families`]).
    pub truth: Option<(&'a SyntheticConfig, CacheParams)>,
}

fn judged(
    inp: &TableInputs,
    row: &str,
    attr: &str,
    images: &Tensor,
    intended: &[bool],
) -> Result<Vec<Cell>, EvalError> {
    let p = inp
        .judge
        .probability(&images.to_device(inp.device), attr, inp.cfg.batch_size)?;
    let predicted: Vec<bool> = p.iter().map(|&v| v >= 0.5).collect();
    let mut cells = vec![proportion_cell(
        TABLE,
        row,
        attr,
        "accuracy",
        accuracy(&predicted, intended),
    )];
    cells.extend(inp.naturalness.cells(TABLE, row, attr, images));
    Ok(cells)
}

fn reconstruction(row: &str, attr: &str, rec: &Tensor, x: &Tensor) -> [Cell; 2] {
    let n = x.size()[0] as u64;
    [
        Cell::value(TABLE, row, attr, "mse", mse(rec, x), n),
        Cell::value(TABLE, row, attr, "psnr", psnr(rec, x), n),
    ]
}

/// Slider values for every image: the model's attributes at their labels, `attr` at `alpha`
/// (or at its label when `alpha` is `None`).
fn fader_values(
    model: &FaderModel,
    test: &TestSet,
    positions: &[usize],
    attr: &str,
    alpha: impl Fn(bool) -> Option<f64>,
) -> Result<Vec<Vec<f64>>, EvalError> {
    slider_values(&model.attributes, test, positions, attr, alpha)
}

/// [`fader_values`] for a model of `attributes`.
fn slider_values(
    attributes: &[String],
    test: &TestSet,
    positions: &[usize],
    attr: &str,
    alpha: impl Fn(bool) -> Option<f64>,
) -> Result<Vec<Vec<f64>>, EvalError> {
    let cols: Vec<usize> = attributes
        .iter()
        .map(|a| test.column(a))
        .collect::<Result<_, _>>()?;
    Ok(positions
        .iter()
        .map(|&p| {
            attributes
                .iter()
                .zip(&cols)
                .map(|(a, &c)| {
                    let has = test.has(p, c);
                    match (a == attr, alpha(has)) {
                        (true, Some(v)) => v,
                        _ => f64::from(u8::from(has)),
                    }
                })
                .collect()
        })
        .collect())
}

/// ±1 code for IcGAN: Ey's thresholded output with `attr`'s column set to `value` (±1), if any.
fn icgan_code(y_raw: &Tensor, col: usize, value: Option<&[bool]>) -> Tensor {
    let y = threshold(y_raw);
    if let Some(v) = value {
        let vals: Vec<f32> = v.iter().map(|&b| if b { 1.0 } else { -1.0 }).collect();
        let column = Tensor::from_slice(&vals).to_device(y.device()).unsqueeze(1);
        y.narrow(1, col as i64, 1).copy_(&column);
    }
    y
}

/// Computes the table, the grids and the slider response; returns the edits for the
/// synthetic-face measurements.
pub fn run(inp: &TableInputs, out: &mut Results) -> Result<Vec<AttributeEdits>, EvalError> {
    let cfg = inp.cfg;
    let mut edits = Vec::new();
    for attr in &cfg.attributes {
        if !inp.judge.knows(attr) {
            return Err(EvalError::Config(format!(
                "the evaluation classifier ({}) was not trained on `{attr}`; train it on every \
                 attribute of eval.attributes",
                cfg.classifier.display()
            )));
        }
        let positions = inp
            .test
            .balanced(inp.pool, attr, cfg.images_per_value, inp.seed)?;
        let labels = inp.test.labels(&positions, attr)?;
        let flipped: Vec<bool> = labels.iter().map(|b| !b).collect();
        let x = inp.test.images(&positions);
        tracing::info!("{attr}: {} balanced test images", positions.len());
        out.cells
            .extend(judged(inp, "Real Image", attr, &x, &labels)?);

        let fader = fader_rows(inp, attr, &positions, &x, (&labels, &flipped), out)?;
        let icgan = icgan_rows(inp, attr, &x, (&labels, &flipped), out)?;
        swap_grid(inp, attr, &labels, &x, fader.as_ref(), icgan.as_ref(), out);
        edits.push(AttributeEdits {
            attribute: attr.clone(),
            positions,
            labels,
            inputs: x,
            fader,
            icgan,
        });
    }
    Ok(edits)
}

/// A model's (reconstructions, swaps) of the evaluated faces.
type Pair = (Tensor, Tensor);

/// The FadNet AE and Swap rows of `attr` (and its sliding figure and response curves); missing
/// cells when no Fader model has the attribute. `labels`: the true values, then the flipped.
fn fader_rows(
    inp: &TableInputs,
    attr: &str,
    positions: &[usize],
    x: &Tensor,
    (labels, flipped): (&[bool], &[bool]),
    out: &mut Results,
) -> Result<Option<Pair>, EvalError> {
    let fader_model = inp
        .faders
        .iter()
        .find(|m| m.attributes.iter().any(|a| a == attr));
    Ok(match fader_model {
        Some(m) => {
            let rec_y = fader_values(m, inp.test, positions, attr, |_| None)?;
            let swap_y = fader_values(m, inp.test, positions, attr, |has| {
                Some(f64::from(u8::from(!has)))
            })?;
            let (rec, swap) = fader_pair(inp, m, x, &rec_y, &swap_y);
            out.cells
                .extend(judged(inp, "FadNet AE", attr, &rec, labels)?);
            out.cells.extend(reconstruction("FadNet AE", attr, &rec, x));
            out.cells
                .extend(judged(inp, "FadNet Swap", attr, &swap, flipped)?);
            sliding(inp, m, attr, positions, x, &rec, out)?;
            response(inp, m, attr, positions, x, out)?;
            Some((rec, swap))
        }
        None => {
            let why = "no Fader model for this attribute (eval.fader_runs)";
            for row in ["FadNet AE", "FadNet Swap"] {
                out.cells
                    .push(Cell::missing(TABLE, row, attr, "accuracy", why));
            }
            None
        }
    })
}

/// The IcGAN AE and Swap rows of `attr`; missing cells when there is no IcGAN or its cGAN was
/// not trained on the attribute.
fn icgan_rows(
    inp: &TableInputs,
    attr: &str,
    x: &Tensor,
    (labels, flipped): (&[bool], &[bool]),
    out: &mut Results,
) -> Result<Option<Pair>, EvalError> {
    Ok(
        match inp
            .icgan
            .and_then(|(g, e)| g.column(attr).map(|c| (g, e, c)))
        {
            Some((g, enc, col)) => {
                let (rec, swap) = icgan_pair(inp, g, enc, col, x, flipped);
                out.cells
                    .extend(judged(inp, "IcGAN AE", attr, &rec, labels)?);
                out.cells.extend(reconstruction("IcGAN AE", attr, &rec, x));
                out.cells
                    .extend(judged(inp, "IcGAN Swap", attr, &swap, flipped)?);
                Some((rec, swap))
            }
            None => {
                let why = if inp.icgan.is_none() {
                    "no IcGAN run (eval.cgan_run and an encoder run of eval.table_encoder)"
                } else {
                    "the cGAN was not trained on this attribute"
                };
                for row in ["IcGAN AE", "IcGAN Swap"] {
                    out.cells
                        .push(Cell::missing(TABLE, row, attr, "accuracy", why));
                }
                None
            }
        },
    )
}

fn fader_pair(
    inp: &TableInputs,
    m: &FaderModel,
    x: &Tensor,
    rec_y: &[Vec<f64>],
    swap_y: &[Vec<f64>],
) -> (Tensor, Tensor) {
    let bs = inp.cfg.batch_size;
    let mut rec = Vec::new();
    let mut swap = Vec::new();
    let n = x.size()[0] as usize;
    for s in (0..n).step_by(bs) {
        let e = (s + bs).min(n);
        let xb = x.narrow(0, s as i64, (e - s) as i64).to_device(inp.device);
        let enc = m.encode(&xb);
        rec.push(
            m.decode(&enc, &m.code(&rec_y[s..e], inp.device))
                .to_device(Device::Cpu),
        );
        swap.push(
            m.decode(&enc, &m.code(&swap_y[s..e], inp.device))
                .to_device(Device::Cpu),
        );
    }
    (Tensor::cat(&rec, 0), Tensor::cat(&swap, 0))
}

/// IcGAN reconstructions `G(Ez(x), thr(Ey(x)))` and swaps (the attribute's column set to the
/// flipped label), in batches.
fn icgan_pair(
    inp: &TableInputs,
    g: &Generator,
    enc: &IcganEncoders,
    col: usize,
    x: &Tensor,
    flipped: &[bool],
) -> (Tensor, Tensor) {
    let bs = inp.cfg.batch_size;
    let (mut rec, mut swap) = (Vec::new(), Vec::new());
    let n = x.size()[0] as usize;
    for s in (0..n).step_by(bs) {
        let e = (s + bs).min(n);
        let xb = x.narrow(0, s as i64, (e - s) as i64).to_device(inp.device);
        let (z, y) = enc.encode(&xb);
        rec.push(
            g.generate(&z, &icgan_code(&y, col, None))
                .to_device(Device::Cpu),
        );
        swap.push(
            g.generate(&z, &icgan_code(&y, col, Some(&flipped[s..e])))
                .to_device(Device::Cpu),
        );
    }
    (Tensor::cat(&rec, 0), Tensor::cat(&swap, 0))
}

/// The sliding-attribute grid of one attribute: rows = test faces (half without, half with the
/// attribute), columns = original, reconstruction, then each of the attribute's grid values
/// (`EvalConfig::grid_alphas_for`).
fn sliding(
    inp: &TableInputs,
    m: &FaderModel,
    attr: &str,
    positions: &[usize],
    x: &Tensor,
    rec: &Tensor,
    out: &mut Results,
) -> Result<(), EvalError> {
    let k = inp.cfg.grid_faces.min(positions.len());
    let pos = &positions[..k];
    let xs = x.narrow(0, 0, k as i64).to_device(inp.device);
    let enc = m.encode(&xs);
    let mut columns = vec![x.narrow(0, 0, k as i64), rec.narrow(0, 0, k as i64)];
    let alphas = inp.cfg.grid_alphas_for(attr);
    for &alpha in alphas {
        let y = fader_values(m, inp.test, pos, attr, |_| Some(alpha))?;
        columns.push(
            m.decode(&enc, &m.code(&y, inp.device))
                .to_device(Device::Cpu),
        );
    }
    let labels = inp.test.labels(pos, attr)?;
    let mut col_labels = vec!["original".to_string(), "reconstruction".to_string()];
    col_labels.extend(alphas.iter().map(|a| format!("α={a}")));
    out.grids.push(Grid {
        name: format!("slide_{attr}"),
        title: format!("FadNet: sliding {attr}"),
        row_labels: labels
            .iter()
            .map(|&h| {
                if h {
                    format!("{attr}=1")
                } else {
                    format!("{attr}=0")
                }
            })
            .collect(),
        col_labels,
        cells: (0..k as i64)
            .map(|i| columns.iter().map(|c| c.get(i)).collect())
            .collect(),
    });
    Ok(())
}

fn swap_grid(
    inp: &TableInputs,
    attr: &str,
    labels: &[bool],
    x: &Tensor,
    fader: Option<&(Tensor, Tensor)>,
    icgan: Option<&(Tensor, Tensor)>,
    out: &mut Results,
) {
    let k = inp.cfg.grid_faces.min(x.size()[0] as usize) as i64;
    let mut col_labels = vec!["original".to_string()];
    let mut columns = vec![x.narrow(0, 0, k)];
    for (name, pair) in [("IcGAN", icgan), ("FadNet", fader)] {
        if let Some((rec, swap)) = pair {
            col_labels.push(format!("{name} AE"));
            col_labels.push(format!("{name} swap"));
            columns.push(rec.narrow(0, 0, k));
            columns.push(swap.narrow(0, 0, k));
        }
    }
    out.grids.push(Grid {
        name: format!("swap_{attr}"),
        title: format!("{attr}: reconstructions and swaps"),
        row_labels: labels
            .iter()
            .take(k as usize)
            .map(|&h| format!("{attr}={}", u8::from(h)))
            .collect(),
        col_labels,
        cells: (0..k)
            .map(|i| columns.iter().map(|c| c.get(i)).collect())
            .collect(),
    });
}

/// Slider response: for each alpha of `eval.alphas`, the judge's mean `p(attr)` over the balanced
/// images with the attribute set to alpha (others at their labels), separately for images that
/// lack it and images that have it. On synthetic faces also the true value: the generator's value
/// of the attribute (smile amount, mouth opening, or 0/1) of the render of the same face nearest
/// to each edit.
fn response(
    inp: &TableInputs,
    m: &FaderModel,
    attr: &str,
    positions: &[usize],
    x: &Tensor,
    out: &mut Results,
) -> Result<(), EvalError> {
    let labels = inp.test.labels(positions, attr)?;
    let truth = truth_families(inp, attr, positions);
    let (probs, truths) = sweep(inp, m, attr, positions, x, truth.as_ref())?;
    let groups = |v: usize| {
        labels
            .iter()
            .enumerate()
            .filter(move |(_, h)| **h == (v == 1))
            .map(|(i, _)| i)
    };
    let mean = |values: &[f64], v: usize| {
        let sel: Vec<f64> = groups(v).map(|i| values[i]).collect();
        let m = mean_interval(&sel);
        // A single image has no spread to draw: a zero-width band.
        let half = if m.n < 2 { 0.0 } else { (m.high - m.low) / 2.0 };
        (m.value, half, m.n)
    };
    let group_name = |v: usize| if v == 1 { "present" } else { "absent" };
    let count = |v: usize| groups(v).count();
    let mut series = vec![
        (
            format!("{attr} absent in input (n = {})", count(0)),
            Vec::new(),
        ),
        (
            format!("{attr} present in input (n = {})", count(1)),
            Vec::new(),
        ),
    ];
    let mut truth_series = series.clone();
    let mut bands = vec![Vec::new(), Vec::new()];
    let mut truth_bands = bands.clone();
    for (k, &alpha) in inp.cfg.alphas.iter().enumerate() {
        for v in 0..2 {
            let (p, half, count) = mean(&probs[k], v);
            series[v].1.push((alpha, p));
            bands[v].push((alpha, p - half, p + half));
            out.cells.push(Cell::value(
                sliders_config::results::table::SLIDER_RESPONSE,
                group_name(v),
                attr,
                &format!("p_judge@{alpha}"),
                p,
                count,
            ));
            if truth.is_some() {
                let (t, half, count) = mean(&truths[k], v);
                truth_series[v].1.push((alpha, t));
                truth_bands[v].push((alpha, t - half, t + half));
                out.cells.push(Cell::value(
                    sliders_config::results::table::SLIDER_RESPONSE,
                    group_name(v),
                    attr,
                    &format!("true_value@{alpha}"),
                    t,
                    count,
                ));
            }
        }
    }
    push_curves(
        out,
        attr,
        truth.map(|(a, _)| a),
        (series, bands),
        (truth_series, truth_bands),
    );
    Ok(())
}

/// The generator's renders of each face along `attr`, when the data is synthetic and the
/// generator models the attribute.
fn truth_families(
    inp: &TableInputs,
    attr: &str,
    positions: &[usize],
) -> Option<(SynthAttr, Vec<Family>)> {
    inp.truth.and_then(|(synth, params)| {
        let a = crate::synthetic::synth_attr(attr)?;
        let names: Vec<&str> = positions
            .iter()
            .map(|&p| inp.test.names[p].as_str())
            .collect();
        Some((a, crate::synthetic::families(&names, a, synth, params)?))
    })
}

/// One value per face for each α of the config.
type PerAlpha = Vec<Vec<f64>>;

/// The judge's probability of `attr` on every face of `positions` decoded at every α of the
/// config (each batch encoded once), and, with `truth`, the nearest render's true value.
fn sweep(
    inp: &TableInputs,
    m: &FaderModel,
    attr: &str,
    positions: &[usize],
    x: &Tensor,
    truth: Option<&(SynthAttr, Vec<Family>)>,
) -> Result<(PerAlpha, PerAlpha), EvalError> {
    // Encode each batch once; decode it at every alpha.
    let codes = inp
        .cfg
        .alphas
        .iter()
        .map(|&alpha| fader_values(m, inp.test, positions, attr, |_| Some(alpha)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut probs = vec![Vec::new(); codes.len()];
    let mut truths = vec![Vec::new(); codes.len()];
    let (n, bs) = (positions.len(), inp.cfg.batch_size);
    for s in (0..n).step_by(bs) {
        let e = (s + bs).min(n);
        let enc = m.encode(&x.narrow(0, s as i64, (e - s) as i64).to_device(inp.device));
        for ((y, p), t) in codes.iter().zip(&mut probs).zip(&mut truths) {
            let edited = m.decode(&enc, &m.code(&y[s..e], inp.device));
            p.extend(inp.judge.probability(&edited, attr, bs)?);
            if let Some((_, fams)) = truth {
                let edited = edited.to_device(Device::Cpu);
                for (k, fam) in fams[s..e].iter().enumerate() {
                    t.push(crate::synthetic::nearest_value(fam, &edited.get(k as i64)));
                }
            }
        }
    }
    Ok((probs, truths))
}

/// Series and their 95% bands, one per input group.
type Lines = (Vec<(String, Vec<(f64, f64)>)>, Vec<Vec<(f64, f64, f64)>>);

/// The slider-response curves of `attr`: the judge's, and the true value's where known.
fn push_curves(
    out: &mut Results,
    attr: &str,
    truth: Option<SynthAttr>,
    judge: Lines,
    true_value: Lines,
) {
    let ((series, bands), (truth_series, truth_bands)) = (judge, true_value);
    out.curves.push(Curves {
        name: format!("response_{attr}"),
        title: format!("FadNet slider response: {attr}"),
        x_label: "slider value α".into(),
        y_label: format!("judge p({attr})"),
        series,
        bands,
    });
    if let Some(a) = truth {
        out.curves.push(Curves {
            name: format!("response_truth_{attr}"),
            title: format!("FadNet slider response, true value (nearest render): {attr}"),
            x_label: "slider value α".into(),
            y_label: format!("true {}", crate::synthetic::truth_label(a)),
            series: truth_series,
            bands: truth_bands,
        });
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
