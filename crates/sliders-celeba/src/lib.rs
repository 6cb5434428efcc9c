//! sliders-celeba: CelebA annotation parsing, the memory-mapped preprocessing cache, splits that
//! are disjoint by identity, batch sampling, and the synthetic face generator with exact
//! counterfactuals (Fader Networks spec §1, IcGAN spec §2). Filled by the data issue; nothing here yet.
