//! Work at bounded resolution (issue #22, "downscale first"): a photo far larger than the model's
//! input is kept at most `WORKING_SIDE` a side once its face is taken, so `sliders edit` on many
//! large photos holds 12.6 MB per photo instead of the full decode (192 MB for 8000x8000), and
//! the model input is the same as if the face were resampled from the full-size photo.

use image::{Rgb, RgbImage};
use sliders_celeba::framing::CropBox;
use sliders_celeba::resize::Resampler;
use sliders_config::data::Framing;
use sliders_edit::paste::paste_back;
use sliders_edit::photo::{WORKING_SIDE, working_copy};
use sliders_edit::{Crop, Photo};
use std::path::Path;

/// A `w`x`h` photo with a gradient and a dark square in the middle (something to see moved).
fn photo(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let inside = (x as i64 - w as i64 / 2).abs() < 500 && (y as i64 - h as i64 / 2).abs() < 500;
        if inside {
            Rgb([10, 20, 30])
        } else {
            Rgb([(x % 256) as u8, (y % 256) as u8, 200])
        }
    })
}

#[test]
fn an_8000_px_photo_is_kept_at_the_working_size_with_the_same_face() {
    let (w, h, size) = (8000u32, 8000u32, 64u32);
    let full = photo(w, h);
    // The face as the model would get it from the full-size photo (the centred square).
    let mut want = vec![0u8; 3 * (size * size) as usize];
    Resampler::new(w as usize, h as usize, size as usize, size as usize).run(
        full.as_raw(),
        w as usize * 3,
        0,
        0,
        &mut want,
        &mut Vec::new(),
    );
    let p = Photo::from_image(
        Path::new("big.png"),
        full,
        size,
        Framing::Fader,
        Crop::Center,
    )
    .unwrap();
    assert_eq!(p.image.dimensions(), (WORKING_SIDE, WORKING_SIDE));
    assert_eq!(
        p.image.as_raw().len(),
        3 * 2048 * 2048,
        "12.6 MB kept, not 192 MB"
    );
    assert_eq!(
        p.face, want,
        "the model input is taken from the full-size photo"
    );
    let whole = CropBox {
        x0: 0,
        y0: 0,
        x1: WORKING_SIDE,
        y1: WORKING_SIDE,
    };
    assert_eq!(p.crop, whole);
    // The middle of the kept photo is still the dark square, downscaled by 8000/2048.
    assert_eq!(p.image.get_pixel(1024, 1024), &Rgb([10, 20, 30]));
    let pasted = paste_back(&p.image, p.crop, &RgbImage::new(size, size));
    assert_eq!(pasted.dimensions(), (WORKING_SIDE, WORKING_SIDE));
}

#[test]
fn the_box_scales_with_the_photo_and_small_photos_stay_as_they_are() {
    let crop = CropBox {
        x0: 1000,
        y0: 500,
        x1: 3000,
        y1: 2500,
    };
    let (img, b) = working_copy(photo(6000, 3000), crop, 1500);
    assert_eq!(img.dimensions(), (1500, 750));
    assert_eq!(
        b,
        CropBox {
            x0: 250,
            y0: 125,
            x1: 750,
            y1: 625
        }
    );
    let small = photo(1200, 900);
    let (same, b) = working_copy(small.clone(), crop, 2048);
    assert_eq!(same, small);
    assert_eq!(b, crop);
    // A portrait photo: the height is the long side.
    let (img, _) = working_copy(photo(1000, 4000), crop, 2000);
    assert_eq!(img.dimensions(), (500, 2000));
}
