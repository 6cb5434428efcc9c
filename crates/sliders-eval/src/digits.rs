//! The digits evaluation (IcGAN paper Fig. 4b, MNIST; docs/icgan.md#digits, #editing, #evaluation;
//! the figure number is unverified, see #figure-numbers): on the real test
//! digits, for each trained encoder layout, the reconstruction `G(Ez(x), onehot(argmax Ey(x)))`
//! and its pixel MSE, Ey's class accuracy, and the class swaps `G(Ez(x), onehot(c))` for every
//! other class `c`, judged by the separately trained digit classifier (swap accuracy: the share
//! it reads as `c`); plus that classifier's own accuracy on the real test digits and on the
//! reconstructions. The figure: rows of test digits; columns original, reconstruction, then
//! classes 0-9 with z kept.

use crate::results::{Cell, Grid, Results, proportion_cell};
use crate::{EvalError, batched};
use sliders_celeba::digits::{DigitsData, N_CLASSES};
use sliders_celeba::{BatchSource, Part, SequentialBatches};
use sliders_config::train::Experiment;
use sliders_edit::infer::{Generator, IcganEncoders};
use sliders_metrics::image::mse_per_image;
use sliders_metrics::stats::{mean_interval, paired_difference, proportion};
use sliders_nets::FaderClassifier;
use sliders_train::icgan::digits::{DigitsRun, classifier_accuracy, load_classifier};
use std::fmt::Write as _;
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

/// Batch of the evaluation passes.
const BATCH: usize = 256;

/// The table name of a dataset's cells (`digits_mnist`, `digits_fashion_mnist`).
pub fn table_name(data: &DigitsData) -> String {
    format!("digits_{}", data.source.as_str())
}

/// The baseline row of the encoder comparison on digits: every test digit reconstructed as the
/// mean of the test digits (what an inversion that ignores its input scores).
pub const MEAN_ROW: &str = "mean digit";

/// The file of a digits table's encoder comparison chart (IcGAN Figure 4a), under `figures/`;
/// its `digits_` prefix keeps it among the figures a CelebA profile's report commits.
pub fn figure_4a(table: &str) -> String {
    format!("{table}_fig4a.png")
}

/// One-hot ±1 rows `[n, 10]` of the classes `c`.
fn one_hot_pm(c: &Tensor) -> Tensor {
    c.one_hot(N_CLASSES as i64).to_kind(Kind::Float) * 2.0 - 1.0
}

fn predict(net: &FaderClassifier, x: &Tensor, device: Device) -> Tensor {
    batched(x, BATCH, device, |xb| {
        tch::no_grad(|| net.forward_t(xb, false)).argmax(1, false)
    })
}

fn hits(a: &Tensor, b: &Tensor) -> u64 {
    a.eq_tensor(b).sum(Kind::Int64).int64_value(&[]) as u64
}

