//! `sliders edit` / `interpolate` as a user runs them: the exit code is non-zero when any input
//! failed (after the others are written), zero when all were done; a wrong attribute name lists
//! the model's attributes; hostile photos (header bombs, the RGBA giant, truncated, empty and
//! wrong-magic files) are refused by name with the limit that stopped them while the good photo
//! is still done; out-of-range and non-finite slider values blame their own flag. The model is a tiny random Fader autoencoder saved with the metadata
//! `sliders train` writes.

#[path = "../../sliders-celeba/tests/hostile_files/mod.rs"]
mod hostile;

mod support;

use std::path::Path;
use support::{fader_model, sliders, text};

/// The model of these tests: Eyeglasses and Smiling at 16 px.
fn model(dir: &Path) {
    fader_model(dir, &["Eyeglasses", "Smiling"], 16);
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

/// Issue #22 findings 1-3 on `sliders edit`: a PNG claiming 100000x100000 and a JPEG claiming
/// 60000x60000 (old code: exit 134, the good photo not done), the 12000x12000 RGBA giant (old
/// code: 3.6 GB), and truncated JPEG and PNG files (old code: "1 done", exit 0).
#[test]
fn edit_refuses_hostile_photos_by_name_and_still_does_the_good_one() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    model(&run);
    let good = tmp.path().join("good.jpg");
    std::fs::write(&good, hostile::good_jpeg()).unwrap();
    let mut args: Vec<String> = vec!["edit".into(), "--model".into(), p(&run), "--input".into()];
    let cases = hostile::all_cases();
    for (name, bytes) in &cases {
        let f = tmp.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        args.push(p(&f));
    }
    args.push(p(&good));
    let out = tmp.path().join("out");
    args.extend(["--set", "Smiling=1", "--device", "cpu", "--out"].map(String::from));
    args.push(p(&out));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = sliders(&args);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(&format!("1 photo(s) done, {} failed", cases.len())),
        "{t}"
    );
    assert!(out.join("good.png").is_file(), "{t}");
    for (name, says) in [
        ("png-bomb-100000x100000.png", "max_width = 16384"),
        ("jpeg-bomb-60000x60000.jpg", "--max-image-side"),
        ("rgba-giant-12000x12000.png", "--max-image-pixels"),
        ("truncated.jpg", "cut short"),
        ("truncated.png", "cut short"),
        ("empty.png", "empty"),
        ("wrong-magic.jpg", "not a JPEG or PNG"),
    ] {
        let line = t
            .lines()
            .find(|l| l.contains("FAILED") && l.contains(name))
            .unwrap_or_else(|| panic!("{name} not reported: {t}"));
        assert!(line.contains(says), "{line}");
    }
    // The limits are options: a low --max-image-pixels refuses the good photo, naming itself.
    let mut low = args.clone();
    low.retain(|a| cases.iter().all(|(n, _)| !a.ends_with(n)));
    low.extend(["--max-image-pixels", "1000"]);
    let o = sliders(&low);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("max_pixels = 1000") && t.contains("38804"),
        "{t}"
    );
}

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

/// `--set Smiling=1e30` is refused with the range `sliders serve` enforces (one shared check);
/// `interpolate --from nan` blames --from, not --steps; a sweep beyond the model's sweep range
/// blames --to.
#[test]
fn out_of_range_and_non_finite_values_blame_their_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    model(&run);
    let good = tmp.path().join("good.png");
    std::fs::write(&good, hostile::good_png()).unwrap();
    let (run, good, out) = (p(&run), p(&good), p(&tmp.path().join("out")));
    let o = sliders(&[
        "edit",
        "--model",
        &run,
        "--input",
        &good,
        "--set",
        "Smiling=1e30",
        "--out",
        &out,
        "--device",
        "cpu",
    ]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("Smiling = 1000000000000000000000000000000 is outside the slider range -1 … 3"),
        "{t}"
    );
    assert!(!Path::new(&out).join("good.png").exists());
    let strip = format!("{out}/strip.png");
    for (from, to, blamed) in [
        ("nan", "1", "--from"),
        ("0", "inf", "--to"),
        ("0", "50", "--to"),
    ] {
        let o = sliders(&[
            "interpolate",
            "--model",
            &run,
            "--input",
            &good,
            "--attr",
            "Smiling",
            "--from",
            from,
            "--to",
            to,
            "--out",
            &strip,
            "--device",
            "cpu",
        ]);
        let t = text(&o);
        assert!(!o.status.success(), "{t}");
        assert!(
            t.contains(blamed) && !t.contains("--steps"),
            "{from}..{to}: {t}"
        );
    }
    // Young's −9 … 10 sweep of the Fader README stays possible.
    let o = sliders(&[
        "interpolate",
        "--model",
        &run,
        "--input",
        &good,
        "--attr",
        "Smiling",
        "--from",
        "-9",
        "--to",
        "10",
        "--steps",
        "3",
        "--out",
        &strip,
        "--device",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
}
