//! The box arithmetic of MTCNN's cascade, on plain numbers: candidate windows from P-Net's maps,
//! non-maximum suppression, bounding-box regression, squaring and the integer crop of a box.
//! Box coordinates follow facenet-pytorch: `x1, y1` are 1-based (the crop of a box starts at
//! 0-based pixel `x1 − 1`), `x2, y2` inclusive, so a box spans `x2 − x1 + 1` pixels.

/// A candidate face box with its score and the regression offsets that refine it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// `[x1, y1, x2, y2]`.
    pub rect: [f32; 4],
    /// Face probability of the stage that produced it.
    pub score: f32,
    /// Regression offsets `[dx1, dy1, dx2, dy2]`, in box widths and heights.
    pub reg: [f32; 4],
}

/// How two boxes' overlap is measured in [`nms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// Intersection over union with areas `(x2 − x1)·(y2 − y1)` (torchvision's `batched_nms`,
    /// which facenet-pytorch uses in its first two stages).
    Union,
    /// Intersection over the smaller area, with areas `(x2 − x1 + 1)·(y2 − y1 + 1)` (the
    /// original's "Min", used after O-Net).
    Min,
}

/// Indices of the boxes kept by greedy non-maximum suppression: highest score first, dropping
/// every later box whose overlap with a kept one is above `threshold`.
pub fn nms(boxes: &[Candidate], threshold: f32, overlap: Overlap) -> Vec<usize> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&i, &j| boxes[j].score.total_cmp(&boxes[i].score));
    let plus = match overlap {
        Overlap::Union => 0.0,
        Overlap::Min => 1.0,
    };
    let area = |r: &[f32; 4]| (r[2] - r[0] + plus).max(0.0) * (r[3] - r[1] + plus).max(0.0);
    let mut keep: Vec<usize> = Vec::new();
    for &i in &order {
        let a = &boxes[i].rect;
        let suppressed = keep.iter().any(|&k| {
            let b = &boxes[k].rect;
            let w = (a[2].min(b[2]) - a[0].max(b[0]) + plus).max(0.0);
            let h = (a[3].min(b[3]) - a[1].max(b[1]) + plus).max(0.0);
            let inter = w * h;
            let o = match overlap {
                Overlap::Union => inter / (area(a) + area(b) - inter),
                Overlap::Min => inter / area(a).min(area(b)),
            };
            o > threshold
        });
        if !suppressed {
            keep.push(i);
        }
    }
    keep
}

/// The windows of one pyramid level whose face probability is at least `threshold`. `prob` and
/// `reg` are P-Net's maps for one image (`[h, w]` row-major and `[4, h, w]`); window `(x, y)`
/// covers `[2x + 1, 2x + 12] / scale` in the original image, floored (1-based, inclusive).
pub fn windows(
    prob: &[f32],
    reg: &[f32],
    h: usize,
    w: usize,
    scale: f32,
    threshold: f32,
) -> Vec<Candidate> {
    let plane = h * w;
    let mut out = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if prob[i] < threshold {
                continue;
            }
            let (fx, fy) = (x as f32, y as f32);
            out.push(Candidate {
                rect: [
                    ((2.0 * fx + 1.0) / scale).floor(),
                    ((2.0 * fy + 1.0) / scale).floor(),
                    ((2.0 * fx + 12.0) / scale).floor(),
                    ((2.0 * fy + 12.0) / scale).floor(),
                ],
                score: prob[i],
                reg: [
                    reg[i],
                    reg[plane + i],
                    reg[2 * plane + i],
                    reg[3 * plane + i],
                ],
            });
        }
    }
    out
}

