//! The one inference layer (`sliders_edit::infer`) on tiny random models saved as `sliders train`
//! writes them: the editor's edits are exactly the layer's forward passes as the evaluation calls
//! them (same code `y`, same tensors, bit for bit), the Fader code columns, the evaluation's
//! checkpoint fallback, and the errors for a run folder without the files.

mod support;

use sliders_config::eval::FaderCheckpoint;
use sliders_edit::Editor;
use sliders_edit::infer::{FaderModel, Generator, IcganEncoders, fader_file, threshold};
use support::{ATTRS, SIZE, fader_run, icgan_runs, settings};
use tch::{Device, Kind, Tensor};

/// A batch of `n` deterministic images in [−1, 1].
fn images(n: i64) -> Tensor {
    tch::manual_seed(3);
    Tensor::rand([n, 3, SIZE, SIZE], (Kind::Float, Device::Cpu)) * 2.0 - 1.0
}

fn equal(a: &Tensor, b: &Tensor) -> bool {
    a.size() == b.size() && a.equal(b)
}

#[test]
fn the_editor_decodes_a_fader_edit_exactly_as_the_evaluation_does() {
    let tmp = tempfile::tempdir().unwrap();
    let run = fader_run(tmp.path());
    let editor = Editor::open(&run, Device::Cpu).unwrap();
    let model = FaderModel::load_run(&run, FaderCheckpoint::BestAccu, Device::Cpu).unwrap();
    assert_eq!(model.attributes, ATTRS);
    assert!(model.one_hot);
    let x = images(2);
    let enc = model.encode(&x);
    for alpha in [-1.0, 0.0, 0.3, 1.0, 3.0] {
        // The editor: Smiling set, Eyeglasses unset (α = 0.5); the evaluation: both explicit.
        let edit = editor
            .resolve(&settings(&[&format!("Smiling={alpha}")]))
            .unwrap();
        let from_editor = editor.edit_batch(&x, &[edit.clone(), edit]).unwrap();
        let values = vec![vec![0.5, alpha]; 2];
        let from_layer = model.decode(&enc, &model.code(&values, Device::Cpu));
        assert!(equal(&from_editor, &from_layer), "α = {alpha}");
    }
}

#[test]
fn the_fader_code_has_one_minus_alpha_and_alpha_per_attribute() {
    let tmp = tempfile::tempdir().unwrap();
    let model = FaderModel::load(
        &fader_run(tmp.path()).join("best_accu_ae.safetensors"),
        Device::Cpu,
    )
    .unwrap();
    let y = model.code(&[vec![0.0, 1.0], vec![2.0, -0.5]], Device::Cpu);
    assert_eq!(y.size(), [2, 4]);
    assert_eq!(
        Vec::<f32>::try_from(y.view([-1])).unwrap(),
        [1.0, 0.0, 0.0, 1.0, -1.0, 2.0, 1.5, -0.5]
    );
}

#[test]
fn the_editor_generates_an_icgan_edit_exactly_as_the_evaluation_does() {
    let tmp = tempfile::tempdir().unwrap();
    let (cgan, enc_run) = icgan_runs(tmp.path());
    let editor = Editor::open(&enc_run, Device::Cpu).unwrap();
    let g = Generator::load_run(&cgan, Device::Cpu).unwrap();
    let enc = IcganEncoders::load(&enc_run, false, Device::Cpu).unwrap();
    assert_eq!(enc.name(), "IND");
    assert_eq!(g.column("Smiling"), Some(1));
    let x = images(3);
    let edit = editor.resolve(&settings(&["Smiling=1"])).unwrap();
    let from_editor = editor
        .edit_batch(&x, &[edit.clone(), edit.clone(), edit])
        .unwrap();
    let (z, y) = enc.encode(&x);
    let y = threshold(&y);
    let _ = y.narrow(1, 1, 1).fill_(1.0);
    let from_layer = g.generate(&z, &y);
    assert!(equal(&from_editor, &from_layer));
}

#[test]
fn the_evaluation_falls_back_to_best_rec_and_names_the_missing_files() {
    let tmp = tempfile::tempdir().unwrap();
    let run = fader_run(tmp.path());
    let accu = run.join("best_accu_ae.safetensors");
    assert_eq!(fader_file(&run, FaderCheckpoint::BestAccu).unwrap(), accu);
    let rec = run.join("best_rec_ae.safetensors");
    std::fs::rename(&accu, &rec).unwrap();
    assert_eq!(fader_file(&run, FaderCheckpoint::BestAccu).unwrap(), rec);
    let err = fader_file(&run, FaderCheckpoint::Last)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&run.display().to_string())
            && err.contains("none of last_ae.safetensors")
            && err.contains("train the Fader model first"),
        "{err}"
    );
    let err = IcganEncoders::load(&run, false, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("ez.safetensors") && err.contains("train the encoders first"),
        "{err}"
    );
    let err = Generator::load_run(&run, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("G.safetensors") && err.contains("train the cGAN first"),
        "{err}"
    );
}

#[test]
fn an_encoder_file_of_the_wrong_role_is_named_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, enc_run) = icgan_runs(tmp.path());
    let ey = enc_run.join("ey.safetensors");
    std::fs::copy(enc_run.join("ez.safetensors"), &ey).unwrap();
    let err = IcganEncoders::load(&enc_run, false, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains(&ey.display().to_string())
            && err.contains("not the IcGAN Ey encoder")
            && err.contains("train the encoders first"),
        "{err}"
    );
    // The editor opening the folder reports the same.
    let err = Editor::open(&enc_run, Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("not the IcGAN Ey encoder"), "{err}");
}
