//! The models a server edits with, shared by every session: each [`LoadedModel`] wraps one
//! sliders-edit [`Editor`] behind a mutex and counts its encoder and decoder passes; [`Models`]
//! checks that they can share one page (same image size and framing) and applies them **in
//! sequence** ([`Models::render`]).
//!
//! How several models combine (the paper trains one Fader model per attribute, Fader Networks
//! §4.1): the models the user applies edit the photo one after the other, in the order given to
//! `sliders serve --model …`; each one's output is the next one's input. Each model encodes the
//! uploaded photo once; a model that follows another encodes that model's output again only when
//! the settings before it changed (cached per session), so moving the sliders of the last applied
//! model costs one decoder pass, the paper's single-attribute setting.

use crate::error::{Result, ServeError};
use serde::Deserialize;
use sliders_config::data::Framing;
use sliders_edit::model::{check_alpha, framing_name};
use sliders_edit::{Edit, Editor, Latent, ModelKind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tch::{Device, Tensor};

/// One model with its name on the page and pass counters.
pub struct LoadedModel {
    name: String,
    path: PathBuf,
    kind: ModelKind,
    attributes: Vec<String>,
    range: (f64, f64),
    editor: Mutex<Editor>,
    encodes: AtomicUsize,
    decodes: AtomicUsize,
}

impl std::fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedModel")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish()
    }
}

impl LoadedModel {
    /// Wraps an opened editor; `path` is what the user passed (its last component names the
    /// model on the page, e.g. `fader-smiling`).
    pub fn new(path: &Path, editor: Editor) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let info = editor.info().clone();
        Self {
            name,
            path: path.to_path_buf(),
            kind: info.kind,
            attributes: info.attributes,
            range: editor.slider_range(),
            editor: Mutex::new(editor),
            encodes: AtomicUsize::new(0),
            decodes: AtomicUsize::new(0),
        }
    }

    /// The name shown on the page.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Attribute names in `y` order.
    pub fn attributes(&self) -> &[String] {
        &self.attributes
    }

    /// The slider range `(min, max)` of every attribute.
    pub fn range(&self) -> (f64, f64) {
        self.range
    }

    /// Fader or IcGAN.
    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// Encoder passes run so far (one per photo and per chained re-encoding).
    pub fn encodes(&self) -> usize {
        self.encodes.load(Ordering::Relaxed)
    }

    /// Decoder passes run so far.
    pub fn decodes(&self) -> usize {
        self.decodes.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Editor> {
        // A panic inside libtorch while holding the lock leaves the editor usable (eval mode,
        // no state is mutated by a forward pass), so a poisoned lock is taken over.
        self.editor.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Encodes `x` (`[1, 3, S, S]` in [−1, 1]).
    pub fn encode(&self, x: &Tensor) -> Result<Latent> {
        self.encodes.fetch_add(1, Ordering::Relaxed);
        self.lock()
            .encode(x)
            .map_err(|e| ServeError::Internal(format!("{}: encoding failed: {e}", self.name)))
    }

    /// Decodes `latent` with `edit`; returns `[1, 3, S, S]` in [−1, 1] on the CPU.
    pub fn decode(&self, latent: &Latent, edit: &Edit) -> Result<Tensor> {
        self.decodes.fetch_add(1, Ordering::Relaxed);
        self.lock()
            .decode(latent, std::slice::from_ref(edit))
            .map_err(|e| ServeError::Internal(format!("{}: decoding failed: {e}", self.name)))
    }

    /// Where each slider starts for a photo: IcGAN `Ey`'s estimate (0 or 1), Fader α = 0.5 (a
    /// photo has no labels; the value sliders-edit gives unset attributes).
    pub fn defaults(&self, latent: &Latent) -> Vec<f64> {
        latent
            .estimate(0)
            .unwrap_or_else(|| vec![sliders_edit::model::FADER_UNSET_ALPHA; self.attributes.len()])
    }

    /// The page's description of this model: its name (the last component of `--model`), never
    /// the path on the server's disk.
    pub fn describe(&self, index: usize) -> serde_json::Value {
        serde_json::json!({
            "index": index,
            "name": self.name,
            "kind": match self.kind { ModelKind::Fader => "Fader", ModelKind::Icgan => "IcGAN" },
            "attributes": self.attributes,
            "min": self.range.0,
            "max": self.range.1,
        })
    }
}

/// One request's setting of one model: `{"model": 0, "values": {"Smiling": 1.5}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelValues {
    /// Index of the model (order of `--model`).
    pub model: usize,
    /// Attribute name to slider value; attributes left out keep their start value.
    pub values: BTreeMap<String, f64>,
}

/// Body of `POST /api/sessions/{id}/edit`: the models to apply and their slider values.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    /// The applied models (any order; they run in `--model` order). Empty: the photo as framed.
    pub models: Vec<ModelValues>,
}

/// The checked plan of a request: for each model, `None` (not applied) or its edit.
pub type Plan = Vec<Option<Edit>>;

/// The per-session cache a chain needs: for each model, the latent of its input when it
/// follows other models, keyed by the settings of the models before it.
pub type ChainCache = Vec<Option<(Vec<(usize, Edit)>, Latent)>>;

