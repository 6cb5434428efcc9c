//! sliders-metrics: the measurements the evaluation is built from: pixel metrics (MSE, PSNR,
//! masked MSE for background preservation), proportions with 95% Wilson intervals, and
//! naturalness scores (FID, KID) with the FID Inception network. The protocols that use them (the
//! tables, counterfactual errors) are in sliders-eval, the gender judge in sliders-gender.

mod error;
pub mod fid;
pub mod image;
pub mod stats;

pub use error::MetricsError;
