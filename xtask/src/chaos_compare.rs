//! The comparison of `cargo xtask chaos`: two runs roots must hold the same results, i.e. the
//! same `metrics.json` values (the report's and each run's), the same tensors in every model file
//! outside `checkpoints/`, and the same `metrics.csv` rows (less the throughput columns, which
//! measure the machine). The first difference is named: file, key or row and column, both values.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use sliders_config::layout::{file, folder};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Fails naming the first difference between the results under `a` (uninterrupted) and `b`
/// (killed and resumed).
pub fn same_results(a: &Path, b: &Path) -> Result<()> {
    let files = result_files(a)?;
    if files.is_empty() {
        bail!(
            "{}: no results found (metrics.json, *.safetensors, metrics.csv)",
            a.display()
        );
    }
    if !files.iter().any(|f| f.ends_with("report/metrics.json")) {
        bail!("{}: the report's metrics.json is missing", a.display());
    }
    for rel in &files {
        let (fa, fb) = (a.join(rel), b.join(rel));
        if !fb.is_file() {
            bail!(
                "{} exists after the uninterrupted run but not after the killed one ({})",
                rel.display(),
                fb.display()
            );
        }
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".json") {
            same_json(&fa, &fb).with_context(|| rel.display().to_string())?;
        } else if name.ends_with(".csv") {
            same_csv(&fa, &fb).with_context(|| rel.display().to_string())?;
        } else {
            same_tensors(&fa, &fb).with_context(|| rel.display().to_string())?;
        }
    }
    Ok(())
}

/// The result files under `dir` (relative paths, sorted): every `metrics.json`, every
/// `metrics.csv` and every `.safetensors` outside `checkpoints/` folders.
fn result_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))?;
        for entry in entries {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if name != folder::CHECKPOINTS {
                    stack.push(path);
                }
            } else if name == file::METRICS_JSON
                || name == file::METRICS_CSV
                || name.ends_with(".safetensors")
            {
                out.push(path.strip_prefix(dir)?.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Two JSON files with the same leaves; names the first differing key.
fn same_json(a: &Path, b: &Path) -> Result<()> {
    let read = |p: &Path| -> Result<BTreeMap<String, Value>> {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let v: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))?;
        let mut leaves = BTreeMap::new();
        flatten(&v, String::new(), &mut leaves);
        Ok(leaves)
    };
    first_difference(&read(a)?, &read(b)?)
}

/// The first key whose value differs (or that only one side has), as an error.
fn first_difference(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) -> Result<()> {
    for (k, va) in a {
        match b.get(k) {
            Some(vb) if vb == va => {}
            Some(vb) => bail!("key `{k}` differs: uninterrupted {va}, killed {vb}"),
            None => bail!("key `{k}` is missing after the killed run (uninterrupted {va})"),
        }
    }
    if let Some(k) = b.keys().find(|k| !a.contains_key(*k)) {
        bail!("key `{k}` only exists after the killed run");
    }
    Ok(())
}

/// Every leaf of `v` by its `/`-joined path.
fn flatten(v: &Value, path: String, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(map) => {
            for (k, inner) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}/{k}")
                };
                flatten(inner, p, out);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                flatten(inner, format!("{path}[{i}]"), out);
            }
        }
        leaf => {
            out.insert(path, leaf.clone());
        }
    }
}

/// Whether a `metrics.csv` column measures the machine rather than the training.
fn is_throughput(column: &str) -> bool {
    column.ends_with("_per_sec")
}

/// Two CSV files with the same rows, throughput columns left out; names the first difference.
fn same_csv(a: &Path, b: &Path) -> Result<()> {
    let read =
        |p: &Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let (ta, tb) = (read(a)?, read(b)?);
    let (la, lb): (Vec<&str>, Vec<&str>) = (ta.lines().collect(), tb.lines().collect());
    let header: Vec<&str> = la
        .first()
        .map(|h| h.split(',').collect())
        .unwrap_or_default();
    if la.first() != lb.first() {
        bail!(
            "headers differ: uninterrupted `{:?}`, killed `{:?}`",
            la.first(),
            lb.first()
        );
    }
    for (i, (ra, rb)) in la.iter().zip(&lb).enumerate().skip(1) {
        let (ca, cb): (Vec<&str>, Vec<&str>) = (ra.split(',').collect(), rb.split(',').collect());
        for (j, col) in header.iter().enumerate() {
            if is_throughput(col) {
                continue;
            }
            let (x, y) = (ca.get(j), cb.get(j));
            if x != y {
                bail!(
                    "row {} column `{col}` differs: uninterrupted {x:?}, killed {y:?}",
                    i + 1
                );
            }
        }
    }
    if la.len() != lb.len() {
        bail!(
            "uninterrupted has {} lines, killed {} (same up to there)",
            la.len(),
            lb.len()
        );
    }
    Ok(())
}

