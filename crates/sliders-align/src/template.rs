//! The canonical positions of the five landmarks in an aligned CelebA image, measured on the data
//! itself (MTCNN run on the CelebA sample's aligned images, averaged in coordinates normalised by
//! the image's width and height; `examples/template.rs` regenerates `data/celeba_template.txt`),
//! and their place in a model's input frame: a box of the 178×218 aligned image (a paper's crop)
//! resized to the model's side.

use crate::error::AlignError;
use crate::framing::{self, FramingCorrection};
use crate::similarity::Similarity;

/// Width of an official aligned CelebA image, the unit of [`Frame`].
pub const ALIGNED_WIDTH: f64 = 178.0;
/// Height of an official aligned CelebA image.
pub const ALIGNED_HEIGHT: f64 = 218.0;

/// The committed template (numbers only).
const CELEBA_TEMPLATE: &str = include_str!("../data/celeba_template.txt");

/// Five landmarks (left eye, right eye, nose, left and right mouth corner) as fractions of an
/// aligned image's width and height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Template {
    /// `[u, v]` per landmark, `u = x / width`, `v = y / height` (continuous coordinates).
    pub points: [[f64; 2]; 5],
    /// The correction from a face's shape to CelebA's own framing of it, when measured
    /// ([`crate::framing`]); alignment applies it after the similarity fit.
    pub correction: Option<FramingCorrection>,
}

/// A model's frame: the box of the 178×218 aligned image that a model's inputs were cropped
/// from, in that image's pixels, before being resized to the model's side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Left edge.
    pub x0: f64,
    /// Top edge.
    pub y0: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

impl Frame {
    /// The whole aligned image.
    pub const ALIGNED: Frame = Frame {
        x0: 0.0,
        y0: 0.0,
        width: ALIGNED_WIDTH,
        height: ALIGNED_HEIGHT,
    };
}

impl Template {
    /// The template measured on the CelebA sample (built in).
    pub fn celeba() -> Self {
        Self::parse(CELEBA_TEMPLATE).expect("the committed template parses")
    }

