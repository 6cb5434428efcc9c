//! What an encoder run is built from: the trained generator it inverts (checked against the
//! data), its generated (x', z, y') dataset, and fresh networks of the chosen layout
//! (docs/icgan.md#encoder-training).

use super::{DATASET_FILE, Layout};
use crate::driver::Trained;
use crate::error::TrainError;
use crate::icgan::encoder_data::{self, EncoderDataset};
use crate::icgan::label_matrix;
use crate::optim::{Adam, AdamConfig};
use crate::run_dir::RunDir;
use sliders_celeba::BatchSource;
use sliders_config::layout::Checkpoint;
use sliders_config::nets::{EncoderKind, IcganConfig, IcganEncoderConfig};
use sliders_config::train::EncoderTrainConfig;
use sliders_nets::{EncoderRole, IcganEncoder, IcganGenerator, SngEncoder, checkpoint};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tch::{Device, nn::VarStore};

/// The trained generator of `cfg.cgan_run` (its variables, network, config and file), checked
/// against the shape the data implies; warns when its batch-norm statistics were not refreshed.
pub(super) fn load_generator(
    cfg: &EncoderTrainConfig,
    data_model: &IcganConfig,
    device: Device,
) -> Result<(VarStore, IcganGenerator, IcganConfig, PathBuf), TrainError> {
    let g_path = Checkpoint::Generator.in_run(&cfg.cgan_run);
    if !g_path.is_file() {
        return Err(TrainError::Config(format!(
            "{}: no trained generator; run the cGAN experiment first or set \
             encoder_train.cgan_run to its run folder",
            g_path.display()
        )));
    }
    let info = checkpoint::read_info(&g_path)?;
    if info
        .metadata
        .get("sliders.bn_refreshed")
        .map(String::as_str)
        != Some("true")
    {
        tracing::warn!(
            "{}: G's batch-norm statistics were not refreshed (icgan.md §3.6); eval-mode samples may be poor",
            g_path.display()
        );
    }
    let (g_vs, g, g_cfg) = checkpoint::restore(&g_path, device, IcganGenerator::new)?;
    if g_cfg.img_sz != data_model.img_sz || g_cfg.ny != data_model.ny || g_cfg.nc != data_model.nc {
        return Err(TrainError::Config(format!(
            "{}: G makes {} px images with {} attributes, the data has {} px and {}; use the \
             cGAN's [data] settings",
            g_path.display(),
            g_cfg.img_sz,
            g_cfg.ny,
            data_model.img_sz,
            data_model.ny
        )));
    }
    Ok((g_vs, g, g_cfg, g_path))
}

/// The run's generated encoder dataset, generated first when missing (`n` triples of `g` on the
/// training labels of `train_real`), checked against the encoders' shape and the batch size.
pub(super) fn open_dataset(
    run: &RunDir,
    cfg: &EncoderTrainConfig,
    (g, g_path): (&IcganGenerator, &Path),
    train_real: &Arc<BatchSource>,
    enc_cfg: &IcganEncoderConfig,
    seed: u64,
    device: Device,
) -> Result<EncoderDataset, TrainError> {
    let ds_path = run.path(DATASET_FILE);
    if !ds_path.is_file() {
        let labels = label_matrix(train_real, device);
        let n = if cfg.dataset_size > 0 {
            cfg.dataset_size
        } else {
            encoder_data::default_size(train_real.len(), cfg.generate_batch)
        };
        let g_file = g_path.display().to_string();
        tracing::info!(
            "generating {n} encoder training triples into {}",
            ds_path.display()
        );
        encoder_data::generate(
            &ds_path,
            g,
            &labels,
            n,
            cfg.generate_batch,
            seed,
            &[("sliders.generator", g_file.as_str())],
        )?;
    }
    let dataset = EncoderDataset::open(&ds_path, cfg.train_fraction)?;
    let [_, nc, s, _] = dataset.shape();
    if nc != enc_cfg.nc || s != enc_cfg.img_sz || dataset.z().size()[1] != enc_cfg.nz {
        return Err(TrainError::Config(format!(
            "{}: generated with another G (images {nc}×{s}×{s}, z {}); delete it to generate it again",
            ds_path.display(),
            dataset.z().size()[1]
        )));
    }
    if dataset.train_len() < cfg.batch_size || dataset.train_len() == dataset.len() {
        return Err(TrainError::Config(format!(
            "{}: {} training rows of {} cannot fill a batch of {} and leave a test split; \
             raise encoder_train.dataset_size or lower encoder_train.batch_size",
            ds_path.display(),
            dataset.train_len(),
            dataset.len(),
            cfg.batch_size
        )));
    }
    Ok(dataset)
}

/// Fresh networks and optimisers of the layout `kind`: (Ez, Ey, SNG).
pub(super) fn build_encoders(
    kind: EncoderKind,
    enc_cfg: &IcganEncoderConfig,
    opt: AdamConfig,
    device: Device,
) -> Result<Layout, TrainError> {
    let build = |role: EncoderRole| -> Result<Trained<IcganEncoder>, TrainError> {
        let vs = VarStore::new(device);
        let net = IcganEncoder::new(&vs.root(), enc_cfg, role)?;
        let opt = Adam::new(&vs, opt);
        Ok(Trained { vs, net, opt })
    };
    Ok(match kind {
        EncoderKind::Ind => (
            Some(build(EncoderRole::Z)?),
            Some(build(EncoderRole::Y)?),
            None,
        ),
        EncoderKind::IndCond => (
            Some(build(EncoderRole::ZCond)?),
            Some(build(EncoderRole::Y)?),
            None,
        ),
        EncoderKind::Sng => {
            let vs = VarStore::new(device);
            let net = SngEncoder::new(&vs.root(), enc_cfg)?;
            let opt = Adam::new(&vs, opt);
            (None, None, Some(Trained { vs, net, opt }))
        }
    })
}
