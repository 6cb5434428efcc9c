//! Batch jobs over many photos: expanding `--input` files and folders, framing each photo, running
//! the model in batches, writing each result, and a summary in which one bad file never stops the
//! others (`sliders edit`, `sliders interpolate`).

use crate::error::{EditError, Result};
use crate::faces::FaceFinder;
use crate::model::{Edit, Editor, Setting};
use crate::output::{write_gif, write_png};
use crate::paste::Placement;
use crate::photo::{Crop, FramedBy, Photo, to_image, to_tensor};
use crate::strip;
use sliders_celeba::DecodeLimits;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Extensions (lower case) taken from folders. Files named explicitly are decoded by content.
pub const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// A file (or folder) that could not be done, and why.
#[derive(Debug)]
pub struct Failure {
    /// The input.
    pub path: PathBuf,
    /// What went wrong.
    pub error: EditError,
}

/// A photo that was done.
#[derive(Debug, Clone)]
pub struct Done {
    /// The input file.
    pub path: PathBuf,
    /// How its face was framed.
    pub framed_by: FramedBy,
    /// The files written for it.
    pub outputs: Vec<PathBuf>,
}

/// The outcome of a job.
#[derive(Debug, Default)]
pub struct Summary {
    /// Photos done, in input order.
    pub done: Vec<Done>,
    /// Inputs that failed, in input order.
    pub failed: Vec<Failure>,
    /// Files written for the whole job (the strip and the GIF of `interpolate`).
    pub outputs: Vec<PathBuf>,
}

impl Summary {
    /// True when no input failed.
    pub fn all_ok(&self) -> bool {
        self.failed.is_empty()
    }

    /// A multi-line report: counts, then one line per failure.
    pub fn report(&self) -> String {
        let mut s = format!(
            "{} photo(s) done, {} failed",
            self.done.len(),
            self.failed.len()
        );
        let centred = self
            .done
            .iter()
            .filter(|d| d.framed_by == FramedBy::Center)
            .count();
        if centred > 0 {
            s.push_str(&format!(
                " ({centred} framed by a centred square, not the CelebA crop)"
            ));
        }
        for f in &self.failed {
            s.push_str(&format!("\n  FAILED {}: {}", f.path.display(), f.error));
        }
        s
    }
}

/// Expands `inputs`: files are kept as given; a folder gives its `.jpg`, `.jpeg` and `.png` files
/// (sorted, not recursive). A missing path or a folder without images is a [`Failure`].
pub fn collect_inputs(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<Failure>) {
    let mut files = Vec::new();
    let mut failed = Vec::new();
    for input in inputs {
        match std::fs::metadata(input) {
            Err(source) => failed.push(Failure {
                path: input.clone(),
                error: EditError::Read {
                    path: input.clone(),
                    source,
                },
            }),
            Ok(m) if m.is_dir() => match std::fs::read_dir(input) {
                Err(source) => failed.push(Failure {
                    path: input.clone(),
                    error: EditError::Read {
                        path: input.clone(),
                        source,
                    },
                }),
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_file() && is_image_name(p))
                        .collect();
                    found.sort();
                    if found.is_empty() {
                        failed.push(Failure {
                            path: input.clone(),
                            error: EditError::EmptyFolder {
                                path: input.clone(),
                            },
                        });
                    }
                    files.extend(found);
                }
            },
            Ok(_) => files.push(input.clone()),
        }
    }
    (files, failed)
}

