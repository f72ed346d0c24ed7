//! Pictures: the memory grid in a symmetric blue–white–red map, like the paper's panels.

use anyhow::Result;

/// Matplotlib's `bwr` map on [−1, 1]: −1 blue, 0 white, +1 red (values outside clipped).
pub fn bwr(v: f64) -> [u8; 3] {
    let v = v.clamp(-1.0, 1.0);
    let f = |x: f64| (x * 255.0).round() as u8;
    if v < 0.0 {
        let w = 1.0 + v; // 0 at −1, 1 at 0
        [f(w), f(w), 255]
    } else {
        let w = 1.0 - v;
        [255, f(w), f(w)]
    }
}

/// Side of a square image of `d` pixels, or `None`.
pub fn square_side(d: usize) -> Option<usize> {
    let s = (d as f64).sqrt().round() as usize;
    (s * s == d).then_some(s)
}

/// Renders K memories of D pixels as a grid (square images when D is a square, otherwise
/// one row of D pixels each) and writes it as PNG atomically.
pub fn memories_png(path: &std::path::Path, m: &[f64], k: usize, d: usize) -> Result<()> {
    let (h, w) = match square_side(d) {
        Some(s) => (s, s),
        None => (1, d),
    };
    let cols = (k as f64).sqrt().ceil().max(1.0) as usize;
    let rows = k.div_ceil(cols);
    let scale = if h == 1 { 1 } else { 3 };
    let gap = 2;
    let (cw, ch) = (w * scale + gap, h * scale + gap);
    let (iw, ih) = (cols * cw + gap, rows * ch + gap);
    let mut img = vec![255u8; iw * ih * 3];
    for mu in 0..k {
        let (gr, gc) = (mu / cols, mu % cols);
        for y in 0..h * scale {
            for x in 0..w * scale {
                let v = m[mu * d + (y / scale) * w + x / scale];
                let px = gap + gc * cw + x;
                let py = gap + gr * ch + y;
                let o = (py * iw + px) * 3;
                img[o..o + 3].copy_from_slice(&bwr(v));
            }
        }
    }
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, iw as u32, ih as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header()?;
        wr.write_image_data(&img)?;
    }
    crate::npz::write_atomic(path, &bytes)
}
