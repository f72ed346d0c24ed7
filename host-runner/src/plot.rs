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
    let shape = match square_side(d) {
        Some(s) => (s, s),
        None => (1, d),
    };
    let cols = (k as f64).sqrt().ceil().max(1.0) as usize;
    let scale = if shape.0 == 1 { 1 } else { 3 };
    let images: Vec<Option<&[f64]>> = m.chunks(d).take(k).map(Some).collect();
    grid_png(path, &images, shape, cols, scale, 2)
}

/// Writes images of `shape` (height, width) pixels in the blue–white–red map as one PNG,
/// `cols` per row, each pixel drawn `scale`×`scale`, `gap` white pixels between them; a
/// `None` leaves its slot blank.
pub fn grid_png(
    path: &std::path::Path,
    images: &[Option<&[f64]>],
    (h, w): (usize, usize),
    cols: usize,
    scale: usize,
    gap: usize,
) -> Result<()> {
    let cols = cols.max(1);
    let rows = images.len().div_ceil(cols).max(1);
    let (cw, ch) = (w * scale + gap, h * scale + gap);
    let (iw, ih) = (cols * cw + gap, rows * ch + gap);
    let mut img = vec![255u8; iw * ih * 3];
    for (i, im) in images.iter().enumerate() {
        let Some(im) = im else { continue };
        let (gr, gc) = (i / cols, i % cols);
        for y in 0..h * scale {
            for x in 0..w * scale {
                let v = im[(y / scale) * w + x / scale];
                let o = ((gap + gr * ch + y) * iw + gap + gc * cw + x) * 3;
                img[o..o + 3].copy_from_slice(&bwr(v));
            }
        }
    }
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, iw as u32, ih as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header()?.write_image_data(&img)?;
    }
    crate::npz::write_atomic(path, &bytes)
}
