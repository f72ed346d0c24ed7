//! Data: IDX files (raw or gzip, detected by content), the bundled 200-digit set, the
//! MNIST directory, class-balanced seeded sampling and `.npz` data for Python users.

use anyhow::{bail, Context, Result};
use rand::RngExt;
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Number of classes of MNIST.
pub const CLASSES: usize = 10;

/// The paper's fixed 200-digit set (20 per class, classes 0..9 in blocks), bundled.
pub const PAPER200_IMAGES: &[u8] = include_bytes!("../../data/paper200/paper200-images-idx3-ubyte");
/// Labels of the bundled set.
pub const PAPER200_LABELS: &[u8] = include_bytes!("../../data/paper200/paper200-labels-idx1-ubyte");
const PAPER200_IMAGES_SHA256: &str =
    "35724851217609826597876366fac7b3a3306b4002c213a21bac0c6c4f23b105";
const PAPER200_LABELS_SHA256: &str =
    "912927e7706f030db0806ed809fed61a2820a2e06a94494f65277eb793ed3264";

/// The four standard MNIST files and the SHA-256 of their uncompressed content.
pub const MNIST_FILES: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    (
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    (
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    (
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
];

/// A labelled data set: samples in [−1, 1] (N×D, row-major) and ±1 targets (N×C).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Samples, N×D.
    pub x: Vec<f64>,
    /// Targets, N×C, +1 at the class, −1 elsewhere (or as given by an .npz file).
    pub t: Vec<f64>,
    /// Class of each sample (argmax of its target).
    pub labels: Vec<u8>,
    /// Pixels per sample.
    pub d: usize,
    /// Number of classes.
    pub c: usize,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Builds a data set from u8 images (scaled x/255·2−1) and class labels.
    pub fn from_idx(images: &IdxImages, labels: &[u8]) -> Self {
        let x = images
            .pixels
            .iter()
            .map(|&b| b as f64 / 255.0 * 2.0 - 1.0)
            .collect();
        Dataset {
            x,
            t: one_hot(labels, CLASSES),
            labels: labels.to_vec(),
            d: images.rows * images.cols,
            c: CLASSES,
        }
    }

    /// The samples whose indices are given, in that order.
    pub fn select(&self, idx: &[usize]) -> Self {
        let (d, c) = (self.d, self.c);
        Dataset {
            x: idx
                .iter()
                .flat_map(|&i| self.x[i * d..(i + 1) * d].iter().copied())
                .collect(),
            t: idx
                .iter()
                .flat_map(|&i| self.t[i * c..(i + 1) * c].iter().copied())
                .collect(),
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            d,
            c,
        }
    }

    /// SHA-256 of the samples and targets as little-endian f64 (identifies the data of a run).
    pub fn sha256(&self) -> String {
        let mut h = Sha256::new();
        for v in self.x.iter().chain(&self.t) {
            h.update(v.to_le_bytes());
        }
        hex(&h.finalize())
    }
}

/// ±1 one-hot targets.
pub fn one_hot(labels: &[u8], c: usize) -> Vec<f64> {
    let mut t = vec![-1.0; labels.len() * c];
    for (i, &l) in labels.iter().enumerate() {
        t[i * c + l as usize] = 1.0;
    }
    t
}

/// RNG stream of the class-balanced sampler.
pub const STREAM_SAMPLE: u64 = 0;
/// RNG stream of the initialisation.
pub const STREAM_INIT: u64 = 1;
/// RNG stream of the noise of epoch e is `STREAM_NOISE + e`.
pub const STREAM_NOISE: u64 = 2;

/// The run's random generator for one purpose: ChaCha12 seeded from `seed`, on its own
/// stream, so every purpose (and every noisy epoch) draws independently of the others
/// and a resumed run needs no saved generator state.
pub fn seeded_rng(seed: u64, stream: u64) -> ChaCha12Rng {
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of bytes, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Images of an IDX3 file.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// Pixels, count×rows×cols.
    pub pixels: Vec<u8>,
}

/// Decompresses gzip content (detected by its magic bytes 1f 8b), or returns raw bytes.
pub fn maybe_gunzip(bytes: Vec<u8>, name: &str) -> Result<Vec<u8>> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .with_context(|| format!("{name}: corrupt or truncated gzip data"))?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

fn be_u32(b: &[u8], at: usize) -> usize {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// Parses IDX3 (u8 images) content; `name` is used in messages.
pub fn parse_idx_images(bytes: &[u8], name: &str) -> Result<IdxImages> {
    if bytes.len() < 16 {
        bail!(
            "{name}: too short for an IDX image file ({} bytes)",
            bytes.len()
        );
    }
    let magic = be_u32(bytes, 0);
    if magic != 0x0000_0803 {
        bail!("{name}: wrong magic number 0x{magic:08x} (an IDX image file has 0x00000803)");
    }
    let (count, rows, cols) = (be_u32(bytes, 4), be_u32(bytes, 8), be_u32(bytes, 12));
    if rows == 0 || cols == 0 {
        bail!("{name}: image size {rows}x{cols} is empty");
    }
    let expected = count
        .checked_mul(rows * cols)
        .and_then(|n| n.checked_add(16))
        .with_context(|| format!("{name}: header dimensions overflow"))?;
    if bytes.len() != expected {
        bail!(
            "{name}: header says {count} images of {rows}x{cols} ({expected} bytes) but the file has {} bytes (truncated or corrupt)",
            bytes.len()
        );
    }
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels: bytes[16..].to_vec(),
    })
}

