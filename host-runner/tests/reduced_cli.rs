//! `ghn reduced …` end to end: the JSON and CSV shapes, ghn-core's fixed points and the
//! reference's folds through the command line, and bad input.

mod common;

use common::{run, run_ok};
use ghn_core::reduced::{Branch, Gram, Reduced, SearchOptions};
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    let out = run_ok(args);
    serde_json::from_slice(&out.stdout).expect("valid JSON on stdout")
}

/// `ghn reduced fixed-points --json` reports what ghn-core finds with the
/// defaults (T = 700, K = 2, branch +): the same points, stability labels and β = 1 − α.
/// Those points against the reference's (PROTOCOLS.md §8 item 1) are checked once, on
/// ghn-core, in `tests/tests/reduced.rs`.
#[test]
fn fixed_points_json_is_ghn_cores_search() {
    let v = json(&[
        "reduced",
        "fixed-points",
        "--json",
        "--n",
        "6,20,30,40",
        "--gram",
        "753,494,719",
    ]);
    let per_n = v.as_array().expect("an array, one entry per n");
    assert_eq!(per_n.len(), 4);
    let g = Gram {
        aa: 753.0,
        ab: 494.0,
        bb: 719.0,
    };
    let mut seen = 0;
    for (entry, n) in per_n.iter().zip([6.0, 20.0, 30.0, 40.0]) {
        assert_eq!(entry["n"].as_f64(), Some(n));
        let want = Reduced::new(g, n, 700.0, 2, Branch::Plus)
            .unwrap()
            .fixed_points(&SearchOptions::default(), &[])
            .to_vec();
        let fps = entry["fixed_points"].as_array().unwrap();
        assert_eq!(fps.len(), want.len(), "n = {n}: {fps:?}");
        for (p, w) in fps.iter().zip(&want) {
            // The same roots; the command seeds each n's search with the previous n's
            // points, so they may differ in the last bits.
            let (a, l) = (p["alpha"].as_f64().unwrap(), p["ell"].as_f64().unwrap());
            assert!(
                (a - w.alpha).abs() < 1e-9 && (l - w.ell).abs() < 1e-9,
                "n = {n}: {p} vs {w:?}"
            );
            assert_eq!(p["stable"].as_bool(), Some(w.stable), "n = {n}: {p}");
            let beta = p["beta"].as_f64().unwrap();
            assert!((beta - (1.0 - w.alpha)).abs() < 1e-12);
            seen += 1;
        }
    }
    // Three points at n = 6, 20 and 40, one at 30 (the reference's count).
    assert_eq!(seen, 10);
}

/// The diagram with its two folds near n ≈ 24.08 and 36.48 (a double-precision solve with
/// the exact Gram entries), and CSV rows that agree with the JSON.
#[test]
fn bifurcation_finds_both_folds_in_json_and_csv() {
    let v = json(&["reduced", "bifurcation", "--json", "--n-range", "20:40:0.5"]);
    let folds = v["folds"].as_array().unwrap();
    let ns: Vec<f64> = folds.iter().map(|f| f["n"].as_f64().unwrap()).collect();
    assert_eq!(ns.len(), 2, "{folds:?}");
    assert!(
        (ns[0] - 24.08).abs() < 0.01 && (ns[1] - 36.48).abs() < 0.01,
        "{ns:?}"
    );
    let diagram = v["diagram"].as_array().unwrap();
    assert_eq!(diagram.len(), 40, "20, 20.5, …, 39.5");
    assert_eq!(diagram[1]["n"].as_f64(), Some(20.5));

    let csv =
        String::from_utf8(run_ok(&["reduced", "bifurcation", "--n-range", "20:40:0.5"]).stdout)
            .unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("kind,n,"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let fold_rows: Vec<f64> = rows
        .iter()
        .filter(|r| r[0] == "fold")
        .map(|r| r[1].parse().unwrap())
        .collect();
    assert_eq!(fold_rows, ns);
    let points: usize = diagram
        .iter()
        .map(|d| d["fixed_points"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        rows.iter().filter(|r| r[0] == "fixed_point").count(),
        points
    );
}

/// At every stable fixed point the two-memory system splits: a positive eigenvalue, and
/// the split starts along δα (the memories separate in pixel space).
#[test]
fn splitting_has_a_growing_mode_at_the_saddles() {
    let v = json(&["reduced", "splitting", "--json", "--n", "6,20,40"]);
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 6, "two stable points at each n: {rows:?}");
    for r in rows {
        let e = r["eigenvalues"][0][0].as_f64().unwrap();
        assert!(e > 0.0, "{r}");
        let dir = r["split_direction"]
            .as_array()
            .expect("a real growing mode");
        assert!(dir[0].as_f64().unwrap() > 0.0, "{r}");
    }
}

/// Nullclines at n = 20 pass through the fixed points: every fixed point is within a grid
/// cell of a memory-nullcline segment and of a label-nullcline segment.
#[test]
fn nullclines_pass_through_the_fixed_points() {
    let v = json(&[
        "reduced",
        "nullclines",
        "--json",
        "--n",
        "20",
        "--resolution",
        "200",
    ]);
    let fps = json(&["reduced", "fixed-points", "--json", "--n", "20"]);
    let curves = &v.as_array().unwrap()[0];
    let near = |segs: &Value, a: f64, l: f64| {
        segs.as_array().unwrap().iter().any(|s| {
            let s: Vec<f64> = s
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            let (ma, ml) = ((s[0] + s[2]) / 2.0, (s[1] + s[3]) / 2.0);
            (ma - a).abs() < 0.01 && (ml - l).abs() < 0.02
        })
    };
    let points = fps[0]["fixed_points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    for p in points {
        let (a, l) = (p["alpha"].as_f64().unwrap(), p["ell"].as_f64().unwrap());
        assert!(
            near(&curves["memory"], a, l),
            "memory nullcline misses ({a}, {l})"
        );
        assert!(
            near(&curves["label"], a, l),
            "label nullcline misses ({a}, {l})"
        );
    }
}

/// Impossible parameters: one line naming the flag, exit code 2, nothing on stdout.
#[test]
fn bad_reduced_parameters_are_named() {
    let cases: [(&[&str], &str); 7] = [
        (&["reduced", "fixed-points", "--n", "0.5"], "--n"),
        (
            &[
                "reduced",
                "fixed-points",
                "--n",
                "20",
                "--temperature",
                "-1",
            ],
            "--temperature",
        ),
        (
            &["reduced", "fixed-points", "--n", "20", "--gram", "1,2"],
            "--gram",
        ),
        (
            &["reduced", "fixed-points", "--n", "20", "--gram", "1,2,1"],
            "--gram",
        ),
        (
            &[
                "reduced",
                "fixed-points",
                "--n",
                "20",
                "--pair",
                "paper200:21,22",
            ],
            "--pair",
        ),
        (
            &["reduced", "bifurcation", "--n-range", "30:20:1"],
            "--n-range",
        ),
        (
            &["reduced", "splitting", "--n", "20", "--memories", "3"],
            "--memories",
        ),
    ];
    for (args, flag) in cases {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(flag),
            "{args:?}: the message should name {flag}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?} printed {:?}", out.stdout);
    }
}
