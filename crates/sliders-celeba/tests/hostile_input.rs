//! Hostile images against the one decode function and the CelebA loader (issue #22, findings 1
//! to 3): header bombs are refused from the header, naming the limit, before any allocation; the
//! RGBA giant is refused by the default limit and, with the limit raised, decoded within bounded
//! memory; truncated JPEG and PNG files, empty files and wrong magic are errors.

#[path = "hostile_files/mod.rs"]
mod hostile;

use sliders_celeba::decode::{self, DecodeError, DecodeLimits, Limit};
use sliders_config::data::{BadImagePolicy, DataConfig};
use std::path::Path;

fn dec(bytes: &[u8]) -> Result<image::RgbImage, DecodeError> {
    decode::decode(bytes, Path::new("x/photo"), &DecodeLimits::default(), true)
}

/// Finding 1: the 100000x100000 PNG and the 60000x60000 JPEG (old code: a 30 GB / 10.8 GB
/// allocation that aborts the process).
#[test]
fn header_bombs_are_refused_from_the_header_naming_the_limit() {
    for bomb in [
        hostile::png_bomb(100_000, 100_000),
        hostile::jpeg_bomb(60_000, 60_000),
    ] {
        let e = dec(&bomb).unwrap_err();
        assert!(
            matches!(
                e,
                DecodeError::TooLarge {
                    limit: Limit::Width,
                    ..
                }
            ),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("x/photo") && msg.contains("max_width = 16384"),
            "{msg}"
        );
        assert!(msg.contains("--max-image-side"), "{msg}");
    }
    // Within the side limit, over the pixel limit: named too.
    let e = dec(&hostile::png_bomb(9_000, 9_000)).unwrap_err();
    assert!(
        e.to_string().contains("max_pixels = 40000000") && e.to_string().contains("81000000"),
        "{e}"
    );
    // The probe reads the same header without decoding.
    let probe = decode::probe(
        &hostile::png_bomb(2_000, 1_000),
        Path::new("p"),
        &DecodeLimits::default(),
    )
    .unwrap();
    assert_eq!((probe.width, probe.height), (2_000, 1_000));
    assert_eq!(probe.peak_bytes(), 2 * 3 * 2_000 * 1_000);
}

/// Finding 2: the 12000x12000 RGBA PNG (old code: f32 RGBA at full size, 3.6 GB per decode).
#[test]
fn the_rgba_giant_is_refused_by_default_and_bounded_when_allowed() {
    let giant = hostile::rgba_giant(12_000, 12_000);
    assert!(giant.len() < 2 << 20, "{} bytes", giant.len());
    let e = dec(&giant).unwrap_err();
    assert!(
        matches!(
            e,
            DecodeError::TooLarge {
                limit: Limit::Pixels,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("--max-image-pixels"), "{e}");
    // Raised limits: decoded in u8, composited over white, peak = the RGBA8 buffer.
    let wide = DecodeLimits {
        max_pixels: 200_000_000,
        max_decoded_bytes: 1 << 30,
        ..DecodeLimits::default()
    };
    let probe = decode::probe(&giant, Path::new("g"), &wide).unwrap();
    assert_eq!(probe.peak_bytes(), 4 * 144_000_000 + 3 * 144_000_000);
    // The bytes limit alone also refuses it.
    let narrow = DecodeLimits {
        max_pixels: 200_000_000,
        ..DecodeLimits::default()
    };
    let e = decode::decode(&giant, Path::new("g"), &narrow, false).unwrap_err();
    assert!(e.to_string().contains("max_decoded_bytes"), "{e}");
    // A smaller transparent image decodes to white.
    let small = hostile::rgba_giant(300, 200);
    let img = dec(&small).unwrap();
    assert_eq!(img.dimensions(), (300, 200));
    assert!(img.as_raw().iter().all(|&v| v == 255));
}

/// Finding 3: truncated JPEG and PNG files are errors (old code: a grey-padded image).
#[test]
fn truncated_empty_and_wrong_magic_files_are_errors() {
    for (bytes, says) in [
        (hostile::truncated(&hostile::good_jpeg()), "cut short"),
        (hostile::truncated(&hostile::good_png()), "cut short"),
        (Vec::new(), "empty"),
        (b"GIF89a not a photo".to_vec(), "not a JPEG or PNG"),
        (b"plain text".to_vec(), "not a JPEG or PNG"),
    ] {
        let e = dec(&bytes).unwrap_err();
        assert!(e.to_string().contains(says), "{e}");
        assert!(e.to_string().starts_with("x/photo: "), "{e}");
    }
    // A PNG cut after its last IDAT (only the IEND chunk missing) is cut short too.
    let png = hostile::good_png();
    let e = dec(&png[..png.len() - 12]).unwrap_err();
    assert!(matches!(e, DecodeError::Truncated { .. }), "{e}");
    // The good files decode.
    assert_eq!(dec(&hostile::good_jpeg()).unwrap().dimensions(), (178, 218));
    assert_eq!(dec(&hostile::good_png()).unwrap().dimensions(), (178, 218));
}

/// The CelebA loader goes through the same function: each hostile file stops the build naming
/// the file, or is skipped with `on_bad_image = "skip"`.
#[test]
fn the_loader_refuses_every_hostile_file() {
    let t = tempfile::tempdir().unwrap();
    let cases = hostile::all_cases();
    let dir = t.path().join("celeba");
    std::fs::create_dir_all(dir.join("img_align_celeba")).unwrap();
    let n = cases.len() + 2;
    let mut attrs = format!("{n}\nA B\n");
    let mut part = String::new();
    for i in 0..n {
        let name = format!("{:06}.jpg", i + 1);
        let bytes = match cases.get(i) {
            Some((_, b)) => b.clone(),
            None => hostile::good_jpeg(),
        };
        std::fs::write(dir.join("img_align_celeba").join(&name), bytes).unwrap();
        attrs.push_str(&format!("{name} 1 -1\n"));
        part.push_str(&format!("{name} {}\n", i % 3));
    }
    std::fs::write(dir.join("list_attr_celeba.txt"), attrs).unwrap();
    std::fs::write(dir.join("list_eval_partition.txt"), part).unwrap();
    let cfg = |policy| DataConfig {
        cache_dir: t.path().join("cache"),
        image_size: 16,
        attributes: sliders_config::data::AttributeSpec::Names(vec!["A".into()]),
        on_bad_image: policy,
        ..DataConfig::default()
    };
    let e = sliders_celeba::prepare_dir(&dir, &cfg(BadImagePolicy::Stop), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("000001.jpg") && e.contains("max_width"), "{e}");
    let data = sliders_celeba::prepare_dir(&dir, &cfg(BadImagePolicy::Skip), &mut |_| {}).unwrap();
    assert_eq!(data.cache.len(), 2, "only the two good images are kept");
}
