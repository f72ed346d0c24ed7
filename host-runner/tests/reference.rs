//! `ghn train` against an independent NumPy implementation of the update rule
//! (tests/python/reference.py), through the `--data-npz` / `--init-state` / `final.npz`
//! interface, for settings off the paper's defaults: non-integer n, m ≠ n, momentum,
//! minibatches, clip mode. Trajectories must agree to 1e−9 in f64.

mod common;
use common::*;

struct Case {
    name: &'static str,
    seed: u32,
    samples: usize,
    classes: usize,
    memories: usize,
    n: f64,
    m: f64,
    temperature: f64,
    rate: f64,
    momentum: f64,
    epochs: usize,
    minibatches: usize,
    bound: &'static str,
    rate_decay: Option<f64>,
}

fn check(c: &Case) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.display().to_string();
    python_ok(&[
        &reference_py(),
        "make",
        &ds,
        "--seed",
        &c.seed.to_string(),
        "--samples",
        &c.samples.to_string(),
        "--pixels",
        "50",
        "--classes",
        &c.classes.to_string(),
        "--memories",
        &c.memories.to_string(),
    ]);
    let (data, init) = (format!("{ds}/data.npz"), format!("{ds}/init.npz"));
    let run_dir = format!("{ds}/run");
    let (n, m, t, r, mu) = (
        c.n.to_string(),
        c.m.to_string(),
        c.temperature.to_string(),
        c.rate.to_string(),
        c.momentum.to_string(),
    );
    let (e, b) = (c.epochs.to_string(), c.minibatches.to_string());
    let k = c.memories.to_string();
    let refp = format!("{ds}/ref.npz");
    let py = reference_py();
    let mut ghn_args = vec![
        "train",
        "--data-npz",
        &data,
        "--init-state",
        &init,
        "--out",
        &run_dir,
        "--quiet",
        "--memories",
        &k,
        "--n",
        &n,
        "--m",
        &m,
        "--temperature",
        &t,
        "--rate",
        &r,
        "--momentum",
        &mu,
        "--epochs",
        &e,
        "--minibatches",
        &b,
        "--memory-bound",
        c.bound,
        "--save-every",
        "7",
    ];
    let mut py_args = vec![
        py.as_str(),
        "train",
        &data,
        &init,
        &refp,
        "--n",
        &n,
        "--m",
        &m,
        "--temperature",
        &t,
        "--rate",
        &r,
        "--momentum",
        &mu,
        "--epochs",
        &e,
        "--minibatches",
        &b,
        "--bound",
        c.bound,
        "--save-every",
        "7",
    ];
    let decay = c.rate_decay.map(|v| v.to_string());
    if let Some(dv) = &decay {
        ghn_args.extend(["--rate-decay", dv]);
        py_args.extend(["--rate-decay", dv]);
    }
    run_ok(&ghn_args);
    python_ok(&py_args);
    let (fin, traj, refp) = (
        d.join("run/final.npz"),
        d.join("run/trajectory.npz"),
        d.join("ref.npz"),
    );
    for key in ["M", "L", "VM", "VL"] {
        let diff = max_diff(&read(&fin, key), &read(&refp, key));
        println!("{}: final {key} max |ghn - numpy| = {diff:e}", c.name);
        assert!(
            diff <= 1e-9,
            "{}: final {key} differs from the reference by {diff:e}",
            c.name
        );
    }
    assert_eq!(
        read_i64(&traj, "epochs"),
        read_i64(&refp, "epochs"),
        "{}: frame epochs",
        c.name
    );
    for (key, rkey) in [("M", "frames_M"), ("L", "frames_L")] {
        let diff = max_diff(&read(&traj, key), &read(&refp, rkey));
        assert!(
            diff <= 1e-9,
            "{}: trajectory {key} differs from the reference by {diff:e}",
            c.name
        );
    }
    // The run must have moved: a trivially frozen network would also "agree".
    let moved = max_diff(&read(&fin, "M"), &read(&d.join("init.npz"), "M"));
    assert!(
        moved > 10.0 * c.rate,
        "{}: memories barely moved ({moved})",
        c.name
    );
}

#[test]
fn paper_settings() {
    check(&Case {
        name: "paper",
        seed: 1,
        samples: 40,
        classes: 10,
        memories: 8,
        n: 30.0,
        m: 30.0,
        temperature: 0.85 * 50.0,
        rate: 0.005,
        momentum: 0.0,
        epochs: 150,
        minibatches: 1,
        bound: "rescale",
        rate_decay: None,
    });
}

#[test]
fn non_integer_n_m_differs_momentum_minibatches() {
    check(&Case {
        name: "n=4.7 m=2.3 momentum 0.6, 4 minibatches",
        seed: 2,
        samples: 48,
        classes: 4,
        memories: 6,
        n: 4.7,
        m: 2.3,
        temperature: 30.0,
        rate: 0.01,
        momentum: 0.6,
        epochs: 60,
        minibatches: 4,
        bound: "rescale",
        rate_decay: None,
    });
}

#[test]
fn clip_mode_low_n() {
    check(&Case {
        name: "clip n=2.5 m=1",
        seed: 3,
        samples: 30,
        classes: 3,
        memories: 5,
        n: 2.5,
        m: 1.0,
        temperature: 20.0,
        rate: 0.02,
        momentum: 0.3,
        epochs: 80,
        minibatches: 3,
        bound: "clip",
        rate_decay: None,
    });
}

#[test]
fn n_equal_one_follows_the_reference() {
    // n = 1: the reference differentiates max(h,0) as 0^0 = 1 on the inactive side.
    check(&Case {
        name: "n=1 m=3",
        seed: 4,
        samples: 20,
        classes: 2,
        memories: 4,
        n: 1.0,
        m: 3.0,
        temperature: 25.0,
        rate: 0.01,
        momentum: 0.0,
        epochs: 50,
        minibatches: 2,
        bound: "rescale",
        rate_decay: None,
    });
}

#[test]
fn rate_decay() {
    check(&Case {
        name: "rate decay 0.99",
        seed: 5,
        samples: 30,
        classes: 5,
        memories: 6,
        n: 8.0,
        m: 8.0,
        temperature: 35.0,
        rate: 0.02,
        momentum: 0.0,
        epochs: 100,
        minibatches: 1,
        bound: "rescale",
        rate_decay: Some(0.99),
    });
}
