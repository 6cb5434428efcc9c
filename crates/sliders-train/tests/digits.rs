//! IcGAN's MNIST variant on a hand-made 10-class set in the IDX format (docs/icgan.md#digits): the
//! mismatched classes and the class grid, the digit classifier learning the classes, and the
//! whole digits training (1-channel 32 px cGAN with class conditioning, encoders, classifier)
//! running to its saved models.

use sliders_celeba::digits::{FASHION_DIR, one_hot_pm};
use sliders_celeba::{DigitsData, Part};
use sliders_config::data::DataSource;
use sliders_config::nets::{EncoderKind, IcganConfig};
use sliders_config::train::{Experiment, ExperimentKind, Spec};
use sliders_nets::checkpoint;
use sliders_train::icgan::cgan::{class_grid_labels, wrong_classes};
use sliders_train::icgan::digits::{
    DigitsRun, classifier_accuracy, load_classifier, train_all, train_classifier,
};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sliders-digits-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Class `c`: a horizontal bar at row `4+2c` and a vertical bar at column `4+2c` (28 px), shifted
/// by up to one pixel, with a random stroke intensity: a "style" that varies within a class.
fn glyph(c: usize, k: usize) -> Vec<u8> {
    let mut img = vec![0u8; 28 * 28];
    let shift = k % 2;
    let ink = 150 + (k * 37 % 100) as u8;
    let r = 3 + 2 * c + shift;
    for x in 2..26 {
        img[r * 28 + x] = ink;
        img[x * 28 + r] = ink;
    }
    img
}

fn write_idx(dir: &Path, stem: &str, n: usize) {
    let mut images = Vec::new();
    for v in [0x0803u32, n as u32, 28, 28] {
        images.extend(v.to_be_bytes());
    }
    let mut labels = Vec::new();
    labels.extend(0x0801u32.to_be_bytes());
    labels.extend((n as u32).to_be_bytes());
    for k in 0..n {
        let c = k % 10;
        images.extend(glyph(c, k / 10));
        labels.push(c as u8);
    }
    std::fs::write(dir.join(format!("{stem}-images-idx3-ubyte")), images).unwrap();
    std::fs::write(dir.join(format!("{stem}-labels-idx1-ubyte")), labels).unwrap();
}

fn data(root: &Path) -> DigitsData {
    let d = root.join(FASHION_DIR);
    std::fs::create_dir_all(&d).unwrap();
    write_idx(&d, "train", 400);
    write_idx(&d, "t10k", 100);
    DigitsData::load(DataSource::FashionMnist, root).unwrap()
}

fn experiment(run_dir: PathBuf) -> Experiment {
    let mut e = Experiment::new(ExperimentKind::Digits, run_dir);
    e.device = sliders_config::train::DeviceChoice::Cpu;
    e.data.source = DataSource::FashionMnist;
    e.data.sampler.batch_size = 32;
    let Spec::Digits(d) = &mut e.spec else {
        unreachable!("a digits experiment")
    };
    d.icgan = IcganConfig {
        ngf: 8,
        ndf: 8,
        ..IcganConfig::default()
    };
    d.cgan_train.total_steps = 4;
    d.cgan_train.epoch_size = 4 * 32;
    d.cgan_train.bn_refresh_steps = 2;
    d.cgan_train.bn_refresh_batch = 32;
    d.cgan_train.sample_rows = 2;
    d.cgan_train.log_every = 2;
    d.icgan_encoder.nf = 8;
    d.encoder_train.dataset_size = 256;
    d.encoder_train.epochs = 1;
    d.encoder_train.batch_size = 32;
    d.encoder_train.log_every = 2;
    d.classifier.init_fm = 8;
    d.classifier.max_fm = 32;
    d.classifier.hid_dim = 32;
    d.classifier_train.total_steps = 80;
    d.classifier_train.log_every = 20;
    e
}

