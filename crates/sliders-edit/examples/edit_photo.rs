//! Edits photos with a trained run, without the CLI: `cargo run -p sliders-edit --example
//! edit_photo -- data/runs/smoke/fader-smiling Smiling=1.5 photo.jpg…` writes `edited/`.

use sliders_edit::{Crop, EditJob, Editor, Setting, run_edit};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(model), Some(setting)) = (args.next(), args.next()) else {
        return Err("usage: edit_photo <run folder or checkpoint> <Name=value> <photo>...".into());
    };
    let editor = Editor::open(model.as_ref(), tch::Device::Cpu)?;
    let job = EditJob {
        inputs: args.map(Into::into).collect(),
        settings: vec![Setting::parse(&setting)?],
        crop: Crop::Auto,
        out_dir: "edited".into(),
        paste_back: true,
        batch_size: 32,
        limits: Default::default(),
    };
    println!("{}", run_edit(&editor, &job)?.report());
    Ok(())
}
