//! Bad input: each case ends in a clear error (naming the file, line or attribute) or a
//! documented skip, and leaves nothing half-written behind.

use image::{ImageFormat, RgbImage};
use sliders_celeba::cache::{self, BuildOptions, CacheParams, ImageCache};
use sliders_celeba::{AttributeSelection, CelebaError, CelebaIndex, prepare_dir};
use sliders_config::data::{BadImagePolicy, DataConfig, Framing};
use std::path::{Path, PathBuf};

const NAMES: &str = "A B C";

/// A tiny CelebA-layout folder with `n` JPEG images of 40x49.
fn tiny(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir.join("img_align_celeba")).unwrap();
    let mut attrs = format!("{n}\r\n{NAMES}\r\n");
    let mut part = String::new();
    let mut ids = String::new();
    for i in 1..=n {
        let name = format!("{i:06}.jpg");
        let img = RgbImage::from_fn(40, 49, |x, y| {
            image::Rgb([(x * 6) as u8, (y * 5) as u8, (i * 20) as u8])
        });
        img.save_with_format(dir.join("img_align_celeba").join(&name), ImageFormat::Jpeg)
            .unwrap();
        attrs.push_str(&format!("{name}  1 -1  1\r\n"));
        part.push_str(&format!("{name} {}\r\n", i % 3));
        ids.push_str(&format!("{name} {}\r\n", i / 2));
    }
    std::fs::write(dir.join("list_attr_celeba.txt"), attrs).unwrap();
    std::fs::write(dir.join("list_eval_partition.txt"), part).unwrap();
    std::fs::write(dir.join("identity_CelebA.txt"), ids).unwrap();
}

fn cfg(cache_dir: PathBuf) -> DataConfig {
    DataConfig {
        cache_dir,
        image_size: 16,
        attributes: sliders_config::data::AttributeSpec::Names(vec!["A".into()]),
        ..DataConfig::default()
    }
}

fn no_temp_files(dir: &Path) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            let n = e.unwrap().file_name().into_string().unwrap();
            assert!(!n.contains(".tmp"), "temporary file left behind: {n}");
        }
    }
}

#[test]
fn truncated_attribute_file() {
    let t = tempfile::tempdir().unwrap();
    tiny(t.path(), 4);
    let p = t.path().join("list_attr_celeba.txt");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, &text[..text.len() - 5]).unwrap(); // cut inside the last row
    let e = CelebaIndex::open(t.path()).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, CelebaError::Annotation { line: 6, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("list_attr_celeba.txt:6") && msg.contains("values, expected 3"),
        "{msg}"
    );
    // Cut to the count line only.
    std::fs::write(&p, "4\r\n").unwrap();
    assert!(
        CelebaIndex::open(t.path())
            .unwrap_err()
            .to_string()
            .contains("no attribute names line")
    );
}

