//! Building a cache file (layout in the parent module): the side check, the temporary file, the
//! streaming of decoded chunks to it through a writer thread, the header written last and the
//! rename into place.

use super::{
    BuildOptions, CHUNK, CacheParams, HEADER, MAGIC, Progress, Scratch, VERSION, framing_code,
    preprocess_into, source_key,
};
use crate::dataset::{CelebaIndex, ImageRecord};
use crate::error::{CelebaError, Result};
use rayon::prelude::*;
use sliders_config::data::BadImagePolicy;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, SyncSender};

/// Removes the temporary file unless the build committed it.
struct TempGuard {
    path: PathBuf,
    committed: bool,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Builds the cache file at `path` from the images of `index` (streaming, parallel, atomic).
pub fn build(
    index: &CelebaIndex,
    path: &Path,
    params: CacheParams,
    options: BuildOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    check_side(params.size as usize)?;
    let (tmp, file) = create_temp(path)?;
    let mut guard = TempGuard {
        path: tmp.clone(),
        committed: false,
    };
    let wr_err = |e: std::io::Error| write_error(&tmp, e);
    let mut out = BufWriter::with_capacity(1 << 20, file);
    out.write_all(&[0u8; HEADER]).map_err(wr_err)?;
    let pool = thread_pool(options.threads)?;
    let (mut out, (names, skipped)) =
        stream_images(index, params, options, &pool, out, progress, wr_err)?;
    let names_text = names.join("\n");
    out.write_all(names_text.as_bytes()).map_err(wr_err)?;
    let header = header(index, params, names.len(), names_text.len());
    commit(out, &header, &tmp, path)?;
    guard.committed = true;
    tracing::info!(
        "wrote cache {} ({} images, {skipped} skipped)",
        path.display(),
        names.len()
    );
    Ok(())
}

/// Fails on an image side of 0 or over 4096.
fn check_side(s: usize) -> Result<()> {
    if s == 0 || s > 4096 {
        return Err(CelebaError::Config {
            field: "image_size",
            what: format!("{s} is not a usable image side"),
            fix: "use a side between 1 and 4096 (the papers use 64, 128 or 256)".into(),
        });
    }
    Ok(())
}

/// Creates the cache folder and the temporary file next to `path` (named after this process).
fn create_temp(path: &Path) -> Result<(PathBuf, File)> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| {
        CelebaError::io(
            "creating",
            dir,
            e,
            "make the cache folder writable or set data.cache_dir",
        )
    })?;
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let file = File::create(&tmp).map_err(|e| {
        CelebaError::io(
            "creating",
            &tmp,
            e,
            "make the cache folder writable or set data.cache_dir",
        )
    })?;
    Ok((tmp, file))
}

/// The error of a failed write to the temporary file `tmp`.
fn write_error(tmp: &Path, e: std::io::Error) -> CelebaError {
    CelebaError::io(
        "writing",
        tmp,
        e,
        "free disk space or set data.cache_dir elsewhere",
    )
}

/// The worker pool of the build (`threads` 0: rayon's default).
fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CelebaError::Config {
            field: "threads",
            what: format!("cannot start {threads} threads ({e})"),
            fix: "use 0 (all cores) or a small number".into(),
        })
}

/// The names of the images kept, in order, and how many were skipped.
type Kept<'a> = (Vec<&'a str>, usize);

/// Appends every image of `index` to `out`: two chunk buffers, the workers fill one while a
/// writer thread appends the other to the file, so disk writes overlap decoding (memory:
/// 2 * CHUNK * 3 * S * S bytes). Returns the writer and the images kept.
fn stream_images<'a>(
    index: &'a CelebaIndex,
    params: CacheParams,
    options: BuildOptions,
    pool: &rayon::ThreadPool,
    out: BufWriter<File>,
    progress: &mut dyn FnMut(Progress),
    wr_err: impl Fn(std::io::Error) -> CelebaError,
) -> Result<(BufWriter<File>, Kept<'a>)> {
    let s = params.size as usize;
    let img_bytes = 3 * s * s;
    let total = index.records.len();
    let chunk_bytes = CHUNK.min(total.max(1)) * img_bytes;
    let (tx_full, rx_full) = std::sync::mpsc::sync_channel::<(Vec<u8>, Vec<bool>)>(1);
    let (tx_free, rx_free) = std::sync::mpsc::channel::<Vec<u8>>();
    for _ in 0..2 {
        let _ = tx_free.send(vec![0u8; chunk_bytes]);
    }
    let (fill, written) = std::thread::scope(|sc| {
        let writer = sc.spawn(move || write_chunks(rx_full, tx_free, out, img_bytes));
        let fill = fill_chunks(index, params, options, pool, &rx_free, &tx_full, progress);
        drop(tx_full);
        (fill, writer.join())
    });
    let kept = fill?;
    let out = match written {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(wr_err(e)),
        Err(_) => return Err(wr_err(std::io::Error::other("the writer thread panicked"))),
    };
    Ok((out, kept))
}

