//! Bad input: every case gives a one-line error naming the file or flag and the problem,
//! exit code 2, and nothing written to `--out`.

mod common;
use common::*;
use ndarray::{Array1, Array2};
use ndarray_npy::NpzWriter;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Runs `ghn train` with `args` plus a fresh `--out`, expects failure with `needles` in
/// the message, and checks `--out` was not created.
fn fails(args: &[&str], needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut all: Vec<&str> = vec!["train", "--quiet"];
    all.extend_from_slice(args);
    let o = out.display().to_string();
    all.extend_from_slice(&["--out", &o]);
    let res = run(&all);
    let err = stderr(&res);
    assert_eq!(
        res.status.code(),
        Some(2),
        "{args:?}: expected exit 2, got {:?}; stderr: {err}",
        res.status
    );
    for n in needles {
        assert!(err.contains(n), "{args:?}: message lacks `{n}`:\n{err}");
    }
    if !err.starts_with("error: ") {
        // Our own errors (clap's usage errors have their own multi-line format).
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: not a one-line error:\n{err}"
        );
        assert!(err.starts_with("ghn: error: "), "{err}");
    }
    assert!(!out.exists(), "{args:?}: --out was created");
}

fn idx_images(count: u32, rows: u32, cols: u32, pixels: usize) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3];
    for v in [count, rows, cols] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend(std::iter::repeat_n(128u8, pixels));
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 1];
    b.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    b.extend_from_slice(labels);
    b
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A data directory with the given training image and label file contents.
fn data_dir(images: &[u8], labels: &[u8], gz: bool) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let (i, l) = if gz {
        ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
    } else {
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    };
    std::fs::write(dir.path().join(i), images).unwrap();
    std::fs::write(dir.path().join(l), labels).unwrap();
    let s = dir.path().display().to_string();
    (dir, s)
}

fn mnist_fails(images: &[u8], labels: &[u8], gz: bool, needles: &[&str]) {
    let (_d, dir) = data_dir(images, labels, gz);
    fails(&["--data", "mnist", "--data-dir", &dir], needles);
}

#[test]
fn corrupt_and_truncated_idx_files() {
    let good_img = idx_images(4, 28, 28, 4 * 784);
    let good_lbl = idx_labels(&[0, 1, 2, 3]);
    // Sanity: the good pair trains (so each failure below is the file's fault).
    let (_d, dir) = data_dir(&gzip(&good_img), &gzip(&good_lbl), true);
    let tmp = tempfile::tempdir().unwrap();
    run_ok(&[
        "train",
        "--quiet",
        "--epochs",
        "1",
        "--memories",
        "2",
        "--data",
        "mnist",
        "--data-dir",
        &dir,
        "--out",
        &tmp.path().join("o").display().to_string(),
    ]);

    let mut corrupt = gzip(&good_img);
    let mid = corrupt.len() / 2;
    corrupt[mid..mid + 16].copy_from_slice(&[0xff; 16]);
    mnist_fails(
        &corrupt,
        &gzip(&good_lbl),
        true,
        &["train-images-idx3-ubyte.gz", "corrupt or truncated gzip"],
    );
    let full = gzip(&good_img);
    mnist_fails(
        &full[..full.len() / 2],
        &gzip(&good_lbl),
        true,
        &["train-images-idx3-ubyte.gz", "gzip"],
    );
    mnist_fails(
        &good_img[..good_img.len() - 100],
        &good_lbl,
        false,
        &["train-images-idx3-ubyte", "truncated"],
    );
    let mut wrong_magic = good_img.clone();
    wrong_magic[3] = 1;
    mnist_fails(
        &wrong_magic,
        &good_lbl,
        false,
        &["train-images-idx3-ubyte", "wrong magic"],
    );
    mnist_fails(
        &good_img,
        &idx_labels(&[0, 1, 2]),
        false,
        &["4 images", "3 labels"],
    );
    mnist_fails(
        &good_img,
        &idx_labels(&[0, 1, 12, 3]),
        false,
        &["train-labels-idx1-ubyte", "label 12"],
    );
    mnist_fails(
        &good_img[..10],
        &good_lbl,
        false,
        &["train-images-idx3-ubyte", "too short"],
    );
}

#[test]
fn missing_mnist_directory_says_how_to_fetch() {
    let dir = tempfile::tempdir().unwrap();
    fails(
        &[
            "--data",
            "mnist",
            "--data-dir",
            &dir.path().display().to_string(),
        ],
        &["not found", "ghn data fetch"],
    );
}

fn write_npz(path: &Path, arrays: &[(&str, Array2<f64>)]) {
    let mut w = NpzWriter::new(std::fs::File::create(path).unwrap());
    for (k, a) in arrays {
        w.add_array(*k, a).unwrap();
    }
    w.finish().unwrap();
}

fn npz_dir() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().to_path_buf();
    (d, p)
}