#[test]
fn row_with_too_few_values_and_bad_value() {
    let names40: Vec<String> = (0..40).map(|i| format!("N{i}")).collect();
    let mut row = String::from("000001.jpg");
    for _ in 0..39 {
        row.push_str(" 1");
    }
    let text = format!("1\n{}\n{row}\n", names40.join(" "));
    let e = sliders_celeba::annotations::parse_attributes(&text, Path::new("list_attr_celeba.txt"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(":3:") && e.contains("39 values, expected 40"),
        "{e}"
    );
    let text = format!("1\n{}\n{row} 2\n", names40.join(" "));
    let e = sliders_celeba::annotations::parse_attributes(&text, Path::new("list_attr_celeba.txt"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(":3:") && e.contains("\"2\"") && e.contains("N39"),
        "{e}"
    );
}

#[test]
fn unknown_attribute_name() {
    let t = tempfile::tempdir().unwrap();
    tiny(t.path(), 3);
    let mut c = cfg(t.path().join("cache"));
    c.attributes = sliders_config::data::AttributeSpec::Names(vec!["Bb".into()]);
    let e = prepare_dir(t.path(), &c, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"Bb\"") && e.contains("closest valid names: B"),
        "{e}"
    );
    assert!(
        AttributeSelection::from_names(&["Smile"])
            .unwrap_err()
            .to_string()
            .contains("Smiling")
    );
}

#[test]
fn jpeg_cut_in_half_stops_or_is_skipped() {
    let t = tempfile::tempdir().unwrap();
    tiny(t.path(), 6);
    let bad = t.path().join("img_align_celeba/000003.jpg");
    let bytes = std::fs::read(&bad).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let cache_dir = t.path().join("cache");
    // Default: stop, naming the file; no cache, no temporary file.
    let e = prepare_dir(t.path(), &cfg(cache_dir.clone()), &mut |_| {}).unwrap_err();
    assert!(matches!(e, CelebaError::BadImage { .. }));
    assert!(e.to_string().contains("000003.jpg"), "{e}");
    no_temp_files(&cache_dir);
    assert_eq!(std::fs::read_dir(&cache_dir).unwrap().count(), 0);
    // Skip: the cache holds the other five.
    let mut c = cfg(cache_dir.clone());
    c.on_bad_image = BadImagePolicy::Skip;
    let data = prepare_dir(t.path(), &c, &mut |_| {}).unwrap();
    assert_eq!(data.cache.len(), 5);
    assert!(!data.cache.names().iter().any(|n| n == "000003.jpg"));
    assert_eq!(data.records.len(), 5);
}

/// Decoding is by content: a PNG named `.jpg` is read as PNG; a text file is a clear error.
#[test]
fn png_named_jpg_is_decoded_by_content() {
    let t = tempfile::tempdir().unwrap();
    tiny(t.path(), 3);
    let p = t.path().join("img_align_celeba/000002.jpg");
    RgbImage::from_pixel(40, 49, image::Rgb([10, 200, 30]))
        .save_with_format(&p, ImageFormat::Png)
        .unwrap();
    let data = prepare_dir(t.path(), &cfg(t.path().join("cache")), &mut |_| {}).unwrap();
    let img = data.cache.image(1);
    assert!(img[..256].iter().all(|&v| v == 10) && img[256..512].iter().all(|&v| v == 200));
    std::fs::write(&p, b"this is not an image").unwrap();
    let e = prepare_dir(t.path(), &cfg(t.path().join("cache2")), &mut |_| {}).unwrap_err();
    assert!(
        e.to_string().contains("000002.jpg") && e.to_string().contains("not a JPEG or PNG"),
        "{e}"
    );
}

#[test]
fn missing_image_folder_and_missing_images() {
    let t = tempfile::tempdir().unwrap();
    tiny(t.path(), 3);
    std::fs::rename(
        t.path().join("img_align_celeba"),
        t.path().join("elsewhere"),
    )
    .unwrap();
    let e = CelebaIndex::open(t.path()).unwrap_err();
    assert!(matches!(e, CelebaError::NoImages { .. }));
    assert!(e.to_string().contains("img_align_celeba"), "{e}");
    std::fs::create_dir(t.path().join("img_align_celeba")).unwrap();
    let e = CelebaIndex::open(t.path()).unwrap_err().to_string();
    assert!(e.contains("none of the 3 images"), "{e}");
}

#[test]
fn cache_cut_short_is_detected_and_rebuilt() {
    let t = tempfile::tempdir().unwrap();
    tiny(t.path(), 5);
    let cache_dir = t.path().join("cache");
    let data = prepare_dir(t.path(), &cfg(cache_dir.clone()), &mut |_| {}).unwrap();
    let path = data.cache.path().to_path_buf();
    let good = data.cache.all_images().to_vec();
    drop(data);
    let len = std::fs::metadata(&path).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 100).unwrap();
    drop(f);
    let e = ImageCache::open(&path).unwrap_err();
    assert!(
        matches!(e, CelebaError::BadCache { .. }) && e.to_string().contains("cut short"),
        "{e}"
    );
    let mut rebuilt = false;
    let data = prepare_dir(t.path(), &cfg(cache_dir.clone()), &mut |_| rebuilt = true).unwrap();
    assert!(rebuilt);
    assert_eq!(data.cache.all_images(), &good[..]);
    // Garbage instead of a cache: also rebuilt.
    drop(data);
    std::fs::write(&path, b"garbage").unwrap();
    assert!(prepare_dir(t.path(), &cfg(cache_dir.clone()), &mut |_| {}).is_ok());
    no_temp_files(&cache_dir);
}

#[test]
fn changed_source_or_params_rebuild_the_cache() {
    let t = tempfile::tempdir().unwrap();
    tiny(t.path(), 4);
    let cache_dir = t.path().join("cache");
    let index = CelebaIndex::open(t.path()).unwrap();
    let params = CacheParams {
        framing: Framing::Fader,
        size: 16,
    };
    let mut built = 0;
    let opts = BuildOptions::default();
    cache::build_or_open(&index, &cache_dir, params, opts, &mut |_| built += 1).unwrap();
    cache::build_or_open(&index, &cache_dir, params, opts, &mut |_| built += 1).unwrap();
    assert_eq!(built, 1, "second open reuses");
    // Another framing: another file.
    let icgan = CacheParams {
        framing: Framing::Icgan,
        size: 16,
    };
    let c = cache::build_or_open(&index, &cache_dir, icgan, opts, &mut |_| built += 1).unwrap();
    assert_eq!(built, 2);
    assert_eq!(c.params(), icgan);
    // A replaced image changes the fingerprint: rebuilt in place.
    let img = t.path().join("img_align_celeba/000001.jpg");
    RgbImage::from_pixel(41, 50, image::Rgb([1, 2, 3]))
        .save_with_format(&img, ImageFormat::Jpeg)
        .unwrap();
    let index = CelebaIndex::open(t.path()).unwrap();
    cache::build_or_open(&index, &cache_dir, params, opts, &mut |_| built += 1).unwrap();
    assert_eq!(built, 3);
    assert_eq!(std::fs::read_dir(&cache_dir).unwrap().count(), 2);
}

/// An output location that cannot be written (a path below a regular file, which fails even
/// for root, unlike permission bits) gives an I/O error naming it and leaves nothing behind.
#[test]
fn unwritable_output_folder() {
    let t = tempfile::tempdir().unwrap();
    tiny(t.path(), 3);
    let blocker = t.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let e = prepare_dir(t.path(), &cfg(blocker.join("cache")), &mut |_| {}).unwrap_err();
    assert!(matches!(e, CelebaError::Io { .. }), "{e}");
    assert!(
        e.to_string().contains("not-a-folder") && e.to_string().contains("writable"),
        "{e}"
    );
    // Read-only permission bits too (effective when not running as root).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = t.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        let r = prepare_dir(t.path(), &cfg(ro.join("cache")), &mut |_| {});
        if let Err(e) = r {
            assert!(matches!(e, CelebaError::Io { .. }), "{e}");
        }
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    no_temp_files(t.path());
    // Synthetic generation into an unwritable place: error, nothing half-written.
    let e = sliders_celeba::synthetic::generate(&blocker.join("synth"), 3, 32, 0).unwrap_err();
    assert!(e.to_string().contains("not-a-folder"), "{e}");
}
