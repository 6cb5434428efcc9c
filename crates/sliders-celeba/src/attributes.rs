//! Attribute selection by name and the two encodings of `y`: Fader's one-hot with two columns per
//! attribute (docs/fader-networks.md#attribute-encoding; attributes sorted by name) and IcGAN's ±1
//! (docs/icgan.md#attributes, with the 18-attribute preset in that section's order).
//!
//! Order rule: a list of names is sorted by name (the Fader reference sorts by `(n_cat, name)` and
//! every CelebA attribute is binary); a preset keeps its own order (`icgan18` is the
//! docs/icgan.md#attributes list order, which is also alphabetical; `all` is file order, also
//! alphabetical).

use crate::error::{CelebaError, Result};
use sliders_config::data::{AttributeEncoding, AttributePreset, AttributeSpec};
use std::path::Path;

/// The 40 CelebA attribute names in `list_attr_celeba.txt` order (alphabetical).
pub const CELEBA_ATTRIBUTES: [&str; 40] = [
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
];

/// The 18 IcGAN attributes in the order of docs/icgan.md#attributes (`y` index 1..18).
pub const ICGAN18: [&str; 18] = [
    "Bald",
    "Bangs",
    "Black_Hair",
    "Blond_Hair",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Eyeglasses",
    "Gray_Hair",
    "Heavy_Makeup",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Pale_Skin",
    "Receding_Hairline",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Hat",
];

/// A resolved attribute selection: names in encoding order and their columns in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeSelection {
    names: Vec<String>,
    columns: Vec<usize>,
}

impl AttributeSelection {
    /// Resolves a config spec against the names of an attribute file (`available`, file order).
    /// `file` is only used in the error for an unknown name.
    pub fn resolve(spec: &AttributeSpec, available: &[String], file: &Path) -> Result<Self> {
        let names: Vec<String> = match spec {
            AttributeSpec::Preset(AttributePreset::Icgan18) => {
                ICGAN18.iter().map(|s| (*s).to_owned()).collect()
            }
            AttributeSpec::Preset(AttributePreset::All) => available.to_vec(),
            AttributeSpec::Names(list) => {
                let mut v = list.clone();
                v.sort();
                v.dedup();
                v
            }
        };
        if names.is_empty() {
            return Err(CelebaError::Config {
                field: "attributes",
                what: "no attribute selected".into(),
                fix: "list at least one CelebA attribute name, e.g. [\"Smiling\"]".into(),
            });
        }
        let mut columns = Vec::with_capacity(names.len());
        for n in &names {
            match available.iter().position(|a| a == n) {
                Some(c) => columns.push(c),
                None => {
                    return Err(CelebaError::UnknownAttribute {
                        name: n.clone(),
                        file: file.to_path_buf(),
                        closest: closest_names(n, available, 3).join(", "),
                    });
                }
            }
        }
        Ok(Self { names, columns })
    }

    /// Resolves plain names (sorted by name) against the standard 40 CelebA names.
    pub fn from_names(names: &[&str]) -> Result<Self> {
        let available: Vec<String> = CELEBA_ATTRIBUTES.iter().map(|s| (*s).to_owned()).collect();
        let spec = AttributeSpec::Names(names.iter().map(|s| (*s).to_owned()).collect());
        Self::resolve(&spec, &available, Path::new("<CelebA attribute names>"))
    }

    /// Attribute names in encoding order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Column of each selected attribute in the attribute file.
    pub fn columns(&self) -> &[usize] {
        &self.columns
    }

    /// Number of selected attributes `k`.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether nothing is selected (never true for a resolved selection).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Width of the encoded `y`: `2k` for one-hot, `k` for ±1.
    pub fn width(&self, encoding: AttributeEncoding) -> usize {
        match encoding {
            AttributeEncoding::OneHot => 2 * self.len(),
            AttributeEncoding::PlusMinus => self.len(),
        }
    }

    /// Whether selected attribute `i` is present in a row of file bits.
    pub fn present(&self, bits: u64, i: usize) -> bool {
        bits >> self.columns[i] & 1 == 1
    }

