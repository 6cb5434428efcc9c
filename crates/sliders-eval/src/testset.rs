//! The test images of the protocol (docs/fader-networks.md#evaluation-and-table-1): the test part
//! of the prepared data, split once into two disjoint halves (edits are made on the first, FID/KID
//! references come from the second), and per attribute a balanced selection (as many images with
//! the attribute as without), the same images for every row of the table.

use crate::EvalError;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use sliders_celeba::{Part, Prepared};
use tch::{Kind, Tensor};

/// Every test image in memory (`[N, 3, S, S]` f32 in [−1, 1], CPU) with its annotations.
pub struct TestSet {
    images: Tensor,
    /// Cache index of each image.
    pub cache_index: Vec<usize>,
    /// File name of each image.
    pub names: Vec<String>,
    bits: Vec<u64>,
    attr_names: Vec<String>,
}

impl TestSet {
    /// Loads the test part of `data`.
    pub fn load(data: &Prepared) -> Result<Self, EvalError> {
        let mut chunks = Vec::new();
        let mut cache_index = Vec::new();
        for batch in data.eval_batches(Part::Test, 256) {
            chunks.push(Tensor::try_from(&batch.images).expect("a batch's images are contiguous"));
            cache_index.extend_from_slice(&batch.indices);
        }
        if cache_index.is_empty() {
            return Err(EvalError::Config(format!(
                "the test part of {} is empty: evaluation needs test images (use more images or \
                 other data.split fractions)",
                data.split_path.display()
            )));
        }
        let names = cache_index
            .iter()
            .map(|&i| data.records[i].name.clone())
            .collect();
        let bits = cache_index.iter().map(|&i| data.records[i].bits).collect();
        Ok(Self {
            images: Tensor::cat(&chunks, 0),
            cache_index,
            names,
            bits,
            attr_names: data.attr_names.clone(),
        })
    }

    /// Number of test images.
    pub fn len(&self) -> usize {
        self.cache_index.len()
    }

    /// A test set from its parts (tests): images `[N, 3, S, S]`, one attribute bit mask per
    /// image (bit `k` for `attr_names[k]`).
    #[cfg(test)]
    pub(crate) fn from_parts(images: Tensor, bits: Vec<u64>, attr_names: &[&str]) -> Self {
        let n = bits.len();
        Self {
            images,
            cache_index: (0..n).collect(),
            names: (0..n).map(|i| format!("{:06}.jpg", i + 1)).collect(),
            bits,
            attr_names: attr_names.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// Whether there is none (never, after [`load`](Self::load)).
    pub fn is_empty(&self) -> bool {
        self.cache_index.is_empty()
    }

    /// Image side `S`.
    pub fn image_size(&self) -> i64 {
        self.images.size()[2]
    }

    /// Column of `attr` in the attribute file, or an error listing the known names.
    pub fn column(&self, attr: &str) -> Result<usize, EvalError> {
        self.attr_names
            .iter()
            .position(|a| a == attr)
            .ok_or_else(|| {
                EvalError::Config(format!(
                    "attribute `{attr}` is not in the data's attribute file; known: {}",
                    self.attr_names.join(", ")
                ))
            })
    }

    /// Whether image `pos` has the attribute in column `col`.
    pub fn has(&self, pos: usize, col: usize) -> bool {
        (self.bits[pos] >> col) & 1 == 1
    }

    /// Labels of `attr` for `positions`.
    pub fn labels(&self, positions: &[usize], attr: &str) -> Result<Vec<bool>, EvalError> {
        let col = self.column(attr)?;
        Ok(positions.iter().map(|&p| self.has(p, col)).collect())
    }

    /// Images at `positions`, `[n, 3, S, S]` on the CPU.
    pub fn images(&self, positions: &[usize]) -> Tensor {
        let idx: Vec<i64> = positions.iter().map(|&p| p as i64).collect();
        self.images
            .index_select(0, &Tensor::from_slice(&idx))
            .to_kind(Kind::Float)
    }

    /// The two disjoint halves (positions), shuffled with `seed`: edits on the first, real
    /// references for FID/KID from the second.
    pub fn halves(&self, seed: u64) -> (Vec<usize>, Vec<usize>) {
        let mut all: Vec<usize> = (0..self.len()).collect();
        all.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x4A1F));
        let second = all.split_off(all.len() / 2);
        (all, second)
    }

    /// A balanced selection from `pool`: up to `per_value` images without `attr` and as many
    /// with it (the smaller class limits both), shuffled with `seed`, negatives and positives
    /// interleaved.
    pub fn balanced(
        &self,
        pool: &[usize],
        attr: &str,
        per_value: usize,
        seed: u64,
    ) -> Result<Vec<usize>, EvalError> {
        let col = self.column(attr)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ col as u64);
        let (mut pos, mut neg): (Vec<usize>, Vec<usize>) =
            pool.iter().partition(|&&p| self.has(p, col));
        pos.shuffle(&mut rng);
        neg.shuffle(&mut rng);
        let k = per_value.min(pos.len()).min(neg.len());
        if k == 0 {
            return Err(EvalError::Config(format!(
                "no balanced test set for `{attr}`: the test half has {} images with it and {} \
                 without; use more test images",
                pos.len(),
                neg.len()
            )));
        }
        Ok(neg[..k]
            .iter()
            .zip(&pos[..k])
            .flat_map(|(&n, &p)| [n, p])
            .collect())
    }
}
