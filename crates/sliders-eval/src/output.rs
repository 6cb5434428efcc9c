//! Writes [`Results`] into an evaluation folder: `results.csv` (every figure in long form, with
//! its interval, n and note), `metrics.json` (`table/row/attribute/metric` → value, what the CI
//! gate reads) and `tables.md` (the tables in the papers' shapes, the Fader paper's human-rated
//! Table 1 beside ours). Every file is written to a temporary name and renamed.

use crate::results::{Cell, Results};
use crate::{EvalError, cgan, encoders, synthetic, table};
use sliders_config::layout::file;
use sliders_config::paper::{FADER_TABLE1, FADER_TABLE1_ATTRIBUTES};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Writes `bytes` to `path` atomically (the run folders' writer of sliders-train).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EvalError> {
    Ok(sliders_train::run_dir::atomic_write(path, bytes)?)
}

/// `results.csv`: one row per cell; missing values stay empty (never zero).
pub fn csv(results: &Results) -> String {
    sliders_config::results::to_csv(&results.cells)
}

/// `metrics.json`: every computed value by key (missing ones are left out), sorted.
pub fn metrics_json(results: &Results) -> String {
    let map: BTreeMap<String, f64> = results
        .cells
        .iter()
        .filter_map(|c| c.value.filter(|v| v.is_finite()).map(|v| (c.key(), v)))
        .collect();
    serde_json::to_string_pretty(&map).expect("a map of numbers serialises")
}

pub(crate) fn short(attr: &str) -> &str {
    match attr {
        "Mouth_Slightly_Open" => "Mouth",
        "Smiling" => "Smile",
        "Eyeglasses" => "Glasses",
        other => other,
    }
}

pub(crate) fn fmt_cell(c: Option<&Cell>, digits: usize, percent: bool) -> String {
    match c {
        None => "—".into(),
        Some(c) => match c.value {
            None => "n/a".into(),
            Some(v) => {
                let k = if percent { 100.0 } else { 1.0 };
                match (c.low, c.high, percent) {
                    (Some(l), Some(h), true) => format!(
                        "{:.*} [{:.*}, {:.*}]",
                        digits,
                        v * k,
                        digits,
                        l * k,
                        digits,
                        h * k
                    ),
                    (Some(l), Some(h), false) => {
                        format!("{:.*} ± {:.*}", digits, v, digits, (h - l) / 2.0)
                    }
                    _ => format!("{:.*}", digits, v * k),
                }
            }
        },
    }
}

pub(crate) fn attributes(results: &Results, table: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for c in results.cells.iter().filter(|c| c.table == table) {
        if !seen.contains(&c.attribute) {
            seen.push(c.attribute.clone());
        }
    }
    seen
}

pub(crate) fn rows(results: &Results, table: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for c in results.cells.iter().filter(|c| c.table == table) {
        if !seen.contains(&c.row) {
            seen.push(c.row.clone());
        }
    }
    seen
}

/// A Markdown table of `metric` with rows × attributes.
pub(crate) fn grid_table(
    results: &Results,
    table: &str,
    metric: &str,
    digits: usize,
    percent: bool,
) -> String {
    let attrs = attributes(results, table);
    let mut s = format!("| {} |", "");
    for a in &attrs {
        let _ = write!(s, " {} |", short(a));
    }
    s.push_str("\n|---|");
    s.push_str(&"---|".repeat(attrs.len()));
    s.push('\n');
    for row in rows(results, table) {
        let cells: Vec<Option<&Cell>> = attrs
            .iter()
            .map(|a| results.get(table, &row, a, metric))
            .collect();
        if cells.iter().all(Option::is_none) {
            continue;
        }
        let _ = write!(s, "| {row} |");
        for c in cells {
            let _ = write!(s, " {} |", fmt_cell(c, digits, percent));
        }
        s.push('\n');
    }
    s
}

fn n_line(results: &Results, table: &str, metric: &str) -> String {
    let mut parts = Vec::new();
    for a in attributes(results, table) {
        if let Some(c) = results.cells.iter().find(|c| {
            c.table == table && c.attribute == a && c.metric == metric && c.value.is_some()
        }) {
            parts.push(format!("{} n = {}", short(&a), c.n));
        }
    }
    parts.join(", ")
}