/// The writer thread: appends the kept slots of each full buffer to `out`, then hands the buffer
/// back to the workers.
fn write_chunks(
    rx_full: Receiver<(Vec<u8>, Vec<bool>)>,
    tx_free: Sender<Vec<u8>>,
    mut out: BufWriter<File>,
    img_bytes: usize,
) -> std::io::Result<BufWriter<File>> {
    for (buf, ok) in rx_full {
        for (slot, keep) in buf.chunks(img_bytes).zip(&ok) {
            if *keep {
                out.write_all(slot)?;
            }
        }
        let _ = tx_free.send(buf);
    }
    Ok(out)
}

/// The workers' side: decodes the records chunk by chunk into free buffers, sends each full one
/// to the writer and reports progress; stops early (without an error) when the writer is gone.
fn fill_chunks<'a>(
    index: &'a CelebaIndex,
    params: CacheParams,
    options: BuildOptions,
    pool: &rayon::ThreadPool,
    rx_free: &Receiver<Vec<u8>>,
    tx_full: &SyncSender<(Vec<u8>, Vec<bool>)>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Kept<'a>> {
    let s = params.size as usize;
    let img_bytes = 3 * s * s;
    let total = index.records.len();
    let mut names: Vec<&str> = Vec::with_capacity(total);
    let mut skipped = 0;
    let mut done = 0;
    for chunk in index.records.chunks(CHUNK) {
        // A closed channel means the writer stopped on an error; join reports it.
        let Ok(mut buf) = rx_free.recv() else {
            return Ok((names, skipped));
        };
        let slots = &mut buf[..chunk.len() * img_bytes];
        let results = decode_chunk(index, params, pool, chunk, slots, img_bytes);
        let ok = keep_or_skip(results, chunk, options, &mut names, &mut skipped)?;
        if tx_full.send((buf, ok)).is_err() {
            return Ok((names, skipped));
        }
        done += chunk.len();
        progress(Progress {
            done,
            total,
            skipped,
        });
    }
    Ok((names, skipped))
}

/// Decodes, crops and resizes one chunk of records into its slots on the pool.
fn decode_chunk(
    index: &CelebaIndex,
    params: CacheParams,
    pool: &rayon::ThreadPool,
    chunk: &[ImageRecord],
    slots: &mut [u8],
    img_bytes: usize,
) -> Vec<Result<()>> {
    pool.install(|| {
        slots
            .par_chunks_mut(img_bytes)
            .zip(chunk.par_iter())
            .map_init(Scratch::default, |scratch, (slot, rec)| {
                preprocess_into(index, rec, params, slot, scratch)
            })
            .collect()
    })
}

/// Per record of a decoded chunk, whether its slot is kept: a decoded image is (its name goes
/// to `names`); a bad one stops the build or, with the `skip` policy, is skipped with a warning.
fn keep_or_skip<'a>(
    results: Vec<Result<()>>,
    chunk: &'a [ImageRecord],
    options: BuildOptions,
    names: &mut Vec<&'a str>,
    skipped: &mut usize,
) -> Result<Vec<bool>> {
    let mut ok = Vec::with_capacity(chunk.len());
    for (res, rec) in results.into_iter().zip(chunk) {
        match res {
            Ok(()) => {
                names.push(&rec.name);
                ok.push(true);
            }
            Err(e) => match options.on_bad_image {
                BadImagePolicy::Stop => return Err(e),
                BadImagePolicy::Skip => {
                    tracing::warn!("skipping: {e}");
                    *skipped += 1;
                    ok.push(false);
                }
            },
        }
    }
    Ok(ok)
}

/// The file header (layout in the parent module) of `count` images and `names_len` bytes of names.
fn header(
    index: &CelebaIndex,
    params: CacheParams,
    count: usize,
    names_len: usize,
) -> [u8; HEADER] {
    let mut header = [0u8; HEADER];
    header[0..8].copy_from_slice(MAGIC);
    header[8..12].copy_from_slice(&VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&0u32.to_le_bytes());
    header[16..20].copy_from_slice(&framing_code(params.framing).to_le_bytes());
    header[20..24].copy_from_slice(&params.size.to_le_bytes());
    header[24..32].copy_from_slice(&(count as u64).to_le_bytes());
    header[32..40].copy_from_slice(&index.fingerprint.to_le_bytes());
    header[40..48].copy_from_slice(&source_key(&index.dir).to_le_bytes());
    header[48..56].copy_from_slice(&(names_len as u64).to_le_bytes());
    header
}

/// Writes the header over the placeholder, syncs the temporary file and renames it to `path`.
fn commit(out: BufWriter<File>, header: &[u8; HEADER], tmp: &Path, path: &Path) -> Result<()> {
    let wr_err = |e: std::io::Error| write_error(tmp, e);
    let mut out = out;
    out.seek(SeekFrom::Start(0)).map_err(wr_err)?;
    out.write_all(header).map_err(wr_err)?;
    let file = out.into_inner().map_err(|e| wr_err(e.into_error()))?;
    file.sync_all().map_err(wr_err)?;
    drop(file);
    std::fs::rename(tmp, path).map_err(|e| {
        CelebaError::io(
            "renaming the finished cache to",
            path,
            e,
            "make the cache folder writable",
        )
    })?;
    Ok(())
}
