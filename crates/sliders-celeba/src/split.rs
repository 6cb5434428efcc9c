//! Train/valid/test splits: the official CelebA partition when the folder has images of all three
//! parts (docs/fader-networks.md#files-and-split, docs/icgan.md#splits), otherwise a seeded random
//! split disjoint by identity (the sample holds only official-train images). The split is saved as
//! a small text file beside the cache so every stage uses the same one.
//!
//! Split file format: comment lines starting with `#` (the first says `# sliders split v1 <kind>`),
//! then one `name part` line per image (`part` is `train`, `valid` or `test`), in cache order.

use crate::dataset::ImageRecord;
use crate::error::{CelebaError, Result};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use sliders_config::data::{SplitConfig, SplitMode};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// One of the three parts of a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// Training images (official code 0).
    Train,
    /// Validation images (official code 1).
    Valid,
    /// Test images (official code 2).
    Test,
}

impl Part {
    /// All parts in order.
    pub const ALL: [Part; 3] = [Part::Train, Part::Valid, Part::Test];

    /// `train`, `valid` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Valid => "valid",
            Part::Test => "test",
        }
    }

    fn parse(s: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A split: one part per image, aligned with the cache order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// `official` or `random-by-identity seed=S fractions=a,b,c`.
    pub kind: String,
    /// Part of each image, in cache order.
    pub parts: Vec<Part>,
}

impl Split {
    /// Indices (in cache order) of the images of one part.
    pub fn indices(&self, part: Part) -> Vec<usize> {
        (0..self.parts.len())
            .filter(|&i| self.parts[i] == part)
            .collect()
    }

    /// Number of images per part, `[train, valid, test]`.
    pub fn counts(&self) -> [usize; 3] {
        let mut c = [0; 3];
        for p in &self.parts {
            c[*p as usize] += 1;
        }
        c
    }
}

/// The identity key of a record: its identity, or a unique key for images without one.
fn identity_key(r: &ImageRecord, i: usize) -> u64 {
    r.identity.map_or((1 << 32) + i as u64, u64::from)
}

/// Whether the official partition can be used: every image has one and all three parts occur.
pub fn official_available(records: &[ImageRecord]) -> bool {
    let mut seen = [false; 3];
    for r in records {
        match r.part {
            Some(p) => seen[p as usize] = true,
            None => return false,
        }
    }
    seen.iter().all(|&s| s)
}

/// A seeded random split disjoint by identity: identities are shuffled and assigned whole to
/// train until it holds `fractions[0]` of the images, then to valid up to
/// `fractions[0]+fractions[1]`, the rest to test.
pub fn random_by_identity(records: &[ImageRecord], fractions: [f64; 3], seed: u64) -> Vec<Part> {
    let mut groups: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        groups.entry(identity_key(r, i)).or_default().push(i);
    }
    let mut ids: Vec<u64> = groups.keys().copied().collect();
    ids.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let n = records.len() as f64;
    let cut0 = (fractions[0] * n).round() as usize;
    let cut1 = ((fractions[0] + fractions[1]) * n).round() as usize;
    let mut parts = vec![Part::Train; records.len()];
    let mut assigned = 0;
    for id in ids {
        let part = if assigned < cut0 {
            Part::Train
        } else if assigned < cut1 {
            Part::Valid
        } else {
            Part::Test
        };
        for &i in &groups[&id] {
            parts[i] = part;
        }
        assigned += groups[&id].len();
    }
    parts
}

fn validate(cfg: &SplitConfig) -> Result<()> {
    let f = cfg.fractions;
    if f.iter().any(|&x| !(0.0..=1.0).contains(&x)) || ((f[0] + f[1] + f[2]) - 1.0).abs() > 1e-6 {
        return Err(CelebaError::Config {
            field: "split.fractions",
            what: format!("{f:?} are not three fractions in [0,1] summing to 1"),
            fix: "use e.g. [0.8, 0.1, 0.1]".into(),
        });
    }
    Ok(())
}

/// Computes the split `cfg` asks for over `records` (cache order).
// Deviation: both papers use the official partition (IcGAN holds out the last 19,961 images, one
// fewer than the official test part, and trains its Ey encoder on the first 66%). We use the
// official partition for both whenever the folder has all three parts, and a seeded random split
// disjoint by identity on a subset such as the 8,000-image sample (all official-train).
pub fn compute(records: &[ImageRecord], cfg: &SplitConfig) -> Result<Split> {
    validate(cfg)?;
    let official = match cfg.mode {
        SplitMode::Official => {
            if !official_available(records) {
                return Err(CelebaError::Config {
                    field: "split.mode",
                    what: "the folder does not have images of all three official parts".into(),
                    fix: "use mode = \"auto\" or \"random\" for a subset of CelebA".into(),
                });
            }
            true
        }
        SplitMode::Random => false,
        SplitMode::Auto => official_available(records),
    };
    Ok(if official {
        Split {
            kind: "official".into(),
            parts: records
                .iter()
                .map(|r| r.part.unwrap_or(Part::Train))
                .collect(),
        }
    } else {
        Split {
            kind: random_kind(cfg),
            parts: random_by_identity(records, cfg.fractions, cfg.seed),
        }
    })
}

fn random_kind(cfg: &SplitConfig) -> String {
    let f = cfg.fractions;
    format!(
        "random-by-identity seed={} fractions={},{},{}",
        cfg.seed, f[0], f[1], f[2]
    )
}