/// The models of one server.
#[derive(Debug)]
pub struct Models {
    list: Vec<LoadedModel>,
    size: u32,
    framing: Framing,
}

impl Models {
    /// Opens each `--model` on `device`.
    pub fn open(paths: &[PathBuf], device: Device) -> Result<Self> {
        let mut list = Vec::new();
        for p in paths {
            let editor = Editor::open(p, device).map_err(|source| ServeError::Model {
                path: p.clone(),
                source,
            })?;
            tracing::info!("{}", editor.info().describe());
            list.push(LoadedModel::new(p, editor));
        }
        Self::new(list)
    }

    /// Checks that the models can share a page: at least one, and all with one image size and
    /// framing (the chain feeds one model's output to the next).
    pub fn new(list: Vec<LoadedModel>) -> Result<Self> {
        let first = list.first().ok_or_else(|| ServeError::Models {
            what: "no model given".into(),
            fix: "pass at least one --model RUN (e.g. data/runs/smoke/fader-smiling)".into(),
        })?;
        let (size, framing) = {
            let e = first.lock();
            (e.info().image_size, e.info().framing)
        };
        for m in &list[1..] {
            let e = m.lock();
            let (s, f) = (e.info().image_size, e.info().framing);
            if s != size || f != framing {
                return Err(ServeError::Models {
                    what: format!(
                        "{} is a {s} px model with {} framing but {} is {size} px with {} \
                         framing; models on one page run in sequence on one framed face",
                        m.name,
                        framing_name(f),
                        first.name,
                        framing_name(framing)
                    ),
                    fix: "serve models of one image size and framing together (e.g. the Fader \
                          models of one profile), and others with a second `sliders serve`"
                        .into(),
                });
            }
        }
        Ok(Self {
            list,
            size,
            framing,
        })
    }

    /// The models in `--model` order.
    pub fn list(&self) -> &[LoadedModel] {
        &self.list
    }

    /// The shared image side `S`.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The shared framing.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Encodes a framed face (`[3, S, S]` u8, CHW) with every model: the one encoder pass per
    /// model and photo.
    pub fn encode_all(&self, face: &[u8]) -> Result<Vec<Latent>> {
        let x = sliders_edit::photo::to_tensor(&[face], self.size);
        self.list.iter().map(|m| m.encode(&x)).collect()
    }

    /// Checks a request against the models: known model indices (each at most once), known
    /// attribute names, finite values inside each model's slider range (sliders-edit's
    /// `check_alpha`, the check of `sliders edit --set` too). Attributes a request
    /// leaves out take `defaults[model][attribute]`.
    pub fn plan(&self, req: &EditRequest, defaults: &[Vec<f64>]) -> Result<Plan> {
        let mut plan: Plan = vec![None; self.list.len()];
        for mv in &req.models {
            let m = self.list.get(mv.model).ok_or_else(|| {
                ServeError::BadRequest(format!(
                    "unknown model {}: this server has models 0..{}",
                    mv.model,
                    self.list.len() - 1
                ))
            })?;
            if plan[mv.model].is_some() {
                return Err(ServeError::BadRequest(format!(
                    "model {} is listed twice",
                    mv.model
                )));
            }
            let mut alphas = defaults[mv.model].clone();
            let (lo, hi) = m.range;
            for (name, &v) in &mv.values {
                let i = m.attributes.iter().position(|a| a == name).ok_or_else(|| {
                    ServeError::BadRequest(format!(
                        "unknown attribute `{name}` for model {} ({}); it has: {}",
                        mv.model,
                        m.name,
                        m.attributes.join(", ")
                    ))
                })?;
                check_alpha(name, v, (lo, hi)).map_err(|e| {
                    ServeError::BadRequest(format!("model {} ({}): {e}", mv.model, m.name))
                })?;
                alphas[i] = v;
            }
            plan[mv.model] = Some(Edit(alphas.into_iter().enumerate().collect()));
        }
        Ok(plan)
    }

    /// Applies the planned models in sequence to the photo whose per-model latents are
    /// `latents` (see the module docs). Returns `[1, 3, S, S]` in [−1, 1] on the CPU; with no
    /// model applied, the framed face itself.
    pub fn render(
        &self,
        face: &[u8],
        latents: &[Latent],
        cache: &mut ChainCache,
        plan: &Plan,
    ) -> Result<Tensor> {
        cache.resize_with(self.list.len(), || None);
        let mut before: Vec<(usize, Edit)> = Vec::new();
        let mut current: Option<Tensor> = None;
        for (k, edit) in plan.iter().enumerate() {
            let Some(edit) = edit else { continue };
            let model = &self.list[k];
            let out = match &current {
                None => model.decode(&latents[k], edit)?,
                Some(x) => {
                    let hit = matches!(&cache[k], Some((key, _)) if *key == before);
                    if !hit {
                        cache[k] = Some((before.clone(), model.encode(x)?));
                    }
                    let (_, latent) = cache[k].as_ref().expect("filled above");
                    model.decode(latent, edit)?
                }
            };
            before.push((k, edit.clone()));
            current = Some(out);
        }
        Ok(current.unwrap_or_else(|| sliders_edit::photo::to_tensor(&[face], self.size)))
    }
}
