//! `ghn analyze` against an independent NumPy computation (pinv, reconstruction count,
//! ᾱ, identities, populations), trajectory frames against states, and bad input.

mod common;
use common::*;
use std::path::Path;

/// A short feature-like run (n = 3, T = 400): memories differ from each other, so the
/// reconstruction counts vary.
fn feature_run(out: &Path, epochs: &str, extra: &[&str]) {
    let o = out.display().to_string();
    let mut args = vec![
        "train",
        "--quiet",
        "--out",
        &o,
        "--n",
        "3",
        "--temperature",
        "400",
        "--epochs",
        epochs,
        "--memories",
        "40",
        "--seed",
        "3",
    ];
    args.extend_from_slice(extra);
    run_ok(&args);
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn analysis_matches_an_independent_numpy_computation() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    feature_run(&run_dir, "400", &[]);
    let an = dir.path().join("an");
    // A low threshold so that the populations are not all zero.
    run_ok(&[
        "analyze",
        "--state",
        &run_dir.join("final.npz").display().to_string(),
        "--threshold",
        "0.3",
        "--out",
        &an.display().to_string(),
    ]);
    let j = json(&an.join("analysis.json"));
    let mems = j["memories"].as_array().unwrap();
    assert_eq!(mems.len(), 40);
    let counts: std::collections::BTreeSet<u64> = mems
        .iter()
        .map(|m| m["reconstruction_count"].as_u64().unwrap())
        .collect();
    assert!(
        counts.len() > 1,
        "the test needs varied counts, got {counts:?}"
    );
    assert_eq!(j["settings"]["rank"], 199, "the 200-digit set has rank 199");
    let o = python_ok(&[
        &repo()
            .join("tests/python/analysis.py")
            .display()
            .to_string(),
        &run_dir.display().to_string(),
        &an.display().to_string(),
        "0.3",
    ]);
    eprintln!("{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn trajectory_frames_equal_state_analyses() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    feature_run(&run_dir, "400", &["--save-every", "200"]);
    let (st, tr) = (dir.path().join("st"), dir.path().join("tr"));
    run_ok(&[
        "analyze",
        "--state",
        &run_dir.join("final.npz").display().to_string(),
        "--out",
        &st.display().to_string(),
    ]);
    run_ok(&[
        "analyze",
        "--trajectory",
        &run_dir.join("trajectory.npz").display().to_string(),
        "--out",
        &tr.display().to_string(),
    ]);
    let (s, t) = (
        json(&st.join("analysis.json")),
        json(&tr.join("analysis.json")),
    );
    let frames = t["frames"].as_array().unwrap();
    let epochs: Vec<i64> = frames
        .iter()
        .map(|f| f["epoch"].as_i64().unwrap())
        .collect();
    assert_eq!(epochs, [0, 200, 400]);
    assert_eq!(frames[2]["memories"], s["memories"]);
    assert_eq!(frames[2]["summary"], s["summary"]);
    // The recognised counts are the run's own metrics at the last epoch.
    let metrics = std::fs::read_to_string(run_dir.join("metrics.csv")).unwrap();
    let last: Vec<u64> = metrics
        .lines()
        .last()
        .unwrap()
        .split(',')
        .skip(3)
        .map(|v| v.parse().unwrap())
        .collect();
    let rec: Vec<u64> = s["summary"]["recognised"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(rec, last);
    // At the Gaussian initialisation every memory is a tiny near-constant image: max |α|
    // is small; after training it has grown.
    let m0 = frames[0]["summary"]["mean_max_alpha"].as_f64().unwrap();
    let m2 = frames[2]["summary"]["mean_max_alpha"].as_f64().unwrap();
    assert!(m0 < 0.01 && m2 > 10.0 * m0, "{m0} {m2}");
}

#[test]
fn bad_input_is_named_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    feature_run(&run_dir, "5", &[]);
    let out = dir.path().join("out");
    let o = out.display().to_string();
    let fin = run_dir.join("final.npz").display().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--state".into(), "/nonexistent/final.npz".into()],
            "run.json",
        ),
        (
            vec!["--trajectory".into(), fin.clone()],
            "final.npz: M has shape",
        ),
        (
            vec![
                "--state".into(),
                fin.clone(),
                "--threshold".into(),
                "2".into(),
            ],
            "--threshold",
        ),
        (
            vec!["--state".into(), fin.clone(), "--rcond".into(), "0".into()],
            "--rcond",
        ),
    ];
    for (args, needle) in cases {
        let mut all: Vec<&str> = vec!["analyze", "--out", &o];
        all.extend(args.iter().map(String::as_str));
        let r = run(&all);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: `{needle}` not in {err}");
        assert!(!out.exists(), "{args:?}: --out was created");
    }
    // A state with NaN.
    let nan = dir.path().join("nan.npz");
    python_ok(&[
        "-c",
        "import numpy as np, sys; d = dict(np.load(sys.argv[1])); d['M'][0, 0] = np.nan; np.savez(sys.argv[2], **d)",
        &fin,
        &nan.display().to_string(),
    ]);
    let r = run(&[
        "analyze",
        "--out",
        &o,
        "--state",
        &nan.display().to_string(),
        "--run",
        &run_dir.join("run.json").display().to_string(),
    ]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("non-finite"), "{err}");
    assert!(!out.exists());
}