/// The box moved by its regression offsets. `plus_one` counts widths as `x2 − x1 + 1` (the
/// original's `bbreg`, used after R-Net and O-Net); without it, `x2 − x1` (facenet-pytorch's
/// refinement of P-Net's windows).
pub fn regress(c: &Candidate, plus_one: bool) -> [f32; 4] {
    let p = if plus_one { 1.0 } else { 0.0 };
    let [x1, y1, x2, y2] = c.rect;
    let (w, h) = (x2 - x1 + p, y2 - y1 + p);
    [
        x1 + c.reg[0] * w,
        y1 + c.reg[1] * h,
        x2 + c.reg[2] * w,
        y2 + c.reg[3] * h,
    ]
}

/// The square of side `max(w, h)` with the same centre (`rerec`; `w = x2 − x1`).
pub fn square(r: [f32; 4]) -> [f32; 4] {
    let (w, h) = (r[2] - r[0], r[3] - r[1]);
    let l = w.max(h);
    let x1 = r[0] + w * 0.5 - l * 0.5;
    let y1 = r[1] + h * 0.5 - l * 0.5;
    [x1, y1, x1 + l, y1 + l]
}

/// The pixels a box covers as 0-based `[x0, y0, x1, y1)` after truncating its coordinates to
/// integers, or `None` when that is empty. The range may reach outside the image: MTCNN fills
/// what lies outside with zeros ([`crate::detect`]).
pub fn pixel_range(r: [f32; 4]) -> Option<[i64; 4]> {
    let t = |v: f32| v.trunc() as i64;
    let (x0, y0, x1, y1) = (t(r[0]) - 1, t(r[1]) - 1, t(r[2]), t(r[3]));
    (x1 > x0 && y1 > y0).then_some([x0, y0, x1, y1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(rect: [f32; 4], score: f32) -> Candidate {
        Candidate {
            rect,
            score,
            reg: [0.0; 4],
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let boxes = [
            cand([0.0, 0.0, 10.0, 10.0], 0.8),
            cand([1.0, 1.0, 11.0, 11.0], 0.9), // IoU with the first 81/119 = 0.68
            cand([20.0, 20.0, 30.0, 30.0], 0.7),
            cand([2.0, 2.0, 8.0, 8.0], 0.95), // inside the first: IoU 0.36, Min 1
        ];
        assert_eq!(nms(&boxes, 0.5, Overlap::Union), [3, 1, 2]);
        assert_eq!(nms(&boxes, 0.7, Overlap::Union), [3, 1, 0, 2]);
        // By the smaller area, the box inside the best one is suppressed by it.
        assert_eq!(nms(&boxes, 0.7, Overlap::Min), [3, 2]);
        assert!(nms(&[], 0.5, Overlap::Union).is_empty());
    }

    #[test]
    fn windows_map_the_map_cells_to_image_boxes() {
        // A 2x3 map at scale 0.5: cell (x=2, y=1) covers [5, 3] .. [16, 14] / 0.5.
        let mut prob = vec![0.1; 6];
        prob[5] = 0.9;
        let reg: Vec<f32> = (0..24).map(|v| v as f32).collect();
        let w = windows(&prob, &reg, 2, 3, 0.5, 0.6);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].rect, [10.0, 6.0, 32.0, 28.0]);
        assert_eq!(w[0].reg, [5.0, 11.0, 17.0, 23.0]);
        assert_eq!(w[0].score, 0.9);
    }

    #[test]
    fn regression_and_squaring() {
        let c = Candidate {
            rect: [10.0, 20.0, 29.0, 59.0],
            score: 1.0,
            reg: [0.1, -0.1, 0.2, 0.0],
        };
        // Widths 20 x 40 with the +1.
        assert_eq!(regress(&c, true), [12.0, 16.0, 33.0, 59.0]);
        assert_eq!(regress(&c, false), [11.9, 16.1, 32.8, 59.0]);
        assert_eq!(square([10.0, 20.0, 30.0, 60.0]), [0.0, 20.0, 40.0, 60.0]);
        assert_eq!(pixel_range([-3.7, 0.2, 5.9, 4.0]), Some([-4, -1, 5, 4]));
        assert_eq!(pixel_range([5.0, 5.0, 3.0, 9.0]), None);
    }
}
