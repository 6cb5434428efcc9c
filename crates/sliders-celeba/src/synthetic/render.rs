//! Rendering of a synthetic face into RGB pixels, and the pixel region each attribute lives in
//! (for counterfactual checks and "outside-the-region" metrics). No paper section: test data.
//!
//! Every drawing step whose parameters depend on an attribute stays inside that attribute's
//! [`region`], so a counterfactual pair differs only inside it (tested).

use super::canvas::{Canvas, Pose, Shape, curve};
use super::face::{FaceParams, SynthAttr};

/// Face-unit frame: the aligned CelebA image is 178 x 218.
const FRAME_W: f32 = 178.0;

/// Landmarks of a face, in face units (before the pose).
#[derive(Debug, Clone, Copy)]
struct Geo {
    cx: f32,
    cy: f32,
    rx: f32,
    ry: f32,
    eye_y: f32,
    eye_sep: f32,
    nose_y: f32,
    mouth_y: f32,
}

fn geo(p: &FaceParams) -> Geo {
    let (cx, cy) = (89.0, 118.0);
    Geo {
        cx,
        cy,
        rx: p.identity.face_rx,
        ry: p.identity.face_ry,
        eye_y: cy - 8.0,
        eye_sep: p.identity.eye_sep,
        nose_y: cy + 10.0,
        mouth_y: cy + 21.0,
    }
}

fn pose(p: &FaceParams, g: &Geo, width: usize) -> Pose {
    Pose {
        pivot: [g.cx, g.cy],
        shift: p.shift,
        roll: p.roll,
        scale: p.scale,
        px_per_unit: width as f32 / FRAME_W,
    }
}

fn mul(c: [f32; 3], m: f32) -> [f32; 3] {
    [c[0] * m, c[1] * m, c[2] * m]
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Band between `top(x)` and `bot(x)` for `|x - cx| < w` (approximate SDF).
fn band<'a>(
    cx: f32,
    w: f32,
    y0: f32,
    y1: f32,
    top: impl Fn(f32) -> f32 + Send + Sync + 'a,
    bot: impl Fn(f32) -> f32 + Send + Sync + 'a,
) -> Shape<'a> {
    Shape::custom([cx - w, y0, cx + w, y1], move |x, y| {
        (top(x) - y).max(y - bot(x)).max((x - cx).abs() - w)
    })
}

fn face_shape(p: &FaceParams, g: &Geo) -> Shape<'static> {
    Shape::ellipse(g.cx, g.cy - 2.0, g.rx, g.ry * 0.96).union(Shape::ellipse(
        g.cx,
        g.cy + g.ry * 0.38,
        g.rx * p.identity.chin,
        g.ry * 0.62,
    ))
}

fn hair_color(p: &FaceParams) -> [f32; 3] {
    if p.young {
        p.identity.hair
    } else {
        mix(p.identity.hair, [0.78, 0.78, 0.77], 0.75)
    }
}

