//! The framing correction (docs/face-alignment.md#framing-correction): CelebA framed each face
//! by its own rule, which a similarity fit to the average template reproduces only on average
//! (the Fader crop's corners land 5–6 px off per face). Part of the difference is predictable
//! from the face's shape: this is a linear map from the landmarks' offsets from the template,
//! after the fit, to the similarity that carries the fit onto CelebA's own framing of that face,
//! fitted by least squares on aligned images (where CelebA's framing is the identity). Shape
//! after a similarity fit does not depend on how the photo was framed, so the correction does
//! not either. All in pixels of the 178×218 aligned image.

use crate::similarity::Similarity;

/// Number of coefficient rows: ten shape features (x and y offsets of the five landmarks) and
/// one constant.
pub const ROWS: usize = 11;

/// `coef[r][k]`: the weight of feature `r` in output `k`, the outputs being `a − 1`, `b`, `tx`,
/// `ty` of the correcting similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FramingCorrection {
    /// Ten shape features, then the constant.
    pub coef: [[f64; 4]; ROWS],
}

/// The features of a face: its landmarks carried by the fit `fit`, minus the template `dst`,
/// then a constant 1.
fn features(fit: &Similarity, landmarks: &[[f64; 2]; 5], dst: &[[f64; 2]; 5]) -> [f64; ROWS] {
    let mut f = [1.0; ROWS];
    for (i, (p, t)) in landmarks.iter().zip(dst).enumerate() {
        let q = fit.apply(*p);
        f[2 * i] = q[0] - t[0];
        f[2 * i + 1] = q[1] - t[1];
    }
    f
}

impl FramingCorrection {
    /// The correction fitted to aligned faces: `faces` are landmarks in the aligned image's
    /// pixels (where CelebA's framing is the identity), `dst` the template there, `fit` how a
    /// face's landmarks are fitted onto it. Least squares with a small ridge (1e-6) against
    /// degenerate sets; `None` for fewer faces than coefficients.
    pub fn fit(
        faces: &[[[f64; 2]; 5]],
        dst: &[[f64; 2]; 5],
        fit: impl Fn(&[[f64; 2]; 5]) -> Option<Similarity>,
    ) -> Option<Self> {
        let mut ata = [[0.0f64; ROWS]; ROWS];
        let mut aty = [[0.0f64; 4]; ROWS];
        let mut n = 0;
        for face in faces {
            let Some(s) = fit(face) else { continue };
            let c = s.inverse();
            let y = [c.a - 1.0, c.b, c.tx, c.ty];
            let f = features(&s, face, dst);
            for r in 0..ROWS {
                for k in 0..ROWS {
                    ata[r][k] += f[r] * f[k];
                }
                for k in 0..4 {
                    aty[r][k] += f[r] * y[k];
                }
            }
            n += 1;
        }
        if n < ROWS {
            return None;
        }
        for (r, row) in ata.iter_mut().enumerate() {
            row[r] += 1e-6 * n as f64;
        }
        solve(ata, aty).map(|coef| Self { coef })
    }

    /// The similarity that moves a face fitted by `fit` (landmarks `landmarks`, template `dst`)
    /// to where CelebA would have framed it: apply it after `fit`.
    pub fn predict(
        &self,
        fit: &Similarity,
        landmarks: &[[f64; 2]; 5],
        dst: &[[f64; 2]; 5],
    ) -> Similarity {
        let f = features(fit, landmarks, dst);
        let mut y = [0.0; 4];
        for (r, fr) in f.iter().enumerate() {
            for (k, yk) in y.iter_mut().enumerate() {
                *yk += fr * self.coef[r][k];
            }
        }
        Similarity {
            a: 1.0 + y[0],
            b: y[1],
            tx: y[2],
            ty: y[3],
        }
    }
}

/// Solves `A·X = B` (A symmetric positive definite, `ROWS`×`ROWS`; four right-hand sides) by
/// Gaussian elimination with partial pivoting; `None` when A is singular.
fn solve(mut a: [[f64; ROWS]; ROWS], mut b: [[f64; 4]; ROWS]) -> Option<[[f64; 4]; ROWS]> {
    for col in 0..ROWS {
        let pivot = (col..ROWS).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (pa, pb) = (a[col], b[col]);
        for row in (0..ROWS).filter(|&r| r != col) {
            let m = a[row][col] / pa[col];
            for (x, p) in a[row].iter_mut().zip(&pa).skip(col) {
                *x -= m * p;
            }
            for (x, p) in b[row].iter_mut().zip(&pb) {
                *x -= m * p;
            }
        }
    }
    for (row, out) in b.iter_mut().enumerate() {
        for v in out.iter_mut() {
            *v /= a[row][row];
        }
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DST: [[f64; 2]; 5] = [
        [70.0, 112.0],
        [110.0, 112.0],
        [89.0, 136.0],
        [72.0, 154.0],
        [107.0, 154.0],
    ];

    /// Faces whose true framing depends linearly on their mouth width: the fit recovers the
    /// rule and undoes it on new faces.
    #[test]
    fn a_linear_framing_rule_is_recovered_and_undone() {
        let mut faces = Vec::new();
        let mut frames = Vec::new();
        for i in 0..60 {
            let (w, o) = ((i % 7) as f64 - 3.0, (i % 5) as f64 - 2.0);
            // A face: the template with its mouth corners w px wider and the nose o px lower.
            let mut shape = DST;
            shape[3][0] -= w;
            shape[4][0] += w;
            shape[2][1] += o;
            // CelebA framed it with a scale and shift that follow its shape.
            let framing = Similarity::new(1.0 + 0.01 * w, 0.0, 0.5 * o, -0.8 * w);
            faces.push(shape.map(|p| framing.apply(p)));
            frames.push(framing);
        }
        let fit =
            |f: &[[f64; 2]; 5]| Similarity::fit(&crate::fit_points(f), &crate::fit_points(&DST));
        let c = FramingCorrection::fit(&faces, &DST, fit).unwrap();
        // An aligned face's framing is the identity: how far a transform moves the frame's
        // corners, at worst.
        let off = |t: &Similarity| {
            [[0.0, 0.0], [178.0, 0.0], [0.0, 218.0], [178.0, 218.0]]
                .iter()
                .map(|&p| {
                    let q = t.apply(p);
                    (q[0] - p[0]).hypot(q[1] - p[1])
                })
                .fold(0.0, f64::max)
        };
        let (mut before, mut after) = (0.0f64, 0.0f64);
        for face in &faces {
            let s = fit(face).unwrap();
            before = before.max(off(&s));
            after = after.max(off(&c.predict(&s, face, &DST).after(&s)));
        }
        assert!(
            before > 3.0,
            "the uncorrected fit should be off: {before} px"
        );
        assert!(
            after < 0.1 * before,
            "corrected {after} px, uncorrected {before} px"
        );
    }

    #[test]
    fn too_few_faces_give_no_correction() {
        let fit = |f: &[[f64; 2]; 5]| Similarity::fit(f, &DST);
        assert!(FramingCorrection::fit(&[DST; 5], &DST, fit).is_none());
    }
}