/// Parses IDX1 (u8 labels) content, checking every label is a digit 0..9.
pub fn parse_idx_labels(bytes: &[u8], name: &str) -> Result<Vec<u8>> {
    if bytes.len() < 8 {
        bail!(
            "{name}: too short for an IDX label file ({} bytes)",
            bytes.len()
        );
    }
    let magic = be_u32(bytes, 0);
    if magic != 0x0000_0801 {
        bail!("{name}: wrong magic number 0x{magic:08x} (an IDX label file has 0x00000801)");
    }
    let count = be_u32(bytes, 4);
    if bytes.len() != 8 + count {
        bail!(
            "{name}: header says {count} labels but the file has {} (truncated or corrupt)",
            bytes.len() - 8
        );
    }
    let labels = bytes[8..].to_vec();
    if let Some((i, &l)) = labels
        .iter()
        .enumerate()
        .find(|(_, &l)| l as usize >= CLASSES)
    {
        bail!("{name}: label {l} at index {i} is not a digit 0..9");
    }
    Ok(labels)
}

/// Reads an image file and a label file (raw or gzip) into a data set.
pub fn read_idx_pair(images: &Path, labels: &Path) -> Result<Dataset> {
    let img_name = images.display().to_string();
    let lbl_name = labels.display().to_string();
    let img = std::fs::read(images).with_context(|| format!("{img_name}: cannot read"))?;
    let img = parse_idx_images(&maybe_gunzip(img, &img_name)?, &img_name)?;
    let lbl = std::fs::read(labels).with_context(|| format!("{lbl_name}: cannot read"))?;
    let lbl = parse_idx_labels(&maybe_gunzip(lbl, &lbl_name)?, &lbl_name)?;
    if img.count != lbl.len() {
        bail!(
            "{img_name} has {} images but {lbl_name} has {} labels",
            img.count,
            lbl.len()
        );
    }
    Ok(Dataset::from_idx(&img, &lbl))
}

/// The bundled 200-digit set, verified against its SHA-256.
pub fn paper200() -> Result<Dataset> {
    for (bytes, want, name) in [
        (
            PAPER200_IMAGES,
            PAPER200_IMAGES_SHA256,
            "bundled paper200 images",
        ),
        (
            PAPER200_LABELS,
            PAPER200_LABELS_SHA256,
            "bundled paper200 labels",
        ),
    ] {
        let got = sha256_hex(bytes);
        if got != want {
            bail!("{name}: SHA-256 {got} does not match {want}");
        }
    }
    let img = parse_idx_images(PAPER200_IMAGES, "bundled paper200 images")?;
    let lbl = parse_idx_labels(PAPER200_LABELS, "bundled paper200 labels")?;
    Ok(Dataset::from_idx(&img, &lbl))
}

/// Where MNIST is read from: `--data-dir`, else `GHN_DATA_DIR`, else the platform's user
/// data directory (`~/.local/share/ghn/mnist` on Linux).
pub fn mnist_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("GHN_DATA_DIR") {
        return Ok(PathBuf::from(p));
    }
    dirs::data_dir()
        .map(|d| d.join("ghn").join("mnist"))
        .context("no --data-dir, no GHN_DATA_DIR and no user data directory on this platform")
}

