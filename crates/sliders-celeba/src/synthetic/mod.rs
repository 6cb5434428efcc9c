//! Synthetic face-like images with known attributes (Male, Young, Smiling, Mouth_Slightly_Open,
//! Eyeglasses), nuisance factors and exact counterfactuals, written in the CelebA layout so the
//! same loader reads them. The default dataset when no CelebA is found, and the smoke profile's.
//! No paper section: it stands in for CelebA (docs/fader-networks.md#data, docs/icgan.md#data) in
//! tests and CI.
//!
//! Layout written by [`generate`]: `img_align_celeba/NNNNNN.png` (lossless, so counterfactuals
//! stay exact), `list_attr_celeba.txt` (count line, the 40 CelebA names, one row per image; the
//! 35 attributes not modelled are -1), `list_eval_partition.txt` (identities in order: the first
//! 80% of images train, the next 10% valid, the rest test, so the split is identity-disjoint) and
//! `identity_CelebA.txt` (2 to 8 images per identity sharing skin, hair, face shape, gender, age).

pub mod canvas;
pub mod face;
pub mod render;

pub use face::{FaceParams, Identity, Intensity, SynthAttr};
pub use render::{region_mask, render};

use crate::attributes::CELEBA_ATTRIBUTES;
use crate::dataset::{ATTR_FILE, IDENTITY_FILE, IMAGE_DIR, PARTITION_FILE};
use crate::error::{CelebaError, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Height of a synthetic image `width` pixels wide (CelebA's 178:218 aspect).
pub fn height_for(width: u32) -> u32 {
    ((f64::from(width) * 218.0 / 178.0).round() as u32).max(1)
}

/// The parameters of the `n` faces of a dataset (deterministic in `seed`): image `i` is
/// `faces(n, seed)[i]`, so any stage can re-render an image or its counterfactual.
pub fn faces(n: usize, seed: u64) -> Vec<FaceParams> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x005e_ed1d);
    let mut out = Vec::with_capacity(n);
    let mut id = 0u32;
    while out.len() < n {
        id += 1;
        let k = rng.gen_range(2..=8usize);
        for _ in 0..k.min(n - out.len()) {
            out.push(FaceParams::sample(seed, id, out.len() as u64));
        }
    }
    out
}

/// File name of synthetic image `i` (0-based): `NNNNNN.png`, 1-based like CelebA.
pub fn image_name(i: usize) -> String {
    format!("{:06}.png", i + 1)
}

/// Official-style partition of the synthetic faces: contiguous by identity, 80/10/10 of images.
fn partition(faces: &[FaceParams]) -> Vec<u8> {
    let n = faces.len();
    let cuts = [
        (0.8 * n as f64).round() as usize,
        (0.9 * n as f64).round() as usize,
    ];
    let mut parts = vec![0u8; n];
    let mut start = 0;
    let mut part = 0u8;
    while start < n {
        let id = faces[start].identity_id;
        let end = (start..n)
            .find(|&j| faces[j].identity_id != id)
            .unwrap_or(n);
        while part < 2 && start >= cuts[part as usize] {
            part += 1;
        }
        parts[start..end].iter_mut().for_each(|p| *p = part);
        start = end;
    }
    parts
}

fn marker(n: usize, width: u32, seed: u64) -> String {
    format!("sliders synthetic v3 n={n} width={width} seed={seed}\n")
}