/// Evaluates a digits run (`exp.run_dir` holding `cgan/`, `encoders-<kind>/`, `classifier/`)
/// on the test part of `data` (at most `digits.max_test_images`), on `device`: the judge on the
/// real digits, the mean-digit baseline, then per layout [`layout`], and each layout's
/// reconstruction and round-trip errors minus IND's on the same digits.
pub fn evaluate(exp: &Experiment, data: &DigitsData, device: Device) -> Result<Results, EvalError> {
    let run = DigitsRun::new(&exp.run_dir);
    let table = table_name(data);
    let mut out = Results::default();
    let (x, label, source) = test_digits(exp, data, &mut out);
    let (_cvs, clf) = load_classifier(&run.root, device)?;
    let (h, m) = classifier_accuracy(&clf, &source, 0, device);
    out.cells.push(proportion_cell(
        &table,
        "Classifier",
        "all",
        "real_accuracy",
        proportion(h, m),
    ));
    let mean = x
        .mean_dim(Some(&[0i64][..]), true, Kind::Float)
        .expand_as(&x);
    out.cells.push(proportion_cell(
        &table,
        MEAN_ROW,
        "all",
        "rec_mse",
        mean_interval(&mse_per_image(&mean, &x)),
    ));
    let g = Generator::load_run(&run.cgan(), device)?;
    let classes = data.class_names();
    let t = Test {
        table: &table,
        x: &x,
        label: &label,
        classes: &classes,
        clf: &clf,
        device,
    };
    let rows = exp.digits().figure_rows.min(label.size()[0] as usize) as i64;
    let mut passes = Vec::new();
    for &kind in &exp.digits().encoders {
        let enc = IcganEncoders::load(&run.encoders(kind), false, device)?;
        passes.push(layout(&t, &g, &enc, rows, data.source.as_str(), &mut out)?);
    }
    let recs: Vec<(&str, &[f64])> = passes.iter().map(|p| (p.0, &p.1[..])).collect();
    crate::encoders::paired_to_ind(&table, &recs, &mut out);
    if let Some((_, _, ind)) = passes.iter().find(|p| p.0 == "IND") {
        for (name, _, rt) in passes.iter().filter(|p| p.0 != "IND") {
            out.cells.push(proportion_cell(
                &table,
                name,
                "all",
                "swap_round_trip_minus_ind",
                paired_difference(rt, ind),
            ));
        }
    }
    Ok(out)
}

