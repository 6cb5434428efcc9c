//! sliders-nets: tch modules for Fader Networks (autoencoder, latent and patch discriminators,
//! classifier) and IcGAN (conditional generator and discriminator, encoders SNG/IND/IND-COND), and
//! checkpoint files whose names match the PyTorch references' state_dict keys. Filled by the
//! network issue; nothing here yet.
