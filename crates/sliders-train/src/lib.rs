//! sliders-train: the training loops of both papers (Fader alternating steps with the lambda
//! schedule, the evaluation classifier, IcGAN's cGAN and encoders), resume, metric rows and progress
//! events. Filled by the training issue; nothing here yet.
