//! A CelebA folder joined with its annotations: which annotated images are really present, their
//! attribute bits, official partition and identity, and a fingerprint of the image files
//! (docs/fader-networks.md#files-and-split; docs/icgan.md#attributes: labels are matched to images
//! by file name, and missing images are skipped).

use crate::annotations::{read_attributes, read_identities, read_partition};
use crate::error::{CelebaError, Result};
use crate::split::Part;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Name of the image folder inside a CelebA folder.
pub const IMAGE_DIR: &str = "img_align_celeba";
/// Name of the attribute file.
pub const ATTR_FILE: &str = "list_attr_celeba.txt";
/// Name of the official partition file.
pub const PARTITION_FILE: &str = "list_eval_partition.txt";
/// Name of the identity file.
pub const IDENTITY_FILE: &str = "identity_CelebA.txt";

/// One annotated image that exists in the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    /// File name inside `img_align_celeba/` (`000001.jpg`).
    pub name: String,
    /// Attribute bits in attribute-file column order (bit set = present).
    pub bits: u64,
    /// Official partition, when `list_eval_partition.txt` lists the image.
    pub part: Option<Part>,
    /// Identity number, when `identity_CelebA.txt` lists the image.
    pub identity: Option<u32>,
}

/// A CelebA-layout folder: annotations joined with the images present.
#[derive(Debug, Clone)]
pub struct CelebaIndex {
    /// The CelebA folder.
    pub dir: PathBuf,
    /// Attribute names in file order.
    pub attr_names: Vec<String>,
    /// The attribute file (for error messages).
    pub attr_path: PathBuf,
    /// Present, annotated images in attribute-file order.
    pub records: Vec<ImageRecord>,
    /// Rows of the attribute file (present or not).
    pub n_annotated: usize,
    /// FNV-1a 64 over the present images' names, sizes and modification times, in order.
    pub fingerprint: u64,
}

/// 64-bit FNV-1a, used for fingerprints and cache keys (stable across runs and platforms).
#[derive(Debug, Clone, Copy)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    /// Mixes bytes in.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    /// Mixes a u64 in (little endian).
    pub fn write_u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }
}

impl CelebaIndex {
    /// Whether `dir` looks like a CelebA folder with at least one image file.
    pub fn has_images(dir: &Path) -> bool {
        dir.join(ATTR_FILE).is_file()
            && std::fs::read_dir(dir.join(IMAGE_DIR))
                .map(|mut it| it.next().is_some())
                .unwrap_or(false)
    }

    /// Reads the annotations of `dir` and lists `dir/img_align_celeba/`. Rows without an image
    /// are left out and counted in one `info` log line. The partition and identity files are
    /// optional (a warning is logged; the split then treats every image as its own identity).
    pub fn open(dir: &Path) -> Result<Self> {
        let image_dir = dir.join(IMAGE_DIR);
        let present = list_images(&image_dir)?;
        let attr_path = dir.join(ATTR_FILE);
        let attrs = read_attributes(&attr_path)?;
        let (partition, identities) = read_optional_files(dir)?;
        let mut fp = Fnv::default();
        let mut records = Vec::new();
        for (name, &bits) in attrs.images.iter().zip(&attrs.bits) {
            let Some(&(size, mtime)) = present.get(name) else {
                continue;
            };
            fp.write(name.as_bytes());
            fp.write_u64(size);
            fp.write_u64(mtime);
            records.push(ImageRecord {
                name: name.clone(),
                bits,
                part: partition.get(name).copied(),
                identity: identities.get(name).copied(),
            });
        }
        let n_annotated = attrs.images.len();
        tracing::info!(
            "{}: {} of {} annotated images present; {} rows without an image left out; {} files without annotation ignored",
            dir.display(),
            records.len(),
            n_annotated,
            n_annotated - records.len(),
            present.len() - records.len()
        );
        if records.is_empty() {
            return Err(CelebaError::NoImages {
                path: image_dir,
                what: format!(
                    "none of the {n_annotated} images named in {} is there",
                    attr_path.display()
                ),
                fix: "put the aligned CelebA images there (names as in list_attr_celeba.txt)",
            });
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            attr_names: attrs.names,
            attr_path,
            records,
            n_annotated,
            fingerprint: fp.0,
        })
    }

    /// Full path of an image of this folder.
    pub fn image_path(&self, name: &str) -> PathBuf {
        self.dir.join(IMAGE_DIR).join(name)
    }
}

/// The files of `image_dir` (sub-folders and non-UTF-8 names skipped): name -> (size, mtime ns).
fn list_images(image_dir: &Path) -> Result<HashMap<String, (u64, u64)>> {
    let entries = std::fs::read_dir(image_dir).map_err(|e| CelebaError::NoImages {
        path: image_dir.to_path_buf(),
        what: format!("cannot list it ({e})"),
        fix: "put the aligned CelebA images (img_align_celeba/NNNNNN.jpg) there, or set data.celeba_dir",
    })?;
    let mut present: HashMap<String, (u64, u64)> = HashMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            CelebaError::io("listing", image_dir, e, "check the folder's permissions")
        })?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let meta = entry.metadata().map_err(|e| {
            CelebaError::io(
                "reading metadata of",
                entry.path(),
                e,
                "check the file's permissions",
            )
        })?;
        if !meta.is_file() {
            continue;
        }
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        present.insert(name, (meta.len(), mtime));
    }
    Ok(present)
}

/// The optional partition and identity files of `dir`; a missing one is empty (with a warning).
fn read_optional_files(dir: &Path) -> Result<(HashMap<String, Part>, HashMap<String, u32>)> {
    let partition = match read_partition(&dir.join(PARTITION_FILE)) {
        Ok(p) => p,
        Err(CelebaError::Io { path, .. }) => {
            tracing::warn!(
                "no partition file at {}; using a random split",
                path.display()
            );
            HashMap::new()
        }
        Err(e) => return Err(e),
    };
    let identities = match read_identities(&dir.join(IDENTITY_FILE)) {
        Ok(p) => p,
        Err(CelebaError::Io { path, .. }) => {
            tracing::warn!(
                "no identity file at {}; every image is treated as its own identity",
                path.display()
            );
            HashMap::new()
        }
        Err(e) => return Err(e),
    };
    Ok((partition, identities))
}
