//! MTCNN's cascade (Zhang et al. 2016, as facenet-pytorch 2.6.0 runs it): an image pyramid
//! (factor 0.709 from `12 / min_face`) through P-Net with per-level and global non-maximum
//! suppression, then R-Net on 24×24 crops and O-Net on 48×48 crops, each with its threshold,
//! regression and suppression, O-Net's also placing five landmarks. Returns each face's box,
//! probability and landmarks in continuous pixel coordinates of the photo.

use crate::boxes::{Candidate, Overlap, nms, pixel_range, regress, square, windows};
use crate::error::AlignError;
use image::RgbImage;
use sliders_nets::mtcnn::{INPUT_MEAN, INPUT_SCALE, MtcnnNets, ONET_SIZE, RNET_SIZE};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// The cascade's settings; [`Default`] is MTCNN's (and facenet-pytorch's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// The smallest face side searched for, in pixels (20).
    pub min_face: f64,
    /// Ratio between pyramid levels (0.709 ≈ 1/√2).
    pub factor: f64,
    /// Face-probability thresholds of P-, R- and O-Net (0.6, 0.7, 0.7).
    pub thresholds: [f32; 3],
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            min_face: 20.0,
            factor: 0.709,
            thresholds: [0.6, 0.7, 0.7],
        }
    }
}

/// One detected face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    /// The regressed box `[x1, y1, x2, y2]` (facenet-pytorch's convention, see [`crate::boxes`]).
    pub rect: [f32; 4],
    /// The box O-Net saw (before its regression), in which the landmarks were placed.
    pub input_rect: [f32; 4],
    /// O-Net's face probability.
    pub score: f32,
    /// Left eye, right eye (as seen in the image), nose tip, left and right mouth corners, in
    /// continuous pixel coordinates (pixel `i` covers `[i, i + 1)`).
    pub landmarks: [[f64; 2]; 5],
}

impl Face {
    /// The face in an image `k` times larger (boxes and landmarks scaled about the origin).
    pub fn scaled(&self, k: f64) -> Self {
        Self {
            rect: self.rect.map(|v| (f64::from(v) * k) as f32),
            input_rect: self.input_rect.map(|v| (f64::from(v) * k) as f32),
            landmarks: self.landmarks.map(|[x, y]| [x * k, y * k]),
            ..*self
        }
    }

    /// The box's area in pixels.
    pub fn area(&self) -> f64 {
        f64::from(self.rect[2] - self.rect[0]) * f64::from(self.rect[3] - self.rect[1])
    }
}

/// The three networks and the cascade's settings.
#[derive(Debug)]
pub struct Detector {
    nets: MtcnnNets,
    config: DetectorConfig,
}

impl Detector {
    /// Wraps loaded networks.
    pub fn new(nets: MtcnnNets, config: DetectorConfig) -> Self {
        Self { nets, config }
    }

    /// Loads the weights from `dir` (`pnet/rnet/onet.safetensors`) with MTCNN's settings.
    pub fn load(dir: &Path, device: Device) -> Result<Self, AlignError> {
        Ok(Self::new(
            MtcnnNets::load(dir, device)?,
            DetectorConfig::default(),
        ))
    }

    /// [`Detector::load`] from `sliders_nets::mtcnn::default_weights_dir`.
    pub fn load_default(device: Device) -> Result<Self, AlignError> {
        Self::load(&sliders_nets::mtcnn::default_weights_dir(), device)
    }

    /// The settings.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Every face found in `image`, most probable first.
    pub fn detect(&self, image: &RgbImage) -> Vec<Face> {
        let (w, h) = image.dimensions();
        if w == 0 || h == 0 {
            return Vec::new();
        }
        tch::no_grad(|| {
            let img = Tensor::from_slice(image.as_raw())
                .view([1, h as i64, w as i64, 3])
                .permute([0, 3, 1, 2])
                .to_kind(Kind::Float)
                .to_device(self.nets.device());
            let boxes = self.propose(&img);
            let boxes = self.refine(&img, boxes);
            let mut faces = self.output(&img, boxes);
            faces.sort_by(|a, b| b.score.total_cmp(&a.score));
            faces
        })
    }

