//! A model folder's files: which checkpoints it holds (best or final encoders, the generator of
//! an encoders run), and the checks of what their metadata describes against the networks.

use super::*;
use sliders_config::layout::{EncoderNet, file};

pub(super) fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `true` when the folder holds best encoders (`best_ez`, …), `false` for the final ones,
/// `None` without encoders.
pub(super) fn encoders_best(dir: &Path) -> Option<bool> {
    [true, false].into_iter().find(|&best| {
        let has = |net| Checkpoint::encoder(net, best).in_run(dir).is_file();
        has(EncoderNet::Sng) || (has(EncoderNet::Ez) && has(EncoderNet::Ey))
    })
}

/// The generator of an encoders run: `G.safetensors` in the folder itself, else in the cGAN run
/// named by `resolved.toml` (`encoder_train.cgan_run`), tried as written (relative to the
/// working directory) and relative to each folder above the run (a project moved elsewhere).
pub(super) fn generator_path(dir: &Path) -> Result<PathBuf> {
    let here = Checkpoint::Generator.in_run(dir);
    if here.is_file() {
        return Ok(here);
    }
    let resolved = dir.join(file::RESOLVED);
    let text = std::fs::read_to_string(&resolved).map_err(|source| EditError::Read {
        path: resolved.clone(),
        source,
    })?;
    let value: toml::Table = text.parse().map_err(|e| EditError::ModelFolder {
        path: resolved.clone(),
        what: format!("does not parse as TOML ({e})"),
        fix: "restore the run's resolved.toml".into(),
    })?;
    let cgan = value
        .get("encoder_train")
        .and_then(|t| t.get("cgan_run"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| EditError::ModelFolder {
            path: resolved.clone(),
            what: "names no cGAN run (encoder_train.cgan_run)".into(),
            fix: "copy the cGAN's G.safetensors into the encoders run folder".into(),
        })?;
    let cgan = PathBuf::from(cgan);
    let g = Checkpoint::Generator.file_name();
    let mut tried = vec![cgan.join(g)];
    if cgan.is_relative() {
        let abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        tried.extend(abs.ancestors().map(|a| a.join(&cgan).join(g)));
    }
    tried
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| EditError::ModelFolder {
            path: dir.to_path_buf(),
            what: format!(
                "its cGAN run `{}` (from resolved.toml) has no G.safetensors here",
                cgan.display()
            ),
            fix: "run from the project folder the model was trained in, or copy the cGAN's \
                  G.safetensors into the encoders run folder"
                .into(),
        })
}

/// Framing and image size from a checkpoint's metadata (its attribute names are read by
/// [`crate::infer::attributes`] when the network is loaded).
pub(super) fn framed(ck: &CheckpointInfo) -> Result<(Framing, u32)> {
    let get = |key: &str| {
        ck.metadata.get(key).ok_or_else(|| EditError::Metadata {
            path: ck.path.clone(),
            key: key.into(),
            what: "is missing".into(),
        })
    };
    let bad = |key: &str, what: String| EditError::Metadata {
        path: ck.path.clone(),
        key: key.into(),
        what,
    };
    let framing = match get(META_FRAMING)?.as_str() {
        "fader" => Framing::Fader,
        "icgan" => Framing::Icgan,
        other => {
            return Err(bad(
                META_FRAMING,
                format!("is `{other}`, not `fader` or `icgan`"),
            ));
        }
    };
    let size: u32 = get(META_IMAGE_SIZE)?
        .parse()
        .map_err(|_| bad(META_IMAGE_SIZE, "is not a number".into()))?;
    Ok((framing, size))
}

pub(super) fn check_size(path: &Path, meta: u32, net: i64) -> Result<()> {
    if i64::from(meta) != net {
        return Err(EditError::Metadata {
            path: path.to_path_buf(),
            key: META_IMAGE_SIZE.into(),
            what: format!("says {meta} px but the network is built for {net} px"),
        });
    }
    Ok(())
}

pub(super) fn check_encoder(
    path: &Path,
    cfg: &IcganEncoderConfig,
    g: &IcganConfig,
    attributes: &[String],
) -> Result<()> {
    if cfg.img_sz != g.img_sz || cfg.nz != g.nz || cfg.ny != g.ny {
        return Err(EditError::ModelFolder {
            path: path.to_path_buf(),
            what: format!(
                "this encoder ({} px, nz {}, ny {}) does not match the generator ({} px, nz {}, \
                 ny {})",
                cfg.img_sz, cfg.nz, cfg.ny, g.img_sz, g.nz, g.ny
            ),
            fix: "train the encoders against this cGAN run".into(),
        });
    }
    if cfg.ny as usize != attributes.len() {
        return Err(EditError::Metadata {
            path: path.to_path_buf(),
            key: META_ATTRIBUTES.into(),
            what: format!(
                "lists {} attributes but the networks use ny = {}",
                attributes.len(),
                cfg.ny
            ),
        });
    }
    Ok(())
}
