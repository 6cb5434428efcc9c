//! Anti-aliased rasterisation for the synthetic faces: shapes are signed-distance functions in
//! face units (the 178x218 CelebA frame), placed by a pose transform, and composited into an f32
//! RGB buffer with coverage `clamp(0.5 - d, 0, 1)` (d in pixels). No paper section: test data.

/// Signed distance (face units) to a shape: negative inside.
pub type SdfFn<'a> = Box<dyn Fn(f32, f32) -> f32 + Send + Sync + 'a>;

/// A shape: an SDF with a bounding box `[x0, y0, x1, y1]` in face units.
pub struct Shape<'a> {
    /// Bounding box in face units (the shape is empty outside it).
    pub bbox: [f32; 4],
    /// The distance function.
    pub sdf: SdfFn<'a>,
}

impl<'a> Shape<'a> {
    /// An ellipse centred at (`cx`, `cy`) with radii `rx`, `ry`.
    pub fn ellipse(cx: f32, cy: f32, rx: f32, ry: f32) -> Self {
        let r = rx.max(ry);
        Shape {
            bbox: [cx - r, cy - r, cx + r, cy + r],
            sdf: Box::new(move |x, y| ellipse_sdf(x - cx, y - cy, rx, ry)),
        }
    }

    /// A thick polyline (capsules) with half width `hw`.
    pub fn stroke(points: Vec<[f32; 2]>, hw: f32) -> Self {
        let mut bbox = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
        for p in &points {
            bbox = [
                bbox[0].min(p[0] - hw),
                bbox[1].min(p[1] - hw),
                bbox[2].max(p[0] + hw),
                bbox[3].max(p[1] + hw),
            ];
        }
        Shape {
            bbox,
            sdf: Box::new(move |x, y| {
                let mut d = f32::MAX;
                for s in points.windows(2) {
                    d = d.min(segment_distance(x, y, s[0], s[1]));
                }
                d - hw
            }),
        }
    }

    /// The outline of an ellipse, `hw` thick on each side.
    pub fn ring(cx: f32, cy: f32, rx: f32, ry: f32, hw: f32) -> Self {
        let r = rx.max(ry) + hw;
        Shape {
            bbox: [cx - r, cy - r, cx + r, cy + r],
            sdf: Box::new(move |x, y| ellipse_sdf(x - cx, y - cy, rx, ry).abs() - hw),
        }
    }

    /// An axis-aligned box.
    pub fn rect(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Shape {
            bbox: [x0, y0, x1, y1],
            sdf: Box::new(move |x, y| (x0 - x).max(x - x1).max(y0 - y).max(y - y1)),
        }
    }

    /// A shape from a bounding box and a distance function.
    pub fn custom(bbox: [f32; 4], f: impl Fn(f32, f32) -> f32 + Send + Sync + 'a) -> Self {
        Shape {
            bbox,
            sdf: Box::new(f),
        }
    }

    /// The part of `self` inside `other` (bbox of `self`).
    pub fn intersect(self, other: Shape<'a>) -> Self {
        let (a, b) = (self.sdf, other.sdf);
        Shape {
            bbox: self.bbox,
            sdf: Box::new(move |x, y| a(x, y).max(b(x, y))),
        }
    }

    /// The part of `self` outside `other`.
    pub fn subtract(self, other: Shape<'a>) -> Self {
        let (a, b) = (self.sdf, other.sdf);
        Shape {
            bbox: self.bbox,
            sdf: Box::new(move |x, y| a(x, y).max(-b(x, y))),
        }
    }

    /// The union of two shapes.
    pub fn union(self, other: Shape<'a>) -> Self {
        let (a, b) = (self.sdf, other.sdf);
        Shape {
            bbox: [
                self.bbox[0].min(other.bbox[0]),
                self.bbox[1].min(other.bbox[1]),
                self.bbox[2].max(other.bbox[2]),
                self.bbox[3].max(other.bbox[3]),
            ],
            sdf: Box::new(move |x, y| a(x, y).min(b(x, y))),
        }
    }

