//! End-to-end tests of the `ghn` command: outputs that NumPy opens, determinism across
//! thread counts, interruption and resumption, evaluation, and data selection.

mod common;
use common::*;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A small but real run on the bundled digits (n = 3, a fast learner): about a second.
/// `extra` must give --memories.
fn small_run(out: &Path, extra: &[&str]) {
    let o = out.display().to_string();
    let mut args = vec![
        "train",
        "--out",
        &o,
        "--quiet",
        "--n",
        "3",
        "--rate",
        "0.02",
        "--epochs",
        "300",
        "--save-every",
        "50",
        "--log-every",
        "25",
    ];
    args.extend_from_slice(extra);
    run_ok(&args);
}

#[test]
fn outputs_open_in_numpy_with_the_reference_layout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    small_run(&out, &["--save-precision", "f32", "--memories", "10"]);
    for f in [
        "final.npz",
        "trajectory.npz",
        "metrics.csv",
        "run.json",
        "memories.png",
        "config.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    assert!(
        !out.join("checkpoint.npz").exists(),
        "checkpoint left behind after success"
    );
    let script = r#"
import json, sys, numpy as np
d = sys.argv[1]
f = np.load(d + "/final.npz")
assert sorted(f.files) == ["L", "M", "VL", "VM"], f.files
assert f["M"].shape == (10, 784) and f["L"].shape == (10, 10) and f["M"].dtype == np.float64
assert np.abs(f["M"]).max() <= 1 + 1e-12 and np.abs(f["L"]).max() <= 1
t = np.load(d + "/trajectory.npz")
assert sorted(t.files) == ["L", "M", "epochs"], t.files
assert t["M"].dtype == np.float32, t["M"].dtype
assert t["M"].shape == (7, 10, 784) and t["L"].shape == (7, 10, 10)
assert list(t["epochs"]) == [0, 50, 100, 150, 200, 250, 300], t["epochs"]
assert np.allclose(t["M"][-1], f["M"], atol=1e-6)
run = json.load(open(d + "/run.json"))
assert run["epochs_done"] == 300 and run["config"]["memories"] == 10
assert len(run["data_sha256"]) == 64
rows = np.loadtxt(d + "/metrics.csv", delimiter=",", skiprows=1)
assert rows.shape == (13, 13) and rows[-1, 0] == 300
print("ok", rows[-1, 2])
"#;
    let o = python_ok(&["-c", script, &out.display().to_string()]);
    let acc: f64 = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        acc > 0.5,
        "a 300-epoch K=10 run should classify most training digits (got {acc})"
    );
    // memories.png is a real PNG of the 10 memories.
    assert_eq!(&bytes(&out.join("memories.png"))[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn same_seed_same_bits_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("t1"), dir.path().join("t2"));
    small_run(&a, &["--threads", "1", "--memories", "40"]);
    small_run(&b, &["--threads", "2", "--memories", "40"]);
    for f in ["final.npz", "trajectory.npz", "metrics.csv"] {
        assert!(
            bytes(&a.join(f)) == bytes(&b.join(f)),
            "{f} differs between 1 and 2 threads"
        );
    }
    // And a different seed gives a different run.
    let c = dir.path().join("seed1");
    small_run(&c, &["--threads", "2", "--memories", "40", "--seed", "1"]);
    assert!(bytes(&a.join("final.npz")) != bytes(&c.join("final.npz")));
}

