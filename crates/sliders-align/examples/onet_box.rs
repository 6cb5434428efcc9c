//! Measures where the cascade puts O-Net's box on an aligned face in `refine`'s 178×218 working
//! view (its `VIEW_BOX`): every 40th image of the CelebA sample, brought to 178×218 by bilinear
//! upsampling, refined, warped onto the template and detected again; prints the mean centre and
//! side of O-Net's input box.
//!
//! ```sh
//! cargo run --release -p sliders-align --example onet_box
//! ```

use sliders_align::{Detector, Frame, Similarity, Template, fit_to_frame, refine, warp};

fn main() {
    tch::set_num_threads(1);
    let d = Detector::load_default(tch::Device::Cpu).unwrap();
    let t = Template::celeba();
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/celeba/img_align_celeba"
    ));
    let mut acc = [0.0f64; 4];
    let mut n = 0.0;
    for i in (1..=8000).step_by(40) {
        let small = image::open(dir.join(format!("{i:06}.jpg")))
            .unwrap()
            .to_rgb8();
        let im = warp(&small, &Similarity::new(2.0, 0.0, 0.0, 0.0), 178, 218);
        let Some(f) = d.detect(&im).first().copied() else {
            continue;
        };
        let f = refine(&d, &t, &im, &f);
        let to = fit_to_frame(&f, &t, Frame::ALIGNED, 178, 218);
        let view = warp(&im, &to, 178, 218);
        let Some(g) = d.detect(&view).first().copied() else {
            continue;
        };
        let r = g.input_rect;
        let c = [
            (r[0] + r[2]) as f64 / 2.0,
            (r[1] + r[3]) as f64 / 2.0,
            (r[2] - r[0]) as f64,
            (r[3] - r[1]) as f64,
        ];
        for k in 0..4 {
            acc[k] += c[k];
        }
        n += 1.0;
    }
    println!(
        "n {n} centre {:.2} {:.2} side {:.2} {:.2}",
        acc[0] / n,
        acc[1] / n,
        acc[2] / n,
        acc[3] / n
    );
}