    /// The shape grown by `m` face units.
    pub fn grow(self, m: f32) -> Self {
        let a = self.sdf;
        Shape {
            bbox: [
                self.bbox[0] - m,
                self.bbox[1] - m,
                self.bbox[2] + m,
                self.bbox[3] + m,
            ],
            sdf: Box::new(move |x, y| a(x, y) - m),
        }
    }
}

/// Approximate signed distance to an ellipse (first-order, exact on circles).
pub fn ellipse_sdf(x: f32, y: f32, rx: f32, ry: f32) -> f32 {
    let (u, v) = (x / rx, y / ry);
    let k = (u * u + v * v).sqrt();
    if k < 1e-6 {
        return -rx.min(ry);
    }
    let g = ((u / rx).powi(2) + (v / ry).powi(2)).sqrt() / k;
    (k - 1.0) / g.max(1e-6)
}

fn segment_distance(x: f32, y: f32, a: [f32; 2], b: [f32; 2]) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let (px, py) = (x - a[0], y - a[1]);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        ((px * dx + py * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((px - t * dx).powi(2) + (py - t * dy).powi(2)).sqrt()
}

/// Samples `y = f(x)` for `x` in `[x0, x1]` as a polyline of `n` segments.
pub fn curve(x0: f32, x1: f32, n: usize, f: impl Fn(f32) -> f32) -> Vec<[f32; 2]> {
    (0..=n)
        .map(|i| {
            let x = x0 + (x1 - x0) * i as f32 / n as f32;
            [x, f(x)]
        })
        .collect()
}

/// Placement of face units in the image: rotation `roll` and scale about `pivot`, then a shift,
/// then `px_per_unit` (image width / 178).
#[derive(Debug, Clone, Copy)]
pub struct Pose {
    /// Rotation centre in face units.
    pub pivot: [f32; 2],
    /// Shift in face units.
    pub shift: [f32; 2],
    /// Rotation in radians.
    pub roll: f32,
    /// Scale about the pivot.
    pub scale: f32,
    /// Pixels per face unit.
    pub px_per_unit: f32,
}

impl Pose {
    /// Face units -> pixel coordinates.
    pub fn forward(&self, p: [f32; 2]) -> [f32; 2] {
        let (s, c) = self.roll.sin_cos();
        let (x, y) = (p[0] - self.pivot[0], p[1] - self.pivot[1]);
        let (x, y) = (self.scale * (c * x - s * y), self.scale * (s * x + c * y));
        [
            (x + self.pivot[0] + self.shift[0]) * self.px_per_unit,
            (y + self.pivot[1] + self.shift[1]) * self.px_per_unit,
        ]
    }

    /// Pixel coordinates -> face units.
    pub fn inverse(&self, q: [f32; 2]) -> [f32; 2] {
        let (s, c) = self.roll.sin_cos();
        let x = q[0] / self.px_per_unit - self.pivot[0] - self.shift[0];
        let y = q[1] / self.px_per_unit - self.pivot[1] - self.shift[1];
        let (x, y) = ((c * x + s * y) / self.scale, (-s * x + c * y) / self.scale);
        [x + self.pivot[0], y + self.pivot[1]]
    }

    /// Pixels per face unit after scaling.
    pub fn px(&self) -> f32 {
        self.px_per_unit * self.scale
    }

    /// Pixel bbox `[x0, y0, x1, y1)` (clamped to the image) of a face-unit bbox.
    pub fn pixel_bbox(&self, b: [f32; 4], w: usize, h: usize) -> [usize; 4] {
        let corners =
            [[b[0], b[1]], [b[2], b[1]], [b[0], b[3]], [b[2], b[3]]].map(|p| self.forward(p));
        let clamp = |v: f32, m: usize| (v.max(0.0) as usize).min(m);
        let x0 = corners.iter().map(|p| p[0]).fold(f32::MAX, f32::min) - 2.0;
        let y0 = corners.iter().map(|p| p[1]).fold(f32::MAX, f32::min) - 2.0;
        let x1 = corners.iter().map(|p| p[0]).fold(f32::MIN, f32::max) + 3.0;
        let y1 = corners.iter().map(|p| p[1]).fold(f32::MIN, f32::max) + 3.0;
        [clamp(x0, w), clamp(y0, h), clamp(x1, w), clamp(y1, h)]
    }
}

/// An f32 RGB image (values 0..1, interleaved).
pub struct Canvas {
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
    /// `h*w*3` values.
    pub px: Vec<f32>,
}

impl Canvas {
    /// A black canvas.
    pub fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            px: vec![0.0; w * h * 3],
        }
    }

    /// Fills a shape placed by `pose` with `color` (optionally modulated per face-unit point by
    /// `shade`) at opacity `alpha`, anti-aliased.
    pub fn fill(
        &mut self,
        pose: &Pose,
        shape: &Shape,
        color: [f32; 3],
        alpha: f32,
        shade: Option<&dyn Fn(f32, f32) -> f32>,
    ) {
        if alpha <= 0.0 {
            return;
        }
        let [x0, y0, x1, y1] = pose.pixel_bbox(shape.bbox, self.w, self.h);
        let ppu = pose.px();
        for y in y0..y1 {
            for x in x0..x1 {
                let [fx, fy] = pose.inverse([x as f32 + 0.5, y as f32 + 0.5]);
                let d = (shape.sdf)(fx, fy) * ppu;
                let cov = (0.5 - d).clamp(0.0, 1.0) * alpha;
                if cov <= 0.0 {
                    continue;
                }
                let m = shade.map_or(1.0, |f| f(fx, fy));
                let i = (y * self.w + x) * 3;
                for (v, &col) in self.px[i..i + 3].iter_mut().zip(&color) {
                    *v += (col * m - *v) * cov;
                }
            }
        }
    }

    /// Like [`Canvas::fill`] without shading, but with a soft edge `soft` face units wide
    /// (coverage `clamp(0.5 - d / soft, 0, 1)`, d in face units): shading such as stubble.
    pub fn fill_soft(
        &mut self,
        pose: &Pose,
        shape: &Shape,
        color: [f32; 3],
        alpha: f32,
        soft: f32,
    ) {
        let [x0, y0, x1, y1] = pose.pixel_bbox(shape.bbox_plus(soft), self.w, self.h);
        let soft = soft.max(1.0 / pose.px());
        for y in y0..y1 {
            for x in x0..x1 {
                let [fx, fy] = pose.inverse([x as f32 + 0.5, y as f32 + 0.5]);
                let cov = (0.5 - (shape.sdf)(fx, fy) / soft).clamp(0.0, 1.0) * alpha;
                if cov <= 0.0 {
                    continue;
                }
                let i = (y * self.w + x) * 3;
                for (v, &col) in self.px[i..i + 3].iter_mut().zip(&color) {
                    *v += (col - *v) * cov;
                }
            }
        }
    }

    /// Pixels within `margin` pixels of a shape placed by `pose` (`true` = inside).
    pub fn mask(&self, pose: &Pose, shape: &Shape, margin: f32, out: &mut [bool]) {
        let [x0, y0, x1, y1] = pose.pixel_bbox(shape.bbox_plus(margin / pose.px()), self.w, self.h);
        let ppu = pose.px();
        for y in y0..y1 {
            for x in x0..x1 {
                let [fx, fy] = pose.inverse([x as f32 + 0.5, y as f32 + 0.5]);
                if (shape.sdf)(fx, fy) * ppu < margin {
                    out[y * self.w + x] = true;
                }
            }
        }
    }
}

impl Shape<'_> {
    fn bbox_plus(&self, m: f32) -> [f32; 4] {
        [
            self.bbox[0] - m,
            self.bbox[1] - m,
            self.bbox[2] + m,
            self.bbox[3] + m,
        ]
    }
}
