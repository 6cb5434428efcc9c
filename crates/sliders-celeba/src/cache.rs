//! The on-disk preprocessing cache: every image cropped with a paper's framing
//! (docs/fader-networks.md#framing-and-resizing, docs/icgan.md#framing-and-resizing), resized to
//! `S`x`S`, stored once as u8 and memory-mapped by later runs.
//!
//! File layout (little endian), version 1:
//!
//! | offset | bytes | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `SLDRIMG\0` |
//! | 8 | 4 | version (1) |
//! | 12 | 4 | layout: 0 = planar **CHW** (each image is `[3, S, S]`, R plane first) |
//! | 16 | 4 | framing: 0 Fader, 1 IcGAN |
//! | 20 | 4 | `S` |
//! | 24 | 8 | image count `N` |
//! | 32 | 8 | source fingerprint (image names, sizes, mtimes) |
//! | 40 | 8 | source key (hash of the source folder path) |
//! | 48 | 8 | names length in bytes |
//! | 56 | 8 | reserved (0) |
//! | 64 | `N*3*S*S` | images, u8 CHW, in attribute-file order |
//! | ... | names length | image file names, `\n`-separated |
//!
//! The build streams: images are decoded and resized in parallel (rayon) one chunk at a time and
//! appended to a temporary file, so memory stays flat whatever `N`; the header is written last and
//! the file renamed into place, so a crash never leaves a half-written cache. A cache whose header
//! disagrees with the source or parameters, or whose length is wrong (cut short), is rebuilt.

use crate::dataset::{CelebaIndex, Fnv, ImageRecord};
use crate::error::{CelebaError, Result};
use crate::framing::crop_box;
use crate::resize::Resampler;
use sliders_config::data::{BadImagePolicy, Framing};
use std::fs::File;
use std::path::{Path, PathBuf};

mod write;
pub use write::build;

const MAGIC: &[u8; 8] = b"SLDRIMG\0";
const VERSION: u32 = 1;
const HEADER: usize = 64;
/// Images decoded per parallel chunk (memory per chunk: `CHUNK * 3 * S * S` bytes).
const CHUNK: usize = 256;

/// What a cache holds, besides the images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheParams {
    /// The crop applied before resizing.
    pub framing: Framing,
    /// Output side `S`.
    pub size: u32,
}

/// Progress of a cache build, passed to the caller's callback after each chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Images processed so far (written or skipped).
    pub done: usize,
    /// Images to process.
    pub total: usize,
    /// Images skipped as unreadable (policy `skip`).
    pub skipped: usize,
}

/// Options of a cache build.
#[derive(Debug, Clone, Copy)]
pub struct BuildOptions {
    /// What to do with an unreadable image.
    pub on_bad_image: BadImagePolicy,
    /// Worker threads; 0 = rayon's default (all cores).
    pub threads: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            on_bad_image: BadImagePolicy::Stop,
            threads: 0,
        }
    }
}

fn framing_code(f: Framing) -> u32 {
    match f {
        Framing::Fader => 0,
        Framing::Icgan => 1,
    }
}

/// A memory-mapped cache: `N` images `[3, S, S]` u8 (CHW) and their file names.
#[derive(Debug)]
pub struct ImageCache {
    path: PathBuf,
    map: memmap2::Mmap,
    params: CacheParams,
    count: usize,
    fingerprint: u64,
    source_key: u64,
    names: Vec<String>,
}

fn rd_u32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"))
}
fn rd_u64(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"))
}

