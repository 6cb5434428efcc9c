//! Checkpoint files: Rust round trip, metadata, atomic writes, and the errors for a network of
//! another shape or kind, a missing file and a corrupt file.

use sliders_config::nets::{FaderConfig, IcganConfig};
use sliders_nets::checkpoint::{self, META_CONFIG, META_KIND, META_VERSION};
use sliders_nets::{FaderAutoEncoder, IcganGenerator, LatentDiscriminator, NetsError};
use tch::{Device, nn};

use crate::common::{devices, images, max_diff, randn, randomize_running_stats, temp_dir};

#[test]
fn save_and_load_round_trip_with_metadata() {
    let _serial = crate::common::serial();
    let dir = temp_dir("ckpt-roundtrip");
    for device in devices() {
        let cfg = FaderConfig {
            n_attr: 4,
            ..FaderConfig::small(32)
        };
        tch::manual_seed(1);
        let vs = nn::VarStore::new(device);
        let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
        randomize_running_stats(&vs);
        let path = dir.join(format!("sub/ae-{device:?}.safetensors"));
        checkpoint::save_with_metadata(&vs, &ae, &path, &[("step", "42")]).unwrap();
        // Written atomically: no temporary file left beside it.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");

        let info = checkpoint::read_info(&path).unwrap();
        assert_eq!(info.kind.as_deref(), Some(FaderAutoEncoder::KIND));
        assert_eq!(info.metadata["step"], "42");
        assert!(info.metadata.contains_key(META_VERSION));
        assert!(info.metadata[META_CONFIG].contains("\"n_attr\":4"));
        assert_eq!(info.metadata[META_KIND], "fader-autoencoder");
        assert_eq!(info.config::<FaderConfig>().unwrap(), cfg);
        assert!(info.tensors.contains_key("enc_layers.1.1.running_var"));
        assert_eq!(info.tensors["dec_layers.0.0.weight"], [256 + 4, 128, 4, 4]);

        // Load into a network with other weights: same outputs afterwards.
        tch::manual_seed(2);
        let mut vs2 = nn::VarStore::new(device);
        let ae2 = FaderAutoEncoder::new(&vs2.root(), &cfg).unwrap();
        let x = images(2, 3, 32, device);
        let y = randn(2, 4, device);
        let before = tch::no_grad(|| ae2.forward_t(&x, &y, false).1);
        let want = tch::no_grad(|| ae.forward_t(&x, &y, false).1);
        assert!(max_diff(&before, &want) > 1e-4);
        checkpoint::load(&mut vs2, &ae2, &path).unwrap();
        let after = tch::no_grad(|| ae2.forward_t(&x, &y, false).1);
        assert_eq!(max_diff(&after, &want), 0.0);

        // restore() rebuilds the network from the stored configuration.
        let (_vs3, ae3, cfg3) = checkpoint::restore(&path, device, FaderAutoEncoder::new).unwrap();
        assert_eq!(cfg3, cfg);
        let again = tch::no_grad(|| ae3.forward_t(&x, &y, false).1);
        assert_eq!(max_diff(&again, &want), 0.0);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn equal_weights_give_byte_identical_files() {
    let _serial = crate::common::serial();
    let dir = temp_dir("ckpt-deterministic");
    let cfg = FaderConfig::small(32);
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
    let extra = [("step", "7"), ("a", "1"), ("z", "2"), ("m", "3")];
    let files: Vec<Vec<u8>> = (0..6)
        .map(|i| {
            let path = dir.join(format!("ae-{i}.safetensors"));
            checkpoint::save_with_metadata(&vs, &ae, &path, &extra).unwrap();
            std::fs::read(&path).unwrap()
        })
        .collect();
    // Each save builds a new metadata map (a new hash order): the bytes must not depend on it.
    assert!(files.windows(2).all(|w| w[0] == w[1]));
    let n = u64::from_le_bytes(files[0][..8].try_into().unwrap()) as usize;
    let header = String::from_utf8_lossy(&files[0][8..8 + n]).into_owned();
    let at = |k: &str| header.find(&format!("\"{k}\":\"")).unwrap();
    assert!(at("a") < at("format") && at("format") < at("m") && at("m") < at("step"));
    let info = checkpoint::read_info(dir.join("ae-0.safetensors")).unwrap();
    assert_eq!(info.metadata["z"], "2");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_network_of_another_shape_is_refused_with_the_tensors_named() {
    let _serial = crate::common::serial();
    let dir = temp_dir("ckpt-mismatch");
    let path = dir.join("ae.safetensors");
    let vs = nn::VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &FaderConfig::small(64)).unwrap();
    checkpoint::save(&vs, &ae, &path).unwrap();

    // Other filter counts: shape mismatches with expected and found shapes.
    let cfg = FaderConfig {
        init_fm: 16,
        ..FaderConfig::small(64)
    };
    let mut vs2 = nn::VarStore::new(Device::Cpu);
    let ae2 = FaderAutoEncoder::new(&vs2.root(), &cfg).unwrap();
    let w_before = vs2.variables()["enc_layers.0.0.weight"].copy();
    let err = checkpoint::load(&mut vs2, &ae2, &path).unwrap_err();
    assert!(matches!(err, NetsError::CheckpointMismatch { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("shape mismatch enc_layers.0.0.weight: model expects [16, 3, 4, 4], file has [32, 3, 4, 4]"),
        "{msg}"
    );
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("fix:"),
        "{msg}"
    );
    // Nothing was changed by the failed load.
    assert_eq!(
        max_diff(&w_before, &vs2.variables()["enc_layers.0.0.weight"]),
        0.0
    );

    // Fewer layers: the file has unexpected tensors; more layers: the file lacks some.
    let fewer = FaderConfig {
        n_layers: 4,
        ..FaderConfig::small(64)
    };
    let mut vs3 = nn::VarStore::new(Device::Cpu);
    let ae3 = FaderAutoEncoder::new(&vs3.root(), &fewer).unwrap();
    let msg = checkpoint::load(&mut vs3, &ae3, &path)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("unexpected in the file: enc_layers.4.0.weight [512, 256, 4, 4]"),
        "{msg}"
    );
    let more = FaderConfig {
        n_layers: 6,
        ..FaderConfig::small(64)
    };
    let mut vs4 = nn::VarStore::new(Device::Cpu);
    let ae4 = FaderAutoEncoder::new(&vs4.root(), &more).unwrap();
    let msg = checkpoint::load(&mut vs4, &ae4, &path)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("missing from the file: enc_layers.5.0.weight [512, 512, 4, 4]"),
        "{msg}"
    );

    // Another kind of network.
    let mut vs5 = nn::VarStore::new(Device::Cpu);
    let dis = LatentDiscriminator::new(&vs5.root(), &FaderConfig::small(64)).unwrap();
    let err = checkpoint::load(&mut vs5, &dis, &path).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, NetsError::CheckpointKind { .. }), "{msg}");
    assert!(msg.contains("fader-autoencoder") && msg.contains("fader-latent-discriminator"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_and_corrupt_files_name_the_path_and_the_fix() {
    let _serial = crate::common::serial();
    let dir = temp_dir("ckpt-bad");
    let mut vs = nn::VarStore::new(Device::Cpu);
    let g = IcganGenerator::new(&vs.root(), &IcganConfig::default()).unwrap();

    let missing = dir.join("nope.safetensors");
    let err = checkpoint::load(&mut vs, &g, &missing).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, NetsError::CheckpointIo { .. }));
    assert!(
        msg.contains("nope.safetensors") && msg.contains("check the path"),
        "{msg}"
    );

    let garbage = dir.join("garbage.safetensors");
    std::fs::write(&garbage, b"definitely not a safetensors file").unwrap();
    let err = checkpoint::load(&mut vs, &g, &garbage).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, NetsError::CheckpointCorrupt { .. }), "{msg}");
    assert!(
        msg.contains("garbage.safetensors") && msg.contains("fix:"),
        "{msg}"
    );

    // A truncated checkpoint.
    let good = dir.join("g.safetensors");
    checkpoint::save(&vs, &g, &good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = checkpoint::load(&mut vs, &g, &cut).unwrap_err();
    assert!(matches!(err, NetsError::CheckpointCorrupt { .. }), "{err}");
    assert!(checkpoint::read_info(&cut).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