/// Writes `n` synthetic faces `width` pixels wide (height from the CelebA aspect) into `dir` in
/// the CelebA layout, replacing what was there. Written to a temporary folder and renamed, so
/// `dir` is either complete or absent. Returns the faces' parameters (image `i` = element `i`).
pub fn generate(dir: &Path, n: usize, width: u32, seed: u64) -> Result<Vec<FaceParams>> {
    if n == 0 || width < 8 {
        return Err(CelebaError::Config {
            field: "synthetic",
            what: format!("n_images = {n}, width = {width}"),
            fix: "use at least 1 image and a width of at least 8 pixels".into(),
        });
    }
    let faces = faces(n, seed);
    let height = height_for(width);
    let tmp = PathBuf::from(format!("{}.tmp-{}", dir.display(), std::process::id()));
    let io = |what: &'static str, p: &Path, e: std::io::Error| {
        CelebaError::io(
            what,
            p,
            e,
            "make the folder writable or set data.synthetic.dir",
        )
    };
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join(IMAGE_DIR)).map_err(|e| io("creating", &tmp, e))?;
    let res = (|| -> Result<()> {
        faces.par_iter().enumerate().try_for_each(|(i, f)| {
            let img = render(f, width, height);
            let path = tmp.join(IMAGE_DIR).join(image_name(i));
            img.save_with_format(&path, image::ImageFormat::Png)
                .map_err(|e| CelebaError::BadImage {
                    path: path.clone(),
                    what: format!("cannot write it ({e})"),
                    fix: "make the folder writable or set data.synthetic.dir",
                })
        })?;
        let parts = partition(&faces);
        let (mut attrs, mut part_txt, mut id_txt) = (String::new(), String::new(), String::new());
        let _ = writeln!(attrs, "{n}");
        let _ = writeln!(attrs, "{}", CELEBA_ATTRIBUTES.join(" "));
        for (i, f) in faces.iter().enumerate() {
            let name = image_name(i);
            let _ = write!(attrs, "{name}");
            for a in CELEBA_ATTRIBUTES {
                let v = SynthAttr::ALL
                    .iter()
                    .find(|s| s.celeba_name() == a)
                    .is_some_and(|s| f.has(*s));
                let _ = write!(attrs, " {}", if v { " 1" } else { "-1" });
            }
            attrs.push('\n');
            let _ = writeln!(part_txt, "{name} {}", parts[i]);
            let _ = writeln!(id_txt, "{name} {}", f.identity_id);
        }
        for (file, text) in [
            (ATTR_FILE, attrs),
            (PARTITION_FILE, part_txt),
            (IDENTITY_FILE, id_txt),
            ("synthetic.txt", marker(n, width, seed)),
        ] {
            let p = tmp.join(file);
            std::fs::write(&p, text).map_err(|e| io("writing", &p, e))?;
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| io("replacing", dir, e))?;
        }
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| io("creating", parent, e))?;
        }
        std::fs::rename(&tmp, dir).map_err(|e| io("renaming the finished folder to", dir, e))
    })();
    if res.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    res.map(|()| faces)
}

/// Makes sure `dir` holds the synthetic dataset for (`n`, `width`, `seed`), generating it when
/// missing or made with other settings.
pub fn ensure(dir: &Path, n: usize, width: u32, seed: u64) -> Result<()> {
    let have = std::fs::read_to_string(dir.join("synthetic.txt")).unwrap_or_default();
    if have == marker(n, width, seed) {
        return Ok(());
    }
    tracing::info!(
        "generating {n} synthetic faces ({width} px wide) in {}",
        dir.display()
    );
    generate(dir, n, width, seed).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_is_contiguous_by_identity() {
        let f = faces(200, 3);
        let p = partition(&f);
        assert!(p.windows(2).all(|w| w[0] <= w[1]));
        for i in 1..f.len() {
            if f[i].identity_id == f[i - 1].identity_id {
                assert_eq!(p[i], p[i - 1]);
            }
        }
        assert!((0..3).all(|k| p.contains(&k)));
    }

    #[test]
    fn faces_are_deterministic_and_share_identity() {
        let a = faces(50, 7);
        assert_eq!(a, faces(50, 7));
        assert_ne!(a, faces(50, 8));
        for w in a.windows(2) {
            if w[0].identity_id == w[1].identity_id {
                assert_eq!(w[0].identity, w[1].identity);
            }
        }
    }
}