/// The test digits (images, classes, and their batch source), with the data note.
fn test_digits(
    exp: &Experiment,
    data: &DigitsData,
    out: &mut Results,
) -> (Tensor, Tensor, Arc<BatchSource>) {
    let mut test = data.clone();
    test.limit(Part::Test, exp.digits().max_test_images);
    let source = test.batch_source(Part::Test);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for b in SequentialBatches::new(source.clone(), BATCH) {
        let (x, y) = sliders_train::tensors::to_device(&b, Device::Cpu);
        xs.push(x);
        ys.push(y.argmax(1, false));
    }
    let (x, label) = (Tensor::cat(&xs, 0), Tensor::cat(&ys, 0));
    out.notes.push(format!(
        "data: {} ({} test images, 32 px one channel, 28 px padded), read from {}",
        data.source.as_str(),
        label.size()[0],
        data.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    (x, label, source)
}

/// One layout on the test digits: reconstruction, Ey and judge cells, the z error on held-out
/// generated digits, the class swaps, the swap round trip and the figure. Returns the layout's
/// name and its per-digit reconstruction and round-trip errors (for the paired differences).
fn layout(
    t: &Test,
    g: &Generator,
    enc: &IcganEncoders,
    rows: i64,
    source: &str,
    out: &mut Results,
) -> Result<(&'static str, Vec<f64>, Vec<f64>), EvalError> {
    let name = enc.name();
    let (z, y_hat, rec) = reconstruct(t, g, enc, name, out);
    let rec_mse = mse_per_image(&rec, t.x);
    out.cells
        .push(crate::encoders::z_error(t.table, enc, BATCH, t.device)?);
    let per_class = swaps(t, g, &z, name, rows, out);
    let rt = round_trip(t, g, enc, (&z, &y_hat, &rec));
    out.cells.push(proportion_cell(
        t.table,
        name,
        "all",
        "swap_round_trip_mse",
        mean_interval(&rt),
    ));
    out.grids
        .push(figure(t, name, source, &rec, &per_class, rows));
    Ok((name, rec_mse, rt))
}

/// The test digits and what scores them.
struct Test<'a> {
    table: &'a str,
    x: &'a Tensor,
    label: &'a Tensor,
    classes: &'a [String],
    clf: &'a FaderClassifier,
    device: Device,
}

/// Reconstructs the test digits with one layout and adds the reconstruction, Ey and classifier
/// cells; returns `Ez(x)`, Ey's classes and the reconstructions (CPU).
fn reconstruct(
    t: &Test,
    g: &Generator,
    enc: &IcganEncoders,
    name: &str,
    out: &mut Results,
) -> (Tensor, Tensor, Tensor) {
    let n = t.label.size()[0] as u64;
    let mut zs = Vec::new();
    let mut y_hat = Vec::new();
    let rec = batched(t.x, BATCH, t.device, |xb| {
        let (z, y) = enc.encode(xb);
        // MNIST: Ey's output thresholded as argmax → one-hot ±1 (docs/icgan.md#inference).
        let yc = y.argmax(1, false);
        let r = g.generate(&z, &one_hot_pm(&yc));
        zs.push(z.to_device(Device::Cpu));
        y_hat.push(yc.to_device(Device::Cpu));
        r
    });
    let z = Tensor::cat(&zs, 0);
    let y_hat = Tensor::cat(&y_hat, 0);
    out.cells.push(proportion_cell(
        t.table,
        name,
        "all",
        "rec_mse",
        mean_interval(&mse_per_image(&rec, t.x)),
    ));
    out.cells.push(proportion_cell(
        t.table,
        name,
        "all",
        "ey_accuracy",
        proportion(hits(&y_hat, t.label), n),
    ));
    out.cells.push(proportion_cell(
        t.table,
        name,
        "all",
        "rec_class_accuracy",
        proportion(hits(&predict(t.clf, &rec, t.device), t.label), n),
    ));
    (z, y_hat, rec)
}

/// Swaps every test digit to every other class with z kept, judged by the classifier (the swap
/// accuracy, per class and over all); returns the first `rows` images of each class.
fn swaps(
    t: &Test,
    g: &Generator,
    z: &Tensor,
    name: &str,
    rows: i64,
    out: &mut Results,
) -> Vec<Tensor> {
    let n = t.label.size()[0];
    let (mut swap_hits, mut swap_n) = (0u64, 0u64);
    let mut per_class = Vec::new();
    for c in 0..N_CLASSES as i64 {
        let target = Tensor::full([n], c, (Kind::Int64, Device::Cpu));
        let img = batched(z, BATCH, t.device, |zb| {
            let b = zb.size()[0];
            g.generate(zb, &one_hot_pm(&target.narrow(0, 0, b).to_device(t.device)))
        });
        let pred = predict(t.clf, &img, t.device);
        let other = t.label.ne(c);
        let k = other.sum(Kind::Int64).int64_value(&[]) as u64;
        let h = pred
            .eq(c)
            .logical_and(&other)
            .sum(Kind::Int64)
            .int64_value(&[]) as u64;
        swap_hits += h;
        swap_n += k;
        out.cells.push(proportion_cell(
            t.table,
            name,
            &t.classes[c as usize],
            "swap_accuracy",
            proportion(h, k),
        ));
        per_class.push(img.narrow(0, 0, rows));
    }
    out.cells.push(proportion_cell(
        t.table,
        name,
        "all",
        "swap_accuracy",
        proportion(swap_hits, swap_n),
    ));
    per_class
}

/// The swap round trip, per test digit: swap to another class than Ey's (`(ŷ + 1 + i mod 9) mod
/// 10` for the i-th digit, so every other class is used equally), re-encode the swapped image,
/// and generate it back in class ŷ; the MSE of that against the direct reconstruction `G(z, ŷ)`.
/// It is small only when the encoder recovers the same z from a digit of another class: the style
/// the swap should have kept (docs/evaluation.md#digits-swap-round-trip).
fn round_trip(
    t: &Test,
    g: &Generator,
    enc: &IcganEncoders,
    (z, y_hat, rec): (&Tensor, &Tensor, &Tensor),
) -> Vec<f64> {
    let n = y_hat.size()[0];
    let shift = Tensor::arange(n, (Kind::Int64, Device::Cpu)).remainder(9) + 1;
    let target = (y_hat + shift).remainder(N_CLASSES as i64);
    let mut out = Vec::with_capacity(n as usize);
    for s in (0..n).step_by(BATCH) {
        let b = (BATCH as i64).min(n - s);
        let zb = z.narrow(0, s, b).to_device(t.device);
        let to = target.narrow(0, s, b).to_device(t.device);
        let swapped = g.generate(&zb, &one_hot_pm(&to));
        let (z2, _) = enc.encode(&swapped);
        let home = y_hat.narrow(0, s, b).to_device(t.device);
        let back = g.generate(&z2, &one_hot_pm(&home)).to_device(Device::Cpu);
        out.extend(mse_per_image(&back, &rec.narrow(0, s, b)));
    }
    out
}

/// The figure of one layout: test digits, reconstructions, then every class with z kept.
fn figure(
    t: &Test,
    name: &str,
    source: &str,
    rec: &Tensor,
    per_class: &[Tensor],
    rows: i64,
) -> Grid {
    let rgb = |x: &Tensor| x.expand([3, -1, -1], false).copy();
    let cells = (0..rows)
        .map(|r| {
            let mut row = vec![rgb(&t.x.get(r)), rgb(&rec.get(r))];
            row.extend(per_class.iter().map(|img| rgb(&img.get(r))));
            row
        })
        .collect();
    let mut col_labels = vec!["original".to_string(), "rec.".to_string()];
    col_labels.extend(t.classes.iter().cloned());
    let row_labels = (0..rows)
        .map(|r| {
            let l = t.label.int64_value(&[r]) as usize;
            format!("{} ({})", t.classes[l], r + 1)
        })
        .collect();
    Grid {
        name: format!("{}_{}", t.table, name.to_lowercase().replace('-', "_")),
        title: format!(
            "IcGAN on {source} ({name}): test images, reconstructions, then every class with z kept"
        ),
        row_labels,
        col_labels,
        cells,
    }
}

fn fmt_acc(c: Option<&Cell>) -> String {
    match c.and_then(|c| c.value.map(|v| (v, c.low, c.high, c.n))) {
        Some((v, Some(lo), Some(hi), n)) => {
            format!(
                "{:.1} [{:.1}, {:.1}] (n = {n})",
                v * 100.0,
                lo * 100.0,
                hi * 100.0
            )
        }
        Some((v, _, _, n)) => format!("{v:.4} (n = {n})"),
        None => "n/a".into(),
    }
}

/// A mean with its interval as `v ± half (n = …)`, or n/a.
fn fmt_mse(c: Option<&Cell>) -> String {
    match c.and_then(|c| c.value.map(|v| (v, c.low, c.high, c.n))) {
        Some((v, Some(lo), Some(hi), n)) => format!("{v:.4} ± {:.4} (n = {n})", (hi - lo) / 2.0),
        Some((v, _, _, n)) => format!("{v:.4} (n = {n})"),
        None => "n/a".into(),
    }
}

/// The Markdown table of a digits evaluation (one per dataset in `results`).
pub fn markdown(results: &Results) -> String {
    let mut s = String::new();
    for t in results.digits_tables() {
        let _ = writeln!(
            s,
            "### IcGAN on {} (32 px, one channel)\n",
            t.trim_start_matches("digits_")
        );
        let rows = layout_table(&mut s, results, t);
        let swap: Vec<String> = rows
            .iter()
            .map(|r| format!("{r} {}", fmt_acc(results.get(t, r, "all", "swap_accuracy"))))
            .collect();
        let _ = writeln!(
            s,
            "\nSwap accuracy (the judge reads the swapped class; test images × the 9 other \
             classes): {}. It measures the cGAN's conditioning more than the encoder, so it \
             separates layouts only where it is below 100.",
            swap.join("; ")
        );
        let judge = if t.contains("fashion") {
            "a separately trained classifier of the 10 Fashion-MNIST garment classes"
        } else {
            "a separately trained digit classifier"
        };
        let _ = writeln!(
            s,
            "\nThe judge, {judge}, on the real test images: {}.\n",
            fmt_acc(results.get(t, "Classifier", "all", "real_accuracy"))
        );
    }
    for n in &results.notes {
        let _ = writeln!(s, "- {n}");
    }
    s
}

/// The layouts' table of digits table `t` with the verdict and the chart link; returns the
/// layouts' rows (the baseline left out).
fn layout_table<'a>(s: &mut String, results: &'a Results, t: &str) -> Vec<&'a str> {
    s.push_str(
        "MSE on the [−1, 1] scale ± the half width of its 95% interval over test images (z \
         MSE: over held-out generated digits); accuracies in % with a 95% Wilson interval and \
         the number of images behind each. `rec. − IND` and `round trip − IND`: the layout's \
         error minus IND's on the same digits (paired 95% interval; above zero: IND is more \
         faithful). Swap round trip: each digit swapped to another class, re-encoded and \
         generated back in its own class, against its direct reconstruction (lower: the encoder \
         keeps the style through a swap). The mean digit row reconstructs every digit as the \
         mean test digit.\n\n\
         | encoders | rec. MSE | rec. − IND | z MSE | Ey class accuracy | classifier on reconstructions | swap round trip | round trip − IND |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let mut rows: Vec<&str> = results
        .cells
        .iter()
        .filter(|c| c.table == t && c.metric == "rec_mse")
        .map(|c| c.row.as_str())
        .collect();
    rows.dedup();
    for r in &rows {
        let get = |m: &str| results.get(t, r, "all", m);
        let _ = writeln!(
            s,
            "| {r} | {} | {} | {} | {} | {} | {} | {} |",
            fmt_mse(get("rec_mse")),
            fmt_mse(get("rec_mse_minus_ind")),
            fmt_mse(get("z_mse")),
            fmt_acc(get("ey_accuracy")),
            fmt_acc(get("rec_class_accuracy")),
            fmt_mse(get("swap_round_trip_mse")),
            fmt_mse(get("swap_round_trip_minus_ind")),
        );
    }
    let _ = writeln!(s, "\n{}", crate::encoders::verdict(results, t));
    let _ = writeln!(
        s,
        "\n![encoder comparison on {}](figures/{})",
        t.trim_start_matches("digits_"),
        figure_4a(t)
    );
    rows.retain(|r| *r != MEAN_ROW);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results_for(table: &str) -> Results {
        let mut r = Results::default();
        r.cells
            .push(Cell::value(table, "IND", "all", "rec_mse", 0.125, 1000));
        r.cells.push(Cell::value(
            table,
            "Classifier",
            "all",
            "real_accuracy",
            0.87,
            1000,
        ));
        r
    }

    #[test]
    fn the_judge_is_named_after_the_dataset() {
        let fashion = markdown(&results_for("digits_fashion_mnist"));
        assert!(fashion.contains("### IcGAN on fashion_mnist"), "{fashion}");
        assert!(
            fashion.contains("Fashion-MNIST garment classes"),
            "{fashion}"
        );
        assert!(!fashion.contains("digit classifier"), "{fashion}");
        assert!(fashion.contains("| IND | 0.1250 (n = 1000) |"), "{fashion}");
        let mnist = markdown(&results_for("digits_mnist"));
        assert!(
            mnist.contains("a separately trained digit classifier"),
            "{mnist}"
        );
    }

    #[test]
    fn the_table_has_the_baseline_the_z_error_the_verdict_and_the_chart() {
        let t = "digits_mnist";
        let mut r = results_for(t);
        r.cells
            .push(Cell::value(t, MEAN_ROW, "all", "rec_mse", 0.5, 1000));
        r.cells
            .push(Cell::value(t, "IND", "all", "z_mse", 0.25, 512));
        r.cells.push(proportion_cell(
            t,
            "SNG",
            "all",
            "rec_mse_minus_ind",
            sliders_metrics::stats::Proportion {
                value: 0.01,
                n: 1000,
                low: 0.005,
                high: 0.015,
            },
        ));
        let md = markdown(&r);
        assert!(md.contains("| mean digit | 0.5000 (n = 1000) |"), "{md}");
        assert!(
            md.contains("| IND | 0.1250 (n = 1000) | n/a | 0.2500 (n = 512) |"),
            "{md}"
        );
        assert!(md.contains("**IND is the most faithful layout"), "{md}");
        assert!(md.contains("(figures/digits_mnist_fig4a.png)"), "{md}");
        assert!(
            !md.contains("mean digit n/a"),
            "the baseline has no swap: {md}"
        );
    }
}