// Hair geometry (shared by drawing and regions).
fn back_hair(p: &FaceParams, g: &Geo) -> Shape<'static> {
    let v = p.identity.hair_volume;
    Shape::ellipse(g.cx, g.cy + 0.12 * g.ry, g.rx + 13.0 + 5.0 * v, g.ry * 1.28)
}
fn cap_ellipse(p: &FaceParams, g: &Geo, male: bool) -> Shape<'static> {
    let v = p.identity.hair_volume;
    if male {
        Shape::ellipse(g.cx, g.cy - 0.2 * g.ry, g.rx + 3.0 + 3.0 * v, g.ry * 0.9)
    } else {
        Shape::ellipse(g.cx, g.cy - 0.2 * g.ry, g.rx + 7.0 + 5.0 * v, g.ry * 0.98)
    }
}
fn hair_cap(p: &FaceParams, g: &Geo, male: bool) -> Shape<'static> {
    let (cx, cy, rx, ry) = (g.cx, g.cy, g.rx, g.ry);
    let top = if male { cy - 0.75 * ry } else { cy - 0.66 * ry };
    let drop = if male { 36.0 } else { 48.0 };
    let hairline = move |x: f32| top + drop * ((x - cx) / rx).powi(4);
    cap_ellipse(p, g, male).intersect(Shape::custom([0.0, 0.0, FRAME_W, 218.0], move |x, y| {
        (y - hairline(x)) * 0.7
    }))
}
fn side_locks(p: &FaceParams, g: &Geo) -> Shape<'static> {
    let v = p.identity.hair_volume;
    let (w, h) = (7.0 + 3.0 * v, 0.72 * g.ry);
    Shape::ellipse(g.cx - g.rx - 1.0, g.cy - 0.05 * g.ry, w, h).union(Shape::ellipse(
        g.cx + g.rx + 1.0,
        g.cy - 0.05 * g.ry,
        w,
        h,
    ))
}
/// Soft edge of the stubble, face units.
const STUBBLE_SOFT: f32 = 7.0;
/// Stubble: the lower face, with a hard edge on the face outline (its SDF is scaled up so it
/// stays sharp under the soft fill) and a soft edge towards the cheeks.
fn stubble(p: &FaceParams, g: &Geo) -> Shape<'static> {
    let face = face_shape(p, g);
    let beard = Shape::ellipse(g.cx, g.cy + 0.66 * g.ry, g.rx * 0.92, g.ry * 0.5);
    let (f, b) = (face.sdf, beard.sdf);
    Shape::custom(beard.bbox, move |x, y| {
        (f(x, y) * STUBBLE_SOFT).max(b(x, y))
    })
}
fn brow_box(g: &Geo, sgn: f32) -> Shape<'static> {
    let ex = g.cx + sgn * g.eye_sep;
    Shape::rect(ex - 12.0, g.eye_y - 17.0, ex + 12.0, g.eye_y - 4.0)
}
fn mouth_box(p: &FaceParams, g: &Geo) -> Shape<'static> {
    let w = p.identity.mouth_w * (1.0 + SMILE_WIDEN) + 7.0;
    Shape::rect(
        g.cx - w,
        g.mouth_y - SMILE_LIFT - 8.0,
        g.cx + w,
        g.mouth_y + GRIN_TEETH + OPEN_GAP + 9.0,
    )
}
/// The cheeks a smile raises and flushes (the rest of the Smiling region).
fn cheek(g: &Geo, sgn: f32) -> Shape<'static> {
    Shape::ellipse(g.cx + sgn * (g.eye_sep + 3.0), g.eye_y + 19.0, 10.0, 7.0)
}
fn smile_box(p: &FaceParams, g: &Geo) -> Shape<'static> {
    mouth_box(p, g)
        .union(cheek(g, -1.0).grow(1.0))
        .union(cheek(g, 1.0).grow(1.0))
}
fn glasses_box(g: &Geo) -> Shape<'static> {
    Shape::rect(
        g.cx - g.rx - 4.0,
        g.eye_y - 13.0,
        g.cx + g.rx + 4.0,
        g.eye_y + 13.0,
    )
}
fn age_marks_box(p: &FaceParams, g: &Geo) -> Shape<'static> {
    let _ = p;
    let forehead = Shape::rect(g.cx - 20.0, g.eye_y - 31.0, g.cx + 20.0, g.eye_y - 13.0);
    let mut s = forehead;
    for sgn in [-1.0f32, 1.0] {
        let ex = g.cx + sgn * g.eye_sep;
        // eye bags and crow's feet
        s = s.union(Shape::rect(
            ex - 7.0,
            g.eye_y + 3.0,
            ex + 7.0,
            g.eye_y + 10.0,
        ));
        let ox = ex + sgn * 9.5;
        s = s.union(Shape::rect(
            ox.min(ox + sgn * 7.0),
            g.eye_y - 5.0,
            ox.max(ox + sgn * 7.0),
            g.eye_y + 5.0,
        ));
    }
    s.union(Shape::rect(
        g.cx - p.identity.mouth_w - 7.0,
        g.nose_y - 3.0,
        g.cx + p.identity.mouth_w + 7.0,
        g.mouth_y + 5.0,
    ))
}

