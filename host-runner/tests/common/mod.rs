//! Helpers shared by the `ghn` command-line tests.
#![allow(dead_code)]

use ndarray::ArrayD;
use ndarray_npy::NpzReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `ghn` binary built for these tests.
pub fn ghn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ghn"))
}

/// Runs `ghn` with `args`, returning its output.
pub fn run(args: &[&str]) -> Output {
    ghn().args(args).output().expect("cannot start ghn")
}

/// Runs `ghn` and asserts success.
pub fn run_ok(args: &[&str]) -> Output {
    let out = run(args);
    assert!(
        out.status.success(),
        "ghn {args:?} failed ({:?}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The shared MNIST files (tests may read them; the program never needs them).
pub fn shared_mnist() -> PathBuf {
    let p = repo().join("../shared/data/mnist");
    assert!(
        p.join("train-images-idx3-ubyte.gz").is_file(),
        "{} must hold the MNIST .gz files for this test",
        p.display()
    );
    p
}

/// A Python 3 with NumPy; fails loudly (with the install command) when missing.
pub fn python() -> Command {
    let ok = Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "this test needs python3 with numpy: run `pip install numpy` (scripts/test.sh does)"
    );
    Command::new("python3")
}

/// Runs a Python command and asserts success.
pub fn python_ok(args: &[&str]) -> Output {
    let out = python().args(args).output().expect("cannot start python3");
    assert!(
        out.status.success(),
        "python3 {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The reference implementation script.
pub fn reference_py() -> String {
    repo()
        .join("tests/python/reference.py")
        .display()
        .to_string()
}

/// Reads a float array (f64 or f32) from an .npz.
pub fn read(path: &Path, key: &str) -> ArrayD<f64> {
    let mut z = NpzReader::new(
        std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap();
    match z.by_name::<ndarray::OwnedRepr<f64>, ndarray::IxDyn>(key) {
        Ok(a) => a,
        Err(_) => z
            .by_name::<ndarray::OwnedRepr<f32>, ndarray::IxDyn>(key)
            .unwrap_or_else(|e| panic!("{}: {key}: {e}", path.display()))
            .mapv(f64::from),
    }
}

/// Reads an int64 array from an .npz.
pub fn read_i64(path: &Path, key: &str) -> ArrayD<i64> {
    let mut z = NpzReader::new(std::fs::File::open(path).unwrap()).unwrap();
    z.by_name(key)
        .unwrap_or_else(|e| panic!("{}: {key}: {e}", path.display()))
}

/// Largest absolute difference between two arrays of the same shape.
pub fn max_diff(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape(), "shapes differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Text of stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The rows of a CSV file after its header, split on commas.
pub fn csv(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}
