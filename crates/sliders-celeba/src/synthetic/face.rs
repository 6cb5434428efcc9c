//! Parameters of one synthetic face: identity factors shared by all images of a person, per-image
//! nuisance factors (pose, lighting, background, noise) and the five attributes with their
//! continuous intensities; seeded sampling and exact counterfactual edits. No paper section.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The attributes the synthetic faces carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SynthAttr {
    /// `Male`: short hair, stubble on the jaw, thicker eyebrows (vs long hair, smooth jaw).
    Male,
    /// `Young`: smooth skin and coloured hair (vs wrinkles, eye bags and grey hair).
    Young,
    /// `Smiling`: corners of the mouth turned up, cheek creases.
    Smiling,
    /// `Mouth_Slightly_Open`: dark mouth interior (with teeth).
    MouthOpen,
    /// `Eyeglasses`: frame and lenses of continuous darkness.
    Eyeglasses,
}

impl SynthAttr {
    /// All five, in CelebA file (alphabetical) order.
    pub const ALL: [SynthAttr; 5] = [
        SynthAttr::Eyeglasses,
        SynthAttr::Male,
        SynthAttr::MouthOpen,
        SynthAttr::Smiling,
        SynthAttr::Young,
    ];

    /// The CelebA attribute name.
    pub fn celeba_name(self) -> &'static str {
        match self {
            SynthAttr::Male => "Male",
            SynthAttr::Young => "Young",
            SynthAttr::Smiling => "Smiling",
            SynthAttr::MouthOpen => "Mouth_Slightly_Open",
            SynthAttr::Eyeglasses => "Eyeglasses",
        }
    }
}

/// Continuous intensities that can be set directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intensity {
    /// Smile amount in [0, 1]; `Smiling` is `smile >= 0.5`.
    Smile,
    /// Mouth opening in [0, 1]; `Mouth_Slightly_Open` is `mouth_open >= 0.5`.
    MouthOpen,
    /// Lens darkness in [0, 1] (glasses are put on if absent).
    LensDarkness,
}

/// Factors shared by every image of one identity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Identity {
    /// Skin colour, RGB in [0, 1].
    pub skin: [f32; 3],
    /// Hair colour when young, RGB in [0, 1].
    pub hair: [f32; 3],
    /// Iris colour.
    pub iris: [f32; 3],
    /// Half width of the face (face units, CelebA frame 178 wide).
    pub face_rx: f32,
    /// Half height of the face.
    pub face_ry: f32,
    /// Chin width relative to the face (0.6 pointed .. 0.9 square).
    pub chin: f32,
    /// Half distance between the eyes.
    pub eye_sep: f32,
    /// Eye half height.
    pub eye_ry: f32,
    /// Mouth half width.
    pub mouth_w: f32,
    /// Hair volume (0..1).
    pub hair_volume: f32,
    /// Stubble darkness when male (0..1).
    pub beard: f32,
    /// Male (identity-level; editable per image).
    pub male: bool,
    /// Young (identity-level; editable per image).
    pub young: bool,
}

/// Everything that determines one rendered face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceParams {
    /// Identity number.
    pub identity_id: u32,
    /// Identity factors.
    pub identity: Identity,
    /// Male.
    pub male: bool,
    /// Young.
    pub young: bool,
    /// Smile amount in [0, 1].
    pub smile: f32,
    /// Mouth opening in [0, 1].
    pub mouth_open: f32,
    /// Glasses worn.
    pub glasses: bool,
    /// Lens darkness in [0, 1] (kept when glasses are taken off, so flips are exact).
    pub lens_darkness: f32,
    /// Shift of the face in face units.
    pub shift: [f32; 2],
    /// Head roll in radians.
    pub roll: f32,
    /// Face scale.
    pub scale: f32,
    /// Lighting direction in radians.
    pub light_dir: f32,
    /// Lighting strength (0 = flat).
    pub light: f32,
    /// Background colours (top, bottom).
    pub background: [[f32; 3]; 2],
    /// Clothes colour.
    pub clothes: [f32; 3],
    /// Pixel noise standard deviation (0..1 scale).
    pub noise: f32,
    /// Seed of the pixel noise.
    pub noise_seed: u64,
}

