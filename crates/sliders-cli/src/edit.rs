//! `sliders edit` and `sliders interpolate`: thin wrappers over sliders-edit that open the model
//! on the chosen device, say which checkpoint a run folder resolved to, run the job and print its
//! summary; any failed input makes the command exit non-zero (after the others are done).

use anyhow::{Context, Result, bail};
use sliders_celeba::DecodeLimits;
use sliders_config::train::DeviceChoice;
use sliders_edit::{Crop, EditJob, Editor, InterpolateJob, Setting, Summary, model::FADER_CHOICES};
use std::path::{Path, PathBuf};

/// The decode limits of `edit`, `interpolate` and `serve` (see `sliders_celeba::decode`): a photo
/// over one is refused from its header, before it is decoded, with a message naming the option.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct LimitArgs {
    /// Largest photo width and height in pixels.
    #[arg(long, default_value_t = DecodeLimits::DEFAULT_SIDE, value_name = "PX")]
    pub max_image_side: u32,
    /// Largest photo in pixels (width × height; 40 Mpx by default).
    #[arg(long, default_value_t = DecodeLimits::DEFAULT_PIXELS, value_name = "N")]
    pub max_image_pixels: u64,
    /// Largest decoded photo in MB (pixels × bytes per pixel of the file).
    #[arg(long, default_value_t = DecodeLimits::DEFAULT_DECODED_BYTES >> 20, value_name = "MB")]
    pub max_image_mb: u64,
}

impl LimitArgs {
    /// The limits these options set.
    pub fn limits(&self) -> DecodeLimits {
        DecodeLimits {
            max_width: self.max_image_side,
            max_height: self.max_image_side,
            max_pixels: self.max_image_pixels,
            max_decoded_bytes: self.max_image_mb.saturating_mul(1 << 20),
        }
    }
}

/// Options shared by both commands.
#[derive(Debug, Clone)]
pub struct Common {
    /// Run folder or checkpoint.
    pub model: PathBuf,
    /// Files and folders.
    pub inputs: Vec<PathBuf>,
    /// `Name=value` settings.
    pub set: Vec<String>,
    /// `auto`, `celeba`, `center` or `x,y,w,h`.
    pub crop: String,
    /// Device choice.
    pub device: DeviceChoice,
    /// Images per forward pass.
    pub batch_size: usize,
    /// How large a photo may be.
    pub limits: DecodeLimits,
}

impl Common {
    fn open(&self) -> Result<(Editor, Vec<Setting>, Crop)> {
        // Parse the cheap arguments before loading any network.
        let settings = self
            .set
            .iter()
            .map(|s| Setting::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        let crop: Crop = self.crop.parse()?;
        let device = sliders_train::device::resolve(self.device)?;
        let editor = Editor::open(&self.model, device)
            .with_context(|| format!("opening the model {}", self.model.display()))?;
        let info = editor.info();
        if self.model.is_dir() && info.kind == sliders_edit::ModelKind::Fader {
            tracing::info!(
                "run folder: using {} (the first present of {})",
                file_name(&info.files[0]),
                FADER_CHOICES.join(", ")
            );
        }
        tracing::info!(
            "{} on {}",
            info.describe(),
            sliders_train::device::name(device)
        );
        Ok((editor, settings, crop))
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Runs `sliders edit`.
pub fn edit(common: &Common, out: &Path, paste_back: bool) -> Result<()> {
    let (editor, settings, crop) = common.open()?;
    let summary = sliders_edit::run_edit(
        &editor,
        &EditJob {
            inputs: common.inputs.clone(),
            settings,
            crop,
            out_dir: out.to_path_buf(),
            paste_back,
            batch_size: common.batch_size,
            limits: common.limits,
        },
    )?;
    for d in &summary.done {
        let outs: Vec<String> = d.outputs.iter().map(|o| o.display().to_string()).collect();
        println!("{} -> {}", d.path.display(), outs.join(", "));
    }
    finish(&summary)
}

/// Runs `sliders interpolate`.
pub fn interpolate(
    common: &Common,
    attribute: &str,
    (from, to, steps): (f64, f64, usize),
    out: &Path,
    gif: bool,
) -> Result<()> {
    let alphas = sliders_edit::alphas(from, to, steps)?;
    let (editor, settings, crop) = common.open()?;
    let summary = sliders_edit::run_interpolate(
        &editor,
        &InterpolateJob {
            inputs: common.inputs.clone(),
            attribute: attribute.to_string(),
            alphas,
            settings,
            crop,
            out: out.to_path_buf(),
            gif: gif.then(|| out.with_extension("gif")),
            batch_size: common.batch_size,
            limits: common.limits,
        },
    )?;
    for o in &summary.outputs {
        println!("wrote {}", o.display());
    }
    finish(&summary)
}

fn finish(summary: &Summary) -> Result<()> {
    println!("{}", summary.report());
    if !summary.all_ok() {
        bail!(
            "{} input(s) failed (listed above); the others were done",
            summary.failed.len()
        );
    }
    if summary.done.is_empty() {
        bail!("no photo was given");
    }
    Ok(())
}