impl ImageCache {
    /// Opens and validates a cache file (magic, version, layout, length).
    pub fn open(path: &Path) -> Result<Self> {
        let bad = |what: String| CelebaError::BadCache {
            path: path.to_path_buf(),
            what,
        };
        let file = File::open(path).map_err(|e| {
            CelebaError::io(
                "opening",
                path,
                e,
                "build the cache first (it is built on demand)",
            )
        })?;
        // SAFETY: the file is only ever written under a temporary name and renamed into place,
        // so a mapped cache is never modified by this crate while mapped. Another process
        // truncating it would be a user error (as for any mmap-based loader).
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(&file) }
            .map_err(|e| CelebaError::io("memory-mapping", path, e, "check free address space"))?;
        let len = map.len();
        if len < HEADER {
            return Err(bad(format!(
                "{len} bytes, shorter than the {HEADER}-byte header"
            )));
        }
        if &map[0..8] != MAGIC {
            return Err(bad("not a sliders image cache (wrong magic)".into()));
        }
        let version = rd_u32(&map, 8);
        if version != VERSION {
            return Err(bad(format!(
                "version {version}, this build reads {VERSION}"
            )));
        }
        if rd_u32(&map, 12) != 0 {
            return Err(bad("unknown layout".into()));
        }
        let framing = match rd_u32(&map, 16) {
            0 => Framing::Fader,
            1 => Framing::Icgan,
            f => return Err(bad(format!("unknown framing code {f}"))),
        };
        let size = rd_u32(&map, 20);
        let count = rd_u64(&map, 24) as usize;
        let names_len = rd_u64(&map, 48) as usize;
        let img = 3 * (size as usize) * (size as usize);
        let expect = count
            .checked_mul(img)
            .and_then(|d| d.checked_add(HEADER + names_len));
        if expect != Some(len) {
            return Err(bad(format!(
                "{len} bytes, expected {} for {count} images of {size}x{size} (cut short or damaged)",
                expect.map_or("overflow".to_string(), |e| e.to_string())
            )));
        }
        let names_at = HEADER + count * img;
        let names_text = std::str::from_utf8(&map[names_at..])
            .map_err(|_| bad("image names are not UTF-8".into()))?;
        let names: Vec<String> = if count == 0 {
            Vec::new()
        } else {
            names_text.split('\n').map(str::to_owned).collect()
        };
        if names.len() != count {
            return Err(bad(format!("{} names for {count} images", names.len())));
        }
        Ok(Self {
            path: path.to_path_buf(),
            params: CacheParams { framing, size },
            count,
            fingerprint: rd_u64(&map, 32),
            source_key: rd_u64(&map, 40),
            names,
            map,
        })
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Framing and size.
    pub fn params(&self) -> CacheParams {
        self.params
    }
    /// Side `S` of the square images.
    pub fn size(&self) -> usize {
        self.params.size as usize
    }
    /// Number of images `N`.
    pub fn len(&self) -> usize {
        self.count
    }
    /// Whether the cache holds no image.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// Bytes per image, `3*S*S`.
    pub fn image_bytes(&self) -> usize {
        3 * self.size() * self.size()
    }
    /// Image `i` as `[3, S, S]` u8, CHW, values 0..=255.
    pub fn image(&self, i: usize) -> &[u8] {
        let b = self.image_bytes();
        &self.map[HEADER + i * b..HEADER + (i + 1) * b]
    }
    /// All images as one `[N, 3, S, S]` u8 slice.
    pub fn all_images(&self) -> &[u8] {
        &self.map[HEADER..HEADER + self.count * self.image_bytes()]
    }
    /// File names of the images, in cache order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Fingerprint of the source images this cache was built from.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }
    /// Hash of the source folder path.
    pub fn source_key(&self) -> u64 {
        self.source_key
    }
}

/// Hash of a source folder path (canonicalised when possible).
pub fn source_key(dir: &Path) -> u64 {
    let p = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut h = Fnv::default();
    h.write(p.to_string_lossy().as_bytes());
    h.0
}

/// The cache file for a source and parameters:
/// `<cache_dir>/<folder name>-<source key>-<fader|icgan>-<S>.u8cache`.
pub fn cache_path(cache_dir: &Path, source: &Path, params: CacheParams) -> PathBuf {
    let stem = source
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "source".into());
    let stem: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let fr = match params.framing {
        Framing::Fader => "fader",
        Framing::Icgan => "icgan",
    };
    cache_dir.join(format!(
        "{stem}-{:016x}-{fr}-{}.u8cache",
        source_key(source),
        params.size
    ))
}

