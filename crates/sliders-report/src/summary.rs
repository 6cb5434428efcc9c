//! The summary a reader sees first: our attribute accuracy beside the Fader paper's Table 1, in
//! the paper's row order (Real Image, IcGAN AE, IcGAN Swap, FadNet AE, FadNet Swap) and column
//! order (Mouth, Smile, Glasses), then sentences computed from the numbers on what agrees with
//! the paper and what does not (docs/fader-networks.md#evaluation-and-table-1).

use crate::inputs::ReportInputs;
use crate::results::ResultRow;
use sliders_config::paper::{FADER_TABLE1, FADER_TABLE1_ATTRIBUTES};
use sliders_config::run_record::DataOrigin;
use std::fmt::Write as _;

/// The Fader-vs-IcGAN table's key in `results.csv`.
use sliders_config::results::table::FADER_VS_ICGAN as TABLE;

/// One accuracy of ours, in percent, with its 95% interval (the value itself where none).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ours {
    value: f64,
    low: f64,
    high: f64,
    n: u64,
}

/// Our accuracy for `row` and `attribute`, in percent.
fn ours(results: &[ResultRow], row: &str, attribute: &str) -> Option<Ours> {
    let r = results.iter().find(|r| {
        r.table == TABLE && r.metric == "accuracy" && r.row == row && r.attribute == attribute
    })?;
    let value = r.value? * 100.0;
    Some(Ours {
        value,
        low: r.low.map_or(value, |v| v * 100.0),
        high: r.high.map_or(value, |v| v * 100.0),
        n: r.n,
    })
}

/// The paper's column name of an attribute.
fn short(attribute: &str) -> &str {
    match attribute {
        "Mouth_Slightly_Open" => "Mouth",
        "Smiling" => "Smile",
        "Eyeglasses" => "Glasses",
        other => other,
    }
}

/// The paper's accuracy for `row` and the attribute at column `j`.
fn paper(row: &str, j: usize) -> f64 {
    FADER_TABLE1
        .iter()
        .find(|(r, _, _)| *r == row)
        .map_or(f64::NAN, |(_, _, acc)| acc[j])
}

/// Names joined as "A", "A and B", "A, B and C".
fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The summary section (`## Summary …`), or a line saying the evaluation has not run.
pub fn summary(inputs: &ReportInputs) -> String {
    let mut md = String::from("## Summary: our accuracy beside the Fader paper's Table 1\n\n");
    let results = &inputs.eval.results;
    let cols: Vec<(usize, &str)> = FADER_TABLE1_ATTRIBUTES
        .iter()
        .enumerate()
        .filter(|(_, a)| ours(results, "Real Image", a).is_some())
        .map(|(j, a)| (j, *a))
        .collect();
    if cols.is_empty() {
        md.push_str(
            "The evaluation has not run (or judged none of Mouth, Smile, Glasses): no summary.\n\n",
        );
        return md;
    }
    md.push_str(match inputs.data_origin() {
        DataOrigin::Synthetic => {
            "On **synthetic faces**: these numbers check that the pipeline works; they say nothing \
             about the papers' models on real faces. "
        }
        DataOrigin::Celeba => "On CelebA. ",
        _ => "",
    });
    md.push_str(
        "Attribute accuracy in %, each cell *ours (paper)*: ours judged by the evaluation \
         classifier on the same test images for every row, the paper's by human raters (its \
         Table 1); the 95% intervals and the other attributes are under [Results](#results).\n\n",
    );
    md.push_str("|  |");
    for (_, a) in &cols {
        let _ = write!(md, " {} |", short(a));
    }
    md.push_str(&format!("\n|---|{}\n", "---|".repeat(cols.len())));
    for (row, _, _) in FADER_TABLE1 {
        let _ = write!(md, "| {row} |");
        for (j, a) in &cols {
            match ours(results, row, a) {
                Some(o) => write!(md, " {:.1} ({}) |", o.value, paper(row, *j)),
                None => write!(md, " — ({}) |", paper(row, *j)),
            }
            .ok();
        }
        md.push('\n');
    }
    let n: Vec<String> = cols
        .iter()
        .filter_map(|(_, a)| {
            ours(results, "Real Image", a).map(|o| format!("{} n = {}", short(a), o.n))
        })
        .collect();
    let _ = writeln!(md, "\nImages per cell: {}.\n", n.join(", "));
    for sentence in [
        swap_sentence(results, &cols),
        ae_sentence(results, &cols),
        gap_sentence(results, &cols),
    ]
    .into_iter()
    .flatten()
    {
        let _ = writeln!(md, "- {sentence}");
    }
    md.push('\n');
    md
}

