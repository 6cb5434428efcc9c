//! Tests of the loader: layering through `config`, and every error naming its file (and line)
//! or variable, the key and the fix.

use super::*;
use serde::Deserialize;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Train {
    steps: u64,
    lr: f64,
    device: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Exp {
    seed: u64,
    train: Train,
}

impl Layered for Exp {}

const DEFAULTS: &str = "seed = 0\n[train]\nsteps = 10\nlr = 2e-4\ndevice = \"auto\"\n";

#[test]
fn later_layers_and_variables_win() {
    let defaults = Layer::from_str("built-in defaults", DEFAULTS).unwrap();
    let exp = Layer::from_str("exp.toml", "[train]\nsteps = 500\n").unwrap();
    let env = Layer::from_env_vars([
        ("SLIDERS__TRAIN__DEVICE".to_string(), "cpu".to_string()),
        ("SLIDERS__SEED".to_string(), "7".to_string()),
        ("HOME".to_string(), "/root".to_string()),
    ])
    .unwrap();
    let (exp, _): (Exp, _) = load(&[defaults, exp, env]).unwrap();
    assert_eq!(
        exp,
        Exp {
            seed: 7,
            train: Train {
                steps: 500,
                lr: 2e-4,
                device: "cpu".to_string()
            }
        }
    );
}

#[test]
fn an_unknown_key_names_the_file_and_line() {
    let dir = std::env::temp_dir().join(format!("sliders-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("exp.toml");
    std::fs::write(&file, "seed = 1\n\n[train]\nsteps = 5\nstepz = 6\n").unwrap();
    let defaults = Layer::from_str("built-in defaults", DEFAULTS).unwrap();
    let err = load::<Exp>(&[defaults, Layer::from_file(&file).unwrap()])
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("{}:5", file.display())), "{err}");
    assert!(err.contains("train.stepz"), "{err}");
    assert!(err.contains("unknown field"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_wrong_type_from_a_variable_names_the_variable() {
    let defaults = Layer::from_str("built-in defaults", DEFAULTS).unwrap();
    let env =
        Layer::from_env_vars([("SLIDERS__TRAIN__STEPS".to_string(), "many".to_string())]).unwrap();
    let err = load::<Exp>(&[defaults, env]).unwrap_err().to_string();
    assert!(
        err.contains("environment variable SLIDERS__TRAIN__STEPS"),
        "{err}"
    );
    assert!(err.contains("train.steps"), "{err}");
}

#[test]
fn malformed_toml_and_variables_are_reported() {
    let err = Layer::from_str("x.toml", "[train\nsteps=1")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("x.toml: not valid TOML"), "{err}");
    let err = Layer::from_env_vars([("SLIDERS__TRAIN____STEPS".to_string(), "1".to_string())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("SLIDERS__TRAIN____STEPS"), "{err}");
}

/// Issue #22: an unclosed TOML value in a variable named the untagged enum, not the variable.
#[test]
fn an_unclosed_toml_value_in_a_variable_names_the_variable() {
    for raw in ["[\"Smiling", "[\"Smiling\"", "\"cpu", "{a = 1"] {
        let err = Layer::from_env_vars([("SLIDERS__DATA__ATTRIBUTES".to_string(), raw.into())])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("environment variable SLIDERS__DATA__ATTRIBUTES")
                && err.contains("malformed TOML")
                && err.contains(raw)
                && !err.contains("untagged"),
            "{err}"
        );
    }
    // Plain words and paths are still strings.
    let layer = Layer::from_env_vars([
        ("SLIDERS__DEVICE".to_string(), "cpu".to_string()),
        (
            "SLIDERS__DATA__CELEBA_DIR".to_string(),
            "/no/such dir".to_string(),
        ),
    ])
    .unwrap();
    assert_eq!(layer.table["device"].as_str(), Some("cpu"));
    assert_eq!(
        origin_of(&[layer], &["data", "celeba_dir"]).as_deref(),
        Some("environment variable SLIDERS__DATA__CELEBA_DIR")
    );
}

/// A temporary folder for layer files, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("sliders-load-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn layer(&self, name: &str, text: &str) -> Layer {
        let file = self.0.join(name);
        std::fs::write(&file, text).unwrap();
        Layer::from_file(&file).unwrap()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn env(vars: &[(&str, &str)]) -> Layer {
    Layer::from_env_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap()
}

#[test]
fn a_missing_file_is_named() {
    let err = Layer::from_file(Path::new("/no/such/exp.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/no/such/exp.toml: cannot read the config file"),
        "{err}"
    );
}

#[test]
fn lists_are_replaced_whole_and_tables_merge_key_by_key() {
    let base = "seed = 0\n[train]\nsteps = 1\nlr = 0.5\ndevice = [\"a\", \"b\", \"c\"]\n";
    let defaults = Layer::from_str("built-in defaults", base).unwrap();
    let over = Layer::from_str("exp.toml", "[train]\ndevice = [\"x\"]\n").unwrap();
    let (_, merged) = load::<Table>(&[defaults, over]).unwrap();
    let train = merged["train"].as_table().unwrap();
    assert_eq!(train["device"].as_array().unwrap().len(), 1);
    assert_eq!(train["steps"].as_integer(), Some(1));
    assert_eq!(train["lr"].as_float(), Some(0.5));
}

impl Layered for Table {}

use crate::train::{Experiment, ExperimentKind};

/// Issue #21: a file of one kind carrying another kind's section is an error naming the file,
/// the line, the section and what the kind uses.
#[test]
fn a_section_of_another_kind_names_the_file_line_and_fix() {
    let dir = Dir::new("foreign");
    let data = dir.layer("data.toml", "[data]\nimage_size = 32\n");
    let fader = "kind = \"fader\"\nrun_dir = \"x\"\n\n[fader_train]\ntotal_steps = 5\n\n\
                 [cgan_train.g_optimizer]\nlr = 0.1\n";
    let exp = dir.layer("fader.toml", fader);
    let err = load::<Experiment>(&[data.clone(), exp])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}:7: `cgan_train`: remove [cgan_train]: kind = \"fader\" uses [data], [fader], \
             [fader_train]",
            dir.path("fader.toml")
        )
    );
    // The kind may come from another layer than the section: the file with the section is named.
    let eval = dir.layer("eval.toml", "kind = \"eval\"\nrun_dir = \"x\"\n");
    let profile = dir.layer("profile.toml", "seed = 1\n[digits]\nfigure_rows = 2\n");
    let err = load::<Experiment>(&[data, eval, profile])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}:2: `digits`", dir.path("profile.toml")))
            && err.ends_with("remove [digits]: kind = \"eval\" uses [data], [eval]"),
        "{err}"
    );
}