/// The cGAN's own checks: sample diversity against the real images', and label following.
fn cgan_section(s: &mut String, results: &Results) {
    let t = cgan::TABLE;
    let (Some(g), Some(real)) = (
        results.get(t, "G", "all", "diversity"),
        results.get(t, "real test images", "all", "diversity"),
    ) else {
        return;
    };
    s.push_str("\n### IcGAN's cGAN: do samples vary with z and follow y?\n\n");
    let _ = writeln!(
        s,
        "Pixel variance across z at a fixed y: {} over {} samples, against {} between the real \
         test images ({} of them); ratio {}.\n",
        fmt_cell(Some(g), 4, false),
        g.n,
        fmt_cell(Some(real), 4, false),
        real.n,
        fmt_cell(results.get(t, "G", "all", "diversity_ratio"), 2, false),
    );
    s.push_str("The judge's accuracy on samples generated with the attribute on and off (%, 95% Wilson interval):\n\n");
    s.push_str(&grid_table(results, t, "follows_y", 1, true));
    images_per_cell(s, results, t, "follows_y");
}

/// "Images per cell: …" under a table, or nothing when no cell of it holds a value (a line with
/// nothing after the colon reads as a placeholder).
pub(crate) fn images_per_cell(s: &mut String, results: &Results, table: &str, metric: &str) {
    let line = n_line(results, table, metric);
    if !line.is_empty() {
        let _ = writeln!(s, "\nImages per cell: {line}.");
    }
}

pub(crate) fn notes_of(results: &Results, table: &str, metric: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for c in results
        .cells
        .iter()
        .filter(|c| c.table == table && c.metric == metric && !c.note.is_empty())
    {
        let line = if c.value.is_none() {
            format!("{} / {}: {}", c.row, short(&c.attribute), c.note)
        } else {
            c.note.clone()
        };
        if !seen.contains(&line) {
            seen.push(line);
        }
    }
    seen
}

/// The one reason every cell of `metric` in `table` is missing for, when they all are and share
/// it (e.g. FID switched off): one sentence instead of a grid of `n/a`.
pub(crate) fn all_missing_for(results: &Results, table: &str, metric: &str) -> Option<String> {
    let mut cells = results
        .cells
        .iter()
        .filter(|c| c.table == table && c.metric == metric);
    let first = cells.next()?;
    let same = |c: &Cell| c.value.is_none() && c.note == first.note;
    (same(first) && cells.all(same)).then(|| first.note.clone())
}

fn naturalness_section(s: &mut String, results: &Results) {
    let t = table::TABLE;
    s.push_str("\n### Fader vs IcGAN: naturalness (FID ↓, KID ↓ ± sd)\n\n");
    if let Some(why) = all_missing_for(results, t, "fid") {
        let _ = writeln!(s, "Not measured in this run: {why}.");
        return;
    }
    s.push_str("FID:\n\n");
    s.push_str(&grid_table(results, t, "fid", 2, false));
    s.push_str("\nKID:\n\n");
    s.push_str(&grid_table(results, t, "kid", 4, false));
    images_per_cell(s, results, t, "fid");
    for n in notes_of(results, t, "fid") {
        let _ = writeln!(s, "- {n}");
    }
}

