//! Trainable parameter counts against the references (docs/fader-networks.md#parameter-counts;
//! docs/icgan.md#generator, #discriminator, #ind) and, for configurations the references do not
//! count, against sums derived by hand from the layer tables (arithmetic in the comments).

use sliders_config::nets::{
    ClassifierConfig, EncoderKind, FaderConfig, IcganConfig, IcganEncoderConfig,
};
use sliders_nets::{
    EncoderRole, FaderAutoEncoder, FaderClassifier, IcganDiscriminator, IcganEncoder,
    IcganGenerator, LatentDiscriminator, NetsError, PatchDiscriminator, SngEncoder,
    count_parameters,
};
use tch::{Device, nn};

fn count<C, N>(cfg: &C, build: impl FnOnce(&nn::Path, &C) -> Result<N, NetsError>) -> i64 {
    let vs = nn::VarStore::new(Device::Cpu);
    let _net = build(&vs.root(), cfg).unwrap();
    count_parameters(&vs)
}

fn fader(f: impl FnOnce(&mut FaderConfig)) -> FaderConfig {
    let mut c = FaderConfig::default();
    f(&mut c);
    c
}

#[test]
fn fader_autoencoder_matches_the_reference() {
    let _serial = crate::common::serial();
    assert_eq!(
        count(&FaderConfig::default(), FaderAutoEncoder::new),
        14_000_512
    );
    assert_eq!(
        count(&fader(|c| c.n_attr = 4), FaderAutoEncoder::new),
        14_032_352
    );
    // At 128 px the same 6 layers give a 512×2×2 latent and the same count.
    assert_eq!(
        count(&fader(|c| c.img_sz = 128), FaderAutoEncoder::new),
        14_000_512
    );
}

#[test]
fn fader_paper_configuration() {
    let _serial = crate::common::serial();
    // 256 px, 7 layers, init_fm 16, n_attr 2. Conv(a→b, 4×4) = 16ab + b, BN(b) = 2b,
    // ConvT(a→b, 4×4, no bias) = 16ab.
    // Encoder 3→16→32→64→128→256→512→512:
    //   enc0 3→16    : 3·16·16 + 16                 =       784
    //   enc1 16→32   : 16·32·16 + 32 + 64 (BN)      =     8,288
    //   enc2 32→64   : 32·64·16 + 64 + 128          =    32,960
    //   enc3 64→128  : 64·128·16 + 128 + 256        =   131,456
    //   enc4 128→256 : 128·256·16 + 256 + 512       =   525,056
    //   enc5 256→512 : 256·512·16 + 512 + 1,024     = 2,098,688
    //   enc6 512→512 : 512·512·16 + 512 + 1,024     = 4,195,840   → encoder 6,993,072
    // Decoder (input + 2 attribute maps):
    //   514→512: 514·512·16 + 1,024 = 4,211,712;  514→256: 514·256·16 + 512 = 2,105,856;
    //   258→128: 258·128·16 + 256 =   528,640;    130→64:  130·64·16 + 128  =   133,248;
    //   66→32:   66·32·16 + 64    =    33,856;    34→16:   34·16·16 + 32    =     8,736;
    //   18→3 (Tanh, no BN): 18·3·16 = 864                                   → decoder 7,022,912
    // Total 6,993,072 + 7,022,912 = 14,015,984.
    let paper = FaderConfig::paper();
    assert_eq!(count(&paper, FaderAutoEncoder::new), 14_015_984);
    // Its latent discriminator is the paper's "C512 + FC512 + FCn": one Conv(512→512)+BN
    // 4,195,840 + Linear(512,512) 262,656 + Linear(512,2) 1,026 = 4,459,522.
    assert_eq!(count(&paper, LatentDiscriminator::new), 4_459_522);
}

#[test]
fn fader_discriminators_and_classifier_match_the_reference() {
    let _serial = crate::common::serial();
    assert_eq!(
        count(&FaderConfig::default(), LatentDiscriminator::new),
        8_655_362
    );
    assert_eq!(
        count(&fader(|c| c.img_sz = 128), LatentDiscriminator::new),
        4_459_522
    );
    assert_eq!(
        count(&FaderConfig::default(), PatchDiscriminator::new),
        695_137
    );
    let clf = ClassifierConfig::default();
    assert_eq!(count(&clf, FaderClassifier::new), 15_640_930);
    let all = ClassifierConfig {
        n_attr: 80,
        ..clf.clone()
    };
    assert_eq!(count(&all, FaderClassifier::new), 15_680_944);
    let all128 = ClassifierConfig { img_sz: 128, ..all };
    assert_eq!(count(&all128, FaderClassifier::new), 11_485_104);
}

#[test]
fn icgan_generator_and_discriminator_match_the_reference() {
    let _serial = crate::common::serial();
    let cfg = IcganConfig::default();
    assert_eq!(count(&cfg, IcganGenerator::new), 3_725_123);
    assert_eq!(count(&cfg, IcganDiscriminator::new), 2_803_393);
}

#[test]
fn icgan_encoders() {
    let _serial = crate::common::serial();
    // 64 px, nf 32, 4 blocks of Conv(a→b, 5×5) = 25ab + b plus BN 2b:
    //   3→32: 2,400+32+64 = 2,496;  32→64: 51,200+64+128 = 51,392;
    //   64→128: 204,800+128+256 = 205,184;  128→256: 819,200+256+512 = 819,968
    //   → conv stack 1,079,040 (flattened 256·4·4 = 4,096).
    // Ez: Linear(4096,4096) 16,781,312 + BN1d 8,192 + Linear(4096,100) 409,700
    //   = 17,199,204 → Ez 18,278,244 ("about 18.3 M", docs/icgan.md#ind).
    // Ey: Linear(4096,512) 2,097,664 + BN1d 1,024 + Linear(512,18) 9,234 = 2,107,922
    //   → Ey 3,186,962.
    // IND-COND Ez: first conv has 3+18 = 21 inputs: +18·32·25 = +14,400 → 18,292,644.
    // SNG: shared 2,496; each branch convs 51,392 + 205,184 + 819,968 = 1,076,544;
    //   z branch 1,076,544 + 17,199,204 = 18,275,748;
    //   y branch FC 16,781,312 + 8,192 + Linear(4096,18) 73,746 = 16,863,250 → 17,939,794;
    //   total 2,496 + 18,275,748 + 17,939,794 = 36,218,038.
    let ind = IcganEncoderConfig::default();
    let z = |p: &nn::Path, c: &IcganEncoderConfig| IcganEncoder::new(p, c, EncoderRole::Z);
    let y = |p: &nn::Path, c: &IcganEncoderConfig| IcganEncoder::new(p, c, EncoderRole::Y);
    let zc = |p: &nn::Path, c: &IcganEncoderConfig| IcganEncoder::new(p, c, EncoderRole::ZCond);
    assert_eq!(count(&ind, z), 18_278_244);
    assert_eq!(count(&ind, y), 3_186_962);
    let cond = IcganEncoderConfig {
        kind: EncoderKind::IndCond,
        ..ind.clone()
    };
    assert_eq!(count(&cond, zc), 18_292_644);
    let sng = IcganEncoderConfig {
        kind: EncoderKind::Sng,
        ..ind
    };
    assert_eq!(count(&sng, SngEncoder::new), 36_218_038);
}