/// Path of one standard MNIST file in `dir`, raw or with `.gz`.
pub fn mnist_file(dir: &Path, name: &str) -> Result<PathBuf> {
    for cand in [dir.join(name), dir.join(format!("{name}.gz"))] {
        if cand.is_file() {
            return Ok(cand);
        }
    }
    bail!(
        "{}: MNIST file {name} (or {name}.gz) not found; run `ghn data fetch` (or `ghn data fetch --from DIR`) first",
        dir.display()
    )
}

/// The MNIST training (`test = false`) or test set from `dir`.
pub fn mnist(dir: &Path, test: bool) -> Result<Dataset> {
    let (i, l) = if test {
        ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    } else {
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    };
    read_idx_pair(&mnist_file(dir, i)?, &mnist_file(dir, l)?)
}

/// Class-balanced seeded sample: for each digit in `digits` (in that order), `per_class`
/// distinct samples of that class drawn uniformly without replacement, class blocks
/// concatenated, no shuffling (the reference's layout; it draws *with* replacement, which
/// can repeat a digit — we do not, so the sample matrix keeps full rank).
pub fn sample_balanced(
    data: &Dataset,
    digits: &[u8],
    per_class: usize,
    seed: u64,
) -> Result<Dataset> {
    let mut rng = seeded_rng(seed, STREAM_SAMPLE);
    let mut idx = Vec::with_capacity(digits.len() * per_class);
    for &d in digits {
        let mut of_class: Vec<usize> = (0..data.len()).filter(|&i| data.labels[i] == d).collect();
        if of_class.len() < per_class {
            bail!(
                "--per-class {per_class}: digit {d} has only {} samples in the data",
                of_class.len()
            );
        }
        // Partial Fisher–Yates: the first `per_class` entries become the sample.
        for i in 0..per_class {
            let j = rng.random_range(i..of_class.len());
            of_class.swap(i, j);
        }
        idx.extend_from_slice(&of_class[..per_class]);
    }
    Ok(data.select(&idx))
}

/// The samples of the given digits, in data order.
pub fn filter_digits(data: &Dataset, digits: &[u8]) -> Dataset {
    let idx: Vec<usize> = (0..data.len())
        .filter(|&i| digits.contains(&data.labels[i]))
        .collect();
    data.select(&idx)
}

/// Parses a digit list like `1,4,7`.
pub fn parse_digits(s: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        let d: u8 = part
            .parse()
            .ok()
            .filter(|d| (*d as usize) < CLASSES)
            .with_context(|| format!("--digits: `{part}` is not a digit 0..9"))?;
        if out.contains(&d) {
            bail!("--digits: digit {d} is listed twice");
        }
        out.push(d);
    }
    Ok(out)
}

/// Reads explicit data from an `.npz` file: `X` (N×D, values in [−1, 1]) and `T` (N×C,
/// ±1 targets).
pub fn read_npz_data(path: &Path) -> Result<Dataset> {
    let name = path.display().to_string();
    let mut npz = crate::npz::open(path)?;
    let x = crate::npz::read_f64_2d(&mut npz, "X", &name)?;
    let t = crate::npz::read_f64_2d(&mut npz, "T", &name)?;
    let (n, d) = x.dim();
    let (nt, c) = t.dim();
    if n == 0 || d == 0 {
        bail!("{name}: X is empty ({n}x{d})");
    }
    if nt != n {
        bail!("{name}: X has {n} rows but T has {nt}");
    }
    if c == 0 {
        bail!("{name}: T has no columns");
    }
    if let Some(v) = x.iter().find(|v| !(-1.0..=1.0).contains(*v)) {
        bail!("{name}: X has a value {v} outside [-1, 1]");
    }
    if let Some(v) = t.iter().find(|v| **v != 1.0 && **v != -1.0) {
        bail!("{name}: T has a value {v}; targets must be +1 or -1");
    }
    let labels = t
        .rows()
        .into_iter()
        .map(|r| ghn_core::predict(r.as_slice().unwrap_or(&r.to_vec())) as u8)
        .collect();
    Ok(Dataset {
        x: x.iter().copied().collect(),
        t: t.iter().copied().collect(),
        labels,
        d,
        c,
    })
}