/// The region (face units) an attribute's drawing lives in.
pub fn region(p: &FaceParams, a: SynthAttr) -> Shape<'static> {
    let g = geo(p);
    let hair = || {
        back_hair(p, &g)
            .union(cap_ellipse(p, &g, false))
            .union(side_locks(p, &g))
            .union(stubble(p, &g).grow(STUBBLE_SOFT))
            .union(brow_box(&g, -1.0))
            .union(brow_box(&g, 1.0))
    };
    match a {
        SynthAttr::Male => hair(),
        SynthAttr::Young => hair().union(age_marks_box(p, &g)),
        SynthAttr::Smiling => smile_box(p, &g),
        SynthAttr::MouthOpen => mouth_box(p, &g),
        SynthAttr::Eyeglasses => glasses_box(&g),
    }
}

/// Pixel mask (`width*height`, row-major; `true` inside) of the region attribute `a` lives in,
/// for an image rendered at `width` x `height`. Pixels outside it are identical between a face
/// and its counterfactual for `a`.
pub fn region_mask(p: &FaceParams, a: SynthAttr, width: u32, height: u32) -> Vec<bool> {
    let (w, h) = (width as usize, height as usize);
    let g = geo(p);
    let canvas = Canvas::new(w, h);
    let mut out = vec![false; w * h];
    canvas.mask(&pose(p, &g, w), &region(p, a), 1.5, &mut out);
    out
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Renders a face at `width` x `height` (CelebA aspect 178:218 expected) as RGB8, row-major HWC.
pub fn render(p: &FaceParams, width: u32, height: u32) -> image::RgbImage {
    let (w, h) = (width as usize, height as usize);
    let g = geo(p);
    let ps = pose(p, &g, w);
    let mut cv = Canvas::new(w, h);
    draw_background(&mut cv, p, w, h);
    let hair = hair_color(p);
    draw_body(&mut cv, &ps, p, &g, hair);
    // Age marks (Young = false): forehead lines, eye bags, crow's feet, nasolabial folds.
    if !p.young {
        draw_age_marks(&mut cv, &ps, p, &g);
    }
    // Stubble (Male).
    if p.male {
        let c = mix(mul(hair, 0.7), [0.2, 0.19, 0.2], 0.4);
        cv.fill_soft(
            &ps,
            &stubble(p, &g),
            c,
            0.6 * p.identity.beard,
            STUBBLE_SOFT,
        );
    }
    draw_eyes(&mut cv, &ps, p, &g);
    draw_eyebrows(&mut cv, &ps, p, &g, hair);
    draw_nose(&mut cv, &ps, &g, p.identity.skin);
    draw_mouth(&mut cv, &ps, p, &g);
    // Hair on top (and side locks when female).
    cv.fill(&ps, &hair_cap(p, &g, p.male), hair, 1.0, None);
    if !p.male {
        let locks = side_locks(p, &g);
        cv.fill(&ps, &locks, mul(hair, 0.95), 1.0, None);
    }
    if p.glasses {
        draw_glasses(&mut cv, &ps, p, &g);
    }
    light_and_noise(&cv, p, width, height)
}

/// Background: a vertical gradient between the two background colours.
fn draw_background(cv: &mut Canvas, p: &FaceParams, w: usize, h: usize) {
    for y in 0..h {
        let t = y as f32 / h.max(1) as f32;
        let c = mix(p.background[0], p.background[1], t);
        for x in 0..w {
            cv.px[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&c);
        }
    }
}

/// Shoulders and clothes, long hair behind the head (female), neck, ears and the shaded face.
fn draw_body(cv: &mut Canvas, ps: &Pose, p: &FaceParams, g: &Geo, hair: [f32; 3]) {
    let skin = p.identity.skin;
    let (cx, cy, rx, ry) = (g.cx, g.cy, g.rx, g.ry);
    // Shoulders and clothes.
    cv.fill(
        ps,
        &Shape::ellipse(cx, cy + ry + 62.0, 82.0, 48.0),
        p.clothes,
        1.0,
        None,
    );
    // Long hair behind the head (female).
    if !p.male {
        cv.fill(ps, &back_hair(p, g), mul(hair, 0.85), 1.0, None);
    }
    // Neck.
    cv.fill(
        ps,
        &Shape::ellipse(cx, cy + ry + 6.0, rx * 0.45, 24.0),
        mul(skin, 0.82),
        1.0,
        None,
    );
    // Ears.
    for sgn in [-1.0f32, 1.0] {
        cv.fill(
            ps,
            &Shape::ellipse(cx + sgn * (rx - 1.0), g.eye_y + 7.0, 5.5, 10.0),
            mul(skin, 0.9),
            1.0,
            None,
        );
    }
    // Face with soft shading towards the edge.
    let shade = move |x: f32, y: f32| {
        let r = ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2);
        1.0 - 0.16 * r.min(1.3)
    };
    cv.fill(ps, &face_shape(p, g), skin, 1.0, Some(&shade));
}

