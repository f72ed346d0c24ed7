//! The two digits of Fig 6: rows 21 (a 1) and 81 (a 4) of the bundled 200-digit set.
//!
//! The bytes are cut out of the bundled IDX files at compile time and live in flash. The
//! f32 pixels the trainer reads are also computed at compile time (x/255·2−1 in f64, then
//! rounded, exactly as the host's f32 runs do) and also live in flash: 6.3 KB of flash
//! instead of RAM is what keeps the whole run within 24 KiB of RAM.

/// Pixels per digit.
pub const PIXELS: usize = 784;
/// Row of A in the 200-digit set.
pub const ROW_A: usize = 21;
/// Row of B in the 200-digit set.
pub const ROW_B: usize = 81;

const IMAGES: &[u8] = include_bytes!("../../data/paper200/paper200-images-idx3-ubyte");
const LABELS: &[u8] = include_bytes!("../../data/paper200/paper200-labels-idx1-ubyte");
const IMAGE_HEADER: usize = 16;
const LABEL_HEADER: usize = 8;

// The IDX headers, checked at compile time: magic numbers, 200 images of 28×28.
const _: () = {
    assert!(IMAGES.len() == IMAGE_HEADER + 200 * PIXELS);
    assert!(IMAGES[2] == 0x08 && IMAGES[3] == 0x03);
    assert!(LABELS.len() == LABEL_HEADER + 200);
    assert!(LABELS[2] == 0x08 && LABELS[3] == 0x01);
    assert!(CLASS_A != CLASS_B && CLASS_A < 10 && CLASS_B < 10);
};

const fn row(i: usize) -> [u8; PIXELS] {
    let mut out = [0u8; PIXELS];
    let mut j = 0;
    while j < PIXELS {
        out[j] = IMAGES[IMAGE_HEADER + i * PIXELS + j];
        j += 1;
    }
    out
}

/// The pixel value of a byte, x/255·2−1, as the host computes it.
pub const fn pixel_f64(b: u8) -> f64 {
    b as f64 / 255.0 * 2.0 - 1.0
}

const fn to_f32(bytes: &[u8; PIXELS]) -> [f32; PIXELS] {
    let mut out = [0f32; PIXELS];
    let mut j = 0;
    while j < PIXELS {
        out[j] = pixel_f64(bytes[j]) as f32;
        j += 1;
    }
    out
}

const fn target(class: u8) -> [f32; 10] {
    let mut t = [-1f32; 10];
    t[class as usize] = 1.0;
    t
}

/// A's bytes.
pub static A_BYTES: [u8; PIXELS] = row(ROW_A);
/// B's bytes.
pub static B_BYTES: [u8; PIXELS] = row(ROW_B);
/// A's class.
pub const CLASS_A: u8 = LABELS[LABEL_HEADER + ROW_A];
/// B's class.
pub const CLASS_B: u8 = LABELS[LABEL_HEADER + ROW_B];
/// A and B as the trainer reads them (P×D).
pub static SAMPLES: [[f32; PIXELS]; 2] = [to_f32(&row(ROW_A)), to_f32(&row(ROW_B))];
/// Their ±1 one-hot targets (P×C).
pub static TARGETS: [[f32; 10]; 2] = [target(CLASS_A), target(CLASS_B)];

/// Sum of the bytes of a digit (logged, to identify the data on the device).
pub fn byte_sum(bytes: &[u8; PIXELS]) -> u32 {
    bytes.iter().map(|&b| b as u32).sum()
}
