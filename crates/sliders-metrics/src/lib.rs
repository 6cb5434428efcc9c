//! sliders-metrics: the papers' evaluation protocols with automatic judges: reconstruction MSE and
//! PSNR, attribute and swap accuracy, FID/KID, an independent gender judge and counterfactual error on
//! synthetic faces. Filled by the evaluation issue; nothing here yet.
