//! `ghn reproduce fig6|fig7 --quick` end to end: the files, and the paper's claims on the
//! data they hold (PROTOCOLS.md §7 rows 6 and 7, §8 items 1, 3 and 10).

mod common;

use common::{csv, run_ok};
use serde_json::Value;
use std::path::Path;

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap()
}

/// Each named figure exists as a PNG (by its signature) and an SVG.
fn assert_figures(dir: &Path, stems: &[&str]) {
    for stem in stems {
        let png = std::fs::read(dir.join(format!("{stem}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png");
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains("QUICK RUN"),
            "{stem}.svg"
        );
    }
}

#[test]
fn fig6_quick_folds_and_splits_at_the_saddles() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fig6");
    run_ok(&[
        "reproduce",
        "fig6",
        "--quick",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_figures(
        &out,
        &[
            "fig6a_nullclines",
            "fig6b_runs",
            "fig6b_cost",
            "fig6c_diagram",
            "fig6c_diagram_3d",
        ],
    );
    let m = manifest(&out);
    assert_eq!(m["quick"], true);

    // The diagram: both folds (a double-precision solve: n ≈ 24.08 and 36.48).
    let folds = csv(&out.join("fig6c_folds.csv"));
    let ns: Vec<f64> = folds.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(ns.len(), 2, "{ns:?}");
    assert!(
        (ns[0] - 24.08).abs() < 0.01 && (ns[1] - 36.48).abs() < 0.01,
        "{ns:?}"
    );

    // 6b: every run splits, after waiting near a stable fixed point of the reduced
    // system at n = 20 (the saddle of the full dynamics).
    let diagram = csv(&out.join("fig6a_nullclines.csv"));
    assert!(diagram.iter().any(|r| r[0] == "20" && r[1] == "memory"));
    let stable: Vec<(f64, f64)> = {
        let v: Value = serde_json::from_slice(
            &run_ok(&["reduced", "fixed-points", "--json", "--n", "20"]).stdout,
        )
        .unwrap();
        v[0]["fixed_points"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["stable"] == true)
            .map(|p| (p["alpha"].as_f64().unwrap(), p["ell"].as_f64().unwrap()))
            .collect()
    };
    let runs = m["summary"]["fig6b"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    for r in runs {
        assert!(r["split_epoch"].as_u64().is_some(), "no split: {r}");
        let (a, l) = (
            r["saddle"]["alpha"].as_f64().unwrap(),
            r["saddle"]["ell"].as_f64().unwrap(),
        );
        assert!(
            stable
                .iter()
                .any(|&(fa, fl)| (fa - a).abs() < 0.03 && (fl - l).abs() < 0.03),
            "run {r} waited at ({a}, {l}), not near a stable point of {stable:?}"
        );
    }
    // The trajectory table: 3 runs × 1001 frames.
    assert_eq!(csv(&out.join("fig6b_runs.csv")).len(), 3 * 1001);

    // The cost surface: at each saddle, splitting (δα ≠ 0) lowers the full two-memory
    // cost — a saddle, not a minimum, of the cost.
    let cost: Vec<[f64; 5]> = csv(&out.join("fig6b_cost.csv"))
        .iter()
        .map(|r| std::array::from_fn(|i| r[i].parse().unwrap()))
        .collect();
    for &(fa, _) in &stable {
        let alpha = cost
            .iter()
            .map(|r| r[0])
            .min_by(|x, y| (x - fa).abs().total_cmp(&(y - fa).abs()))
            .unwrap();
        let column: Vec<&[f64; 5]> = cost.iter().filter(|r| r[0] == alpha).collect();
        let centre = column
            .iter()
            .min_by(|x, y| x[1].abs().total_cmp(&y[1].abs()))
            .unwrap()[4];
        let edges: Vec<f64> = column
            .iter()
            .filter(|r| (r[1].abs() - 0.03).abs() < 1e-9)
            .map(|r| r[4])
            .collect();
        assert_eq!(edges.len(), 2, "δα = ±0.03 at α = {alpha}");
        for e in edges {
            assert!(
                e < centre,
                "α = {alpha}: cost {e} at |δα| = 0.03, {centre} at 0"
            );
        }
    }
}

#[test]
fn fig7_quick_threshold_follows_the_transition_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fig7");
    run_ok(&[
        "reproduce",
        "fig7",
        "--quick",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_figures(&out, &["fig7_intra", "fig7_inter"]);

    // Intra: where T_r crosses the line within n ≤ 30, the memory becomes a prototype
    // within ±5 in n of it; where the line stays above T_r, no prototype at all.
    let th = csv(&out.join("fig7_thresholds.csv"));
    let mut crossings = 0;
    for r in &th {
        let (jump, line) = (r[1].parse::<f64>().ok(), r[2].parse::<f64>().ok());
        match line {
            Some(l) => {
                let j = jump.unwrap_or_else(|| panic!("T_r {}: no prototype", r[0]));
                assert!(
                    (j - l).abs() <= 5.0,
                    "T_r {}: jump at n = {j}, line at {l}",
                    r[0]
                );
                crossings += 1;
            }
            None => assert!(jump.is_none(), "T_r {}: prototype below the line", r[0]),
        }
    }
    assert!(crossings >= 2, "{th:?}");
    // Pure prototypes at high n and T_r: the other α goes to 0.
    let intra = csv(&out.join("fig7_intra.csv"));
    let top = intra
        .iter()
        .find(|r| r[0] == "30" && r[1] == "880")
        .expect("n = 30, T = 880");
    let (a, b): (f64, f64) = (top[3].parse().unwrap(), top[4].parse().unwrap());
    assert!(a.min(b).abs() < 0.01 && a.max(b) > 0.99, "{top:?}");

    // Inter (§8 item 10): the minor α of both memories is negative at low n
    // (feature-like) and clearly positive at high n, at T_r 1.12 and near 0.94.
    let inter = csv(&out.join("fig7_inter.csv"));
    for t in ["880", "720"] {
        let at = |n: &str| {
            let r = inter.iter().find(|r| r[0] == n && r[1] == t).unwrap();
            (r[3].parse::<f64>().unwrap(), r[4].parse::<f64>().unwrap())
        };
        let (lo, hi) = (at("2"), at("30"));
        assert!(lo.0 < 0.0 && lo.1 < 0.0, "T = {t}, n = 2: {lo:?}");
        assert!(hi.0 > 0.1 && hi.1 > 0.1, "T = {t}, n = 30: {hi:?}");
    }
}
