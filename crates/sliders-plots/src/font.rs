//! The bundled font: DejaVu Sans (from the `dejavu` crate, Bitstream Vera/DejaVu licence,
//! permissive) registered with plotters' `ab_glyph` text renderer, so figures render text the
//! same way on a machine with no system fonts.

use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::error::{PlotsError, Result};

/// The family name every figure of this crate uses; registered by [`ensure_font`].
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers DejaVu Sans (regular and bold) under [`FAMILY`] once per process.
pub(crate) fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok { Ok(()) } else { Err(PlotsError::Font) }
}
