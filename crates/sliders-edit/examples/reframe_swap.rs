//! Swap accuracy of a Fader model on CelebA test images in their original framing and re-framed
//! (random similarity into a larger canvas, then `--crop auto`'s detect-and-align), judged by the
//! evaluation classifier; the logic is `sliders_edit::reframe` (docs/face-alignment.md).
//!
//! ```sh
//! cargo run --release -p sliders-edit --example reframe_swap -- \
//!     FADER_RUN CLASSIFIER_RUN CELEBA_DIR [--n 200] [--seed 24] [--save DIR]
//! ```
//!
//! `--save DIR` also writes, for the first three test images, a re-framed photo and the same photo
//! with the first attribute flipped and pasted back (`reframed_K.png`, `pasted_K.png`), to look
//! at by eye (CelebA faces: keep them out of the repository).
//!
//! The test images are the test split of the Fader run's own data settings (its `resolved.toml`,
//! `[data.split]`), recomputed on `CELEBA_DIR`, taken in order.

use rand::SeedableRng;
use sliders_celeba::{CelebaIndex, Part};
use sliders_config::data::DataConfig;
use sliders_edit::Editor;
use sliders_edit::faces::FaceFinder;
use sliders_edit::reframe::{
    HEADER, Labelled, breakdown, reframed_paste_back, row, summarize, trial,
};
use sliders_train::judge::Judge;
use std::path::{Path, PathBuf};

type Error = Box<dyn std::error::Error>;

struct Args {
    fader: PathBuf,
    classifier: PathBuf,
    celeba: PathBuf,
    n: usize,
    seed: u64,
    save: Option<PathBuf>,
}

fn args() -> Result<Args, Error> {
    let mut pos = Vec::new();
    let (mut n, mut seed, mut save) = (200, 24, None);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--n" => n = it.next().ok_or("--n needs a number")?.parse()?,
            "--seed" => seed = it.next().ok_or("--seed needs a number")?.parse()?,
            "--save" => save = Some(PathBuf::from(it.next().ok_or("--save needs a folder")?)),
            _ => pos.push(PathBuf::from(a)),
        }
    }
    let [fader, classifier, celeba] = <[PathBuf; 3]>::try_from(pos).map_err(
        |_| "usage: reframe_swap FADER_RUN CLASSIFIER_RUN CELEBA_DIR [--n N] [--seed S]",
    )?;
    Ok(Args {
        fader,
        classifier,
        celeba,
        n,
        seed,
        save,
    })
}

/// The first `n` test images of the run's split on `celeba`, with the labels of `attributes`.
fn test_images(
    run: &Path,
    celeba: &Path,
    attributes: &[String],
    n: usize,
) -> Result<Vec<Labelled>, Error> {
    let resolved = run.join("resolved.toml");
    let table: toml::Table = std::fs::read_to_string(&resolved)?.parse()?;
    let data: DataConfig = table
        .get("data")
        .ok_or_else(|| format!("{}: no [data]", resolved.display()))?
        .clone()
        .try_into()?;
    let index = CelebaIndex::open(celeba)?;
    let split = sliders_celeba::split::compute(&index.records, &data.split)?;
    let columns: Vec<usize> = attributes
        .iter()
        .map(|a| {
            index
                .attr_names
                .iter()
                .position(|c| c == a)
                .ok_or_else(|| format!("{a} is not a CelebA attribute"))
        })
        .collect::<Result<_, _>>()?;
    Ok(split
        .indices(Part::Test)
        .into_iter()
        .take(n)
        .map(|i| {
            let r = &index.records[i];
            Labelled {
                path: index.image_path(&r.name),
                labels: columns.iter().map(|&c| r.bits >> c & 1 == 1).collect(),
            }
        })
        .collect())
}

fn main() -> Result<(), Error> {
    let a = args()?;
    tch::set_num_threads(1);
    let device = tch::Device::Cpu;
    let editor = Editor::open(&a.fader, device)?;
    let attributes = editor.info().attributes.clone();
    let judge_path = ["best_classifier.safetensors", "last_classifier.safetensors"]
        .iter()
        .map(|f| a.classifier.join(f))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("no classifier checkpoint in {}", a.classifier.display()))?;
    let judge = Judge::load(&judge_path, device)?;
    if judge.image_size() != i64::from(editor.info().image_size) {
        return Err(format!(
            "the classifier takes {} px, the model gives {} px",
            judge.image_size(),
            editor.info().image_size
        )
        .into());
    }
    let offsets = judge.offsets(&attributes)?;
    let finder = FaceFinder::load()?;
    let images = test_images(&a.fader, &a.celeba, &attributes, a.n)?;
    eprintln!(
        "{} test images, model {} ({}), judge {}",
        images.len(),
        a.fader.display(),
        attributes.join(", "),
        judge_path.display()
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed);
    let mut outcomes = Vec::new();
    let start = std::time::Instant::now();
    for (k, img) in images.iter().enumerate() {
        outcomes.extend(trial(
            &editor,
            &finder,
            &|x| judge.logits(x),
            &offsets,
            img,
            &mut rng,
        )?);
        if (k + 1) % 25 == 0 {
            eprintln!("{} done, {:.0} s", k + 1, start.elapsed().as_secs_f64());
        }
    }
    if let Some(dir) = &a.save {
        std::fs::create_dir_all(dir)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed + 1);
        for (k, img) in images.iter().take(3).enumerate() {
            if let Some((canvas, pasted)) = reframed_paste_back(&editor, &finder, img, 0, &mut rng)?
            {
                canvas.save(dir.join(format!("reframed_{k}.png")))?;
                pasted.save(dir.join(format!("pasted_{k}.png")))?;
            }
        }
        eprintln!(
            "re-framed photos and their pasted-back edits in {}",
            dir.display()
        );
    }
    println!("{HEADER}");
    for (i, name) in attributes.iter().enumerate() {
        println!("{}", row(name, &summarize(&outcomes, i)));
    }
    for (i, name) in attributes.iter().enumerate() {
        for line in breakdown(&outcomes, i) {
            println!("{name}, {line}");
        }
    }
    Ok(())
}
