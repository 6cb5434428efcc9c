//! The report's figures: the training curves of each Fader run (drawn here with sliders-plots),
//! the evaluation's and digits runs' figures copied in, and which of them show faces: on CelebA
//! those go to `faces/` (git-ignored: CelebA may not be redistributed) instead of `figures/`.

use crate::ReportError;
use sliders_config::run_record::MetricsTable;
use sliders_plots::{CurveChart, Panel, Series};
use std::path::Path;

/// Whether a figure of the evaluation shows faces (edited, reconstructed or generated). Only
/// the figures known to show none (charts and digits) count as face-free, so a new kind of
/// figure stays out of git on CelebA until it is listed here.
pub fn shows_faces(name: &str) -> bool {
    let face_free = name == "accuracy.png"
        || ["response_", "training_", "digits_", "fig4a_"]
            .iter()
            .any(|p| name.starts_with(p));
    !face_free
}

/// `training_<run>.png`: over the steps of a Fader run, one panel per kind of quantity: the
/// reconstruction loss, the latent discriminator's loss, the validation accuracies (latent
/// discriminator and swap, on a 0-1 axis with the swap accuracy's chance line at 0.5: it averages
/// both directions, so a coin flip scores 0.5; the latent discriminator's chance is the attribute's
/// majority rate, not drawn since the report does not read the split's labels) and lambda.
pub fn training_curves(table: &MetricsTable, run: &str, figures: &Path) -> Result<(), ReportError> {
    let rec = table.series("train", "rec_loss");
    if rec.is_empty() {
        return Ok(());
    }
    let lat_train = table.series("train", "lat_dis_loss");
    let lat_acc = table.series("eval", "val_lat_dis_accu");
    let swap = table.series("eval", "val_swap_accu");
    let lambda = table.series("train", "lambda_lat_dis");
    let (first, last) = (rec[0].0, rec[rec.len() - 1].0);
    CurveChart::new(format!("{run}: training"), "step")
        .with_panel(Panel::new("reconstruction MSE (train)").with_series(Series::new("rec", rec)))
        .with_panel(
            Panel::new("latent discriminator loss (train)")
                .with_series(Series::new("lat_dis loss", lat_train)),
        )
        .with_panel(
            Panel::new("validation accuracy")
                .with_series(Series::new("latent discriminator", lat_acc))
                .with_series(Series::new("swap (judge)", swap))
                .with_series(Series::new(
                    "swap chance (0.5)",
                    [(first, 0.5), (last, 0.5)],
                ))
                .with_y_range(0.0, 1.0),
        )
        .with_panel(Panel::new("lambda").with_series(Series::new("λ_lat_dis", lambda)))
        .write_png(&figures.join(format!("training_{run}.png")))?;
    Ok(())
}

/// Copies every file of `from` (if it exists) into `to`; with `faces`, the figures that
/// [`shows_faces`] go there instead (and an older copy in `to` is removed).
pub fn copy_files(from: &Path, to: &Path, faces: Option<&Path>) -> Result<(), ReportError> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    std::fs::create_dir_all(to).map_err(|e| ReportError::io(to, e))?;
    for e in entries.flatten() {
        let path = e.path();
        if !path.is_file() {
            continue;
        }
        let name = e.file_name();
        let dest = match faces {
            Some(faces) if shows_faces(&name.to_string_lossy()) => {
                std::fs::create_dir_all(faces).map_err(|e| ReportError::io(faces, e))?;
                let stale = to.join(&name);
                if stale.is_file() {
                    std::fs::remove_file(&stale).map_err(|e| ReportError::io(&stale, e))?;
                }
                faces.join(&name)
            }
            _ => to.join(&name),
        };
        let bytes = std::fs::read(&path).map_err(|e| ReportError::io(&path, e))?;
        sliders_plots::write_bytes_atomic(&dest, &bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_charts_and_digits_count_as_free_of_faces() {
        for face in [
            "slide_Male.png",
            "swap_Smiling.png",
            "encoders.png",
            "cgan_samples.png",
            "something_new.png",
        ] {
            assert!(shows_faces(face), "{face}");
        }
        for chart in [
            "accuracy.png",
            "response_Male.png",
            "response_truth_Young.png",
            "training_fader-male.png",
            "digits_mnist_ind.png",
            "fig4a_encoders.png",
        ] {
            assert!(!shows_faces(chart), "{chart}");
        }
    }

    #[test]
    fn face_figures_are_copied_apart_on_request() {
        let dir = std::env::temp_dir().join(format!("sliders-report-copy-{}", std::process::id()));
        let (from, to, faces) = (dir.join("from"), dir.join("figures"), dir.join("faces"));
        std::fs::create_dir_all(&from).unwrap();
        std::fs::create_dir_all(&to).unwrap();
        for n in ["slide_Male.png", "accuracy.png"] {
            std::fs::write(from.join(n), n).unwrap();
        }
        std::fs::write(to.join("slide_Male.png"), "an older report's").unwrap();
        copy_files(&from, &to, Some(&faces)).unwrap();
        assert!(faces.join("slide_Male.png").is_file());
        assert!(
            !to.join("slide_Male.png").exists(),
            "the older copy is removed"
        );
        assert!(to.join("accuracy.png").is_file());
        copy_files(&from, &dir.join("all"), None).unwrap();
        assert!(dir.join("all/slide_Male.png").is_file());
        std::fs::remove_dir_all(&dir).ok();
    }
}