/// Age marks: forehead lines, then per side eye bags, crow's feet and a nasolabial fold.
fn draw_age_marks(cv: &mut Canvas, ps: &Pose, p: &FaceParams, g: &Geo) {
    let id = &p.identity;
    let cx = g.cx;
    let line = mul(id.skin, 0.68);
    for k in 0..3 {
        let yk = g.eye_y - 17.0 - 5.0 * k as f32;
        let pts = curve(cx - 16.0, cx + 16.0, 12, |x| {
            yk - 1.5 * (1.0 - ((x - cx) / 16.0).powi(2))
        });
        cv.fill(ps, &Shape::stroke(pts, 0.65), line, 0.8, None);
    }
    for sgn in [-1.0f32, 1.0] {
        let ex = cx + sgn * g.eye_sep;
        let pts = curve(ex - 5.0, ex + 5.0, 8, |x| {
            g.eye_y + id.eye_ry + 2.8 + 1.2 * (1.0 - ((x - ex) / 5.0).powi(2))
        });
        cv.fill(ps, &Shape::stroke(pts, 0.6), line, 0.75, None);
        let ox = ex + sgn * 9.5;
        for dy in [-2.5f32, 0.5, 3.0] {
            let pts = vec![[ox, g.eye_y + dy * 0.3], [ox + sgn * 5.0, g.eye_y + dy]];
            cv.fill(ps, &Shape::stroke(pts, 0.5), line, 0.75, None);
        }
        let (ax, ay) = (cx + sgn * 9.0, g.nose_y - 1.0);
        let (bx, by) = (cx + sgn * (id.mouth_w + 3.0), g.mouth_y + 3.0);
        let pts: Vec<[f32; 2]> = (0..=10)
            .map(|i| {
                let t = i as f32 / 10.0;
                [
                    ax + (bx - ax) * t + sgn * 2.5 * (std::f32::consts::PI * t).sin(),
                    ay + (by - ay) * t,
                ]
            })
            .collect();
        cv.fill(ps, &Shape::stroke(pts, 0.7), line, 0.75, None);
    }
}

/// Eyes: sclera, iris, pupil and the upper lid line, per side.
fn draw_eyes(cv: &mut Canvas, ps: &Pose, p: &FaceParams, g: &Geo) {
    let id = &p.identity;
    for sgn in [-1.0f32, 1.0] {
        let ex = g.cx + sgn * g.eye_sep;
        let sclera = || Shape::ellipse(ex, g.eye_y, 7.5, id.eye_ry);
        cv.fill(ps, &sclera(), [0.93, 0.92, 0.9], 1.0, None);
        cv.fill(
            ps,
            &Shape::ellipse(ex, g.eye_y, 3.4, 3.4).intersect(sclera()),
            id.iris,
            1.0,
            None,
        );
        cv.fill(
            ps,
            &Shape::ellipse(ex, g.eye_y, 1.6, 1.6).intersect(sclera()),
            [0.05, 0.04, 0.04],
            1.0,
            None,
        );
        let lid = curve(ex - 7.8, ex + 7.8, 12, |x| {
            g.eye_y - id.eye_ry * (1.0 - ((x - ex) / 7.8).powi(2)).max(0.0).sqrt()
        });
        cv.fill(ps, &Shape::stroke(lid, 0.8), [0.15, 0.1, 0.1], 1.0, None);
    }
}

