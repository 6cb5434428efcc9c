//! Tests of the network configurations: defaults, validation and the reference shapes.

use super::*;

#[test]
fn defaults_are_valid_and_match_the_reference() {
    let c = FaderConfig::default();
    c.validate().unwrap();
    assert_eq!(c.latent_shape(), [512, 4, 4]);
    let p = FaderConfig::paper();
    p.validate().unwrap();
    assert_eq!(p.latent_shape(), [512, 2, 2]);
    for s in [32, 64] {
        let q = FaderConfig::small(s);
        q.validate().unwrap();
        assert_eq!(q.latent_shape()[1], 2);
    }
    assert_eq!(FaderConfig::small(64).n_layers, 5);
    ClassifierConfig::default().validate().unwrap();
    IcganConfig::default().validate().unwrap();
    IcganEncoderConfig::default().validate().unwrap();
    assert_eq!(IcganEncoderConfig::default().fc_z_size(), 4096);
    assert_eq!(IcganConfig::default().n_mid_layers(), 3);
}

#[test]
fn impossible_fader_configs_are_refused_with_the_field() {
    let bad = |c: FaderConfig| c.validate().unwrap_err().to_string();
    let e = bad(FaderConfig {
        init_fm: 1024,
        ..FaderConfig::default()
    });
    assert!(
        e.contains("init_fm = 1024") && e.contains("max_fm = 512"),
        "{e}"
    );
    let e = bad(FaderConfig {
        n_skip: 6,
        ..FaderConfig::default()
    });
    assert!(e.contains("n_skip = 6"), "{e}");
    let e = bad(FaderConfig {
        img_sz: 100,
        ..FaderConfig::default()
    });
    assert!(
        e.contains("img_sz = 100") && e.contains("power of 2"),
        "{e}"
    );
    let e = bad(FaderConfig {
        img_sz: 32,
        n_layers: 6,
        ..FaderConfig::default()
    });
    assert!(e.contains("n_layers = 6") && e.contains("log2"), "{e}");
    let e = bad(FaderConfig {
        dec_dropout: 1.0,
        ..FaderConfig::default()
    });
    assert!(e.contains("dec_dropout") && e.contains("[0, 1)"), "{e}");
    let tiny = FaderConfig {
        img_sz: 16,
        n_layers: 3,
        ..FaderConfig::default()
    };
    tiny.validate().unwrap();
    let e = tiny.validate_patch_dis().unwrap_err().to_string();
    assert!(e.contains("n_patch_dis_layers = 3"), "{e}");
    let e = bad(FaderConfig {
        lat_dis_dropout: -0.1,
        ..FaderConfig::default()
    });
    assert!(e.contains("lat_dis_dropout"), "{e}");
}

#[test]
fn other_configs_refuse_impossible_values() {
    assert!(
        ClassifierConfig {
            img_sz: 48,
            ..Default::default()
        }
        .validate()
        .is_err()
    );
    assert!(
        IcganConfig {
            img_sz: 4,
            ..Default::default()
        }
        .validate()
        .is_err()
    );
    assert!(
        IcganEncoderConfig {
            img_sz: 8,
            ..Default::default()
        }
        .validate()
        .is_err()
    );
}

#[test]
fn serde_uses_reference_names_and_denies_unknown_fields() {
    let c: FaderConfig = serde_json::from_str(
        r#"{"img_sz": 64, "n_layers": 5, "deconv_method": "pixelshuffle", "norm": "instance"}"#,
    )
    .unwrap();
    assert_eq!(c.deconv_method, DeconvMethod::PixelShuffle);
    assert_eq!(c.norm, NormKind::Instance);
    assert_eq!(c.init_fm, 32);
    let e = serde_json::from_str::<FaderConfig>(r#"{"n_layer": 5}"#).unwrap_err();
    assert!(e.to_string().contains("n_layer"), "{e}");
    let k: IcganEncoderConfig = serde_json::from_str(r#"{"kind": "ind-cond"}"#).unwrap();
    assert_eq!(k.kind, EncoderKind::IndCond);
    let back: FaderConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
}
