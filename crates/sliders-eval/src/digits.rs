//! The digits evaluation (IcGAN paper Fig. 4b, MNIST; docs/icgan.md#digits, #editing, #evaluation;
//! the figure number is unverified, see #figure-numbers): on the real test
//! digits, for each trained encoder layout, the reconstruction `G(Ez(x), onehot(argmax Ey(x)))`
//! and its pixel MSE, Ey's class accuracy, and the class swaps `G(Ez(x), onehot(c))` for every
//! other class `c`, judged by the separately trained digit classifier (swap accuracy: the share
//! it reads as `c`); plus that classifier's own accuracy on the real test digits and on the
//! reconstructions. The figure: rows of test digits; columns original, reconstruction, then
//! classes 0-9 with z kept.

use crate::models::{Generator, IcganEncoders, kind_name};
use crate::results::{Cell, Grid, Results};
use crate::{EvalError, batched};
use sliders_celeba::digits::{DigitsData, N_CLASSES};
use sliders_celeba::{Part, SequentialBatches};
use sliders_config::train::Experiment;
use sliders_metrics::stats::proportion;
use sliders_nets::FaderClassifier;
use sliders_train::icgan::digits::{DigitsRun, classifier_accuracy, load_classifier};
use std::fmt::Write as _;
use tch::{Device, Kind, Tensor};

/// Batch of the evaluation passes.
const BATCH: usize = 256;

/// The table name of a dataset's cells (`digits_mnist`, `digits_fashion_mnist`).
pub fn table_name(data: &DigitsData) -> String {
    format!("digits_{}", data.source.as_str())
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
/// on the test part of `data` (at most `digits.max_test_images`), on `device`.
pub fn evaluate(exp: &Experiment, data: &DigitsData, device: Device) -> Result<Results, EvalError> {
    let run = DigitsRun::new(&exp.run_dir);
    let table = table_name(data);
    let mut out = Results::default();
    let mut test = data.clone();
    test.limit(Part::Test, exp.digits.max_test_images);
    let source = test.batch_source(Part::Test);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for b in SequentialBatches::new(source.clone(), BATCH) {
        let (x, y) = sliders_train::tensors::to_device(&b, Device::Cpu);
        xs.push(x);
        ys.push(y.argmax(1, false));
    }
    let x = Tensor::cat(&xs, 0);
    let label = Tensor::cat(&ys, 0);
    let n = label.size()[0] as u64;
    let classes = data.class_names();
    out.notes.push(format!(
        "data: {} ({} test images, 32 px one channel, 28 px padded), read from {}",
        data.source.as_str(),
        n,
        data.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));

    let (_cvs, clf) = load_classifier(&run.root, device)?;
    let (h, m) = classifier_accuracy(&clf, &source, 0, device);
    out.cells.push(Cell::proportion(
        &table,
        "Classifier",
        "all",
        "real_accuracy",
        proportion(h, m),
    ));
    let g = Generator::load(&run.cgan(), device)?;
    let rows = exp.digits.figure_rows.min(n as usize) as i64;
    for &kind in &exp.digits.encoders {
        let enc = IcganEncoders::load(&run.encoders(kind), device)?;
        let name = kind_name(kind);
        let mut zs = Vec::new();
        let mut y_hat = Vec::new();
        let rec = batched(&x, BATCH, device, |xb| {
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
        let mse = (&rec - &x).square().mean(Kind::Double).double_value(&[]);
        out.cells
            .push(Cell::value(&table, name, "all", "rec_mse", mse, n));
        out.cells.push(Cell::proportion(
            &table,
            name,
            "all",
            "ey_accuracy",
            proportion(hits(&y_hat, &label), n),
        ));
        out.cells.push(Cell::proportion(
            &table,
            name,
            "all",
            "rec_class_accuracy",
            proportion(hits(&predict(&clf, &rec, device), &label), n),
        ));
        // Swaps: every other class for every test digit, z kept.
        let (mut swap_hits, mut swap_n) = (0u64, 0u64);
        let mut per_class = Vec::new();
        for c in 0..N_CLASSES as i64 {
            let target = Tensor::full([n as i64], c, (Kind::Int64, Device::Cpu));
            let img = batched(&z, BATCH, device, |zb| {
                let b = zb.size()[0];
                g.generate(zb, &one_hot_pm(&target.narrow(0, 0, b).to_device(device)))
            });
            let pred = predict(&clf, &img, device);
            let other = label.ne(c);
            let k = other.sum(Kind::Int64).int64_value(&[]) as u64;
            let h = pred
                .eq(c)
                .logical_and(&other)
                .sum(Kind::Int64)
                .int64_value(&[]) as u64;
            swap_hits += h;
            swap_n += k;
            out.cells.push(Cell::proportion(
                &table,
                name,
                &classes[c as usize],
                "swap_accuracy",
                proportion(h, k),
            ));
            per_class.push(img.narrow(0, 0, rows));
        }
        out.cells.push(Cell::proportion(
            &table,
            name,
            "all",
            "swap_accuracy",
            proportion(swap_hits, swap_n),
        ));
        let rgb = |t: &Tensor| t.expand([3, -1, -1], false).copy();
        let cells = (0..rows)
            .map(|r| {
                let mut row = vec![rgb(&x.get(r)), rgb(&rec.get(r))];
                row.extend(per_class.iter().map(|img| rgb(&img.get(r))));
                row
            })
            .collect();
        let mut col_labels = vec!["original".to_string(), "rec.".to_string()];
        col_labels.extend(classes.iter().cloned());
        let row_labels = (0..rows)
            .map(|r| {
                let l = label.int64_value(&[r]) as usize;
                format!("{} ({})", classes[l], r + 1)
            })
            .collect();
        out.grids.push(Grid {
            name: format!("{table}_{}", name.to_lowercase().replace('-', "_")),
            title: format!(
                "IcGAN on {} ({name}): test images, reconstructions, then every class with z kept",
                data.source.as_str()
            ),
            row_labels,
            col_labels,
            cells,
        });
    }
    Ok(out)
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

/// The Markdown table of a digits evaluation (one per dataset in `results`).
pub fn markdown(results: &Results) -> String {
    let mut s = String::new();
    let mut tables: Vec<&str> = results
        .cells
        .iter()
        .map(|c| c.table.as_str())
        .filter(|t| t.starts_with("digits_"))
        .collect();
    tables.dedup();
    for t in tables {
        let _ = writeln!(
            s,
            "### IcGAN on {} (32 px, one channel)\n",
            t.trim_start_matches("digits_")
        );
        s.push_str(
            "Reconstruction MSE on the [−1, 1] scale; accuracies in % with a 95% Wilson interval and \
             the number of images (swap: test images × the 9 other classes) behind each.\n\n\
             | encoders | rec. MSE | Ey class accuracy | classifier on reconstructions | swap accuracy |\n\
             |---|---|---|---|---|\n",
        );
        let mut rows: Vec<&str> = results
            .cells
            .iter()
            .filter(|c| c.table == t && c.metric == "rec_mse")
            .map(|c| c.row.as_str())
            .collect();
        rows.dedup();
        for r in rows {
            let get = |m: &str| results.get(t, r, "all", m);
            let mse = get("rec_mse")
                .and_then(|c| c.value.map(|v| format!("{v:.4} (n = {})", c.n)))
                .unwrap_or_else(|| "n/a".into());
            let _ = writeln!(
                s,
                "| {r} | {mse} | {} | {} | {} |",
                fmt_acc(get("ey_accuracy")),
                fmt_acc(get("rec_class_accuracy")),
                fmt_acc(get("swap_accuracy"))
            );
        }
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
}