#[test]
fn wrong_classes_are_uniform_other_classes_and_the_grid_walks_every_class() {
    tch::manual_seed(0);
    let classes = Tensor::from_slice(&[3i64]).repeat([9000]);
    let y = classes.one_hot(10).to_kind(Kind::Float) * 2.0 - 1.0;
    let w = wrong_classes(&y);
    assert_eq!(w.size(), [9000, 10]);
    // one-hot ±1 rows
    assert!(
        w.eq(1.0)
            .sum_dim_intlist(1, false, Kind::Int64)
            .eq(1)
            .all()
            .int64_value(&[])
            == 1
    );
    let wc = w.argmax(1, false);
    assert_eq!(wc.eq(3).sum(Kind::Int64).int64_value(&[]), 0);
    for c in (0..10).filter(|&c| c != 3) {
        let k = wc.eq(c).sum(Kind::Int64).int64_value(&[]);
        assert!(
            (800..1200).contains(&k),
            "class {c} drawn {k} times of 9000"
        );
    }
    let g = class_grid_labels(2, 10, Device::Cpu);
    assert_eq!(g.size(), [22, 10]);
    let c = Vec::<i64>::try_from(g.argmax(1, false)).unwrap();
    assert_eq!(&c[..11], &[0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(
        Vec::<f32>::try_from(g.get(3)).unwrap(),
        one_hot_pm(2).to_vec()
    );
}

#[test]
fn the_digit_classifier_learns_the_classes() {
    let root = temp_dir("classifier");
    let data = data(&root);
    let exp = experiment(root.join("run"));
    train_classifier(&exp, &data, &mut |_| {}).unwrap();
    let (_vs, net) = load_classifier(&exp.run_dir, Device::Cpu).unwrap();
    let (hits, n) = classifier_accuracy(&net, &data.batch_source(Part::Test), 0, Device::Cpu);
    assert_eq!(n, 100);
    assert!(hits >= 90, "{hits} of {n} test glyphs right after 80 steps");
    let m = std::fs::read_to_string(
        DigitsRun::new(&exp.run_dir)
            .classifier()
            .join("metrics.csv"),
    )
    .unwrap();
    let header: Vec<&str> = m.lines().next().unwrap().split(',').collect();
    let eval_row: Vec<&str> = m
        .lines()
        .find(|l| l.split(',').nth(1) == Some("eval"))
        .unwrap_or_else(|| panic!("no eval row: {m}"))
        .split(',')
        .collect();
    let test_col = header.iter().position(|c| *c == "test_accuracy").unwrap();
    let logged: f64 = eval_row[test_col].parse().unwrap();
    assert_eq!(logged, hits as f64 / n as f64, "{m}");
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn the_digits_training_saves_one_channel_class_conditioned_models() {
    let root = temp_dir("all");
    let data = data(&root);
    let mut exp = experiment(root.join("run"));
    exp.digits_mut().encoders = vec![EncoderKind::Ind, EncoderKind::Sng];
    exp.classifier_train_mut().total_steps = 4;
    let mut stages = Vec::new();
    train_all(
        &exp,
        &data,
        &mut |s| stages.push(s.to_string()),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        stages,
        ["cgan", "encoders-ind", "encoders-sng", "classifier"]
    );
    let run = DigitsRun::new(&exp.run_dir);
    let info = checkpoint::read_info(run.cgan().join("G.safetensors")).unwrap();
    let g: IcganConfig = info.config().unwrap();
    assert_eq!((g.nc, g.ny, g.img_sz), (1, 10, 32));
    assert_eq!(info.metadata["sliders.dataset"], "fashion_mnist");
    assert!(info.metadata["sliders.attributes"].contains("boot"));
    assert!(run.cgan().join("samples/final.png").is_file());
    assert!(
        run.encoders(EncoderKind::Ind)
            .join("ez.safetensors")
            .is_file()
    );
    assert!(
        run.encoders(EncoderKind::Ind)
            .join("ey.safetensors")
            .is_file()
    );
    assert!(
        run.encoders(EncoderKind::Sng)
            .join("sng.safetensors")
            .is_file()
    );
    // A second call finds everything complete and trains nothing.
    let mut events = 0;
    train_all(&exp, &data, &mut |_| {}, &mut |_| events += 1).unwrap();
    assert_eq!(events, 0);
    std::fs::remove_dir_all(&root).ok();
}
