//! The report's figures: the training curves of each Fader run (drawn here with sliders-plots),
//! the evaluation's and digits runs' figures copied in, and which of them stay out of git: on
//! CelebA every figure but the digits ones goes to `local/` (git-ignored) instead of `figures/`.

use crate::ReportError;
use sliders_config::run_record::{MetricsTable, Phase};
use sliders_plots::{CurveChart, Panel, Series};
use std::path::Path;

/// Whether a figure of a CelebA report stays out of git (in `local/`): all but the digits
/// figures. CelebA's images may not be redistributed, so the figures that show faces (edited,
/// reconstructed, generated) must not be committed; the project keeps the charts drawn from
/// CelebA runs (accuracy, Figure 4a, slider response, training curves) local as well, and
/// commits their numbers (tables/, metrics.json) instead. A new kind of figure is local too.
pub fn kept_local(name: &str) -> bool {
    !name.starts_with("digits_")
}

/// `training_<run>.png`: over the steps of a Fader run, one panel per kind of quantity: the
/// reconstruction loss, the latent discriminator's loss, the validation accuracies (latent
/// discriminator and swap, on a 0-1 axis with the swap accuracy's chance line at 0.5: it averages
/// both directions, so a coin flip scores 0.5; the latent discriminator's chance is the attribute's
/// majority rate, not drawn since the report does not read the split's labels) and lambda.
pub fn training_curves(table: &MetricsTable, run: &str, figures: &Path) -> Result<(), ReportError> {
    let rec = table.series(Phase::Train, "rec_loss");
    if rec.is_empty() {
        return Ok(());
    }
    let lat_train = table.series(Phase::Train, "lat_dis_loss");
    let lat_acc = table.series(Phase::Eval, "val_lat_dis_accu");
    let swap = table.series(Phase::Eval, "val_swap_accu");
    let lambda = table.series(Phase::Train, "lambda_lat_dis");
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

/// Copies every file of `from` (if it exists) into `to`; with `local`, the figures
/// [`kept_local`] go there instead (and an older copy in `to` is removed).
pub fn copy_files(from: &Path, to: &Path, local: Option<&Path>) -> Result<(), ReportError> {
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
        let dest = match local {
            Some(local) if kept_local(&name.to_string_lossy()) => {
                std::fs::create_dir_all(local).map_err(|e| ReportError::io(local, e))?;
                remove_stale(&to.join(&name))?;
                local.join(&name)
            }
            _ => to.join(&name),
        };
        let bytes = std::fs::read(&path).map_err(|e| ReportError::io(&path, e))?;
        sliders_plots::write_bytes_atomic(&dest, &bytes)?;
    }
    Ok(())
}

/// Removes `path` if it is a file: an older report's copy of a figure now kept elsewhere.
pub fn remove_stale(path: &Path) -> Result<(), ReportError> {
    if path.is_file() {
        std::fs::remove_file(path).map_err(|e| ReportError::io(path, e))?;
    }
    Ok(())
}

/// `md` with every embedded figure `![alt](figures/N)` whose `N` is in `local` turned into a
/// link into `local/` marked as not in git: the committed README names no missing image.
pub fn localize_links(md: &str, local: &[String]) -> String {
    let mut out = md.to_string();
    for n in local {
        let target = format!("](figures/{n})");
        while let Some(end) = out.find(&target) {
            let Some(start) = out[..end].rfind("![") else {
                break;
            };
            let alt = out[start + 2..end].to_string();
            let link = format!("[{alt}](local/{n}) (chart kept out of git, see Figures)");
            out.replace_range(start..end + target.len(), &link);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_digits_figures_leave_celeba_reports_for_git() {
        for local in [
            "slide_Male.png",
            "swap_Smiling.png",
            "encoders.png",
            "cgan_samples.png",
            "something_new.png",
            "accuracy.png",
            "response_Male.png",
            "training_fader-male.png",
            "fig4a_encoders.png",
        ] {
            assert!(kept_local(local), "{local}");
        }
        assert!(!kept_local("digits_mnist_ind.png"));
    }

    #[test]
    fn embedded_local_figures_become_marked_links() {
        let md =
            "a\n![encoder comparison](figures/fig4a_encoders.png)\n![d](figures/digits_x.png)\n";
        let out = localize_links(md, &["fig4a_encoders.png".to_string()]);
        assert_eq!(
            out,
            "a\n[encoder comparison](local/fig4a_encoders.png) (chart kept out of git, see \
             Figures)\n![d](figures/digits_x.png)\n"
        );
    }

    #[test]
    fn local_figures_are_copied_apart_on_request() {
        let dir = std::env::temp_dir().join(format!("sliders-report-copy-{}", std::process::id()));
        let (from, to, local) = (dir.join("from"), dir.join("figures"), dir.join("local"));
        std::fs::create_dir_all(&from).unwrap();
        std::fs::create_dir_all(&to).unwrap();
        for n in ["slide_Male.png", "digits_mnist_ind.png"] {
            std::fs::write(from.join(n), n).unwrap();
        }
        std::fs::write(to.join("slide_Male.png"), "an older report's").unwrap();
        copy_files(&from, &to, Some(&local)).unwrap();
        assert!(local.join("slide_Male.png").is_file());
        assert!(
            !to.join("slide_Male.png").exists(),
            "the older copy is removed"
        );
        assert!(to.join("digits_mnist_ind.png").is_file());
        copy_files(&from, &dir.join("all"), None).unwrap();
        assert!(dir.join("all/slide_Male.png").is_file());
        std::fs::remove_dir_all(&dir).ok();
    }
}
