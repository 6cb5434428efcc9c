//! Similarity transforms of the plane (rotation, uniform scale, translation) and their
//! least-squares fit to point pairs (Umeyama 1991, without reflection), which maps a face's five
//! landmarks onto the template. Coordinates are continuous pixel coordinates: pixel `(i, j)`
//! covers `[i, i+1) × [j, j+1)`, its centre is `(i + 0.5, j + 0.5)`.

/// `(x, y) ↦ (a·x − b·y + tx, b·x + a·y + ty)`: scale `√(a² + b²)`, angle `atan2(b, a)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// `scale · cos(angle)`.
    pub a: f64,
    /// `scale · sin(angle)`.
    pub b: f64,
    /// Translation along x.
    pub tx: f64,
    /// Translation along y.
    pub ty: f64,
}

impl Similarity {
    /// The identity.
    pub const IDENTITY: Self = Self {
        a: 1.0,
        b: 0.0,
        tx: 0.0,
        ty: 0.0,
    };

    /// Rotation by `angle` radians and scaling by `scale` about the origin, then a shift.
    pub fn new(scale: f64, angle: f64, tx: f64, ty: f64) -> Self {
        Self {
            a: scale * angle.cos(),
            b: scale * angle.sin(),
            tx,
            ty,
        }
    }

    /// The image of a point.
    pub fn apply(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        [
            self.a * x - self.b * y + self.tx,
            self.b * x + self.a * y + self.ty,
        ]
    }

    /// The axis-aligned bounds `(min, max)` of the `w`×`h` rectangle at the origin once mapped.
    pub fn bounds(&self, w: f64, h: f64) -> ([f64; 2], [f64; 2]) {
        let corners = [[0.0, 0.0], [w, 0.0], [0.0, h], [w, h]].map(|c| self.apply(c));
        let fold = |i: usize, pick: fn(f64, f64) -> f64, start: f64| {
            corners.iter().map(|c| c[i]).fold(start, pick)
        };
        (
            [
                fold(0, f64::min, f64::INFINITY),
                fold(1, f64::min, f64::INFINITY),
            ],
            [
                fold(0, f64::max, f64::NEG_INFINITY),
                fold(1, f64::max, f64::NEG_INFINITY),
            ],
        )
    }

    /// The scale factor.
    pub fn scale(&self) -> f64 {
        self.a.hypot(self.b)
    }

    /// The rotation angle in radians.
    pub fn angle(&self) -> f64 {
        self.b.atan2(self.a)
    }

    /// The inverse map (the scale must not be 0).
    pub fn inverse(&self) -> Self {
        let d = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / d, -self.b / d);
        Self {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }

    /// `self ∘ first`: apply `first`, then `self`.
    pub fn after(&self, first: &Self) -> Self {
        let [tx, ty] = self.apply([first.tx, first.ty]);
        Self {
            a: self.a * first.a - self.b * first.b,
            b: self.b * first.a + self.a * first.b,
            tx,
            ty,
        }
    }

    /// The similarity that minimises `Σ |T(src_i) − dst_i|²` (Umeyama's closed form restricted to
    /// rotations: with centred points, `a = Σ(x·x' + y·y') / Σ|p|²`, `b = Σ(x·y' − y·x') / Σ|p|²`).
    /// `None` when there are fewer than two points or the source points all coincide.
    pub fn fit(src: &[[f64; 2]], dst: &[[f64; 2]]) -> Option<Self> {
        Self::fit_weighted(src, dst, &vec![1.0; src.len()])
    }

