//! Upload validation: the `Content-Type` must be `image/jpeg` or `image/png`, the body at most
//! `--max-upload-mb` (enforced while reading it, see `routes`), the header within the decode
//! limits (413 otherwise, before any pixel is decoded), and the bytes must decode as a whole JPEG
//! or PNG (by content, through the project's one decoder: EXIF rotation, grayscale and alpha
//! handled) holding a face (detected and aligned as `sliders edit --crop auto` does, see
//! docs/face-alignment.md) whose frame is at least the models' input size. Uploads stay in
//! memory; they are written to disk only when `--save-uploads DIR` asks for it (atomically,
//! temp + rename). The download decodes the upload again and pastes the edit back into it.

use crate::error::{Result, ServeError};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use sliders_celeba::DecodeLimits;
use sliders_celeba::decode::Probe;
use sliders_config::data::Framing;
use sliders_edit::faces::FaceFinder;
use sliders_edit::paste::Placement;
use sliders_edit::{Crop, EditError, Photo};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Accepted upload types.
pub const ACCEPTED_TYPES: [&str; 2] = ["image/jpeg", "image/png"];

/// Checks the request's `Content-Type` (parameters such as `; charset` ignored, case ignored).
pub fn check_content_type(headers: &HeaderMap) -> Result<()> {
    let raw = headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if ACCEPTED_TYPES.contains(&essence.as_str()) {
        return Ok(());
    }
    Err(ServeError::UnsupportedType {
        found: if raw.is_empty() {
            "(none)".into()
        } else {
            raw.chars().take(80).collect()
        },
        expected: "the photo as the request body with Content-Type image/jpeg or image/png",
    })
}

/// The name uploads go by in messages.
const UPLOAD: &str = "upload";

/// Reads an upload's header and checks it against `limits` without decoding it (413 over a
/// limit, 422 when it is empty, not a JPEG or PNG, or cut short).
pub fn probe(bytes: &[u8], limits: &DecodeLimits) -> Result<Probe> {
    if bytes.is_empty() {
        return Err(ServeError::BadImage(
            "the upload is empty; send the photo's bytes as the request body".into(),
        ));
    }
    sliders_celeba::decode::probe(bytes, Path::new(UPLOAD), limits)
        .map_err(|e| to_bad_image(EditError::Decode(e)))
}

/// An upload framed for the models: the face at the models' side (the full-size photo already
/// dropped) and where it sits in the full-resolution photo (for the download's paste-back).
#[derive(Debug)]
pub struct Framed {
    /// The framed face (`photo.image` is empty).
    pub photo: Photo,
    /// Where the face sits in the photo decoded at full resolution.
    pub placement: Placement,
}

/// Decodes an upload within `limits` and frames its face for models of side `size` trained
/// with `framing`. With the face detector (`finder`), exactly as `sliders edit --crop auto`
/// ([`FaceFinder`]): a photo framed like aligned CelebA gets the papers' crop, any other has its
/// most probable face detected and aligned to the models' frame; a photo without a face is 422.
/// Without it (weights not installed): the CelebA crop for 178:218 photos, else the centred
/// square. The full-size photo is dropped once the face is resized to `size`.
pub fn photo(
    bytes: &[u8],
    size: u32,
    framing: Framing,
    limits: &DecodeLimits,
    finder: Option<&Mutex<FaceFinder>>,
) -> Result<Framed> {
    probe(bytes, limits)?;
    let name = Path::new(UPLOAD);
    let image =
        sliders_edit::photo::decode_bytes_with(bytes, name, limits).map_err(to_bad_image)?;
    let (w, h) = image.dimensions();
    let mut photo = match finder {
        // No face in a photo smaller than the models' input can fill it: refused before the
        // detector runs.
        Some(_) if w.min(h) < size => Err(EditError::TooSmall {
            path: name.to_path_buf(),
            width: w,
            height: h,
            size,
        }),
        Some(finder) => finder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .frame_at_most(name, image, size, framing, Crop::Auto, 1)
            .map(|mut faces| faces.swap_remove(0)),
        None => Photo::from_image(name, image, size, framing, Crop::Auto),
    }
    .map_err(to_bad_image)?;
    let placement = Placement::of(&photo, w, h);
    photo.image = image::RgbImage::new(0, 0);
    Ok(Framed { photo, placement })
}

