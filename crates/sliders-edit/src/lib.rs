//! sliders-edit: apply a trained Fader Networks or IcGAN model to a user's own photos (the first
//! request of the Fader reference's users, docs/fader-networks.md#own-photos). One responsibility,
//! reused by the CLI (`sliders edit`, `interpolate`) and the web page (`sliders-serve`):
//!
//! - [`infer`]: the one inference layer, the only code that loads and runs a trained Fader
//!   autoencoder or IcGAN generator and encoders; the editor and `sliders-eval` both use it;
//! - [`model`]: open a run folder or checkpoint as a self-describing [`Editor`] (attributes,
//!   image size and framing from the checkpoint metadata) and edit batches in eval mode, or
//!   encode once ([`Latent`]) and decode per edit (a slider UI);
//! - [`setting`]: `--set` values and [`check_alpha`](setting::check_alpha), the one slider range
//!   check, shared with `sliders serve`;
//! - [`photo`]: decode JPEG/PNG within limits (EXIF rotation, grayscale, alpha) and frame the
//!   face the way the model was trained (CelebA crop, centred square, or a manual box), resized
//!   by the training pipeline's resampler;
//! - [`faces`]: `--crop auto` / `align`: faces detected and aligned to the model's frame
//!   (sliders-align);
//! - [`paste`]: blend an edit back into the full-size photo;
//! - [`reframe`]: swap accuracy on re-framed faces against their original framing (the
//!   measurement of docs/face-alignment.md);
//! - [`job`]: batch jobs over files and folders with a per-file summary;
//! - [`strip`]: labelled interpolation grids and GIF frames, drawn by sliders-plots' image grid;
//!   [`output`]: atomic writes.
//!
//! ```no_run
//! use sliders_edit::{Crop, EditJob, Editor, Setting, run_edit};
//! let editor = Editor::open("data/runs/smoke/fader-smiling".as_ref(), tch::Device::Cpu)?;
//! let job = EditJob {
//!     inputs: vec!["me.jpg".into()],
//!     settings: vec![Setting::parse("Smiling=1.5")?],
//!     crop: Crop::Auto,
//!     out_dir: "edited".into(),
//!     paste_back: true,
//!     batch_size: 32,
//!     limits: Default::default(),
//! };
//! let summary = run_edit(&editor, &job)?;
//! println!("{}", summary.report());
//! # Ok::<(), sliders_edit::EditError>(())
//! ```

pub mod error;
pub mod faces;
pub mod infer;
pub mod job;
pub mod model;
pub mod output;
pub mod paste;
pub mod photo;
pub mod reframe;
pub mod setting;
pub mod strip;

pub use error::{EditError, Result};
pub use job::{
    Done, EditJob, Failure, InterpolateJob, Summary, alphas, collect_inputs, run_edit,
    run_interpolate,
};
pub use model::{Edit, Editor, Latent, ModelInfo, ModelKind, Setting};
pub use photo::{Crop, FramedBy, Photo};
