//! sliders-edit end to end on tiny models built here (random weights, saved with the metadata
//! `sliders train` writes) and generated photos: Fader and IcGAN edits, paste-back, the
//! interpolation strip and GIF, and every bad input of issue #9 (unreadable file, photo smaller
//! than the model, another architecture's checkpoint, a folder without images), each reported in
//! the batch summary while the other files are still done. The tests on real CelebA faces are in
//! `celeba_photos.rs`.

mod support;

use image::{GrayImage, Rgb, RgbImage, RgbaImage};
use sliders_config::nets::{ClassifierConfig, FaderConfig};
use sliders_edit::{
    Crop, EditError, Editor, FramedBy, InterpolateJob, ModelKind, alphas, run_edit, run_interpolate,
};
use sliders_edit::{EditJob, Setting};
use sliders_nets::checkpoint;
use sliders_nets::{FaderAutoEncoder, FaderClassifier};
use std::path::{Path, PathBuf};
use support::{ATTRS, SIZE, dims, fader_run, icgan_runs, job, save, settings, synthetic_faces};
use tch::{Device, nn::VarStore};

#[test]
fn fader_folder_is_self_describing_and_edits_every_kind_of_photo() {
    let tmp = tempfile::tempdir().unwrap();
    let run = fader_run(tmp.path());
    let editor = Editor::open(&run, Device::Cpu).unwrap();
    let info = editor.info();
    assert_eq!(info.kind, ModelKind::Fader);
    assert_eq!(info.attributes, ATTRS);
    assert_eq!(info.image_size, SIZE as u32);
    assert_eq!(info.files, [run.join("best_accu_ae.safetensors")]);

    let photos = tmp.path().join("photos");
    let mut inputs = synthetic_faces(&photos, 3);
    // A grayscale PNG, an RGBA PNG (transparent corner) and a wide JPEG: not CelebA-shaped.
    let gray = photos.join("gray.png");
    GrayImage::from_fn(40, 50, |x, _| image::Luma([(x * 6) as u8]))
        .save(&gray)
        .unwrap();
    let rgba = photos.join("alpha.png");
    RgbaImage::from_fn(30, 30, |x, y| {
        image::Rgba([200, 10, 10, if x + y < 10 { 0 } else { 255 }])
    })
    .save(&rgba)
    .unwrap();
    let wide = photos.join("wide.jpg");
    RgbImage::from_pixel(120, 60, Rgb([90, 120, 150]))
        .save(&wide)
        .unwrap();
    inputs.extend([gray.clone(), rgba, wide.clone()]);

    // `--crop auto` detects faces: the three images without one are reported, not edited.
    let out = tmp.path().join("out");
    let summary = run_edit(&editor, &job(inputs.clone(), &out, true)).unwrap();
    assert_eq!(summary.done.len(), 3, "{}", summary.report());
    assert_eq!(summary.failed.len(), 3, "{}", summary.report());
    assert!(
        summary
            .failed
            .iter()
            .all(|f| matches!(f.error, EditError::NoFace { .. }))
    );
    assert!(
        summary
            .report()
            .contains("no face found in the 120x60 photo")
    );
    // With a centred square they are edited like any photo.
    let summary = run_edit(
        &editor,
        &EditJob {
            crop: Crop::Center,
            ..job(inputs, &out, true)
        },
    )
    .unwrap();
    assert!(summary.all_ok(), "{}", summary.report());
    assert_eq!(summary.done.len(), 6);
    assert_eq!(summary.done[0].framed_by, FramedBy::Center);
    assert_eq!(summary.done[3].framed_by, FramedBy::Center);
    assert_eq!(dims(&out.join("face0.png")), (16, 16));
    assert_eq!(dims(&out.join("face0_pasted.png")), (64, 78));
    assert_eq!(dims(&out.join("gray_pasted.png")), (40, 50));
    assert_eq!(dims(&out.join("wide_pasted.png")), (120, 60));
    assert!(summary.report().starts_with("6 photo(s) done, 0 failed"));
    // Paste-back leaves the photo outside the face box untouched: the wide JPEG's centred
    // square is columns 30..90, so column 5 is the original.
    let orig = sliders_edit::photo::decode(&wide).unwrap();
    let pasted = image::open(out.join("wide_pasted.png"))
        .unwrap()
        .into_rgb8();
    assert_eq!(orig.get_pixel(5, 30), pasted.get_pixel(5, 30));
    // No temporary files are left behind.
    assert!(
        std::fs::read_dir(&out).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp"))
    );
}