fn is_image_name(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Loads and frames every file for `editor` within decode `limits`; failures are collected, not
/// returned. With [`Crop::Auto`] or [`Crop::Align`] the face detector is loaded once and a photo
/// may give several faces ([`crate::faces`]).
pub fn load_photos(
    editor: &Editor,
    files: &[PathBuf],
    crop: Crop,
    limits: &DecodeLimits,
) -> (Vec<Photo>, Vec<Failure>) {
    let info = editor.info();
    let mut photos = Vec::new();
    let mut failed = Vec::new();
    let finder = match crop {
        Crop::Auto | Crop::Align => match FaceFinder::load() {
            Ok(f) => Some(f),
            Err(e) if crop == Crop::Auto => {
                tracing::warn!(
                    "{e}; --crop auto falls back to the CelebA crop for 178:218 photos and a \
                     centred square for the others"
                );
                None
            }
            Err(e) => {
                let failures = files.iter().map(|f| Failure {
                    path: f.clone(),
                    error: EditError::Detector(e.to_string()),
                });
                return (Vec::new(), failures.collect());
            }
        },
        _ => None,
    };
    for f in files {
        let loaded = match &finder {
            Some(finder) => crate::photo::decode_with(f, limits)
                .and_then(|image| finder.frame(f, image, info.image_size, info.framing, crop)),
            None => {
                Photo::load_with(f, info.image_size, info.framing, crop, limits).map(|p| vec![p])
            }
        };
        match loaded {
            Ok(faces) => {
                if faces.iter().any(|p| p.framed_by == FramedBy::Center) && crop == Crop::Auto {
                    tracing::warn!(
                        "{}: not shaped like an aligned CelebA image (178x218); using a centred \
                         square. Faces framed differently from the training crop edit poorly: \
                         pass --crop x,y,w,h around the face (head and some hair, eyes about 45% \
                         from the top)",
                        f.display()
                    );
                }
                photos.extend(faces);
            }
            Err(error) => failed.push(Failure {
                path: f.clone(),
                error,
            }),
        }
    }
    (photos, failed)
}

/// Runs `editor` on `(photo, edit)` pairs in batches of `batch_size`; returns the edited faces in
/// pair order, as `S`x`S` RGB images.
pub fn run_pairs(
    editor: &Editor,
    pairs: &[(&Photo, Edit)],
    batch_size: usize,
) -> Result<Vec<image::RgbImage>> {
    let size = editor.info().image_size;
    let mut out = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(batch_size.max(1)) {
        let faces: Vec<&[u8]> = chunk.iter().map(|(p, _)| p.face.as_slice()).collect();
        let edits: Vec<Edit> = chunk.iter().map(|(_, e)| e.clone()).collect();
        let y = editor.edit_batch(&to_tensor(&faces, size), &edits)?;
        for i in 0..chunk.len() {
            out.push(to_image(&y, i as i64));
        }
    }
    Ok(out)
}

/// What `sliders edit` does.
#[derive(Debug, Clone)]
pub struct EditJob {
    /// Files and folders.
    pub inputs: Vec<PathBuf>,
    /// `--set Name=value` settings.
    pub settings: Vec<Setting>,
    /// Face framing.
    pub crop: Crop,
    /// Output folder.
    pub out_dir: PathBuf,
    /// Also write the edit blended into the full-size photo.
    pub paste_back: bool,
    /// Images per forward pass.
    pub batch_size: usize,
    /// How large a photo may be (`--max-image-side`, `--max-image-pixels`, `--max-image-mb`).
    pub limits: DecodeLimits,
}

/// Runs an edit job: `<out>/<stem>.png` at the model's resolution per photo and, with
/// `paste_back`, `<out>/<stem>_pasted.png` at the photo's size. Returns `Err` only for problems
/// that concern every photo (a bad `--set`); per-file problems land in the summary.
pub fn run_edit(editor: &Editor, job: &EditJob) -> Result<Summary> {
    let edit = editor.resolve(&job.settings)?;
    let set: HashSet<usize> = edit.0.iter().map(|&(i, _)| i).collect();
    let info = editor.info();
    if info.kind == crate::ModelKind::Fader && set.len() < info.attributes.len() {
        let unset: Vec<&str> = (0..info.attributes.len())
            .filter(|i| !set.contains(i))
            .map(|i| info.attributes[i].as_str())
            .collect();
        tracing::warn!(
            "not set: {}; a photo has no labels, so these sit at {} (halfway); set them with \
             --set Name=0 or Name=1",
            unset.join(", "),
            crate::model::FADER_UNSET_ALPHA
        );
    }
    let (files, mut failed) = collect_inputs(&job.inputs);
    let (photos, bad) = load_photos(editor, &files, job.crop, &job.limits);
    failed.extend(bad);
    let pairs: Vec<(&Photo, Edit)> = photos.iter().map(|p| (p, edit.clone())).collect();
    let edited = run_pairs(editor, &pairs, job.batch_size)?;
    let mut names = UniqueNames::default();
    let mut done = Vec::new();
    for (photo, img) in photos.iter().zip(&edited) {
        let stem = names.next(&photo.path);
        let mut outputs = Vec::new();
        let result = (|| -> Result<()> {
            let p = job.out_dir.join(format!("{stem}.png"));
            write_png(&p, img)?;
            outputs.push(p);
            if job.paste_back {
                let p = job.out_dir.join(format!("{stem}_pasted.png"));
                let (w, h) = photo.image.dimensions();
                let pasted = Placement::of(photo, w, h).paste(&photo.image, img);
                write_png(&p, &pasted)?;
                outputs.push(p);
            }
            Ok(())
        })();
        match result {
            Ok(()) => done.push(Done {
                path: photo.path.clone(),
                framed_by: photo.framed_by,
                outputs,
            }),
            Err(error) => failed.push(Failure {
                path: photo.path.clone(),
                error,
            }),
        }
    }
    Ok(Summary {
        done,
        failed,
        outputs: Vec::new(),
    })
}

/// What `sliders interpolate` does.
#[derive(Debug, Clone)]
pub struct InterpolateJob {
    /// Files and folders.
    pub inputs: Vec<PathBuf>,
    /// The attribute to slide.
    pub attribute: String,
    /// The slider values, one column each.
    pub alphas: Vec<f64>,
    /// Other attributes held fixed (`--set`).
    pub settings: Vec<Setting>,
    /// Face framing.
    pub crop: Crop,
    /// The strip or grid (PNG): one row per photo, one column per α, labelled.
    pub out: PathBuf,
    /// Also an animated GIF (one frame per α, there and back).
    pub gif: Option<PathBuf>,
    /// Images per forward pass.
    pub batch_size: usize,
    /// How large a photo may be (`--max-image-side`, `--max-image-pixels`, `--max-image-mb`).
    pub limits: DecodeLimits,
}

/// `steps` evenly spaced values from `from` to `to` (both included). A value that is not finite
/// is blamed on its own flag.
pub fn alphas(from: f64, to: f64, steps: usize) -> Result<Vec<f64>> {
    for (flag, v) in [("--from", from), ("--to", to)] {
        if !v.is_finite() {
            return Err(EditError::BadArgument {
                flag,
                text: v.to_string(),
                why: "not a finite number; give a slider value such as 0, 1 or 1.5".into(),
            });
        }
    }
    if steps < 2 {
        return Err(EditError::BadArgument {
            flag: "--steps",
            text: steps.to_string(),
            why: "give at least 2 steps (the two ends)".into(),
        });
    }
    Ok((0..steps)
        .map(|i| from + (to - from) * i as f64 / (steps - 1) as f64)
        .collect())
}

/// Runs an interpolation job: every photo × every α, composed into one labelled grid (and GIF).
pub fn run_interpolate(editor: &Editor, job: &InterpolateJob) -> Result<Summary> {
    let attr = editor.info().attribute_index(&job.attribute)?;
    let fixed = editor.resolve(&job.settings)?;
    let (lo, hi) = editor.sweep_range();
    for (flag, v) in [("--from", job.alphas.first()), ("--to", job.alphas.last())] {
        if let Some(&v) = v {
            crate::model::check_alpha(flag, v, (lo, hi))?;
        }
    }
    let (files, mut failed) = collect_inputs(&job.inputs);
    let (photos, bad) = load_photos(editor, &files, job.crop, &job.limits);
    failed.extend(bad);
    let mut pairs = Vec::with_capacity(photos.len() * job.alphas.len());
    for p in &photos {
        for &a in &job.alphas {
            let mut e = fixed.clone();
            e.0.push((attr, a));
            pairs.push((p, e));
        }
    }
    let edited = run_pairs(editor, &pairs, job.batch_size)?;
    let mut summary = Summary {
        failed,
        ..Summary::default()
    };
    if photos.is_empty() {
        return Ok(summary);
    }
    let name = editor.info().attributes[attr].clone();
    let rows: Vec<&[image::RgbImage]> = edited.chunks(job.alphas.len()).collect();
    let drawn = |path: &Path, e: sliders_plots::PlotsError| EditError::Write {
        path: path.to_path_buf(),
        what: format!("drawing it failed: {e}"),
    };
    let grid = strip::grid(&name, &job.alphas, &rows).map_err(|e| drawn(&job.out, e))?;
    write_png(&job.out, &grid)?;
    summary.outputs.push(job.out.clone());
    if let Some(gif) = &job.gif {
        let frames = strip::gif_frames(&name, &job.alphas, &rows).map_err(|e| drawn(gif, e))?;
        write_gif(gif, &frames, 250)?;
        summary.outputs.push(gif.clone());
    }
    summary.done = photos
        .iter()
        .map(|p| Done {
            path: p.path.clone(),
            framed_by: p.framed_by,
            outputs: Vec::new(),
        })
        .collect();
    Ok(summary)
}

/// Output stems that never collide (`face`, `face-2`, …) when two inputs share a file stem.
#[derive(Default)]
struct UniqueNames(HashSet<String>);

impl UniqueNames {
    fn next(&mut self, path: &Path) -> String {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "image".into());
        let mut name = stem.clone();
        let mut k = 2;
        while !self.0.insert(name.clone()) {
            name = format!("{stem}-{k}");
            k += 1;
        }
        name
    }
}