#[test]
fn bad_npz_data() {
    let (_d, p) = npz_dir();
    let x = Array2::from_elem((6, 5), 0.5);
    let mut t = Array2::from_elem((6, 3), -1.0);
    for i in 0..6 {
        t[[i, i % 3]] = 1.0;
    }
    let f = |name: &str| p.join(name).display().to_string();
    write_npz(&p.join("good.npz"), &[("X", x.clone()), ("T", t.clone())]);
    let tmp = tempfile::tempdir().unwrap();
    run_ok(&[
        "train",
        "--quiet",
        "--epochs",
        "1",
        "--memories",
        "2",
        "--data-npz",
        &f("good.npz"),
        "--out",
        &tmp.path().join("o").display().to_string(),
    ]);

    write_npz(&p.join("nox.npz"), &[("T", t.clone())]);
    fails(
        &["--data-npz", &f("nox.npz")],
        &["nox.npz", "missing array `X`"],
    );
    write_npz(
        &p.join("rows.npz"),
        &[
            ("X", x.clone()),
            ("T", t.slice(ndarray::s![..5, ..]).to_owned()),
        ],
    );
    fails(
        &["--data-npz", &f("rows.npz")],
        &["rows.npz", "X has 6 rows but T has 5"],
    );
    let mut xn = x.clone();
    xn[[2, 3]] = f64::NAN;
    write_npz(&p.join("nan.npz"), &[("X", xn), ("T", t.clone())]);
    fails(&["--data-npz", &f("nan.npz")], &["nan.npz", "non-finite"]);
    let mut xr = x.clone();
    xr[[0, 0]] = 3.0;
    write_npz(&p.join("range.npz"), &[("X", xr), ("T", t.clone())]);
    fails(
        &["--data-npz", &f("range.npz")],
        &["range.npz", "outside [-1, 1]"],
    );
    let mut tb = t.clone();
    tb[[0, 0]] = 0.5;
    write_npz(&p.join("targets.npz"), &[("X", x.clone()), ("T", tb)]);
    fails(
        &["--data-npz", &f("targets.npz")],
        &["targets.npz", "+1 or -1"],
    );
    let mut w = NpzWriter::new(std::fs::File::create(p.join("dim.npz")).unwrap());
    w.add_array("X", &Array1::from_elem(5, 0.0)).unwrap();
    w.add_array("T", &t).unwrap();
    w.finish().unwrap();
    fails(&["--data-npz", &f("dim.npz")], &["dim.npz", "2-D"]);
    std::fs::write(p.join("junk.npz"), b"not a zip").unwrap();
    fails(
        &["--data-npz", &f("junk.npz")],
        &["junk.npz", "not a valid .npz"],
    );
    fails(
        &["--data-npz", &f("absent.npz")],
        &["absent.npz", "cannot open"],
    );
}

#[test]
fn bad_init_state() {
    let (_d, p) = npz_dir();
    let f = |name: &str| p.join(name).display().to_string();
    write_npz(
        &p.join("shape.npz"),
        &[
            ("M", Array2::zeros((3, 700))),
            ("L", Array2::zeros((3, 10))),
        ],
    );
    fails(
        &["--memories", "3", "--init-state", &f("shape.npz")],
        &["shape.npz", "`M` has shape (3, 700), expected (3, 784)"],
    );
    write_npz(&p.join("nol.npz"), &[("M", Array2::zeros((3, 784)))]);
    fails(
        &["--memories", "3", "--init-state", &f("nol.npz")],
        &["nol.npz", "missing array `L`"],
    );
    let mut l = Array2::zeros((3, 10));
    l[[1, 1]] = f64::INFINITY;
    write_npz(
        &p.join("inf.npz"),
        &[("M", Array2::zeros((3, 784))), ("L", l)],
    );
    fails(
        &["--memories", "3", "--init-state", &f("inf.npz")],
        &["inf.npz", "non-finite"],
    );
    write_npz(
        &p.join("vm.npz"),
        &[
            ("M", Array2::zeros((3, 784))),
            ("L", Array2::zeros((3, 10))),
            ("VM", Array2::zeros((2, 784))),
        ],
    );
    fails(
        &["--memories", "3", "--init-state", &f("vm.npz")],
        &["vm.npz", "`VM`"],
    );
}

#[test]
fn impossible_parameters_name_their_flag() {
    fails(&["--memories", "0"], &["--memories", "at least 1"]);
    fails(&["--n", "0"], &["--n", "n must be"]);
    fails(&["--n", "-3"], &["--n", "got -3"]);
    fails(&["--n", "NaN"], &["--n"]);
    fails(&["--n", "3", "--m", "0.5"], &["--m", "m must be"]);
    fails(&["--temperature", "0"], &["--temperature", "got 0"]);
    fails(
        &["--rescaled-temperature", "-1"],
        &["--rescaled-temperature"],
    );
    fails(&["--rate", "0"], &["--rate", "learning rate"]);
    fails(&["--rate", "-0.1"], &["--rate"]);
    fails(&["--momentum", "1"], &["--momentum", "[0, 1)"]);
    fails(&["--epochs", "0"], &["--epochs"]);
    fails(
        &["--minibatches", "3"],
        &["--minibatches 3", "200 training samples"],
    );
    fails(&["--digits", "1,12"], &["--digits", "`12`"]);
    fails(&["--digits", "1,1"], &["--digits", "twice"]);
    fails(&["--per-class", "21"], &["--per-class 21", "only 20"]);
    fails(&["--init", "gaussian:1"], &["--init"]);
    fails(&["--init", "near-class:x"], &["--init"]);
    fails(&["--save-every", "0"], &["--save-every"]);
    fails(&["--rate-decay", "1.5"], &["--rate-decay"]);
    fails(&["--threads", "0"], &["--threads"]);
    fails(&["--memories", "abc"], &["--memories"]);
}

#[test]
fn existing_run_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = out.display().to_string();
    run_ok(&[
        "train",
        "--quiet",
        "--epochs",
        "1",
        "--memories",
        "2",
        "--out",
        &o,
    ]);
    let before = std::fs::read(out.join("final.npz")).unwrap();
    let res = run(&[
        "train",
        "--quiet",
        "--epochs",
        "1",
        "--memories",
        "3",
        "--out",
        &o,
    ]);
    assert_eq!(res.status.code(), Some(2));
    assert!(
        stderr(&res).contains("already holds a run"),
        "{}",
        stderr(&res)
    );
    assert_eq!(std::fs::read(out.join("final.npz")).unwrap(), before);
}
