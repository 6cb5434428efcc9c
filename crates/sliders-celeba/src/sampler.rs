//! Batches for training and evaluation (docs/fader-networks.md#sampling-and-flips,
//! docs/icgan.md#batches): cached u8 images (or in-memory ones, e.g. the one-channel digits of
//! [`crate::digits`]) become `[N, C, S, S]` f32 in [-1, 1] (`x / 255 * 2 - 1`, no mean/std) plus
//! the encoded attributes. Training draws i.i.d. indices with replacement (Fader reference) or
//! shuffled epochs, with an optional horizontal flip; a background thread prefetches batches
//! through a bounded channel. Evaluation walks a part in order, the last batch partial.

use crate::attributes::AttributeSelection;
use crate::cache::ImageCache;
use crate::dataset::ImageRecord;
use crate::error::{CelebaError, Result};
use ndarray::{Array2, Array4};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sliders_config::data::{AttributeEncoding, FlipMode, SampleOrder, SamplerConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::JoinHandle;

/// A batch: images `[N, C, S, S]` f32 in [-1, 1] (C = 3 for CelebA; standard row-major layout,
/// CHW per image) and attributes `[N, W]` f32 (one-hot 0/1 or ±1, see
/// [`AttributeSelection::encode_into`]), as ndarray arrays: the tch-free side of the boundary
/// that `sliders_train::tensors` converts with tch's ndarray conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Image values `[N, C, S, S]`, in [-1, 1].
    pub images: Array4<f32>,
    /// Attribute values `[N, W]`.
    pub attributes: Array2<f32>,
    /// Cache indices of the images.
    pub indices: Vec<usize>,
}

impl Batch {
    /// Number of images `N`.
    pub fn len(&self) -> usize {
        self.images.shape()[0]
    }
    /// Whether the batch holds no image.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Columns of the attributes.
    pub fn attr_width(&self) -> usize {
        self.attributes.shape()[1]
    }
}

/// Where a [`BatchSource`]'s u8 pixels live.
#[derive(Debug)]
enum Pixels {
    /// The memory-mapped CelebA cache (`[3, S, S]` per image).
    Cache(Arc<ImageCache>),
    /// Images held in memory, `[N, channels, size, size]` u8 CHW.
    Memory {
        data: Arc<Vec<u8>>,
        channels: usize,
        size: usize,
    },
}

/// The images of one part with their encoded attributes, shared by samplers.
#[derive(Debug)]
pub struct BatchSource {
    pixels: Pixels,
    indices: Vec<usize>,
    labels: Vec<f32>,
    attr_width: usize,
}

impl BatchSource {
    /// A source over `indices` (cache order) of `cache`, whose attribute bits are
    /// `records[i].bits` (records in cache order), encoded with `selection` and `encoding`.
    pub fn new(
        cache: Arc<ImageCache>,
        records: &[ImageRecord],
        indices: Vec<usize>,
        selection: &AttributeSelection,
        encoding: AttributeEncoding,
    ) -> Self {
        let w = selection.width(encoding);
        let mut labels = vec![0.0; indices.len() * w];
        for (k, &i) in indices.iter().enumerate() {
            selection.encode_into(records[i].bits, encoding, &mut labels[k * w..(k + 1) * w]);
        }
        Self {
            pixels: Pixels::Cache(cache),
            indices,
            labels,
            attr_width: w,
        }
    }

