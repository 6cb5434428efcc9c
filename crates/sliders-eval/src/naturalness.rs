//! FID and KID of a set of images against a reference set (the Fader-vs-IcGAN table's
//! naturalness columns), with the FID Inception network when it is installed; without it, the
//! cells say so instead of holding a number.

use crate::results::Cell;
use sliders_metrics::fid::{self, Inception};
use tch::{Device, Tensor};

/// The Inception features of the reference set, or why there are none.
pub struct Naturalness {
    inception: Result<Inception, String>,
    reference: Option<Tensor>,
    batch: i64,
    kid_subsets: usize,
    kid_subset_size: usize,
    per_cell: usize,
    seed: u64,
}

impl Naturalness {
    /// Loads Inception (if `enabled`) and computes the reference features of `reference`. Each
    /// cell is measured on its first `per_cell` images (0: all of them).
    pub fn new(
        enabled: bool,
        reference: &Tensor,
        device: Device,
        batch: usize,
        kid: (usize, usize, usize),
        seed: u64,
    ) -> Self {
        let inception = if enabled {
            Inception::load(&fid::default_model_path(), device)
                .map_err(|e| format!("judge missing: {e}"))
        } else {
            Err("FID and KID are switched off in this profile (eval.fid = false)".to_string())
        };
        let mut me = Self {
            inception,
            reference: None,
            batch: batch as i64,
            kid_subsets: kid.0,
            kid_subset_size: kid.1,
            per_cell: kid.2,
            seed,
        };
        if let Ok(inc) = &me.inception {
            match inc.features(reference, me.batch) {
                Ok(f) => me.reference = Some(f),
                Err(e) => me.inception = Err(e.to_string()),
            }
        }
        me
    }

    /// Why FID is not available, if it is not.
    pub fn unavailable(&self) -> Option<&str> {
        self.inception.as_ref().err().map(String::as_str)
    }

    /// Reference set size.
    pub fn reference_len(&self) -> i64 {
        self.reference.as_ref().map_or(0, |r| r.size()[0])
    }

    /// FID and KID cells of `images` (`[n, 3, S, S]` in [−1, 1]) against the reference.
    pub fn cells(&self, table: &str, row: &str, attr: &str, images: &Tensor) -> [Cell; 2] {
        let (inc, reference) = match (&self.inception, &self.reference) {
            (Ok(inc), Some(r)) => (inc, r),
            (Err(why), _) => {
                return [
                    Cell::missing(table, row, attr, "fid", why),
                    Cell::missing(table, row, attr, "kid", why),
                ];
            }
            (Ok(_), None) => unreachable!("features are computed with the network"),
        };
        let have = images.size()[0] as usize;
        if self.per_cell > have {
            let why = format!(
                "only {have} images, fewer than eval.fid_images = {}; lower it or use more test images",
                self.per_cell
            );
            return [
                Cell::missing(table, row, attr, "fid", &why),
                Cell::missing(table, row, attr, "kid", &why),
            ];
        }
        let images = match self.per_cell {
            0 => images.shallow_clone(),
            k => images.narrow(0, 0, k as i64),
        };
        match inc.features(&images, self.batch) {
            Ok(f) => {
                let n = f.size()[0] as u64;
                let size = self
                    .kid_subset_size
                    .min(n as usize)
                    .min(reference.size()[0] as usize);
                let (kid, sd) = fid::kid(&f, reference, self.kid_subsets, size, self.seed);
                let note = format!(
                    "against {} held-out real test images; KID ± sd over {} subsets of {size}",
                    reference.size()[0],
                    self.kid_subsets
                );
                let mut fid_cell = Cell::value(table, row, attr, "fid", fid::fid(&f, reference), n);
                fid_cell.note = note.clone();
                [
                    fid_cell,
                    Cell::value(table, row, attr, "kid", kid, n).with_spread(sd, &note),
                ]
            }
            Err(e) => {
                let why = format!("Inception failed: {e}");
                [
                    Cell::missing(table, row, attr, "fid", &why),
                    Cell::missing(table, row, attr, "kid", &why),
                ]
            }
        }
    }
}
