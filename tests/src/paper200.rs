//! The bundled 200-digit set of the paper, read from the repository's `data/paper200`.

/// Pixels per image.
pub const D: usize = 784;
/// Classes.
pub const C: usize = 10;

/// Samples scaled to [−1, 1] (200×784, 20 per class in class order) and their ±1 one-hot
/// targets (200×10).
pub fn load() -> (Vec<f64>, Vec<f64>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/paper200/paper200-images-idx3-ubyte"
    );
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    assert_eq!(bytes.len(), 16 + 200 * D, "unexpected size of {path}");
    let x = bytes[16..]
        .iter()
        .map(|&b| b as f64 / 255.0 * 2.0 - 1.0)
        .collect();
    let classes: Vec<usize> = (0..200).map(|p| p / 20).collect();
    (x, crate::strategies::one_hot(&classes, C))
}

/// Rows `rows` of the set: their samples (len×784) and targets (len×10), in that order.
pub fn rows(rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let (x, y) = load();
    let xs = rows
        .iter()
        .flat_map(|&r| x[r * D..(r + 1) * D].to_vec())
        .collect();
    let ys = rows
        .iter()
        .flat_map(|&r| y[r * C..(r + 1) * C].to_vec())
        .collect();
    (xs, ys)
}
