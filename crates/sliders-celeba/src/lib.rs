//! sliders-celeba: CelebA annotation parsing, the memory-mapped preprocessing cache, splits that
//! are disjoint by identity, batch sampling, and the synthetic face generator with exact
//! counterfactuals (docs/fader-networks.md#data, docs/icgan.md#data).
//!
//! The usual entry point is [`prepare`]: it finds the data (CelebA, or synthetic faces when none
//! is found), builds or reuses the preprocessing cache, loads or computes the split, and returns a
//! [`Prepared`] dataset that hands out training samplers and evaluation batches:
//!
//! ```no_run
//! use sliders_celeba::{prepare, Part};
//! use sliders_config::data::DataConfig;
//! let cfg = DataConfig::default();
//! let data = prepare(&cfg, &mut |_progress| {}).unwrap();
//! let train = data.train_sampler(&cfg.sampler).prefetch(cfg.sampler.prefetch);
//! let batch = train.next_batch(); // images [32, 3, S, S] f32 in [-1, 1], attributes [32, 2k]
//! for batch in data.eval_batches(Part::Valid, 32) { /* ... */ }
//! ```

pub mod annotations;
pub mod attributes;
pub mod cache;
pub mod dataset;
pub mod decode;
pub mod digits;
pub mod error;
pub mod framing;
pub mod resize;
pub mod sampler;
pub mod split;
pub mod synthetic;

pub use attributes::{AttributeSelection, CELEBA_ATTRIBUTES, ICGAN18};
pub use cache::{BuildOptions, CacheParams, ImageCache, Progress};
pub use dataset::{CelebaIndex, ImageRecord};
pub use decode::{DecodeError, DecodeLimits};
pub use digits::DigitsData;
pub use error::{CelebaError, Result};
/// The ndarray version of [`Batch`]'s arrays (the one tch converts to and from).
pub use ndarray;
pub use sampler::{Batch, BatchSampler, BatchSource, Prefetcher, SequentialBatches};
pub use split::{Part, Split};

use sliders_config::data::{AttributeEncoding, DataConfig, SamplerConfig};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a prepared dataset's images come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// A CelebA folder (full or partial).
    Celeba(PathBuf),
    /// Synthetic faces generated into this folder (no CelebA was found).
    Synthetic(PathBuf),
}

/// A dataset ready for training: the cache, per-image annotations, attributes and split.
#[derive(Debug)]
pub struct Prepared {
    /// Where the images come from.
    pub source: DataSource,
    /// The memory-mapped preprocessed images.
    pub cache: Arc<ImageCache>,
    /// Annotations of the cached images, in cache order.
    pub records: Vec<ImageRecord>,
    /// Attribute names of the source's attribute file (file order).
    pub attr_names: Vec<String>,
    /// The selected attributes `y`.
    pub selection: AttributeSelection,
    /// How `y` is encoded.
    pub encoding: AttributeEncoding,
    /// Part of each cached image.
    pub split: Split,
    /// The split file beside the cache.
    pub split_path: PathBuf,
}

impl Prepared {
    /// The images of one part with their encoded attributes.
    pub fn batch_source(&self, part: Part) -> Arc<BatchSource> {
        Arc::new(BatchSource::new(
            self.cache.clone(),
            &self.records,
            self.split.indices(part),
            &self.selection,
            self.encoding,
        ))
    }

    /// An endless random sampler over the train part.
    pub fn train_sampler(&self, cfg: &SamplerConfig) -> BatchSampler {
        BatchSampler::new(self.batch_source(Part::Train), cfg)
    }

    /// Batches over a part in order (last batch partial), for evaluation.
    pub fn eval_batches(&self, part: Part, batch_size: usize) -> SequentialBatches {
        SequentialBatches::new(self.batch_source(part), batch_size)
    }

    /// Width of the encoded attribute vector.
    pub fn attr_width(&self) -> usize {
        self.selection.width(self.encoding)
    }
}

/// Prepares the dataset `cfg` describes: CelebA from `cfg.celeba_dir` when it holds images,
/// otherwise synthetic faces (generated into `cfg.synthetic.dir` if not already there).
pub fn prepare(cfg: &DataConfig, progress: &mut dyn FnMut(Progress)) -> Result<Prepared> {
    let source = if CelebaIndex::has_images(&cfg.celeba_dir) {
        DataSource::Celeba(cfg.celeba_dir.clone())
    } else {
        let s = &cfg.synthetic;
        tracing::warn!(
            "no CelebA images in {}; using {} synthetic faces in {}",
            cfg.celeba_dir.display(),
            s.n_images,
            s.dir.display()
        );
        synthetic::ensure(&s.dir, s.n_images, s.width, s.seed)?;
        DataSource::Synthetic(s.dir.clone())
    };
    let dir = match &source {
        DataSource::Celeba(d) | DataSource::Synthetic(d) => d.clone(),
    };
    let mut p = prepare_dir(&dir, cfg, progress)?;
    p.source = source;
    Ok(p)
}

/// Prepares the CelebA-layout folder `dir` with the cache, attribute and split settings of `cfg`.
pub fn prepare_dir(
    dir: &Path,
    cfg: &DataConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<Prepared> {
    let index = CelebaIndex::open(dir)?;
    let selection =
        AttributeSelection::resolve(&cfg.attributes, &index.attr_names, &index.attr_path)?;
    let params = CacheParams {
        framing: cfg.framing,
        size: cfg.image_size,
    };
    let options = BuildOptions {
        on_bad_image: cfg.on_bad_image,
        threads: cfg.threads,
    };
    let cache = cache::build_or_open(&index, &cfg.cache_dir, params, options, progress)?;
    let by_name: HashMap<&str, &ImageRecord> =
        index.records.iter().map(|r| (r.name.as_str(), r)).collect();
    let records: Vec<ImageRecord> = cache
        .names()
        .iter()
        .map(|n| by_name.get(n.as_str()).map(|r| (*r).clone()))
        .collect::<Option<_>>()
        .ok_or_else(|| CelebaError::BadCache {
            path: cache.path().to_path_buf(),
            what: "names an image that the annotations do not list".into(),
        })?;
    let split_path = cache.path().with_extension("split.txt");
    let split = split::load_or_compute(&split_path, &records, &cfg.split)?;
    for part in Part::ALL {
        if split.indices(part).is_empty() {
            tracing::warn!("the {} part is empty", part.as_str());
        }
    }
    Ok(Prepared {
        source: DataSource::Celeba(dir.to_path_buf()),
        cache: Arc::new(cache),
        records,
        attr_names: index.attr_names,
        selection,
        encoding: cfg.encoding,
        split,
        split_path,
    })
}