    /// The image sizes of the pyramid: scales from `12 / min_face` down by `factor` while the
    /// shorter side stays at least 12 pixels.
    pub fn scales(&self, w: u32, h: u32) -> Vec<f64> {
        let m = 12.0 / self.config.min_face;
        let mut minl = f64::from(w.min(h)) * m;
        let mut scale = m;
        let mut out = Vec::new();
        while minl >= 12.0 {
            out.push(scale);
            scale *= self.config.factor;
            minl *= self.config.factor;
        }
        out
    }

    /// Stage 1: P-Net over the pyramid; the windows suppressed per level (IoU 0.5) and over all
    /// levels (0.7), moved by their regression and squared.
    fn propose(&self, img: &Tensor) -> Vec<Candidate> {
        let (h, w) = (img.size()[2], img.size()[3]);
        let mut all = Vec::new();
        for scale in self.scales(w as u32, h as u32) {
            let hs = (h as f64 * scale + 1.0) as i64;
            let ws = (w as f64 * scale + 1.0) as i64;
            let x = normalise(&img.adaptive_avg_pool2d([hs, ws]));
            let (reg, prob) = self.nets.pnet.forward(&x);
            let (mh, mw) = (prob.size()[2] as usize, prob.size()[3] as usize);
            let prob = to_vec(&prob.select(1, 1));
            let reg = to_vec(&reg);
            let level = windows(&prob, &reg, mh, mw, scale as f32, self.config.thresholds[0]);
            all.extend(
                nms(&level, 0.5, Overlap::Union)
                    .into_iter()
                    .map(|i| level[i]),
            );
        }
        nms(&all, 0.7, Overlap::Union)
            .into_iter()
            .map(|i| Candidate {
                rect: square(regress(&all[i], false)),
                score: all[i].score,
                reg: [0.0; 4],
            })
            .collect()
    }

    /// Stage 2: R-Net on 24×24 crops; kept above its threshold, suppressed (IoU 0.7), regressed
    /// and squared.
    fn refine(&self, img: &Tensor, boxes: Vec<Candidate>) -> Vec<Candidate> {
        let (boxes, crops) = crops(img, boxes, RNET_SIZE);
        let Some(crops) = crops else {
            return Vec::new();
        };
        let (reg, prob) = self.nets.rnet.forward(&crops);
        let (reg, prob) = (to_vec(&reg), to_vec(&prob.select(1, 1)));
        let passed: Vec<Candidate> = boxes
            .iter()
            .enumerate()
            .filter(|&(i, _)| prob[i] > self.config.thresholds[1])
            .map(|(i, b)| Candidate {
                rect: b.rect,
                score: prob[i],
                reg: [reg[4 * i], reg[4 * i + 1], reg[4 * i + 2], reg[4 * i + 3]],
            })
            .collect();
        nms(&passed, 0.7, Overlap::Union)
            .into_iter()
            .map(|i| Candidate {
                rect: square(regress(&passed[i], true)),
                score: passed[i].score,
                reg: [0.0; 4],
            })
            .collect()
    }

    /// Stage 3: O-Net on 48×48 crops; kept above its threshold, landmarks placed in the crop's
    /// box, boxes regressed, then suppressed by the smaller area ("Min", 0.7).
    fn output(&self, img: &Tensor, boxes: Vec<Candidate>) -> Vec<Face> {
        let (boxes, crops) = crops(img, boxes, ONET_SIZE);
        let Some(crops) = crops else {
            return Vec::new();
        };
        let (reg, marks, prob) = self.nets.onet.forward(&crops);
        let (reg, marks, prob) = (to_vec(&reg), to_vec(&marks), to_vec(&prob.select(1, 1)));
        let mut passed = Vec::new();
        let mut landmarks = Vec::new();
        let mut kept = Vec::new();
        for (i, b) in boxes.iter().enumerate() {
            if prob[i] <= self.config.thresholds[2] {
                continue;
            }
            kept.push(i);
            let [x1, y1, x2, y2] = b.rect;
            let (bw, bh) = (f64::from(x2 - x1 + 1.0), f64::from(y2 - y1 + 1.0));
            let m = &marks[10 * i..10 * i + 10];
            landmarks.push(std::array::from_fn(|k| {
                [
                    bw * f64::from(m[k]) + f64::from(x1) - 1.0,
                    bh * f64::from(m[5 + k]) + f64::from(y1) - 1.0,
                ]
            }));
            let c = Candidate {
                rect: b.rect,
                score: prob[i],
                reg: [reg[4 * i], reg[4 * i + 1], reg[4 * i + 2], reg[4 * i + 3]],
            };
            passed.push(Candidate {
                rect: regress(&c, true),
                ..c
            });
        }
        nms(&passed, 0.7, Overlap::Min)
            .into_iter()
            .map(|i| Face {
                rect: passed[i].rect,
                input_rect: boxes[kept[i]].rect,
                score: passed[i].score,
                landmarks: landmarks[i],
            })
            .collect()
    }
}

