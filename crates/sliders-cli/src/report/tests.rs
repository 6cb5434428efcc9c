//! Tests of the report: run folders found, files copied, the header read from resolved.toml.

use super::*;

#[test]
fn deviations_are_collected_with_their_continuation_lines() {
    let dir = std::env::temp_dir().join(format!("sliders-dev-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("crates/x")).unwrap();
    std::fs::write(
        dir.join("crates/x/a.rs"),
        "fn f() {}\n    // Deviation: one\n    // two.\n    let x = 1;\n",
    )
    .unwrap();
    assert_eq!(
        deviations(&dir),
        vec![("crates/x/a.rs:2".to_string(), "one two.".to_string())]
    );
}

#[test]
fn the_digits_section_states_each_runs_length_and_links_its_figures() {
    let dir = std::env::temp_dir().join(format!("sliders-digits-md-{}", std::process::id()));
    let run = dir.join("digits-fashion_mnist");
    std::fs::create_dir_all(run.join("eval/figures")).unwrap();
    std::fs::write(
        run.join("resolved.toml"),
        "kind = \"digits\"\nstep_scale = 0.3\n[icgan]\nngf = 64\n[cgan_train]\n\
         total_steps = 1500\n[encoder_train]\nepochs = 2\ndataset_size = 18048\n\
         [classifier_train]\ntotal_steps = 900\n",
    )
    .unwrap();
    std::fs::write(run.join("eval/tables.md"), "| the table |\n").unwrap();
    std::fs::write(
        run.join("eval/figures/digits_fashion_mnist_ind.png"),
        b"png",
    )
    .unwrap();
    std::fs::write(run.join("eval/figures/other.png"), b"png").unwrap();
    let md = digits_section(&[("digits-fashion_mnist".into(), run)]).unwrap();
    assert!(
        md.contains(
            "Run `digits-fashion_mnist` (trained: cGAN 1500 steps (ngf 64), encoders 2 epochs \
             over 18048 generated triples, classifier 900 steps; **reduced training**, step \
             scale 0.3 of the profile)"
        ),
        "{md}"
    );
    assert!(md.contains("| the table |"), "{md}");
    assert!(
        md.contains("![digits_fashion_mnist_ind.png](figures/digits_fashion_mnist_ind.png)"),
        "{md}"
    );
    assert!(!md.contains("other.png"), "only the digits figures: {md}");
    std::fs::remove_dir_all(&dir).ok();
}