/// Eyebrows (thicker and straighter when male; grey when old).
fn draw_eyebrows(cv: &mut Canvas, ps: &Pose, p: &FaceParams, g: &Geo, hair: [f32; 3]) {
    for sgn in [-1.0f32, 1.0] {
        let ex = g.cx + sgn * g.eye_sep;
        let (base, arch, hw) = if p.male {
            (8.5, 1.5, 1.9)
        } else {
            (10.0, 3.0, 1.1)
        };
        let pts = curve(ex - 9.0, ex + 9.0, 10, |x| {
            let t = (x - ex) / 9.0;
            g.eye_y - base - arch * (1.0 - t * t) + 0.8 * t * sgn
        });
        cv.fill(ps, &Shape::stroke(pts, hw), mul(hair, 0.8), 1.0, None);
    }
}

/// Nose: a highlight, the bridge line and the two nostrils.
fn draw_nose(cv: &mut Canvas, ps: &Pose, g: &Geo, skin: [f32; 3]) {
    let cx = g.cx;
    cv.fill(
        ps,
        &Shape::ellipse(cx, g.nose_y - 1.5, 5.0, 3.2),
        mul(skin, 1.06),
        0.4,
        None,
    );
    cv.fill(
        ps,
        &Shape::stroke(
            vec![[cx + 3.5, g.eye_y + 5.0], [cx + 5.5, g.nose_y - 3.0]],
            1.0,
        ),
        mul(skin, 0.8),
        0.5,
        None,
    );
    for sgn in [-1.0f32, 1.0] {
        cv.fill(
            ps,
            &Shape::ellipse(cx + sgn * 3.8, g.nose_y, 2.0, 1.2),
            mul(skin, 0.45),
            0.9,
            None,
        );
    }
}