    /// [`Similarity::fit`] minimising `Σ w_i |T(src_i) − dst_i|²` (weighted means and sums);
    /// `None` as there, or when fewer than two points have a positive weight.
    pub fn fit_weighted(src: &[[f64; 2]], dst: &[[f64; 2]], w: &[f64]) -> Option<Self> {
        assert_eq!(src.len(), dst.len(), "point lists of different lengths");
        assert_eq!(src.len(), w.len(), "one weight per point");
        let n: f64 = w.iter().sum();
        if w.iter().filter(|&&wi| wi > 0.0).count() < 2 {
            return None;
        }
        let mean = |p: &[[f64; 2]]| {
            let s = p.iter().zip(w).fold([0.0, 0.0], |s, (q, wi)| {
                [s[0] + wi * q[0], s[1] + wi * q[1]]
            });
            [s[0] / n, s[1] / n]
        };
        let (ms, md) = (mean(src), mean(dst));
        let (mut num_a, mut num_b, mut den) = (0.0, 0.0, 0.0);
        for ((p, q), wi) in src.iter().zip(dst).zip(w) {
            let (x, y) = (p[0] - ms[0], p[1] - ms[1]);
            let (u, v) = (q[0] - md[0], q[1] - md[1]);
            num_a += wi * (x * u + y * v);
            num_b += wi * (x * v - y * u);
            den += wi * (x * x + y * y);
        }
        if den <= f64::EPSILON * (1.0 + ms[0].abs() + ms[1].abs()) {
            return None;
        }
        let (a, b) = (num_a / den, num_b / den);
        Some(Self {
            a,
            b,
            tx: md[0] - (a * ms[0] - b * ms[1]),
            ty: md[1] - (b * ms[0] + a * ms[1]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(p: [f64; 2], q: [f64; 2], tol: f64) -> bool {
        (p[0] - q[0]).abs() <= tol && (p[1] - q[1]).abs() <= tol
    }

    #[test]
    fn bounds_enclose_the_mapped_rectangle() {
        let t = Similarity::new(2.0, std::f64::consts::FRAC_PI_2, 10.0, 0.0);
        // (x, y) -> (10 - 2y, 2x): the 3x1 rectangle maps to x in [8, 10], y in [0, 6].
        let (lo, hi) = t.bounds(3.0, 1.0);
        for (got, want) in [(lo[0], 8.0), (lo[1], 0.0), (hi[0], 10.0), (hi[1], 6.0)] {
            assert!((got - want).abs() < 1e-9, "{lo:?} {hi:?}");
        }
    }

    #[test]
    fn fit_recovers_a_known_similarity_exactly() {
        let t = Similarity::new(1.7, 0.4, -12.0, 31.5);
        let src = [
            [10.0, 20.0],
            [40.0, 22.0],
            [25.0, 35.0],
            [14.0, 50.0],
            [37.0, 49.0],
        ];
        let dst: Vec<_> = src.iter().map(|&p| t.apply(p)).collect();
        let fit = Similarity::fit(&src, &dst).unwrap();
        assert!((fit.scale() - 1.7).abs() < 1e-12 && (fit.angle() - 0.4).abs() < 1e-12);
        assert!(close([fit.tx, fit.ty], [-12.0, 31.5], 1e-9));
    }

    #[test]
    fn fit_is_least_squares_under_noise() {
        // Symmetric noise on a square: the best fit is the noiseless map.
        let t = Similarity::new(0.5, -0.3, 3.0, 4.0);
        let src = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let noise = [[0.1, 0.0], [-0.1, 0.0], [0.1, 0.0], [-0.1, 0.0]];
        let dst: Vec<_> = src
            .iter()
            .zip(noise)
            .map(|(&p, e)| {
                let q = t.apply(p);
                [q[0] + e[0], q[1] + e[1]]
            })
            .collect();
        let fit = Similarity::fit(&src, &dst).unwrap();
        // Perturbing the fit in any parameter increases the squared error.
        let err = |s: &Similarity| {
            src.iter()
                .zip(&dst)
                .map(|(&p, q)| {
                    let r = s.apply(p);
                    (r[0] - q[0]).powi(2) + (r[1] - q[1]).powi(2)
                })
                .sum::<f64>()
        };
        let e0 = err(&fit);
        for d in [1e-4, -1e-4] {
            for k in 0..4 {
                let mut s = fit;
                match k {
                    0 => s.a += d,
                    1 => s.b += d,
                    2 => s.tx += d,
                    _ => s.ty += d,
                }
                assert!(err(&s) > e0, "perturbation {k} {d} lowers the error");
            }
        }
    }

    #[test]
    fn inverse_and_composition_round_trip() {
        let t = Similarity::new(2.3, 2.9, 100.0, -7.0);
        let u = Similarity::new(0.7, -1.1, 5.0, 9.0);
        let p = [13.0, -4.5];
        assert!(close(t.inverse().apply(t.apply(p)), p, 1e-9));
        assert!(close(t.after(&u).apply(p), t.apply(u.apply(p)), 1e-9));
        assert!(close(t.after(&t.inverse()).apply(p), p, 1e-9));
    }

    #[test]
    fn weighted_fit_ignores_zero_weights_and_matches_repeated_points() {
        let truth = Similarity::new(1.3, 0.4, 5.0, -2.0);
        let src = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [7.0, 3.0]];
        let mut dst: Vec<[f64; 2]> = src.iter().map(|&p| truth.apply(p)).collect();
        // An outlier with weight 0 leaves the exact fit of the other three.
        dst[3] = [100.0, 100.0];
        let t = Similarity::fit_weighted(&src, &dst, &[1.0, 1.0, 1.0, 0.0]).unwrap();
        assert!(close([t.a, t.b], [truth.a, truth.b], 1e-9));
        assert!(close([t.tx, t.ty], [truth.tx, truth.ty], 1e-9));
        // Weight 2 on a point equals listing it twice.
        let w = Similarity::fit_weighted(&src, &dst, &[1.0, 2.0, 1.0, 1.0]).unwrap();
        let twice = [src[0], src[1], src[1], src[2], src[3]];
        let dst2 = [dst[0], dst[1], dst[1], dst[2], dst[3]];
        let r = Similarity::fit(&twice, &dst2).unwrap();
        assert!(close([w.a, w.b], [r.a, r.b], 1e-12));
        assert!(close([w.tx, w.ty], [r.tx, r.ty], 1e-9));
        assert!(Similarity::fit_weighted(&src, &dst, &[1.0, 0.0, 0.0, 0.0]).is_none());
    }

    #[test]
    fn fit_refuses_degenerate_inputs() {
        assert!(Similarity::fit(&[[1.0, 1.0]], &[[2.0, 2.0]]).is_none());
        assert!(Similarity::fit(&[[1.0, 1.0], [1.0, 1.0]], &[[0.0, 0.0], [1.0, 0.0]]).is_none());
    }
}
