//! The pixel metrics and the accuracy interval on small literal data, and FID/KID when the
//! Inception network is installed: `cargo run -p sliders-metrics --example metrics`.

use sliders_metrics::{fid, image, stats};
use tch::{Device, Kind, Tensor};

fn main() {
    let a = Tensor::zeros([2, 3, 8, 8], (Kind::Float, Device::Cpu));
    let b = a.full_like(0.2);
    println!(
        "MSE {:.4}, PSNR {:.2} dB",
        image::mse(&a, &b),
        image::psnr(&a, &b)
    );
    let p = stats::proportion(81, 100);
    println!(
        "accuracy {:.2} [{:.3}, {:.3}] of n = {}",
        p.value, p.low, p.high, p.n
    );
    let f1 = Tensor::randn([200, 16], (Kind::Double, Device::Cpu));
    let f2 = Tensor::randn([200, 16], (Kind::Double, Device::Cpu)) + 0.5;
    let (kid, sd) = fid::kid(&f1, &f2, 10, 100, 0);
    println!(
        "on random features: FID {:.3}, KID {kid:.4} ± {sd:.4}",
        fid::fid(&f1, &f2)
    );
    match fid::Inception::load(&fid::default_model_path(), Device::Cpu) {
        Ok(_) => println!("the FID Inception network is installed"),
        Err(e) => println!("no Inception network: {e}"),
    }
}