/// Two safetensors files holding the same tensors (names, dtypes, shapes and bytes); the
/// metadata (which names the run folder) may differ.
fn same_tensors(a: &Path, b: &Path) -> Result<()> {
    let (ha, da) = read_safetensors(a)?;
    let (hb, db) = read_safetensors(b)?;
    for (name, ia) in &ha {
        let Some(ib) = hb.get(name) else {
            bail!("tensor `{name}` is missing after the killed run");
        };
        if ia.0 != ib.0 {
            bail!("tensor `{name}`: dtype/shape {} against {}", ia.0, ib.0);
        }
        if da[ia.1.clone()] != db[ib.1.clone()] {
            bail!("tensor `{name}` has other values after the killed run");
        }
    }
    if ha.len() != hb.len() {
        bail!(
            "{} tensors against {} after the killed run",
            ha.len(),
            hb.len()
        );
    }
    Ok(())
}

/// A tensor's dtype and shape (as text) and the byte range of its data.
type TensorInfo = (String, std::ops::Range<usize>);

/// A safetensors file's tensors by name, and its data bytes.
fn read_safetensors(p: &Path) -> Result<(BTreeMap<String, TensorInfo>, Vec<u8>)> {
    let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
    let bad = || format!("{}: not a complete safetensors file", p.display());
    let n = u64::from_le_bytes(bytes.get(..8).with_context(bad)?.try_into()?) as usize;
    let header: serde_json::Map<String, Value> =
        serde_json::from_slice(bytes.get(8..8 + n).with_context(bad)?).with_context(bad)?;
    let data = bytes.get(8 + n..).with_context(bad)?.to_vec();
    let mut out = BTreeMap::new();
    for (name, info) in header {
        if name == "__metadata__" {
            continue;
        }
        let offsets = info["data_offsets"].as_array().with_context(bad)?;
        let (s, e) = (
            offsets.first().and_then(Value::as_u64).with_context(bad)? as usize,
            offsets.get(1).and_then(Value::as_u64).with_context(bad)? as usize,
        );
        if s > e || e > data.len() {
            bail!("{}: tensor `{name}` lies outside the file", p.display());
        }
        out.insert(name, (format!("{} {}", info["dtype"], info["shape"]), s..e));
    }
    Ok((out, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(tag: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("sliders-chaos-cmp-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn safetensors(meta: &str, values: &[f32]) -> Vec<u8> {
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let header = format!(
            "{{\"__metadata__\":{{\"run\":\"{meta}\"}},\"w\":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[0,{}]}}}}",
            values.len(),
            data.len()
        );
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend(header.as_bytes());
        out.extend(data);
        out
    }

    #[test]
    fn the_first_differing_key_row_or_tensor_is_named() {
        let (a, b) = (tmp("a"), tmp("b"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d.join("report")).unwrap();
            std::fs::create_dir_all(d.join("fader/checkpoints")).unwrap();
            std::fs::write(d.join("fader/checkpoints/ignored.safetensors"), b"x").unwrap();
        }
        let write = |d: &Path, json: &str, csv: &str, w: &[f32], meta: &str| {
            std::fs::write(d.join("report/metrics.json"), json).unwrap();
            std::fs::write(d.join("fader/metrics.csv"), csv).unwrap();
            std::fs::write(d.join("fader/last_ae.safetensors"), safetensors(meta, w)).unwrap();
        };
        let csv = "step,images_per_sec,loss\n1,100.5,0.25\n";
        write(&a, r#"{"x/acc": 0.5, "y": 1}"#, csv, &[1.0, 2.0], "/a");
        // Other metadata and throughput: still the same results.
        write(
            &b,
            r#"{"y": 1, "x/acc": 0.5}"#,
            "step,images_per_sec,loss\n1,7.0,0.25\n",
            &[1.0, 2.0],
            "/b",
        );
        same_results(&a, &b).unwrap();
        write(&b, r#"{"x/acc": 0.75, "y": 1}"#, csv, &[1.0, 2.0], "/b");
        let err = format!("{:#}", same_results(&a, &b).unwrap_err());
        assert!(
            err.contains("report/metrics.json") && err.contains("`x/acc`"),
            "{err}"
        );
        write(
            &b,
            r#"{"x/acc": 0.5, "y": 1}"#,
            "step,images_per_sec,loss\n1,100.5,0.5\n",
            &[1.0, 2.0],
            "/b",
        );
        let err = format!("{:#}", same_results(&a, &b).unwrap_err());
        assert!(err.contains("row 2 column `loss`"), "{err}");
        write(&b, r#"{"x/acc": 0.5, "y": 1}"#, csv, &[1.0, 2.5], "/b");
        let err = format!("{:#}", same_results(&a, &b).unwrap_err());
        assert!(err.contains("tensor `w` has other values"), "{err}");
        std::fs::remove_file(b.join("fader/last_ae.safetensors")).unwrap();
        let err = format!("{:#}", same_results(&a, &b).unwrap_err());
        assert!(err.contains("not after the killed one"), "{err}");
        std::fs::remove_dir_all(&a).unwrap();
        std::fs::remove_dir_all(&b).unwrap();
    }
}