    /// Encodes one image's file bits into `out` (length [`AttributeSelection::width`]).
    /// One-hot: `[1,0]` absent, `[0,1]` present per attribute; ±1: `-1` absent, `+1` present.
    pub fn encode_into(&self, bits: u64, encoding: AttributeEncoding, out: &mut [f32]) {
        debug_assert_eq!(out.len(), self.width(encoding));
        for i in 0..self.len() {
            let p = self.present(bits, i);
            match encoding {
                AttributeEncoding::OneHot => {
                    out[2 * i] = if p { 0.0 } else { 1.0 };
                    out[2 * i + 1] = if p { 1.0 } else { 0.0 };
                }
                AttributeEncoding::PlusMinus => out[i] = if p { 1.0 } else { -1.0 },
            }
        }
    }

    /// Encodes one image's file bits into a new vector.
    pub fn encode(&self, bits: u64, encoding: AttributeEncoding) -> Vec<f32> {
        let mut v = vec![0.0; self.width(encoding)];
        self.encode_into(bits, encoding, &mut v);
        v
    }
}

/// The `n` valid names closest to `name` (case-insensitive edit distance), best first.
pub fn closest_names(name: &str, available: &[String], n: usize) -> Vec<String> {
    let key = name.to_lowercase();
    let mut scored: Vec<(usize, &String)> = available
        .iter()
        .map(|a| (edit_distance(&key, &a.to_lowercase()), a))
        .collect();
    scored.sort();
    scored.into_iter().take(n).map(|(_, a)| a.clone()).collect()
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all() -> Vec<String> {
        CELEBA_ATTRIBUTES.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn names_are_sorted_like_fader() {
        let s = AttributeSelection::from_names(&["Smiling", "Male"]).unwrap();
        assert_eq!(s.names(), ["Male", "Smiling"]);
        assert_eq!(s.columns(), [20, 31]);
    }

    #[test]
    fn file_order_is_alphabetical() {
        let mut v = all();
        v.sort();
        assert_eq!(v, all());
    }

    #[test]
    fn icgan_preset_order_and_columns() {
        let s = AttributeSelection::resolve(
            &AttributeSpec::Preset(AttributePreset::Icgan18),
            &all(),
            Path::new("f"),
        )
        .unwrap();
        assert_eq!(s.len(), 18);
        // CelebA 1-based columns of the IcGAN table.
        let cols: Vec<usize> = s.columns().iter().map(|c| c + 1).collect();
        assert_eq!(
            cols,
            [
                5, 6, 9, 10, 12, 13, 16, 18, 19, 21, 22, 23, 27, 29, 32, 33, 34, 36
            ]
        );
    }

    #[test]
    fn encodings() {
        let s = AttributeSelection::from_names(&["Male", "Smiling"]).unwrap();
        let bits = 1u64 << 31; // Smiling only
        assert_eq!(
            s.encode(bits, AttributeEncoding::OneHot),
            [1.0, 0.0, 0.0, 1.0]
        );
        assert_eq!(s.encode(bits, AttributeEncoding::PlusMinus), [-1.0, 1.0]);
    }

    #[test]
    fn unknown_name_suggests_closest() {
        let e = AttributeSelection::from_names(&["Smilling"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"Smilling\"") && e.contains("Smiling"), "{e}");
        let e = AttributeSelection::from_names(&["eyeglasses"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("closest valid names: Eyeglasses"), "{e}");
    }

    proptest! {
        #[test]
        fn onehot_and_pm_agree(bits in any::<u64>(), pick in proptest::collection::vec(0usize..40, 1..8)) {
            let names: Vec<&str> = pick.iter().map(|&i| CELEBA_ATTRIBUTES[i]).collect();
            let s = AttributeSelection::from_names(&names).unwrap();
            let oh = s.encode(bits, AttributeEncoding::OneHot);
            let pm = s.encode(bits, AttributeEncoding::PlusMinus);
            for i in 0..s.len() {
                prop_assert_eq!(oh[2 * i] + oh[2 * i + 1], 1.0);
                prop_assert_eq!(pm[i], 2.0 * oh[2 * i + 1] - 1.0);
                prop_assert_eq!(oh[2 * i + 1] == 1.0, bits >> s.columns()[i] & 1 == 1);
            }
            let mut sorted = s.names().to_vec();
            sorted.sort();
            prop_assert_eq!(sorted.as_slice(), s.names());
        }

        #[test]
        fn edit_distance_is_a_metric(a in "[a-z_]{0,8}", b in "[a-z_]{0,8}") {
            prop_assert_eq!(edit_distance(&a, &b), edit_distance(&b, &a));
            prop_assert_eq!(edit_distance(&a, &a), 0);
            prop_assert!(edit_distance(&a, &b) <= a.len().max(b.len()));
        }
    }
}