/// Does FadNet Swap beat IcGAN Swap per attribute, as in the paper (where it does on all three)?
fn swap_sentence(results: &[ResultRow], cols: &[(usize, &str)]) -> Option<String> {
    let (mut ahead, mut tied, mut behind) = (Vec::new(), Vec::new(), Vec::new());
    for (_, a) in cols {
        let (Some(f), Some(i)) = (
            ours(results, "FadNet Swap", a),
            ours(results, "IcGAN Swap", a),
        ) else {
            continue;
        };
        let name = short(a);
        if f.low > i.high {
            ahead.push(name);
        } else if i.low > f.high {
            behind.push(name);
        } else {
            tied.push(name);
        }
    }
    if ahead.len() + tied.len() + behind.len() == 0 {
        return None;
    }
    let mut parts = Vec::new();
    if !ahead.is_empty() {
        parts.push(format!("beats it on {} as in the paper", and_list(&ahead)));
    }
    if !tied.is_empty() {
        parts.push(format!(
            "ties with it on {} (the 95% intervals overlap; in the paper FadNet is ahead)",
            and_list(&tied)
        ));
    }
    if !behind.is_empty() {
        parts.push(format!(
            "is behind it on {}, unlike the paper",
            and_list(&behind)
        ));
    }
    let leads: Vec<f64> = (0..FADER_TABLE1_ATTRIBUTES.len())
        .map(|j| paper("FadNet Swap", j) - paper("IcGAN Swap", j))
        .collect();
    let (min, max) = leads
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &d| {
            (lo.min(d), hi.max(d))
        });
    Some(format!(
        "**FadNet Swap against IcGAN Swap** (the paper: FadNet ahead on all three, by {min:.0} \
         to {max:.0} points): ours {}.",
        parts.join("; ")
    ))
}

/// Do the AE rows stay near Real Image, as in the paper?
fn ae_sentence(results: &[ResultRow], cols: &[(usize, &str)]) -> Option<String> {
    let mut parts = Vec::new();
    for row in ["FadNet AE", "IcGAN AE"] {
        let (mut near, mut below) = (Vec::new(), Vec::new());
        let mut paper_gap: f64 = 0.0;
        for (j, a) in cols {
            let (Some(ae), Some(real)) = (ours(results, row, a), ours(results, "Real Image", a))
            else {
                continue;
            };
            paper_gap = paper_gap.max((paper("Real Image", *j) - paper(row, *j)).abs());
            if ae.high >= real.low && real.high >= ae.low {
                near.push(short(a).to_string());
            } else {
                below.push(format!(
                    "{} ({:.1} vs {:.1})",
                    short(a),
                    ae.value,
                    real.value
                ));
            }
        }
        if near.is_empty() && below.is_empty() {
            continue;
        }
        let mut s = row.to_string();
        if !near.is_empty() {
            let near: Vec<&str> = near.iter().map(String::as_str).collect();
            let _ = write!(
                s,
                " stays within the intervals of Real Image on {}",
                and_list(&near)
            );
        }
        if !below.is_empty() {
            let below: Vec<&str> = below.iter().map(String::as_str).collect();
            let joint = if near.is_empty() { "" } else { " and" };
            let _ = write!(s, "{joint} departs from it on {}", and_list(&below));
        }
        let _ = write!(s, " (the paper: within {paper_gap:.1} points)");
        parts.push(s);
    }
    (!parts.is_empty()).then(|| {
        format!(
            "**Reconstructions keep the attribute**: {}.",
            parts.join("; ")
        )
    })
}

