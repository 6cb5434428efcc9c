//! The networks a Fader run trains, built fresh (docs/fader-networks.md#training-loop): the
//! autoencoder, the latent discriminator and the optional patch and classifier discriminators,
//! each with its Adam; and the evaluation classifier that picks the best checkpoint.

use super::*;

/// The networks of a Fader run with their optimisers.
pub(super) struct Nets {
    pub ae: Trained<FaderAutoEncoder>,
    pub lat: Trained<LatentDiscriminator>,
    pub ptc: Option<Trained<PatchDiscriminator>>,
    pub clf: Option<Trained<FaderClassifier>>,
}

impl Nets {
    /// Fresh networks of `model` on `device` (from libtorch's global generator, seeded by the
    /// caller), in channels-last layout when `cfg` asks.
    pub(super) fn build(
        cfg: &FaderTrainConfig,
        model: &FaderConfig,
        device: Device,
    ) -> Result<Self, TrainError> {
        // Channels-last weights before the optimizers, so their moments share the layout.
        let relayout = |vs: &VarStore| {
            if cfg.channels_last {
                layout::vars_to_channels_last(vs);
            }
        };
        let ae = {
            let vs = VarStore::new(device);
            let net = FaderAutoEncoder::new(&vs.root(), model)?;
            relayout(&vs);
            let opt = Adam::new(&vs, AdamConfig::from(&cfg.ae_optimizer));
            Trained { vs, net, opt }
        };
        let lat = {
            let vs = VarStore::new(device);
            let net = LatentDiscriminator::new(&vs.root(), model)?;
            relayout(&vs);
            let opt = Adam::new(&vs, AdamConfig::from(&cfg.dis_optimizer));
            Trained { vs, net, opt }
        };
        let ptc = if cfg.n_ptc_dis > 0 {
            let vs = VarStore::new(device);
            let net = PatchDiscriminator::new(&vs.root(), model)?;
            relayout(&vs);
            let opt = Adam::new(&vs, AdamConfig::from(&cfg.dis_optimizer));
            Some(Trained { vs, net, opt })
        } else {
            None
        };
        let clf = if cfg.n_clf_dis > 0 {
            let vs = VarStore::new(device);
            let clf_cfg = sliders_config::nets::ClassifierConfig {
                img_sz: model.img_sz,
                img_fm: model.img_fm,
                init_fm: model.init_fm,
                max_fm: model.max_fm,
                hid_dim: model.hid_dim,
                n_attr: model.n_attr,
            };
            let net = FaderClassifier::new(&vs.root(), &clf_cfg)?;
            relayout(&vs);
            let opt = Adam::new(&vs, AdamConfig::from(&cfg.dis_optimizer));
            Some(Trained { vs, net, opt })
        } else {
            None
        };
        Ok(Self { ae, lat, ptc, clf })
    }
}

/// The evaluation classifier of `path` (when configured) with the logit offsets of `attrs`,
/// checked to take the model's `img_sz`.
pub(super) fn load_judge(
    path: Option<&std::path::Path>,
    img_sz: i64,
    attrs: &[String],
    device: Device,
) -> Result<Option<(Judge, Vec<i64>)>, TrainError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let judge = Judge::load(path, device)?;
    if judge.image_size() != img_sz {
        return Err(TrainError::Config(format!(
            "{}: the evaluation classifier takes {} px images, the model {} px; train it on the same data.image_size",
            path.display(),
            judge.image_size(),
            img_sz
        )));
    }
    let offsets = judge.offsets(attrs)?;
    Ok(Some((judge, offsets)))
}