/// Reads a split file; `names` must be the cache's names (same order).
pub fn read(path: &Path, names: &[String]) -> Result<Split> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CelebaError::io("reading", path, e, "delete it; it is recomputed"))?;
    let bad = |line: usize, what: String| CelebaError::BadSplit {
        path: path.to_path_buf(),
        line,
        what,
    };
    let mut kind = None;
    let mut parts = Vec::with_capacity(names.len());
    for (i, line) in text.lines().enumerate() {
        let ln = i + 1;
        if let Some(c) = line.strip_prefix('#') {
            if i == 0 {
                kind = Some(
                    c.trim()
                        .strip_prefix("sliders split v1 ")
                        .ok_or_else(|| bad(ln, "not a sliders split v1 file".into()))?
                        .to_owned(),
                );
            }
            continue;
        }
        let mut t = line.split_ascii_whitespace();
        let (Some(name), Some(p), None) = (t.next(), t.next(), t.next()) else {
            return Err(bad(ln, format!("expected `name part`, found {line:?}")));
        };
        let part = Part::parse(p).ok_or_else(|| bad(ln, format!("unknown part {p:?}")))?;
        if names.get(parts.len()).map(String::as_str) != Some(name) {
            return Err(bad(
                ln,
                format!("image {name} is not image {} of the cache", parts.len() + 1),
            ));
        }
        parts.push(part);
    }
    if parts.len() != names.len() {
        return Err(bad(
            0,
            format!("{} images, the cache has {}", parts.len(), names.len()),
        ));
    }
    Ok(Split {
        kind: kind.ok_or_else(|| bad(1, "missing header line".into()))?,
        parts,
    })
}

/// Writes a split file atomically (temporary name, then rename).
pub fn write(path: &Path, split: &Split, names: &[String]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let res = (|| -> std::io::Result<()> {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        let [a, b, c] = split.counts();
        writeln!(f, "# sliders split v1 {}", split.kind)?;
        writeln!(f, "# train={a} valid={b} test={c}")?;
        for (n, p) in names.iter().zip(&split.parts) {
            writeln!(f, "{n} {}", p.as_str())?;
        }
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    res.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CelebaError::io("writing", path, e, "make the cache folder writable")
    })
}

/// The split for a cache: read from `path` when it exists, matches the config and the cache's
/// images; otherwise computed from `records` (cache order) and written there.
pub fn load_or_compute(path: &Path, records: &[ImageRecord], cfg: &SplitConfig) -> Result<Split> {
    let names: Vec<String> = records.iter().map(|r| r.name.clone()).collect();
    let wanted = compute(records, cfg)?;
    if path.exists() {
        match read(path, &names) {
            Ok(s) if s.kind == wanted.kind => {
                if s != wanted {
                    tracing::info!(
                        "using the saved split {} (differs from a recomputation)",
                        path.display()
                    );
                }
                return Ok(s);
            }
            Ok(s) => tracing::info!(
                "split {} is `{}`, config wants `{}`; rewriting",
                path.display(),
                s.kind,
                wanted.kind
            ),
            Err(e) => tracing::warn!("{e}; rewriting"),
        }
    }
    write(path, &wanted, &names)?;
    let [a, b, c] = wanted.counts();
    tracing::info!(
        "split {}: {} (train {a}, valid {b}, test {c})",
        path.display(),
        wanted.kind
    );
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn recs(ids: &[u32]) -> Vec<ImageRecord> {
        ids.iter()
            .enumerate()
            .map(|(i, &id)| ImageRecord {
                name: format!("{:06}.jpg", i + 1),
                bits: 0,
                part: Some(Part::Train),
                identity: Some(id),
            })
            .collect()
    }

    proptest! {
        #[test]
        fn identity_disjoint_and_near_fractions(ids in proptest::collection::vec(0u32..60, 50..400), seed in any::<u64>()) {
            let r = recs(&ids);
            let parts = random_by_identity(&r, [0.8, 0.1, 0.1], seed);
            let mut owner: HashMap<u32, Part> = HashMap::new();
            for (rec, p) in r.iter().zip(&parts) {
                let o = owner.entry(rec.identity.unwrap()).or_insert(*p);
                prop_assert_eq!(*o, *p);
            }
            prop_assert_eq!(parts.clone(), random_by_identity(&r, [0.8, 0.1, 0.1], seed));
        }
    }

    #[test]
    fn auto_uses_official_only_with_all_parts() {
        let mut r = recs(&[1, 2, 3]);
        let cfg = SplitConfig::default();
        assert!(compute(&r, &cfg).unwrap().kind.starts_with("random"));
        r[1].part = Some(Part::Valid);
        r[2].part = Some(Part::Test);
        let s = compute(&r, &cfg).unwrap();
        assert_eq!(s.kind, "official");
        assert_eq!(s.parts, [Part::Train, Part::Valid, Part::Test]);
    }

    #[test]
    fn bad_fractions_rejected() {
        let cfg = SplitConfig {
            fractions: [0.5, 0.1, 0.1],
            ..Default::default()
        };
        assert!(compute(&recs(&[1]), &cfg).is_err());
    }

    #[test]
    fn file_roundtrip_and_reuse() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.split.txt");
        let r = recs(&(0..100).map(|i| i / 3).collect::<Vec<_>>());
        let cfg = SplitConfig::default();
        let s = load_or_compute(&path, &r, &cfg).unwrap();
        let names: Vec<String> = r.iter().map(|x| x.name.clone()).collect();
        assert_eq!(read(&path, &names).unwrap(), s);
        assert_eq!(load_or_compute(&path, &r, &cfg).unwrap(), s);
        // Other seed: rewritten.
        let cfg2 = SplitConfig {
            seed: 9,
            ..Default::default()
        };
        let s2 = load_or_compute(&path, &r, &cfg2).unwrap();
        assert!(s2.kind.contains("seed=9"));
        // Names mismatch: error on read.
        assert!(read(&path, &names[1..]).is_err());
    }
}