/// Lighting and sensor noise (identical for counterfactual pairs), quantized to RGB8.
fn light_and_noise(cv: &Canvas, p: &FaceParams, width: u32, height: u32) -> image::RgbImage {
    let (w, h) = (width as usize, height as usize);
    let (s, c) = p.light_dir.sin_cos();
    let mut out = image::RgbImage::new(width, height);
    for y in 0..h {
        for x in 0..w {
            let nx = x as f32 / w as f32 - 0.5;
            let ny = y as f32 / h as f32 - 0.5;
            let m = 1.0 + p.light * (nx * c + ny * s);
            let i = y * w + x;
            let r = splitmix(p.noise_seed ^ (i as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
            let mut px = [0u8; 3];
            for (k, v) in px.iter_mut().enumerate() {
                let u1 = ((r >> (k * 20)) & 0xFFFFF) as f32 / 1_048_576.0;
                let u2 = ((r >> (k * 20 + 10)) & 0x3FF) as f32 / 1024.0;
                let n = (u1 + u2 - 1.0) * 1.7 * p.noise;
                *v = ((cv.px[i * 3 + k] * m + n).clamp(0.0, 1.0) * 255.0).round() as u8;
            }
            out.put_pixel(x as u32, y as u32, image::Rgb(px));
        }
    }
    out
}

/// How much wider a full smile makes the mouth (fraction of its half width).
const SMILE_WIDEN: f32 = 0.3;
/// How far a full smile lifts the corners of the mouth (face units).
const SMILE_LIFT: f32 = 14.0;
/// Height of the teeth a full smile shows (a grin, even with the mouth closed).
const GRIN_TEETH: f32 = 9.0;
/// Height of the dark gap of a fully open mouth.
const OPEN_GAP: f32 = 27.0;

/// The mouth: a smile widens it, lifts its corners into a crescent that shows the upper teeth,
/// deepens the creases and flushes the cheeks; an open mouth drops the lower lip below a dark
/// interior. Both are drawn large and in strong contrast, so at 32 px they change about as many
/// pixels as glasses do (issue #19; tested in `tests/synthetic.rs`).
fn draw_mouth(cv: &mut Canvas, ps: &Pose, p: &FaceParams, g: &Geo) {
    let skin = p.identity.skin;
    let (cx, my) = (g.cx, g.mouth_y);
    let s = p.smile.clamp(0.0, 1.0);
    let o = p.mouth_open.clamp(0.0, 1.0);
    for sgn in [-1.0f32, 1.0] {
        let blush = mix(skin, [0.93, 0.42, 0.45], 0.55);
        cv.fill(ps, &cheek(g, sgn), blush, 0.85 * s, None);
    }
    let w = p.identity.mouth_w * (1.0 + SMILE_WIDEN * s);
    let corner = SMILE_LIFT * s - 2.0 * (1.0 - s);
    let t = move |x: f32| ((x - cx) / w).clamp(-1.0, 1.0);
    let arc = move |x: f32| (1.0 - t(x).powi(2)).max(0.0);
    let yu = move |x: f32| my - corner * t(x).powi(2);
    let teeth_h = move |x: f32| (GRIN_TEETH * s + 2.5 * o) * arc(x);
    let gap = move |x: f32| o * OPEN_GAP * arc(x).powf(0.8);
    let yl = move |x: f32| yu(x) + teeth_h(x) + gap(x);
    let lip = mix(skin, [0.6, 0.12, 0.17], 0.6);
    let (y0, y1) = (my - SMILE_LIFT - 8.0, my + GRIN_TEETH + OPEN_GAP + 9.0);
    let upper = band(
        cx,
        w,
        y0,
        y1,
        move |x| yu(x) - 3.5 * arc(x).sqrt() - 0.6,
        yu,
    );
    cv.fill(ps, &upper, lip, 1.0, None);
    let lower = band(cx, w, y0, y1, yl, move |x| {
        yl(x) + 4.5 * arc(x).sqrt() + 0.6
    });
    cv.fill(ps, &lower, lip, 1.0, None);
    if s + o > 0.02 {
        let interior = || band(cx, w, y0, y1, yu, yl);
        cv.fill(ps, &interior(), [0.16, 0.03, 0.05], 1.0, None);
        let teeth = band(cx, w * 0.92, y0, y1, yu, move |x| yu(x) + teeth_h(x));
        cv.fill(
            ps,
            &teeth.intersect(interior()),
            [0.97, 0.96, 0.92],
            1.0,
            None,
        );
    }
    let line = curve(cx - w, cx + w, 16, yu);
    cv.fill(ps, &Shape::stroke(line, 0.9), [0.3, 0.08, 0.1], 1.0, None);
    // Smile creases beside the corners.
    let a = ((s - 0.3) / 0.7).clamp(0.0, 1.0) * 0.9;
    for sgn in [-1.0f32, 1.0] {
        let (kx, ky) = (cx + sgn * (w + 3.0), yu(cx + sgn * w));
        let pts: Vec<[f32; 2]> = (0..=8)
            .map(|i| {
                let u = i as f32 / 8.0 * 2.0 - 1.0;
                [kx + sgn * 2.0 * (1.0 - u * u), ky + 5.0 * u - 0.5]
            })
            .collect();
        cv.fill(ps, &Shape::stroke(pts, 1.1), mul(skin, 0.55), a, None);
    }
}

fn draw_glasses(cv: &mut Canvas, ps: &Pose, p: &FaceParams, g: &Geo) {
    let frame = [0.07, 0.07, 0.08];
    let d = p.lens_darkness.clamp(0.0, 1.0);
    for sgn in [-1.0f32, 1.0] {
        let ex = g.cx + sgn * g.eye_sep;
        let ly = g.eye_y + 1.0;
        cv.fill(
            ps,
            &Shape::ellipse(ex, ly, 12.0, 9.5),
            [0.04, 0.04, 0.07],
            0.1 + 0.85 * d,
            None,
        );
        let glint = curve(ex - 8.0, ex - 3.0, 6, |x| {
            ly - 5.5 + 0.25 * (x - ex + 5.5).powi(2)
        });
        cv.fill(
            ps,
            &Shape::stroke(glint, 0.7),
            [1.0, 1.0, 1.0],
            0.35 * d,
            None,
        );
        cv.fill(ps, &Shape::ring(ex, ly, 12.0, 9.5, 1.0), frame, 1.0, None);
        let temple = vec![
            [ex + sgn * 12.0, ly - 2.0],
            [g.cx + sgn * (g.rx + 1.0), ly - 3.0],
        ];
        cv.fill(ps, &Shape::stroke(temple, 0.9), frame, 1.0, None);
    }
    let inner = g.eye_sep - 12.0;
    let bridge = curve(g.cx - inner, g.cx + inner, 6, |x| {
        g.eye_y - 1.0 - 1.5 * (1.0 - ((x - g.cx) / inner.max(0.5)).powi(2))
    });
    cv.fill(ps, &Shape::stroke(bridge, 1.0), frame, 1.0, None);
}