/// Sends `signal` to a running `ghn train` once it has started training, and returns
/// its exit code.
fn interrupt(args: &[&str], out: &Path, signal: &str) -> Option<i32> {
    let mut child = ghn()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    // config.json is written just before training starts, after the handler is set up.
    while !out.join("config.json").exists() {
        assert!(t0.elapsed() < Duration::from_secs(60), "run did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(700));
    let st = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(st.success());
    let status = child.wait().unwrap();
    status.code()
}

#[test]
fn interrupted_then_resumed_equals_uninterrupted() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    let cut = dir.path().join("cut");
    let common_args = |o: &Path| -> Vec<String> {
        [
            "train",
            "--quiet",
            "--memories",
            "10",
            "--n",
            "20",
            "--epochs",
            "6000",
            "--save-every",
            "500",
            "--log-every",
            "100",
            "--checkpoint-every",
            "0",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([o.display().to_string()])
        .collect()
    };
    let a: Vec<String> = common_args(&full);
    run_ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let b: Vec<String> = common_args(&cut);
    let code = interrupt(
        &b.iter().map(String::as_str).collect::<Vec<_>>(),
        &cut,
        "-TERM",
    );
    assert_eq!(code, Some(130), "SIGTERM must checkpoint and exit 130");
    assert!(
        cut.join("checkpoint.npz").is_file(),
        "no checkpoint written"
    );
    assert!(
        !cut.join("final.npz").exists(),
        "an interrupted run must not write final outputs"
    );
    let ck = read_i64(&cut.join("checkpoint.npz"), "epoch");
    let stopped = ck.iter().next().copied().unwrap();
    assert!(stopped > 0 && stopped < 6000, "stopped at epoch {stopped}");
    run_ok(&[
        "train",
        "--resume",
        &cut.display().to_string(),
        "--quiet",
        "--threads",
        "1",
    ]);
    for f in ["final.npz", "trajectory.npz", "metrics.csv"] {
        assert!(
            bytes(&full.join(f)) == bytes(&cut.join(f)),
            "{f}: resumed run differs from the uninterrupted one"
        );
    }
    assert!(!cut.join("checkpoint.npz").exists());
    let again = run(&["train", "--resume", &cut.display().to_string()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("already finished"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn killed_run_resumes_from_its_periodic_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    let cut = dir.path().join("cut");
    let args = |o: &Path| -> Vec<String> {
        [
            "train",
            "--quiet",
            "--memories",
            "10",
            "--n",
            "20",
            "--epochs",
            "6000",
            "--log-every",
            "100",
            "--checkpoint-every",
            "200",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([o.display().to_string()])
        .collect()
    };
    let a = args(&full);
    run_ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let b = args(&cut);
    let code = interrupt(
        &b.iter().map(String::as_str).collect::<Vec<_>>(),
        &cut,
        "-KILL",
    );
    assert_eq!(code, None, "SIGKILL ends the process without an exit code");
    assert!(
        cut.join("checkpoint.npz").is_file(),
        "no periodic checkpoint before the kill"
    );
    run_ok(&["train", "--resume", &cut.display().to_string(), "--quiet"]);
    for f in ["final.npz", "metrics.csv"] {
        assert!(
            bytes(&full.join(f)) == bytes(&cut.join(f)),
            "{f}: resumed run differs"
        );
    }
}

#[test]
fn eval_reports_test_accuracy_on_mnist() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    small_run(&out, &["--memories", "10"]);
    let o = run_ok(&[
        "eval",
        "--state",
        &out.join("final.npz").display().to_string(),
        "--data-dir",
        &shared_mnist().display().to_string(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("on 10000 samples"), "{text}");
    let acc: f64 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    // 10 memories trained on 200 digits (67 % of them right): far better than chance
    // (10 %) on 10000 unseen digits.
    assert!(acc > 0.4 && acc < 1.0, "test accuracy {acc}");
    assert!(text.contains("class 9:"));
}

#[test]
fn mnist_class_balanced_sampling_is_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let mnist = shared_mnist().display().to_string();
    let go = |name: &str, seed: &str| {
        let o = dir.path().join(name);
        run_ok(&[
            "train",
            "--data",
            "mnist",
            "--data-dir",
            &mnist,
            "--digits",
            "1,4,7",
            "--per-class",
            "30",
            "--seed",
            seed,
            "--memories",
            "5",
            "--epochs",
            "3",
            "--quiet",
            "--out",
            &o.display().to_string(),
        ]);
        let run: serde_json::Value = serde_json::from_slice(&bytes(&o.join("run.json"))).unwrap();
        assert_eq!(run["samples"], 90);
        run["data_sha256"].as_str().unwrap().to_string()
    };
    let (a, b, c) = (go("a", "5"), go("b", "5"), go("c", "6"));
    assert_eq!(a, b, "same seed, same sample");
    assert_ne!(a, c, "another seed, another sample");
}

#[test]
fn paper200_digit_subset_and_near_class_init() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("r");
    run_ok(&[
        "train",
        "--digits",
        "1,7,8",
        "--init",
        "near-class:7",
        "--memories",
        "4",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        &o.display().to_string(),
    ]);
    let run: serde_json::Value = serde_json::from_slice(&bytes(&o.join("run.json"))).unwrap();
    assert_eq!(run["samples"], 60);
    let csv = String::from_utf8(bytes(&o.join("metrics.csv"))).unwrap();
    // At epoch 0 every memory is 0.8 × the mean 7 with label 7 dominant: the 7s are recognised.
    let first: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first[0], "0");
    assert!(
        first[3 + 7].parse::<usize>().unwrap() >= 15,
        "7s at epoch 0: {}",
        first[3 + 7]
    );
    assert_eq!(
        first[3 + 1],
        "0",
        "no 1 can be recognised by 7-like memories"
    );
}

#[test]
fn noise_pulses_are_seeded_and_start_at_their_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let go = |name: &str, extra: &[&str]| {
        let o = dir.path().join(name);
        let os = o.display().to_string();
        let mut args = vec![
            "train",
            "--quiet",
            "--memories",
            "5",
            "--n",
            "3",
            "--rate",
            "0.02",
            "--epochs",
            "20",
            "--save-every",
            "1",
            "--out",
            &os,
        ];
        args.extend_from_slice(extra);
        run_ok(&args);
        read(&o.join("trajectory.npz"), "M")
    };
    let quiet = go("plain", &[]);
    let noisy = go("noisy", &["--noise-pulses", "10", "--noise-std", "1e-3"]);
    let again = go("again", &["--noise-pulses", "10", "--noise-std", "1e-3"]);
    assert_eq!(noisy, again, "same seed, same noise");
    let frame = |a: &ndarray::ArrayD<f64>, i: usize| a.index_axis(ndarray::Axis(0), i).to_owned();
    for i in 0..=10 {
        assert_eq!(
            frame(&quiet, i),
            frame(&noisy, i),
            "state after {i} epochs changed before the pulse"
        );
    }
    let d = (frame(&quiet, 11) - frame(&noisy, 11))
        .mapv(f64::abs)
        .fold(0.0f64, |m, v| m.max(*v));
    // N(0, 1e-3) on 3920 pixels: the largest deviation is a few 1e-3.
    assert!(
        d > 1e-3 && d < 2e-2,
        "noise of the pulse epoch: max deviation {d}"
    );
}
