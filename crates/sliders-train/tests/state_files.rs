//! A saved state that cannot be restored is reported in one line that names the file (and the
//! tensor) and the fix (issue #22): a truncated file, a network of another size, a cut counters
//! file. A zero batch size is an error from the data stream, not a panic.

use sliders_train::optim::{Adam, AdamConfig};
use sliders_train::state::{self, Counters, Slot};
use tch::nn::{self, Module, VarStore};
use tch::{Device, Kind, Tensor};

/// A one-layer network of `width` outputs with its optimizer, stepped once so its moments exist.
fn net(width: i64) -> (VarStore, Adam) {
    let vs = VarStore::new(Device::Cpu);
    let layer = nn::linear(vs.root() / "fc", 4, width, Default::default());
    let mut opt = Adam::new(&vs, AdamConfig::fader());
    let loss = layer
        .forward(&Tensor::ones([2, 4], (Kind::Float, Device::Cpu)))
        .sum(Kind::Float);
    opt.backward_step_clip(&loss, 5.0);
    (vs, opt)
}

fn saved(dir: &std::path::Path, width: i64) {
    let (mut vs, mut opt) = net(width);
    let counters = Counters {
        step: 3,
        ..Counters::default()
    };
    state::save(
        dir,
        &mut [Slot {
            name: "ae",
            vs: &mut vs,
            opt: &mut opt,
        }],
        &counters,
    )
    .unwrap();
}

fn load(dir: &std::path::Path, width: i64) -> Result<Counters, String> {
    let (mut vs, mut opt) = net(width);
    state::load(
        &dir.join("state"),
        &mut [Slot {
            name: "ae",
            vs: &mut vs,
            opt: &mut opt,
        }],
    )
    .map_err(|e| e.to_string())
}

#[test]
fn a_saved_state_loads_back() {
    let tmp = tempfile::tempdir().unwrap();
    saved(tmp.path(), 3);
    assert_eq!(load(tmp.path(), 3).unwrap().step, 3);
}

/// Issue #22: a network of another size printed libtorch's 28 lines of C++ frames.
#[test]
fn a_network_of_another_size_is_one_line_naming_the_tensor_and_both_shapes() {
    let tmp = tempfile::tempdir().unwrap();
    saved(tmp.path(), 3);
    let err = load(tmp.path(), 5).unwrap_err();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("ae.safetensors")
            && err.contains("tensor `fc.")
            && err.contains("[3")
            && err.contains("[5")
            && err.contains("--force-restart"),
        "{err}"
    );
    assert!(!err.contains("frame #"), "{err}");
}

/// Issue #22: a truncated state file was blamed on "was the config changed?".
#[test]
fn truncated_state_files_are_named_as_truncated_with_the_fix() {
    for file in ["ae.safetensors", "ae.adam.safetensors", "counters.json"] {
        let tmp = tempfile::tempdir().unwrap();
        saved(tmp.path(), 3);
        let path = tmp.path().join("state").join(file);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = load(tmp.path(), 3).unwrap_err();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(file)
                && err.contains("truncated or corrupt")
                && err.contains("--force-restart")
                && !err.contains("was the config changed"),
            "{file}: {err}"
        );
    }
}

#[test]
fn libtorch_messages_lose_their_backtrace() {
    let msg = "shape mismatch for fc.weight\nException raised from copy_ at x.cpp:1\nframe #0: ...";
    assert_eq!(state::first_line(msg), "shape mismatch for fc.weight");
}