fn lerp3(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn rgb(r: u8, g: u8, b: u8) -> [f32; 3] {
    [
        f32::from(r) / 255.0,
        f32::from(g) / 255.0,
        f32::from(b) / 255.0,
    ]
}

fn pick(rng: &mut ChaCha8Rng, palette: &[[f32; 3]]) -> [f32; 3] {
    let t = rng.gen_range(0.0..(palette.len() - 1) as f32);
    let i = t as usize;
    lerp3(palette[i], palette[i + 1], t - i as f32)
}

/// Positive rates used by the sampler (CelebA-like; Eyeglasses raised from CelebA's 0.07).
pub const RATE_MALE: f64 = 0.42;
/// `Young` rate.
pub const RATE_YOUNG: f64 = 0.78;
/// `Smiling` rate.
pub const RATE_SMILING: f64 = 0.48;
/// `Mouth_Slightly_Open` rate given Smiling (CelebA-like correlation).
pub const RATE_OPEN_IF_SMILING: f64 = 0.8;
/// `Mouth_Slightly_Open` rate given not Smiling.
pub const RATE_OPEN_IF_NOT: f64 = 0.15;
// Deviation: CelebA has 7% Eyeglasses; the synthetic set uses 15% so small smoke runs see enough.
/// `Eyeglasses` rate.
pub const RATE_GLASSES: f64 = 0.15;

impl Identity {
    /// The identity factors of identity `id` under `seed`.
    pub fn sample(seed: u64, id: u32) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(
            seed ^ 0x1d_0000_0000 ^ u64::from(id).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        let skin = pick(
            &mut rng,
            &[
                rgb(250, 222, 196),
                rgb(232, 190, 155),
                rgb(200, 150, 112),
                rgb(150, 100, 70),
                rgb(98, 66, 48),
            ],
        );
        let hair = pick(
            &mut rng,
            &[
                rgb(28, 22, 20),
                rgb(72, 46, 30),
                rgb(125, 80, 45),
                rgb(160, 90, 45),
                rgb(215, 180, 115),
            ],
        );
        let iris = pick(
            &mut rng,
            &[rgb(70, 45, 25), rgb(60, 100, 140), rgb(80, 110, 70)],
        );
        Identity {
            skin,
            hair,
            iris,
            face_rx: rng.gen_range(37.0..44.0),
            face_ry: rng.gen_range(50.0..57.0),
            chin: rng.gen_range(0.62..0.88),
            eye_sep: rng.gen_range(17.0..20.5),
            eye_ry: rng.gen_range(3.6..4.8),
            mouth_w: rng.gen_range(21.0..26.0),
            hair_volume: rng.gen_range(0.0..1.0),
            beard: rng.gen_range(0.35..0.75),
            male: rng.gen_bool(RATE_MALE),
            young: rng.gen_bool(RATE_YOUNG),
        }
    }
}

impl FaceParams {
    /// Image `index` of identity `id`: identity factors plus freshly sampled per-image factors.
    pub fn sample(seed: u64, id: u32, index: u64) -> Self {
        let identity = Identity::sample(seed, id);
        let mut rng = ChaCha8Rng::seed_from_u64(
            seed ^ 0x1a_0000_0000_0000 ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03),
        );
        let smiling = rng.gen_bool(RATE_SMILING);
        let open = rng.gen_bool(if smiling {
            RATE_OPEN_IF_SMILING
        } else {
            RATE_OPEN_IF_NOT
        });
        let bg_palette = [
            rgb(235, 235, 235),
            rgb(120, 140, 170),
            rgb(70, 90, 70),
            rgb(180, 160, 130),
            rgb(40, 40, 50),
            rgb(170, 110, 110),
        ];
        let b0 = pick(&mut rng, &bg_palette);
        let b1 = lerp3(b0, pick(&mut rng, &bg_palette), 0.5);
        FaceParams {
            identity_id: id,
            identity,
            male: identity.male,
            young: identity.young,
            smile: if smiling {
                rng.gen_range(0.65..1.0)
            } else {
                rng.gen_range(0.0..0.3)
            },
            mouth_open: if open {
                rng.gen_range(0.6..1.0)
            } else {
                rng.gen_range(0.0..0.12)
            },
            glasses: rng.gen_bool(RATE_GLASSES),
            lens_darkness: rng.gen_range(0.25..1.0),
            shift: [rng.gen_range(-5.0..5.0), rng.gen_range(-5.0..5.0)],
            roll: rng.gen_range(-0.08..0.08),
            scale: rng.gen_range(0.94..1.06),
            light_dir: rng.gen_range(0.0..std::f32::consts::TAU),
            light: rng.gen_range(0.0..0.3),
            background: [b0, b1],
            clothes: pick(
                &mut rng,
                &[
                    rgb(30, 30, 60),
                    rgb(150, 30, 30),
                    rgb(220, 220, 220),
                    rgb(40, 90, 50),
                    rgb(90, 90, 90),
                ],
            ),
            noise: rng.gen_range(0.004..0.02),
            noise_seed: rng.r#gen(),
        }
    }

    /// Whether an attribute is present.
    pub fn has(&self, a: SynthAttr) -> bool {
        match a {
            SynthAttr::Male => self.male,
            SynthAttr::Young => self.young,
            SynthAttr::Smiling => self.smile >= 0.5,
            SynthAttr::MouthOpen => self.mouth_open >= 0.5,
            SynthAttr::Eyeglasses => self.glasses,
        }
    }

    /// The same face with attribute `a` set to `present` (everything else unchanged). Smiling
    /// sets the smile to 0.85 / 0.1, mouth opening to 0.8 / 0.0; glasses keep their darkness.
    pub fn with_attribute(&self, a: SynthAttr, present: bool) -> Self {
        let mut p = *self;
        match a {
            SynthAttr::Male => p.male = present,
            SynthAttr::Young => p.young = present,
            SynthAttr::Smiling => p.smile = if present { 0.85 } else { 0.1 },
            SynthAttr::MouthOpen => p.mouth_open = if present { 0.8 } else { 0.0 },
            SynthAttr::Eyeglasses => p.glasses = present,
        }
        p
    }

    /// The same face with attribute `a` flipped.
    pub fn flipped(&self, a: SynthAttr) -> Self {
        self.with_attribute(a, !self.has(a))
    }

    /// The same face with a continuous intensity set to `v` (clamped to [0, 1]).
    pub fn with_intensity(&self, i: Intensity, v: f32) -> Self {
        let mut p = *self;
        let v = v.clamp(0.0, 1.0);
        match i {
            Intensity::Smile => p.smile = v,
            Intensity::MouthOpen => p.mouth_open = v,
            Intensity::LensDarkness => {
                p.glasses = true;
                p.lens_darkness = v;
            }
        }
        p
    }
}