/// The cell where ours is furthest from the paper.
fn gap_sentence(results: &[ResultRow], cols: &[(usize, &str)]) -> Option<String> {
    let mut worst: Option<(f64, &str, &str, f64, f64)> = None;
    for (row, _, _) in FADER_TABLE1 {
        for (j, a) in cols {
            let Some(o) = ours(results, row, a) else {
                continue;
            };
            let p = paper(row, *j);
            let gap = (o.value - p).abs();
            if worst.is_none_or(|w| gap > w.0) {
                worst = Some((gap, row, short(a), o.value, p));
            }
        }
    }
    let (gap, row, attr, o, p) = worst?;
    Some(format!(
        "**Largest difference from the paper**: {row}, {attr}: {o:.1} here against {p} there \
         ({gap:.1} points). The judges differ (a classifier here, human raters there), so levels \
         may differ; the order of the rows is what should agree."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(row: &str, attribute: &str, value: f64, low: f64, high: f64) -> ResultRow {
        ResultRow::value(TABLE, row, attribute, "accuracy", value, 100).with_interval(low, high)
    }

    #[test]
    fn the_table_follows_the_papers_order_and_the_sentences_its_numbers() {
        let mut inputs = crate::tests::empty();
        let mut r = Vec::new();
        for (a, fad_swap, ic_swap) in [
            ("Mouth_Slightly_Open", 0.80, 0.20),
            ("Smiling", 0.50, 0.48),
            ("Eyeglasses", 0.10, 0.90),
        ] {
            r.push(row("Real Image", a, 0.95, 0.90, 0.98));
            r.push(row("FadNet AE", a, 0.94, 0.89, 0.97));
            r.push(row("IcGAN AE", a, 0.60, 0.50, 0.70));
            r.push(row(
                "FadNet Swap",
                a,
                fad_swap,
                fad_swap - 0.05,
                fad_swap + 0.05,
            ));
            r.push(row(
                "IcGAN Swap",
                a,
                ic_swap,
                ic_swap - 0.05,
                ic_swap + 0.05,
            ));
        }
        r.push(row("Real Image", "Male", 0.9, 0.8, 0.95));
        inputs.eval.results = r;
        let md = summary(&inputs);
        let table = "|  | Mouth | Smile | Glasses |\n|---|---|---|---|\n\
                     | Real Image | 95.0 (89) | 95.0 (88.3) | 95.0 (97.6) |\n\
                     | IcGAN AE | 60.0 (88.1) | 60.0 (91.7) | 60.0 (86.2) |\n\
                     | IcGAN Swap | 20.0 (10.1) | 48.0 (9.9) | 90.0 (47.5) |\n\
                     | FadNet AE | 94.0 (91.8) | 94.0 (90.1) | 94.0 (94.5) |\n\
                     | FadNet Swap | 80.0 (66.2) | 50.0 (97.1) | 10.0 (76.6) |\n";
        assert!(md.contains(table), "{md}");
        assert!(
            md.contains("beats it on Mouth as in the paper; ties with it on Smile"),
            "{md}"
        );
        assert!(
            md.contains("is behind it on Glasses, unlike the paper"),
            "{md}"
        );
        assert!(
            md.contains(
                "FadNet AE stays within the intervals of Real Image on Mouth, Smile and Glasses"
            ),
            "{md}"
        );
        assert!(
            md.contains("IcGAN AE departs from it on Mouth (60.0 vs 95.0)"),
            "{md}"
        );
        assert!(
            md.contains("FadNet Swap, Glasses: 10.0 here against 76.6 there (66.6 points)"),
            "{md}"
        );
        assert!(md.contains("by 29 to 87 points"), "{md}");
        assert!(!md.contains("Male"), "only the paper's columns: {md}");
    }

    #[test]
    fn without_an_evaluation_the_summary_says_so() {
        let md = summary(&crate::tests::empty());
        assert!(md.contains("The evaluation has not run"), "{md}");
    }
}