#[test]
fn slider_values_beyond_zero_one_change_the_output() {
    let tmp = tempfile::tempdir().unwrap();
    let editor = Editor::open(&fader_run(tmp.path()), Device::Cpu).unwrap();
    let face = synthetic_faces(&tmp.path().join("p"), 1).remove(0);
    let photo =
        sliders_edit::Photo::load(&face, 16, sliders_config::data::Framing::Fader, Crop::Auto)
            .unwrap();
    let x = sliders_edit::photo::to_tensor(&[&photo.face, &photo.face], 16);
    let e = |a: &str| editor.resolve(&settings(&[a])).unwrap();
    let y = editor
        .edit_batch(&x, &[e("Smiling=-1"), e("Smiling=2.5")])
        .unwrap();
    assert_eq!(y.size(), [2, 3, 16, 16]);
    let diff = (y.get(0) - y.get(1)).abs().max().double_value(&[]);
    assert!(diff > 1e-4, "α = −1 and α = 2.5 decode alike ({diff})");
    assert!(y.abs().max().double_value(&[]) <= 1.0);
}

#[test]
fn wrong_attribute_names_list_the_valid_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let editor = Editor::open(&fader_run(tmp.path()), Device::Cpu).unwrap();
    let err = editor.resolve(&settings(&["Smilng=1"])).unwrap_err();
    assert!(matches!(err, EditError::UnknownAttribute { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("Smilng") && msg.contains("Eyeglasses, Smiling"),
        "{msg}"
    );
    // Case alone is forgiven.
    assert_eq!(
        editor.resolve(&settings(&["smiling=1"])).unwrap().0,
        [(1, 1.0)]
    );
    // The whole job fails before touching any photo.
    let err = run_edit(
        &editor,
        &EditJob {
            settings: settings(&["Beard=1"]),
            ..job(vec![], tmp.path(), false)
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("this model knows: Eyeglasses, Smiling")
    );
}

#[test]
fn malformed_settings_and_crops_say_how_to_write_them() {
    for bad in ["Smiling", "=1", "Smiling=big", "Smiling=inf"] {
        let e = Setting::parse(bad).unwrap_err().to_string();
        assert!(e.contains("Name=value"), "{bad}: {e}");
    }
    assert_eq!(Setting::parse(" Smiling = -0.5 ").unwrap().alpha, -0.5);
    assert_eq!("auto".parse::<Crop>().unwrap(), Crop::Auto);
    assert_eq!("Centre".parse::<Crop>().unwrap(), Crop::Center);
    assert_eq!(
        "1, 2,30,40".parse::<Crop>().unwrap(),
        Crop::Manual {
            x: 1,
            y: 2,
            w: 30,
            h: 40
        }
    );
    for bad in ["1,2,3", "1,2,0,4", "a,b,c,d", "-1,0,5,5"] {
        let e = bad.parse::<Crop>().unwrap_err().to_string();
        assert!(e.contains("x,y,w,h"), "{bad}: {e}");
    }
}

#[test]
fn bad_inputs_are_reported_and_the_other_files_still_done() {
    let tmp = tempfile::tempdir().unwrap();
    let editor = Editor::open(&fader_run(tmp.path()), Device::Cpu).unwrap();
    let photos = tmp.path().join("photos");
    let good = synthetic_faces(&photos, 2);
    // Unreadable: garbage bytes named .jpg, and a JPEG cut short.
    let garbage = photos.join("garbage.jpg");
    std::fs::write(&garbage, b"this is not an image").unwrap();
    let cut = photos.join("cut.jpg");
    let mut jpeg = Vec::new();
    RgbImage::from_pixel(64, 64, Rgb([1, 2, 3]))
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    std::fs::write(&cut, &jpeg[..jpeg.len() / 3]).unwrap();
    // Smaller than the model's 16 px input.
    let tiny = photos.join("tiny.png");
    RgbImage::from_pixel(12, 12, Rgb([9, 9, 9]))
        .save(&tiny)
        .unwrap();
    // A folder with no images (only a text file) and a path that does not exist.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "no images here").unwrap();
    let missing = tmp.path().join("missing.png");

    let inputs = vec![
        good[0].clone(),
        garbage.clone(),
        cut.clone(),
        tiny.clone(),
        empty.clone(),
        missing.clone(),
        good[1].clone(),
    ];
    let out = tmp.path().join("out");
    let summary = run_edit(&editor, &job(inputs, &out, false)).unwrap();
    assert!(!summary.all_ok());
    let done: Vec<&PathBuf> = summary.done.iter().map(|d| &d.path).collect();
    assert_eq!(done, [&good[0], &good[1]]);
    assert!(out.join("face0.png").is_file() && out.join("face1.png").is_file());
    let failed: Vec<&PathBuf> = summary.failed.iter().map(|f| &f.path).collect();
    assert_eq!(failed.len(), 5, "{}", summary.report());
    for p in [&garbage, &cut, &tiny, &empty, &missing] {
        assert!(failed.contains(&p), "{} not reported", p.display());
    }
    let kind = |p: &Path| &summary.failed.iter().find(|f| f.path == p).unwrap().error;
    assert!(matches!(kind(&garbage), EditError::Decode(_)));
    assert!(matches!(kind(&cut), EditError::Decode(_)));
    // `--crop auto` finds no face in a flat 12x12 image; a box crop says it is too small.
    assert!(matches!(kind(&tiny), EditError::NoFace { .. }));
    let centred = sliders_edit::Photo::load(
        &tiny,
        16,
        sliders_config::data::Framing::Fader,
        Crop::Center,
    );
    assert!(matches!(
        centred.unwrap_err(),
        EditError::TooSmall {
            width: 12,
            size: 16,
            ..
        }
    ));
    assert!(matches!(kind(&empty), EditError::EmptyFolder { .. }));
    assert!(matches!(kind(&missing), EditError::Read { .. }));
    let report = summary.report();
    assert!(report.starts_with("2 photo(s) done, 5 failed"), "{report}");
    assert!(
        report.contains("no face found in the 12x12 photo"),
        "{report}"
    );
    assert!(report.contains("no .jpg, .jpeg or .png file"), "{report}");
    // A folder input takes its images (and only those).
    let summary = run_edit(&editor, &job(vec![photos.clone()], &out, false)).unwrap();
    assert_eq!(summary.done.len(), 2);
    assert_eq!(summary.failed.len(), 3, "{}", summary.report());
}

#[test]
fn checkpoints_of_other_architectures_are_refused_with_what_to_pass() {
    let tmp = tempfile::tempdir().unwrap();
    // An evaluation classifier.
    let cls = tmp.path().join("best_classifier.safetensors");
    let cfg = ClassifierConfig {
        img_sz: SIZE,
        init_fm: 8,
        max_fm: 16,
        hid_dim: 8,
        n_attr: 4,
        ..ClassifierConfig::default()
    };
    let vs = VarStore::new(Device::Cpu);
    let net = FaderClassifier::new(&vs.root(), &cfg).unwrap();
    save(&vs, &net, &cls, "fader");
    let err = Editor::open(&cls, Device::Cpu).unwrap_err();
    assert!(matches!(err, EditError::WrongModel { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("fader-classifier") && msg.contains("Fader run folder"),
        "{msg}"
    );
    // A cGAN run folder or generator alone: the encoders are needed.
    let (cgan, _) = icgan_runs(tmp.path());
    let msg = Editor::open(&cgan, Device::Cpu).unwrap_err().to_string();
    assert!(msg.contains("encoders"), "{msg}");
    let msg = Editor::open(&cgan.join("G.safetensors"), Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("encoders"), "{msg}");
    // A folder without a model, a file that is not a checkpoint, a missing path.
    let msg = Editor::open(tmp.path(), Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("no model in this folder"), "{msg}");
    let junk = tmp.path().join("junk.safetensors");
    std::fs::write(&junk, b"junk").unwrap();
    assert!(matches!(
        Editor::open(&junk, Device::Cpu).unwrap_err(),
        EditError::Nets(_)
    ));
    assert!(matches!(
        Editor::open(&tmp.path().join("nope"), Device::Cpu).unwrap_err(),
        EditError::Read { .. }
    ));
    // A Fader checkpoint without the self-describing metadata.
    let bare = tmp.path().join("bare_ae.safetensors");
    let fcfg = FaderConfig {
        init_fm: 8,
        max_fm: 16,
        ..FaderConfig::small(SIZE)
    };
    let vs = VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &fcfg).unwrap();
    checkpoint::save(&vs, &ae, &bare).unwrap();
    let msg = Editor::open(&bare, Device::Cpu).unwrap_err().to_string();
    assert!(
        msg.contains("sliders.attributes") && msg.contains("missing"),
        "{msg}"
    );
}

#[test]
fn icgan_encoders_run_edits_through_its_generator() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, enc) = icgan_runs(tmp.path());
    // resolved.toml names the cGAN relative to the project folder (here tmp), not to the cwd.
    let editor = Editor::open(&enc, Device::Cpu).unwrap();
    let info = editor.info();
    assert_eq!(info.kind, ModelKind::Icgan);
    assert_eq!(info.attributes, ATTRS);
    assert_eq!(info.framing, sliders_config::data::Framing::Icgan);
    assert_eq!(info.files.len(), 3);
    // An encoder file opens its run too.
    let by_file = Editor::open(&enc.join("ey.safetensors"), Device::Cpu).unwrap();
    assert_eq!(by_file.info().files, info.files);
    let photos = synthetic_faces(&tmp.path().join("p"), 3);
    let out = tmp.path().join("out");
    let summary = run_edit(&editor, &job(photos, &out, true)).unwrap();
    assert!(summary.all_ok(), "{}", summary.report());
    assert_eq!(dims(&out.join("face2.png")), (16, 16));
    assert_eq!(dims(&out.join("face2_pasted.png")), (64, 78));
}

#[test]
fn interpolation_writes_a_labelled_grid_and_a_gif() {
    let tmp = tempfile::tempdir().unwrap();
    let editor = Editor::open(&fader_run(tmp.path()), Device::Cpu).unwrap();
    let mut photos = synthetic_faces(&tmp.path().join("p"), 2);
    photos.push(tmp.path().join("missing.png"));
    let strip = tmp.path().join("out/strip.png");
    let gif = tmp.path().join("out/strip.gif");
    let a = alphas(-1.0, 2.0, 4).unwrap();
    assert_eq!(a, [-1.0, 0.0, 1.0, 2.0]);
    let summary = run_interpolate(
        &editor,
        &InterpolateJob {
            inputs: photos,
            attribute: "Smiling".into(),
            alphas: a,
            settings: settings(&["Eyeglasses=0"]),
            crop: Crop::Auto,
            out: strip.clone(),
            gif: Some(gif.clone()),
            batch_size: 3,
            limits: Default::default(),
        },
    )
    .unwrap();
    assert_eq!(summary.done.len(), 2);
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(summary.outputs, [strip.clone(), gif.clone()]);
    let tile = 16 * sliders_edit::strip::tile_scale(16);
    let (w, h) = dims(&strip);
    // Four enlarged tiles side by side (sliders-plots' gaps and margins around them).
    assert!((4 * tile..4 * tile + 64).contains(&w), "{w}");
    assert!(h > 2 * tile + 12, "two rows under the labels");
    let decoder = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(
        std::fs::File::open(&gif).unwrap(),
    ))
    .unwrap();
    use image::AnimationDecoder;
    assert_eq!(decoder.into_frames().count(), 6, "4 there, 2 back");
    assert!(alphas(0.0, 1.0, 1).is_err());
    let err = run_interpolate(
        &editor,
        &InterpolateJob {
            inputs: vec![],
            attribute: "Male".into(),
            alphas: vec![0.0, 1.0],
            settings: vec![],
            crop: Crop::Auto,
            out: strip,
            gif: None,
            batch_size: 3,
            limits: Default::default(),
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("Eyeglasses, Smiling"));
}

/// A JPEG with an EXIF APP1 segment holding only an orientation tag.
fn jpeg_with_orientation(img: &RgbImage, orientation: u16) -> Vec<u8> {
    let mut jpeg = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut jpeg),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes()); // IFD0 offset
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes()); // count
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn exif_rotation_is_honoured_and_manual_boxes_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    // 40x20: left half red, right half blue. Orientation 6 = rotate 90° clockwise to display,
    // giving 20x40 with red on top.
    let img = RgbImage::from_fn(40, 20, |x, _| {
        if x < 20 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let path = tmp.path().join("rotated.jpg");
    std::fs::write(&path, jpeg_with_orientation(&img, 6)).unwrap();
    let decoded = sliders_edit::photo::decode(&path).unwrap();
    assert_eq!(decoded.dimensions(), (20, 40));
    assert!(decoded.get_pixel(10, 5).0[0] > 200 && decoded.get_pixel(10, 35).0[2] > 200);

    let framing = sliders_config::data::Framing::Fader;
    let manual = Crop::Manual {
        x: 2,
        y: 10,
        w: 16,
        h: 16,
    };
    let p = sliders_edit::Photo::from_image(&path, decoded.clone(), 16, framing, manual).unwrap();
    assert_eq!(p.framed_by, FramedBy::Manual);
    assert_eq!(
        (p.crop.x0, p.crop.y0, p.crop.x1, p.crop.y1),
        (2, 10, 18, 26)
    );
    let outside = Crop::Manual {
        x: 10,
        y: 10,
        w: 16,
        h: 16,
    };
    let err = sliders_edit::Photo::from_image(&path, decoded, 16, framing, outside).unwrap_err();
    assert!(
        matches!(err, EditError::CropOutside { image_w: 20, .. }),
        "{err}"
    );
}

/// The slider UI's contract: encode once, decode per edit, with the same result as
/// `edit_batch`; a latent only decodes on the model that encoded it; IcGAN's latent carries the
/// `Ey` estimate the sliders start from.
#[test]
fn encode_once_then_decode_per_edit_matches_edit_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let fader = Editor::open(&fader_run(tmp.path()), Device::Cpu).unwrap();
    let (_, enc_run) = icgan_runs(tmp.path());
    let icgan = Editor::open(&enc_run, Device::Cpu).unwrap();
    let face = synthetic_faces(&tmp.path().join("p"), 1).remove(0);
    for editor in [&fader, &icgan] {
        let framing = editor.info().framing;
        let photo = sliders_edit::Photo::load(&face, 16, framing, Crop::Auto).unwrap();
        let x = sliders_edit::photo::to_tensor(&[&photo.face], 16);
        let latent = editor.encode(&x).unwrap();
        assert_eq!(latent.len(), 1);
        for alpha in ["Smiling=-0.5", "Smiling=0.5", "Smiling=1.5"] {
            let edit = editor.resolve(&settings(&[alpha])).unwrap();
            let once = editor.decode(&latent, std::slice::from_ref(&edit)).unwrap();
            let whole = editor.edit_batch(&x, &[edit]).unwrap();
            assert_eq!(once.size(), [1, 3, 16, 16]);
            let diff = (once - whole).abs().max().double_value(&[]);
            assert!(
                diff < 1e-5,
                "{alpha}: decode(encode) differs from edit_batch by {diff}"
            );
        }
        let two = editor.resolve(&settings(&["Smiling=1"])).unwrap();
        let err = editor.decode(&latent, &[two.clone(), two]).unwrap_err();
        assert!(matches!(err, EditError::LatentMismatch { .. }), "{err}");
    }
    assert_eq!(fader.slider_range(), (-1.0, 3.0));
    // A latent of one model is refused by another, even of the same architecture.
    let other = Editor::open(&fader_run(&tmp.path().join("other")), Device::Cpu).unwrap();
    let photo = sliders_edit::Photo::load(&face, 16, fader.info().framing, Crop::Auto).unwrap();
    let latent = fader
        .encode(&sliders_edit::photo::to_tensor(&[&photo.face], 16))
        .unwrap();
    let err = other.decode(&latent, &[Default::default()]).unwrap_err();
    assert!(err.to_string().contains("another model"), "{err}");
    assert!(latent.estimate(0).is_none());
    let photo = sliders_edit::Photo::load(&face, 16, icgan.info().framing, Crop::Auto).unwrap();
    let latent = icgan
        .encode(&sliders_edit::photo::to_tensor(&[&photo.face], 16))
        .unwrap();
    let est = latent.estimate(0).unwrap();
    assert_eq!(est.len(), ATTRS.len());
    assert!(est.iter().all(|&v| v == 0.0 || v == 1.0), "{est:?}");
}