impl Detector {
    /// O-Net's probability and five landmarks for given boxes of `image` (each cut out and
    /// resized to 48×48 as in the cascade), without the earlier stages; boxes that cover no
    /// pixel of the image give `None`.
    pub fn landmarks_in(
        &self,
        image: &RgbImage,
        rects: &[[f32; 4]],
    ) -> Vec<Option<(f32, [[f64; 2]; 5])>> {
        let (w, h) = image.dimensions();
        let img = Tensor::from_slice(image.as_raw())
            .view([1, i64::from(h), i64::from(w), 3])
            .permute([0, 3, 1, 2])
            .to_kind(Kind::Float)
            .to_device(self.nets.device());
        let cands: Vec<Candidate> = rects
            .iter()
            .map(|&rect| Candidate {
                rect,
                score: 0.0,
                reg: [0.0; 4],
            })
            .collect();
        let (kept, crops) = crops(&img, cands, ONET_SIZE);
        let mut out = vec![None; rects.len()];
        let Some(crops) = crops else {
            return out;
        };
        let (_, marks, prob) = tch::no_grad(|| self.nets.onet.forward(&crops));
        let (marks, prob) = (to_vec(&marks), to_vec(&prob.select(1, 1)));
        let mut j = 0;
        for (slot, r) in out.iter_mut().zip(rects) {
            if j < kept.len() && kept[j].rect == *r {
                let [x1, y1, x2, y2] = *r;
                let (bw, bh) = (f64::from(x2 - x1 + 1.0), f64::from(y2 - y1 + 1.0));
                let m = &marks[10 * j..10 * j + 10];
                let points = std::array::from_fn(|k| {
                    [
                        bw * f64::from(m[k]) + f64::from(x1) - 1.0,
                        bh * f64::from(m[5 + k]) + f64::from(y1) - 1.0,
                    ]
                });
                *slot = Some((prob[j], points));
                j += 1;
            }
        }
        out
    }
}

/// `(x − 127.5) · 0.0078125`, MTCNN's input scaling.
fn normalise(x: &Tensor) -> Tensor {
    (x - INPUT_MEAN) * INPUT_SCALE
}

/// A tensor's values as a flat `Vec<f32>` (on the CPU).
fn to_vec(t: &Tensor) -> Vec<f32> {
    let t = t
        .to_device(Device::Cpu)
        .to_kind(Kind::Float)
        .contiguous()
        .flatten(0, -1);
    Vec::<f32>::try_from(&t).expect("a float tensor")
}

/// The boxes that cover at least one pixel, and their crops resized to `size`×`size` by area
/// averaging and normalised, as one batch (`None` when no box is left).
fn crops(img: &Tensor, boxes: Vec<Candidate>, size: i64) -> (Vec<Candidate>, Option<Tensor>) {
    let (h, w) = (img.size()[2], img.size()[3]);
    let mut kept = Vec::new();
    let mut batch = Vec::new();
    for b in boxes {
        let Some([x0, y0, x1, y1]) = pixel_range(b.rect) else {
            continue;
        };
        let (cx0, cy0, cx1, cy1) = (x0.max(0), y0.max(0), x1.min(w), y1.min(h));
        if cx1 <= cx0 || cy1 <= cy0 {
            continue;
        }
        let inside = img.narrow(2, cy0, cy1 - cy0).narrow(3, cx0, cx1 - cx0);
        // MTCNN's crops keep the box's square shape: what lies outside the image is zero bytes.
        // Deviation: from facenet-pytorch, which clips the box to the image and stretches the
        // clipped crop to a square; this follows the original MTCNN code (and keeps faces at a
        // photo's edge undistorted).
        let padded = inside.constant_pad_nd([cx0 - x0, x1 - cx1, cy0 - y0, y1 - cy1]);
        batch.push(padded.adaptive_avg_pool2d([size, size]));
        kept.push(b);
    }
    if batch.is_empty() {
        return (kept, None);
    }
    let x = normalise(&Tensor::cat(&batch, 0));
    (kept, Some(x))
}
