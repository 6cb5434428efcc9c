//! sliders-edit on real CelebA faces from the research sample beside the repository
//! (`../shared/celeba`, not redistributable, so not in it): ignored by default, run with
//! `cargo test -p sliders-edit --test celeba_photos -- --ignored` where the sample is present.

mod support;

use image::{Rgb, RgbImage};
use sliders_edit::{Editor, FramedBy, run_edit};
use std::path::{Path, PathBuf};
use support::{dims, fader_run, job};
use tch::Device;

#[test]
#[ignore = "needs the CelebA sample in ../shared/celeba (research-only, not in the repository)"]
fn real_celeba_faces_take_the_celeba_crop() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/celeba/img_align_celeba");
    assert!(
        dir.is_dir(),
        "the CelebA sample is not at {}",
        dir.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let editor = Editor::open(&fader_run(tmp.path()), Device::Cpu).unwrap();
    let files: Vec<PathBuf> = (1..=5).map(|i| dir.join(format!("{i:06}.jpg"))).collect();
    let out = tmp.path().join("out");
    let summary = run_edit(&editor, &job(files, &out, true)).unwrap();
    assert!(summary.all_ok(), "{}", summary.report());
    assert!(summary.done.iter().all(|d| d.framed_by == FramedBy::Celeba));
    let (w, h) = dims(&out.join("000001_pasted.png"));
    assert!(sliders_edit::photo::has_celeba_shape(w, h), "{w}x{h}");
}

#[test]
#[ignore = "needs the CelebA sample in ../shared/celeba (research-only, not in the repository)"]
fn auto_crop_aligns_every_face_of_a_photo_and_pastes_each_back() {
    let tmp = tempfile::tempdir().unwrap();
    let editor = Editor::open(&fader_run(tmp.path()), Device::Cpu).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/celeba/img_align_celeba");
    // Two sample faces, enlarged and turned, on a 500x300 grey photo.
    let mut canvas = RgbImage::from_pixel(500, 300, Rgb([90, 100, 110]));
    for (n, t) in [
        (1, sliders_align::Similarity::new(2.0, 0.35, 40.0, 20.0)),
        (2, sliders_align::Similarity::new(1.8, -0.3, 280.0, 70.0)),
    ] {
        let face = image::open(dir.join(format!("{n:06}.jpg")))
            .unwrap()
            .to_rgb8();
        let back = t.inverse();
        for (x, y, px) in canvas.enumerate_pixels_mut() {
            let [u, v] = back.apply([f64::from(x) + 0.5, f64::from(y) + 0.5]);
            if (0.0..89.0).contains(&u) && (0.0..109.0).contains(&v) {
                px.0 = sliders_align::warp::sample(&face, u, v).map(|c| c.round() as u8);
            }
        }
    }
    let photo = tmp.path().join("two.png");
    canvas.save(&photo).unwrap();
    let out = tmp.path().join("out");
    let summary = run_edit(&editor, &job(vec![photo], &out, true)).unwrap();
    assert!(summary.all_ok(), "{}", summary.report());
    assert_eq!(summary.done.len(), 2, "{}", summary.report());
    assert!(
        summary
            .done
            .iter()
            .all(|d| d.framed_by == FramedBy::Aligned)
    );
    assert_eq!(dims(&out.join("two.png")), (16, 16));
    assert_eq!(dims(&out.join("two-2_pasted.png")), (500, 300));
    // Far from both faces the photo is untouched.
    let pasted = image::open(out.join("two_pasted.png")).unwrap().into_rgb8();
    assert_eq!(pasted.get_pixel(495, 5), canvas.get_pixel(495, 5));
    assert_ne!(pasted, canvas);
}