    /// A source over in-memory images: `data` holds `[M, channels, size, size]` u8 (CHW),
    /// `indices` the images of this part (positions into `data`), `labels` their encoded rows
    /// (`indices.len() × attr_width`, in `indices` order).
    ///
    /// # Panics
    /// If `labels` has the wrong length or an index is out of `data`.
    pub fn from_memory(
        data: Arc<Vec<u8>>,
        channels: usize,
        size: usize,
        indices: Vec<usize>,
        labels: Vec<f32>,
        attr_width: usize,
    ) -> Self {
        assert_eq!(
            labels.len(),
            indices.len() * attr_width,
            "one label row per image"
        );
        let img = channels * size * size;
        assert!(
            indices.iter().all(|&i| (i + 1) * img <= data.len()),
            "an index is past the images"
        );
        Self {
            pixels: Pixels::Memory {
                data,
                channels,
                size,
            },
            indices,
            labels,
            attr_width,
        }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.indices.len()
    }
    /// Whether the source holds no image.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
    /// Image side `S`.
    pub fn size(&self) -> usize {
        match &self.pixels {
            Pixels::Cache(c) => c.size(),
            Pixels::Memory { size, .. } => *size,
        }
    }
    /// Image channels `C` (3 for CelebA).
    pub fn channels(&self) -> usize {
        match &self.pixels {
            Pixels::Cache(_) => 3,
            Pixels::Memory { channels, .. } => *channels,
        }
    }
    /// Pixels of item `k` (position in this source), `[C, S, S]` u8.
    pub fn image(&self, k: usize) -> &[u8] {
        let i = self.indices[k];
        match &self.pixels {
            Pixels::Cache(c) => c.image(i),
            Pixels::Memory {
                data,
                channels,
                size,
            } => {
                let img = channels * size * size;
                &data[i * img..(i + 1) * img]
            }
        }
    }
    /// Columns of the attribute matrix.
    pub fn attr_width(&self) -> usize {
        self.attr_width
    }
    /// Encoded attributes of item `k` (position in this source).
    pub fn label(&self, k: usize) -> &[f32] {
        &self.labels[k * self.attr_width..(k + 1) * self.attr_width]
    }

    /// Assembles a batch from positions in this source; `flip[k]` mirrors image `k`.
    pub fn batch(&self, positions: &[usize], flip: &[bool]) -> Batch {
        let s = self.size();
        let c = self.channels();
        let img = c * s * s;
        let n = positions.len();
        let mut images = Array4::<f32>::zeros((n, c, s, s));
        let flat = images.as_slice_mut().expect("a new array is contiguous");
        let mut attributes = Vec::with_capacity(n * self.attr_width);
        let lut = lut();
        for (k, &pos) in positions.iter().enumerate() {
            let src = self.image(pos);
            let dst = &mut flat[k * img..(k + 1) * img];
            if flip[k] {
                for (drow, srow) in dst.chunks_exact_mut(s).zip(src.chunks_exact(s)) {
                    for (d, &v) in drow.iter_mut().zip(srow.iter().rev()) {
                        *d = lut[v as usize];
                    }
                }
            } else {
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = lut[v as usize];
                }
            }
            attributes.extend_from_slice(self.label(pos));
        }
        Batch {
            images,
            attributes: Array2::from_shape_vec((n, self.attr_width), attributes)
                .expect("one label row per image"),
            indices: positions.iter().map(|&p| self.indices[p]).collect(),
        }
    }
}

/// u8 -> [-1, 1] as the Fader reference computes it: `x / 255 * 2 - 1`.
fn lut() -> [f32; 256] {
    let mut t = [0f32; 256];
    for (i, v) in t.iter_mut().enumerate() {
        *v = i as f32 / 255.0 * 2.0 - 1.0;
    }
    t
}

/// An endless random batch sampler over a [`BatchSource`].
#[derive(Debug)]
pub struct BatchSampler {
    source: Arc<BatchSource>,
    batch_size: usize,
    order: SampleOrder,
    flip: FlipMode,
    rng: ChaCha8Rng,
    perm: Vec<usize>,
    pos: usize,
}