fn to_bad_image(e: EditError) -> ServeError {
    match e {
        EditError::Decode(sliders_celeba::DecodeError::TooLarge { .. }) => {
            ServeError::ImageTooLarge(e.to_string())
        }
        EditError::Decode(_)
        | EditError::TooSmall { .. }
        | EditError::CropOutside { .. }
        | EditError::NoFace { .. } => ServeError::BadImage(e.to_string()),
        other => ServeError::Internal(other.to_string()),
    }
}

/// Encodes an RGB image as PNG bytes (from the image's own buffer, no copy of it).
pub fn png(image: &image::RgbImage) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| ServeError::Internal(format!("PNG encoding failed: {e}")))?;
    Ok(out)
}

/// The upload `bytes` (already accepted once) decoded again at full resolution with `edited`
/// (the models' `S`x`S` output) pasted back at `placement`, as PNG: the page's download.
pub fn pasted_png(
    bytes: &[u8],
    placement: &Placement,
    edited: &image::RgbImage,
    limits: &DecodeLimits,
) -> Result<Vec<u8>> {
    let image = sliders_edit::photo::decode_bytes_with(bytes, Path::new(UPLOAD), limits)
        .map_err(to_bad_image)?;
    let pasted = placement.paste(&image, edited);
    drop(image);
    png(&pasted)
}

/// Writes an upload into `dir` as `<session>.<ext>` through a temporary file and a rename (only
/// with `--save-uploads`). Returns the file written.
pub fn save(dir: &Path, session: &str, bytes: &[u8]) -> Result<PathBuf> {
    let io = |what: String| move |source| ServeError::Io { what, source };
    std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    let ext = match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => "png",
        _ => "jpg",
    };
    let path = dir.join(format!("{session}.{ext}"));
    sliders_fs::write_atomic(&path, bytes).map_err(io(format!("writing {}", path.display())))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(ct: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ct) = ct {
            h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        }
        h
    }

    #[test]
    fn only_jpeg_and_png_content_types_pass() {
        assert!(check_content_type(&headers(Some("image/png"))).is_ok());
        assert!(check_content_type(&headers(Some("IMAGE/JPEG; q=1"))).is_ok());
        for bad in [Some("text/plain"), Some("image/gif"), None] {
            let err = check_content_type(&headers(bad)).unwrap_err();
            assert!(matches!(err, ServeError::UnsupportedType { .. }), "{bad:?}");
            assert_eq!(err.status(), 415);
        }
    }

    #[test]
    fn undecodable_empty_and_tiny_uploads_are_bad_images() {
        for bytes in [
            &b""[..],
            b"not an image at all",
            b"\x89PNG\r\n\x1a\ntruncated",
        ] {
            let err = photo(bytes, 32, Framing::Fader, &DecodeLimits::default(), None).unwrap_err();
            assert!(matches!(err, ServeError::BadImage(_)), "{err}");
            assert_eq!(err.status(), 422);
        }
        let tiny = png(&image::RgbImage::new(8, 8)).unwrap();
        let err = photo(&tiny, 32, Framing::Fader, &DecodeLimits::default(), None).unwrap_err();
        assert!(err.to_string().contains("smaller than the model"), "{err}");
        let ok = png(&image::RgbImage::new(40, 40)).unwrap();
        assert_eq!(
            photo(&ok, 32, Framing::Fader, &DecodeLimits::default(), None)
                .unwrap()
                .photo
                .face
                .len(),
            3 * 32 * 32
        );
    }

    #[test]
    fn saved_uploads_are_written_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let bytes = png(&image::RgbImage::new(4, 4)).unwrap();
        let p = save(&tmp.path().join("up"), "abc", &bytes).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), bytes);
        assert!(p.ends_with("abc.png"));
        let names: Vec<_> = std::fs::read_dir(tmp.path().join("up")).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left");
    }
}