/// Variables are shared by every stage of a reproduce: one for another kind's section is
/// dropped, a misspelt section is still an error naming the variable.
#[test]
fn a_variable_for_another_kind_is_dropped_and_a_misspelt_one_is_not() {
    let exp = Layer::from_str("fader.toml", "kind = \"fader\"\nrun_dir = \"x\"\n").unwrap();
    let vars = env(&[
        ("SLIDERS__CGAN_TRAIN__BN_REFRESH_STEPS", "4"),
        ("SLIDERS__FADER_TRAIN__EVAL_MAX_IMAGES", "64"),
    ]);
    let (e, merged) = load::<Experiment>(&[exp.clone(), vars]).unwrap();
    assert_eq!(e.fader_train().eval_max_images, 64);
    assert!(!merged.contains_key("cgan_train"));
    let vars = env(&[("SLIDERS__CGAN_TRAN__BN_REFRESH_STEPS", "4")]);
    let err = load::<Experiment>(&[exp, vars]).unwrap_err().to_string();
    assert!(
        err.starts_with("environment variable SLIDERS__CGAN_TRAN__BN_REFRESH_STEPS: `cgan_tran`")
            && err.contains("unknown field"),
        "{err}"
    );
}

#[test]
fn a_missing_key_and_a_bad_attribute_list_say_how_to_fix_them() {
    let exp = Layer::from_str("exp.toml", "kind = \"cgan\"\n").unwrap();
    let err = load::<Experiment>(std::slice::from_ref(&exp))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "merged configuration: `run_dir`: missing field `run_dir` (add it to the experiment file)"
    );
    let exp = Layer::from_str("exp.toml", "kind = \"cgan\"\nrun_dir = \"x\"\n").unwrap();
    let err = load::<Experiment>(&[exp, env(&[("SLIDERS__DATA__ATTRIBUTES", "5")])])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("environment variable SLIDERS__DATA__ATTRIBUTES: `data.attributes`")
            && err.contains("[\"Male\", \"Smiling\"]"),
        "{err}"
    );
}

#[test]
fn an_unknown_kind_names_the_file_and_line() {
    let dir = Dir::new("kind");
    let exp = dir.layer("exp.toml", "run_dir = \"x\"\nkind = \"fadr\"\n[fader]\n");
    let err = load::<Experiment>(&[exp]).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "{}:2: `kind`: unknown variant `fadr`",
            dir.path("exp.toml")
        )),
        "{err}"
    );
    assert_eq!(
        ExperimentKind::from_name("fader"),
        Some(ExperimentKind::Fader)
    );
}