/// Opens the cache for `index` and `params` in `cache_dir` when it is valid and matches the
/// source, otherwise (missing, stale, cut short, other parameters) builds it. `progress` is
/// called after each chunk of a build.
pub fn build_or_open(
    index: &CelebaIndex,
    cache_dir: &Path,
    params: CacheParams,
    options: BuildOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImageCache> {
    let path = cache_path(cache_dir, &index.dir, params);
    let key = source_key(&index.dir);
    match ImageCache::open(&path) {
        Ok(c)
            if c.params() == params
                && c.fingerprint() == index.fingerprint
                && c.source_key() == key =>
        {
            tracing::info!("reusing cache {} ({} images)", path.display(), c.len());
            return Ok(c);
        }
        Ok(_) => tracing::info!(
            "cache {} was built from other images or parameters; rebuilding",
            path.display()
        ),
        Err(CelebaError::Io { .. }) => {}
        Err(e) => tracing::warn!("{e}; rebuilding"),
    }
    build(index, &path, params, options, progress)?;
    ImageCache::open(&path)
}

/// Per-worker buffers reused between images.
#[derive(Default)]
struct Scratch {
    file: Vec<u8>,
    tmp: Vec<f32>,
    resampler: Option<Resampler>,
}

/// Reads, decodes (by content: a PNG named `.jpg` is decoded as PNG), crops and resizes one
/// image into `slot` (`[3, S, S]` u8).
fn preprocess_into(
    index: &CelebaIndex,
    rec: &ImageRecord,
    params: CacheParams,
    slot: &mut [u8],
    scratch: &mut Scratch,
) -> Result<()> {
    use std::io::Read;
    let path = index.image_path(&rec.name);
    let file_buf = &mut scratch.file;
    file_buf.clear();
    File::open(&path)
        .and_then(|mut f| f.read_to_end(file_buf))
        .map_err(|e| CelebaError::BadImage {
            path: path.clone(),
            what: format!("cannot read it ({e})"),
            fix: "restore the file, or set data.on_bad_image = \"skip\"",
        })?;
    let rgb = decode_rgb(file_buf, &path)?;
    let (w, h) = rgb.dimensions();
    let b = crop_box(params.framing, w, h);
    let s = params.size as usize;
    let src = (b.width() as usize, b.height() as usize);
    let r = match &mut scratch.resampler {
        Some(r) if r.src_size() == src => r,
        slot => slot.insert(Resampler::new(src.0, src.1, s, s)),
    };
    r.run(
        rgb.as_raw(),
        w as usize * 3,
        b.x0 as usize,
        b.y0 as usize,
        slot,
        &mut scratch.tmp,
    );
    Ok(())
}

/// Frames and resizes one decoded image exactly as the cache does (same crop box and filter):
/// planar CHW u8 `[3, S, S]`. Used to compare generated counterfactuals with cached images and
/// to prepare a user's photo the way the models were trained.
pub fn preprocess_image(rgb: &image::RgbImage, params: CacheParams) -> Vec<u8> {
    let (w, h) = rgb.dimensions();
    let b = crop_box(params.framing, w, h);
    let s = params.size as usize;
    let r = Resampler::new(b.width() as usize, b.height() as usize, s, s);
    let mut out = vec![0u8; r.out_len()];
    let mut tmp = Vec::new();
    r.run(
        rgb.as_raw(),
        w as usize * 3,
        b.x0 as usize,
        b.y0 as usize,
        &mut out,
        &mut tmp,
    );
    out
}

/// Decodes an image file's bytes to RGB8 through [`crate::decode`] with the default limits, by
/// content (JPEG or PNG), without the EXIF pass (CelebA JPEGs carry none). Cut-short, corrupt or
/// oversized files are errors, not grey-padded images.
pub fn decode_rgb(bytes: &[u8], path: &Path) -> Result<image::RgbImage> {
    crate::decode::decode(bytes, path, &crate::DecodeLimits::default(), false).map_err(|e| {
        CelebaError::BadImage {
            path: path.to_path_buf(),
            what: e.reason(),
            fix: "restore the file from the original dataset, or set data.on_bad_image = \"skip\"",
        }
    })
}
