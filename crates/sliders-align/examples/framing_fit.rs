//! Fits the framing correction (docs/face-alignment.md#framing-correction) on aligned CelebA
//! images and measures it on held-out ones. Input: the landmarks `examples/frame_residual.rs
//! --dump` wrote (refined landmarks of aligned images, 178×218 pixels) and a split file of the
//! same images (`data/cache/*.split.txt`, `name part` per line). The correction is fitted on the
//! `train` part; on the `test` part it prints how far alignment moves the Fader crop's corners
//! with and without it (0 is CelebA's own framing), by the dump's label. `--write` adds it to
//! `data/celeba_template.txt`.
//!
//! ```sh
//! target/debug/examples/frame_residual ../shared/celeba/img_align_celeba --every 2 \
//!     --limit 4000 --dump /tmp/landmarks.txt
//! cargo run --release -p sliders-align --example framing_fit -- /tmp/landmarks.txt \
//!     data/cache/celeba-*-fader-64.split.txt [--write]
//! ```

use sliders_align::{Frame, FramingCorrection, Similarity, Template, fit_points};
use std::collections::HashMap;
use std::path::PathBuf;

type Face = [[f64; 2]; 5];
type Error = Box<dyn std::error::Error>;
/// One line of a `--dump` file: name, label, landmarks.
type Dumped = (String, bool, Face);

/// The lines of a `--dump` file.
fn read_dump(path: &str) -> Result<Vec<Dumped>, Error> {
    let mut out = Vec::new();
    for line in std::fs::read_to_string(path)?.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 12 {
            return Err(format!("{path}: `{line}` is not name, label and ten numbers").into());
        }
        let v: Vec<f64> = f[2..].iter().map(|x| x.parse()).collect::<Result<_, _>>()?;
        let face = std::array::from_fn(|i| [v[2 * i], v[2 * i + 1]]);
        out.push((f[0].to_string(), f[1] == "1", face));
    }
    Ok(out)
}

/// How far `t` moves the Fader crop's corners (rows 20..198 of the aligned image), on average.
fn corners_moved(t: &Similarity) -> f64 {
    let w = Frame::ALIGNED.width;
    let c = [[0.0, 20.0], [w, 20.0], [0.0, 198.0], [w, 198.0]];
    c.iter()
        .map(|&p| {
            let q = t.apply(p);
            (q[0] - p[0]).hypot(q[1] - p[1])
        })
        .sum::<f64>()
        / 4.0
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dump), Some(split)) = (args.first(), args.get(1)) else {
        return Err("usage: framing_fit LANDMARKS SPLIT [--write]".into());
    };
    let write = args.iter().any(|a| a == "--write");
    let parts: HashMap<String, String> = std::fs::read_to_string(split)?
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, p)| (n.to_string(), p.trim().to_string()))
        .collect();
    let faces = read_dump(dump)?;
    let template = Template::celeba();
    let dst = template.in_frame(Frame::ALIGNED, 178, 218);
    let fit = |f: &Face| Similarity::fit(&fit_points(f), &fit_points(&dst));
    let in_part = |p: &str| -> Vec<(bool, Face)> {
        faces
            .iter()
            .filter(|(n, _, _)| parts.get(n).is_some_and(|q| q == p))
            .map(|(_, l, f)| (*l, *f))
            .collect()
    };
    let train: Vec<Face> = in_part("train").into_iter().map(|(_, f)| f).collect();
    let test = in_part("test");
    let correction = FramingCorrection::fit(&train, &dst, fit).ok_or("too few training faces")?;
    println!("fitted on {} train faces", train.len());
    for label in [false, true] {
        let (mut n, mut before, mut after) = (0, 0.0, 0.0);
        for (_, f) in test.iter().filter(|(l, _)| *l == label) {
            let Some(s) = fit(f) else { continue };
            n += 1;
            before += corners_moved(&s);
            after += corners_moved(&correction.predict(&s, f, &dst).after(&s));
        }
        let n_f = f64::from(n.max(1));
        println!(
            "test, label {label}: {n} faces, crop corners moved {:.2} px without the correction, \
             {:.2} px with it",
            before / n_f,
            after / n_f
        );
    }
    if write {
        let out = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/celeba_template.txt"
        ));
        let text = std::fs::read_to_string(&out)?;
        let comment: String = text
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| !l.starts_with("Framing correction"))
            .map(|l| format!("{l}\n"))
            .collect();
        let comment = format!(
            "{comment}Framing correction (11 rows: a-1, b, tx, ty per shape feature, then the constant;\n\
             docs/face-alignment.md#framing-correction), fitted on {} aligned train-split images by\n\
             examples/framing_fit.rs.",
            train.len()
        );
        let with = Template {
            correction: Some(correction),
            ..template
        };
        std::fs::write(&out, with.to_text(&comment))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}