impl BatchSampler {
    /// A sampler with the config's batch size, order, flip and seed. Panics on an empty source
    /// or a zero batch size; [`BatchSampler::try_new`] returns those as errors.
    pub fn new(source: Arc<BatchSource>, cfg: &SamplerConfig) -> Self {
        match Self::try_new(source, cfg) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// A sampler with the config's batch size, order, flip and seed, or an error naming
    /// `data.sampler.batch_size` (zero) or the empty part.
    pub fn try_new(source: Arc<BatchSource>, cfg: &SamplerConfig) -> Result<Self> {
        if cfg.batch_size == 0 {
            return Err(CelebaError::Config {
                field: "sampler.batch_size",
                what: "0 images per batch".into(),
                fix: "use a batch of at least 1 image (32 in the Fader reference)".into(),
            });
        }
        if source.is_empty() {
            return Err(CelebaError::Config {
                field: "split",
                what: "the part to sample training batches from holds no image".into(),
                fix: "use more images or other data.split.fractions".into(),
            });
        }
        Ok(Self {
            source,
            batch_size: cfg.batch_size,
            order: cfg.order,
            flip: cfg.flip,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            perm: Vec::new(),
            pos: 0,
        })
    }

    /// The next training batch.
    pub fn next_batch(&mut self) -> Batch {
        let (positions, flip) = self.next_plan();
        self.source.batch(&positions, &flip)
    }

    /// Advances the random stream past `n` batches without assembling them, so a resumed run
    /// continues with exactly the batches an uninterrupted run would have drawn next.
    pub fn skip_batches(&mut self, n: u64) {
        for _ in 0..n {
            let _ = self.next_plan();
        }
    }

    /// Positions and flips of the next batch: every random draw of the sampler happens here.
    fn next_plan(&mut self) -> (Vec<usize>, Vec<bool>) {
        let n = self.source.len();
        let bs = self.batch_size;
        let positions: Vec<usize> = match self.order {
            SampleOrder::WithReplacement => (0..bs).map(|_| self.rng.gen_range(0..n)).collect(),
            SampleOrder::ShuffledEpochs => {
                let mut v = Vec::with_capacity(bs);
                while v.len() < bs {
                    if self.pos >= self.perm.len() {
                        self.perm = (0..n).collect();
                        self.perm.shuffle(&mut self.rng);
                        self.pos = 0;
                    }
                    v.push(self.perm[self.pos]);
                    self.pos += 1;
                }
                v
            }
        };
        let flip: Vec<bool> = match self.flip {
            FlipMode::None => vec![false; bs],
            FlipMode::PerBatch => vec![self.rng.gen_bool(0.5); bs],
            // Deviation: per-image flips (IcGAN reference) differ from the Fader reference, which
            // flips the whole batch at once; offered as an option only.
            FlipMode::PerImage => (0..bs).map(|_| self.rng.gen_bool(0.5)).collect(),
        };
        (positions, flip)
    }

    /// Moves this sampler to a background thread that keeps up to `depth` batches ready.
    pub fn prefetch(self, depth: usize) -> Prefetcher {
        Prefetcher::spawn(self, depth)
    }
}

impl Iterator for BatchSampler {
    type Item = Batch;
    fn next(&mut self) -> Option<Batch> {
        Some(self.next_batch())
    }
}

/// A background thread that fills a bounded channel with batches from a [`BatchSampler`].
/// Dropping it stops the thread and joins it.
#[derive(Debug)]
pub struct Prefetcher {
    rx: Option<Receiver<Batch>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Prefetcher {
    /// Starts the thread; `depth` (at least 1) batches are kept ready.
    pub fn spawn(mut sampler: BatchSampler, depth: usize) -> Self {
        let (tx, rx): (SyncSender<Batch>, Receiver<Batch>) =
            std::sync::mpsc::sync_channel(depth.max(1));
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let handle = std::thread::Builder::new()
            .name("sliders-prefetch".into())
            .spawn(move || {
                // A blocked `send` returns an error as soon as the receiver is dropped.
                while !stop2.load(Ordering::Relaxed) {
                    if tx.send(sampler.next_batch()).is_err() {
                        break;
                    }
                }
            })
            .expect("spawning the prefetch thread");
        Self {
            rx: Some(rx),
            stop,
            handle: Some(handle),
        }
    }

    /// The next batch (blocks only if the thread has none ready).
    pub fn next_batch(&self) -> Batch {
        self.rx
            .as_ref()
            .expect("receiver present until drop")
            .recv()
            .expect("the prefetch thread ended early")
    }
}

impl Iterator for Prefetcher {
    type Item = Batch;
    fn next(&mut self) -> Option<Batch> {
        Some(self.next_batch())
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        drop(self.rx.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Batches over a whole source in order, for evaluation: no augmentation, the last batch partial.
#[derive(Debug)]
pub struct SequentialBatches {
    source: Arc<BatchSource>,
    batch_size: usize,
    pos: usize,
}

impl SequentialBatches {
    /// Iterates `source` in batches of `batch_size` (positive).
    pub fn new(source: Arc<BatchSource>, batch_size: usize) -> Self {
        assert!(batch_size > 0, "batch size must be positive");
        Self {
            source,
            batch_size,
            pos: 0,
        }
    }
}

impl Iterator for SequentialBatches {
    type Item = Batch;
    fn next(&mut self) -> Option<Batch> {
        let n = self.source.len();
        if self.pos >= n {
            return None;
        }
        let end = (self.pos + self.batch_size).min(n);
        let positions: Vec<usize> = (self.pos..end).collect();
        self.pos = end;
        Some(self.source.batch(&positions, &vec![false; positions.len()]))
    }
}