    /// Reads the template format: `#` comment lines, then five lines `u v`, then optionally the
    /// framing correction's eleven lines of four coefficients.
    pub fn parse(text: &str) -> Result<Self, AlignError> {
        let rows: Vec<Vec<f64>> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|row| {
                row.split_whitespace()
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|e| AlignError::Template(format!("`{row}`: {e}")))
            })
            .collect::<Result<_, _>>()?;
        if rows.len() != 5 && rows.len() != 5 + framing::ROWS {
            return Err(AlignError::Template(format!(
                "{} rows, expected 5 (the landmarks) or {} (and the framing correction)",
                rows.len(),
                5 + framing::ROWS
            )));
        }
        let mut points = [[0.0; 2]; 5];
        for (p, row) in points.iter_mut().zip(&rows) {
            match row[..] {
                [u, w] if (0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&w) => *p = [u, w],
                _ => {
                    return Err(AlignError::Template(format!(
                        "{row:?}: expected two fractions"
                    )));
                }
            }
        }
        let correction = (rows.len() > 5)
            .then(|| {
                let mut coef = [[0.0; 4]; framing::ROWS];
                for (c, row) in coef.iter_mut().zip(&rows[5..]) {
                    match row[..] {
                        [a, b, x, y] if row.iter().all(|v| v.is_finite()) => *c = [a, b, x, y],
                        _ => {
                            return Err(AlignError::Template(format!(
                                "{row:?}: a framing correction row has four finite numbers"
                            )));
                        }
                    }
                }
                Ok(FramingCorrection { coef })
            })
            .transpose()?;
        Ok(Self { points, correction })
    }

    /// The file format [`Template::parse`] reads, with a comment.
    pub fn to_text(&self, comment: &str) -> String {
        let mut s: String = comment.lines().map(|l| format!("# {l}\n")).collect();
        for [u, v] in self.points {
            s.push_str(&format!("{u:.6} {v:.6}\n"));
        }
        for row in self.correction.iter().flat_map(|c| c.coef) {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:.9e}")).collect();
            s.push_str(&cells.join(" "));
            s.push('\n');
        }
        s
    }

    /// The landmarks in a `width`×`height` model input cut from `frame`, in its pixels.
    pub fn in_frame(&self, frame: Frame, width: u32, height: u32) -> [[f64; 2]; 5] {
        let (sx, sy) = (
            f64::from(width) / frame.width,
            f64::from(height) / frame.height,
        );
        self.points.map(|[u, v]| {
            [
                (u * ALIGNED_WIDTH - frame.x0) * sx,
                (v * ALIGNED_HEIGHT - frame.y0) * sy,
            ]
        })
    }

    /// Calibration (docs/face-alignment.md#the-template): the mean of alignment's fit
    /// ([`crate::fit_points`], four points) of each face's landmarks `faces` (fractions of an
    /// aligned image, as the template) onto this template, in 178×218 pixels, and the template
    /// moved by that mean's inverse, which makes aligning an aligned image the identity on
    /// average. Least squares on noisy landmarks reads part of the noise as scale: without it,
    /// every aligned face lands about 2% smaller and a few pixels lower than CelebA's crop.
    /// The calibrated template has no framing correction (it was fitted to the old points).
    pub fn calibrated(&self, faces: &[[[f64; 2]; 5]]) -> (Template, Similarity) {
        let px = |p: &[[f64; 2]; 5]| p.map(|[u, v]| [u * ALIGNED_WIDTH, v * ALIGNED_HEIGHT]);
        let dst = crate::fit_points(&px(&self.points));
        let (mut sum, mut n) = ([0.0f64; 4], 0.0f64);
        for t in faces
            .iter()
            .filter_map(|f| Similarity::fit(&crate::fit_points(&px(f)), &dst))
        {
            for (s, v) in sum.iter_mut().zip([t.a, t.b, t.tx, t.ty]) {
                *s += v;
            }
            n += 1.0;
        }
        let [a, b, tx, ty] = sum.map(|s| s / n.max(1.0));
        let mean = Similarity { a, b, tx, ty };
        let back = mean.inverse();
        let points = px(&self.points).map(|p| {
            let [x, y] = back.apply(p);
            [x / ALIGNED_WIDTH, y / ALIGNED_HEIGHT]
        });
        // The framing correction was fitted against the old points: a moved template drops it,
        // and `examples/framing_fit.rs` fits it again.
        let correction = None;
        (Template { points, correction }, mean)
    }

    /// The template's inter-ocular distance in a frame's pixels.
    pub fn eye_distance(&self, frame: Frame, width: u32, height: u32) -> f64 {
        let p = self.in_frame(frame, width, height);
        (p[1][0] - p[0][0]).hypot(p[1][1] - p[0][1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_template_is_a_plausible_face() {
        let t = Template::celeba();
        let [le, re, nose, lm, rm] = t.points;
        assert!(
            le[0] < nose[0] && nose[0] < re[0],
            "eyes either side of the nose: {t:?}"
        );
        assert!(lm[0] < rm[0] && le[1] < nose[1] && nose[1] < lm[1], "{t:?}");
        // Aligned CelebA puts the eyes level and near the image's middle.
        assert!((le[1] - re[1]).abs() < 0.01 && (0.4..0.6).contains(&((le[0] + re[0]) / 2.0)));
    }

    #[test]
    fn template_text_round_trips_and_bad_files_are_refused() {
        let t = Template::celeba();
        let back = Template::parse(&t.to_text("measured\non a test")).unwrap();
        for (p, q) in t.points.iter().zip(&back.points) {
            assert!((p[0] - q[0]).abs() < 1e-6 && (p[1] - q[1]).abs() < 1e-6);
        }
        assert_eq!(back.correction.is_some(), t.correction.is_some());
        // With a correction: eleven rows of four numbers, written exactly enough to read back.
        let mut coef = [[0.0; 4]; crate::framing::ROWS];
        coef[3] = [1.5e-3, -2.0e-4, 0.25, -1.75];
        let with = Template {
            correction: Some(FramingCorrection { coef }),
            ..t
        };
        let back = Template::parse(&with.to_text("corrected")).unwrap();
        assert_eq!(back.correction.unwrap().coef[3], coef[3]);
        assert!(Template::parse("0.1 0.2\n").is_err());
        assert!(Template::parse(&"0.1 2.0\n".repeat(5)).is_err());
        let short = format!("{}{}", "0.5 0.5\n".repeat(5), "1 2 3\n".repeat(11));
        assert!(Template::parse(&short).is_err());
    }

    #[test]
    fn frame_coordinates_scale_with_the_crop() {
        let t = Template {
            points: [[0.5, 0.5]; 5],
            correction: None,
        };
        // Fader's crop: rows 20..198 of the aligned image, resized to 64.
        let fader = Frame {
            x0: 0.0,
            y0: 20.0,
            width: 178.0,
            height: 178.0,
        };
        let p = t.in_frame(fader, 64, 64)[0];
        assert!((p[0] - 32.0).abs() < 1e-9 && (p[1] - (109.0 - 20.0) * 64.0 / 178.0).abs() < 1e-9);
        assert_eq!(t.in_frame(Frame::ALIGNED, 178, 218)[0], [89.0, 109.0]);
    }

    #[test]
    fn calibration_undoes_a_common_shrink_and_shift() {
        // Faces that all sit 2% larger and shifted from the template: the calibrated
        // template is where they are, and its mean fit the inverse of that placement.
        let t = Template::celeba();
        let placed = Similarity::new(1.02, 0.0, -0.02 * 89.0, -3.0 - 0.02 * 109.0);
        let face = t.points.map(|[u, v]| {
            let [x, y] = placed.apply([u * ALIGNED_WIDTH, v * ALIGNED_HEIGHT]);
            [x / ALIGNED_WIDTH, y / ALIGNED_HEIGHT]
        });
        let (cal, mean) = t.calibrated(&[face, face]);
        assert!(
            cal.correction.is_none(),
            "a moved template drops its correction"
        );
        assert!((mean.scale() - 1.0 / 1.02).abs() < 1e-9, "{}", mean.scale());
        for (p, q) in cal.points.iter().zip(&face) {
            assert!((p[0] - q[0]).abs() < 1e-9 && (p[1] - q[1]).abs() < 1e-9);
        }
    }
}
