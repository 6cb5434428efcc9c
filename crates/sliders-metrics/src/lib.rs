//! sliders-metrics: the papers' evaluation protocols with automatic judges. So far: pixel metrics
//! (MSE, PSNR, masked MSE for background preservation), proportions with 95% Wilson intervals, and
//! naturalness scores (FID, KID) with the FID Inception network. The judges' tables, the gender judge
//! and the counterfactual errors arrive with the evaluation issue.

mod error;
pub mod fid;
pub mod image;
pub mod stats;

pub use error::MetricsError;