/// `tables.md`: every table in Markdown.
pub fn markdown(results: &Results) -> String {
    let mut s = String::new();
    let t = table::TABLE;
    s.push_str("### Fader vs IcGAN: attribute accuracy (%, 95% Wilson interval)\n\n");
    s.push_str(
        "Judge: the evaluation classifier (an automatic judge, not the paper's human raters). \
         AE rows: share of images the judge sees with their original value; Swap rows: with the \
         flipped value; balanced test images, the same for every row.\n\n",
    );
    s.push_str(&grid_table(results, t, "accuracy", 1, true));
    images_per_cell(&mut s, results, t, "accuracy");
    for n in notes_of(results, t, "accuracy") {
        let _ = writeln!(s, "- {n}");
    }
    naturalness_section(&mut s, results);
    s.push_str("\n### Fader vs IcGAN: reconstruction (AE rows)\n\nMSE on the [−1, 1] scale:\n\n");
    s.push_str(&grid_table(results, t, "mse", 4, false));
    s.push_str("\nPSNR (dB, images on [0, 1], mean over images):\n\n");
    s.push_str(&grid_table(results, t, "psnr", 2, false));
    paper_table_section(&mut s);

    crate::gender::markdown(&mut s, results);
    encoders::markdown(&mut s, results);
    cgan_section(&mut s, results);

    counterfactual_section(&mut s, results);
    response_section(&mut s, results);
    if !results.notes.is_empty() {
        s.push_str("\n### Notes\n\n");
        for n in &results.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}

/// The Fader paper's Table 1 as published, for reference.
fn paper_table_section(s: &mut String) {
    s.push_str(
        "\n### The Fader paper's Table 1, for reference (human raters on Mechanical Turk, %)\n\n\
         A different judge: naturalness there is the share of images raters took for real \
         photographs, not FID; accuracy is raters' agreement with the intended value.\n\n\
         | Model | Natur. Mouth | Natur. Smile | Natur. Glasses | Acc. Mouth | Acc. Smile | Acc. Glasses |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for (row, nat, acc) in FADER_TABLE1 {
        let _ = writeln!(
            s,
            "| {row} | {} | {} | {} | {} | {} | {} |",
            nat[0], nat[1], nat[2], acc[0], acc[1], acc[2]
        );
    }
    let _ = writeln!(
        s,
        "\n(Paper columns: {}.)",
        FADER_TABLE1_ATTRIBUTES.map(short).join(", ")
    );
}

/// The counterfactual tables (synthetic faces only).
fn counterfactual_section(s: &mut String, results: &Results) {
    let c = synthetic::TABLE;
    if results.cells.iter().any(|x| x.table == c) {
        s.push_str(
            "\n### Counterfactual error on synthetic faces (MSE, [−1, 1] scale)\n\n\
             `cf_mse`: edited image against the generator's exact counterfactual of the same face \
             (Input row: the unedited input, how far the edit had to go); `rec_mse`: what the \
             autoencoder loses anyway.\n\n",
        );
        s.push_str(&grid_table(results, c, "cf_mse", 4, false));
        s.push_str("\nReconstruction error (what the autoencoder loses anyway):\n\n");
        s.push_str(&grid_table(results, c, "rec_mse", 4, false));
        s.push_str(
            "\nThe same inside the attribute's region (the pixels the attribute can touch on \
             either face): how far the edit goes there (Input row) against what the autoencoder \
             loses there; an edit larger than that loss is one the decoder can learn and the judge \
             can see, even when, over the whole image, it is as small as the blur:\n\n",
        );
        s.push_str(&grid_table(results, c, "cf_mse_region", 4, false));
        // The AE rows under the Input row, in the same grid (its header skipped).
        for line in grid_table(results, c, "rec_mse_region", 4, false)
            .lines()
            .skip(2)
        {
            let _ = writeln!(s, "{line}");
        }
        s.push_str("\nPreservation outside the attribute's region (MSE against the input, pixels the attribute never touches):\n\n");
        s.push_str(&grid_table(results, c, "outside_mse", 4, false));
    }
}

/// The slider-response tables: the judge's mean p(attribute), and on synthetic faces the true value.
fn response_section(s: &mut String, results: &Results) {
    let r = sliders_config::results::table::SLIDER_RESPONSE;
    for (prefix, title) in [
        (
            "p_judge@",
            "\n### Slider response (FadNet): the judge's mean p(attribute) as the slider moves\n\n",
        ),
        (
            "true_value@",
            "\n### Slider response (FadNet), true value on synthetic faces: the generator's value of the \
             attribute (smile amount or mouth opening in [0, 1]; 0/1 for the others) of the render of the \
             same face nearest each edit, averaged\n\n",
        ),
    ] {
        let mut metrics: Vec<String> = Vec::new();
        for x in results
            .cells
            .iter()
            .filter(|x| x.table == r && x.metric.starts_with(prefix))
        {
            if !metrics.contains(&x.metric) {
                metrics.push(x.metric.clone());
            }
        }
        if metrics.is_empty() {
            continue;
        }
        s.push_str(title);
        let _ = write!(s, "| attribute | input |");
        for m in &metrics {
            let _ = write!(s, " α={} |", m.trim_start_matches(prefix));
        }
        s.push_str("\n|---|---|");
        s.push_str(&"---|".repeat(metrics.len()));
        s.push('\n');
        for a in attributes(results, r) {
            if !results
                .cells
                .iter()
                .any(|x| x.table == r && x.attribute == a && x.metric.starts_with(prefix))
            {
                continue;
            }
            for row in ["absent", "present"] {
                let _ = write!(s, "| {} | {row} |", short(&a));
                for m in &metrics {
                    let _ = write!(s, " {} |", fmt_cell(results.get(r, row, &a, m), 2, false));
                }
                s.push('\n');
            }
        }
    }
}

/// Writes an evaluation folder `dir`: `results.csv`, `tables_md` as `tables.md`, the figures and
/// tables ([`crate::figures::write_eval_outputs`]), then `metrics.json` last: it marks the
/// evaluation complete for `cargo xtask reproduce`, so a kill while the rest is written leaves
/// it absent and the evaluation reruns. Each file is written atomically.
pub fn write(results: &Results, tables_md: &str, dir: &Path) -> Result<(), EvalError> {
    std::fs::create_dir_all(dir).map_err(|e| EvalError::io(dir, e))?;
    write_atomic(&dir.join(file::RESULTS_CSV), csv(results).as_bytes())?;
    write_atomic(&dir.join(file::TABLES_MD), tables_md.as_bytes())?;
    crate::figures::write_eval_outputs(results, dir)?;
    write_atomic(
        &dir.join(file::METRICS_JSON),
        metrics_json(results).as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::proportion_cell;
    use sliders_metrics::stats::proportion;

    fn sample() -> Results {
        Results {
            cells: vec![
                proportion_cell(
                    table::TABLE,
                    "Real Image",
                    "Smiling",
                    "accuracy",
                    proportion(9, 10),
                ),
                Cell::missing(
                    table::TABLE,
                    "Real Image",
                    "Smiling",
                    "fid",
                    "judge missing: x",
                ),
                Cell::value("encoders", "IND", "all", "rec_mse", 0.25, 4),
            ],
            ..Results::default()
        }
    }

    #[test]
    fn missing_values_stay_missing_in_every_format() {
        let r = sample();
        let csv = csv(&r);
        let fid_line = csv.lines().find(|l| l.contains(",fid,")).unwrap();
        assert_eq!(
            fid_line,
            "fader_vs_icgan,Real Image,Smiling,fid,,,,0,judge missing: x"
        );
        let json: BTreeMap<String, f64> = serde_json::from_str(&metrics_json(&r)).unwrap();
        assert_eq!(json.len(), 2);
        assert_eq!(json["fader_vs_icgan/Real Image/Smiling/accuracy"], 0.9);
        let md = markdown(&r);
        assert!(
            md.contains("Not measured in this run: judge missing: x."),
            "{md}"
        );
        assert!(!md.contains("FID:"), "{md}");
        assert!(md.contains("| Real Image | 90.0 ["), "{md}");
        assert!(md.contains("Smile n = 10"), "{md}");
        assert!(md.contains("| IND | 0.2500 |"), "{md}");
    }

    #[test]
    fn a_naturalness_grid_with_one_value_keeps_its_missing_cells_as_n_a() {
        let mut r = sample();
        r.cells.push(Cell::value(
            table::TABLE,
            "FadNet AE",
            "Smiling",
            "fid",
            42.0,
            10,
        ));
        let md = markdown(&r);
        assert!(md.contains("FID:"), "{md}");
        assert!(md.contains("| Real Image | n/a |"), "{md}");
        assert!(md.contains("| FadNet AE | 42.00 |"), "{md}");
        assert!(
            md.contains("- Real Image / Smile: judge missing: x"),
            "{md}"
        );
    }

    #[test]
    fn writes_are_atomic_and_complete() {
        let dir = std::env::temp_dir().join(format!("sliders-eval-out-{}", std::process::id()));
        let results = sample();
        write(&results, &markdown(&results), &dir).unwrap();
        for f in ["results.csv", "metrics.json", "tables.md"] {
            assert!(dir.join(f).is_file());
        }
        assert!(
            std::fs::read_dir(&dir).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
