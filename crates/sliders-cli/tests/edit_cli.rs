//! `sliders edit` / `interpolate` as a user runs them: the exit code is non-zero when any input
//! failed (after the others are written), zero when all were done; a wrong attribute name lists
//! the model's attributes. The model is a tiny random Fader autoencoder saved with the metadata
//! `sliders train` writes.

use sliders_config::nets::FaderConfig;
use sliders_nets::FaderAutoEncoder;
use sliders_nets::checkpoint;
use std::path::Path;
use std::process::{Command, Output};
use tch::{Device, nn::VarStore};

fn model(dir: &Path) {
    let cfg = FaderConfig {
        init_fm: 8,
        max_fm: 16,
        n_attr: 4,
        ..FaderConfig::small(16)
    };
    let vs = VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
    checkpoint::save_with_metadata(
        &vs,
        &ae,
        dir.join("last_ae.safetensors"),
        &[
            ("sliders.attributes", r#"["Eyeglasses","Smiling"]"#),
            ("sliders.framing", "fader"),
            ("sliders.image_size", "16"),
        ],
    )
    .unwrap();
}

fn sliders(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sliders"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn edit_exits_non_zero_when_an_input_failed_and_still_does_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    model(&run);
    let good = tmp.path().join("good.png");
    image::RgbImage::from_pixel(40, 49, image::Rgb([120, 90, 70]))
        .save(&good)
        .unwrap();
    let bad = tmp.path().join("bad.jpg");
    std::fs::write(&bad, b"not an image").unwrap();
    let out = tmp.path().join("out");
    let p = |p: &Path| p.to_str().unwrap().to_string();
    let (run, good, bad, out) = (p(&run), p(&good), p(&bad), p(&out));

    let o = sliders(&[
        "edit",
        "--model",
        &run,
        "--input",
        &good,
        &bad,
        "--set",
        "Smiling=1.5",
        "--out",
        &out,
        "--paste-back",
        "--device",
        "cpu",
    ]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(t.contains("1 photo(s) done, 1 failed"), "{t}");
    assert!(
        t.contains("bad.jpg") && t.contains("last_ae.safetensors"),
        "{t}"
    );
    assert!(Path::new(&out).join("good.png").is_file());
    assert!(Path::new(&out).join("good_pasted.png").is_file());

    let o = sliders(&[
        "edit",
        "--model",
        &run,
        "--input",
        &good,
        "--set",
        "Smiling=-0.5",
        "--out",
        &out,
        "--device",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));

    let o = sliders(&[
        "edit", "--model", &run, "--input", &good, "--set", "Beard=1", "--out", &out,
    ]);
    let t = text(&o);
    assert!(!o.status.success());
    assert!(t.contains("Eyeglasses, Smiling"), "{t}");

    let strip = format!("{out}/strip.png");
    let o = sliders(&[
        "interpolate",
        "--model",
        &run,
        "--input",
        &good,
        "--attr",
        "Smiling",
        "--from",
        "-1",
        "--to",
        "2",
        "--steps",
        "4",
        "--out",
        &strip,
        "--gif",
        "--device",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(Path::new(&strip).is_file() && Path::new(&out).join("strip.gif").is_file());
}
