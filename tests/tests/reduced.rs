//! The reduced two-memory system against PROTOCOLS.md §8 items 1 and 3.

use ghn_core::reduced::{
    transition_temperature, Branch, Continuation, FixedPoint, Gram, Reduced, SearchOptions,
};

/// Rows 21 (a "1") and 81 (a "4") of the 200-digit set, exactly.
const GRAM: Gram<f64> = Gram {
    aa: 753.2249,
    ab: 494.0239,
    bb: 719.7008,
};

fn fps(n: f64) -> Vec<FixedPoint<f64>> {
    let r = Reduced::new(GRAM, n, 700.0, 2, Branch::Plus).unwrap();
    r.fixed_points(&SearchOptions::default(), &[]).to_vec()
}

fn close(p: &FixedPoint<f64>, alpha: f64, ell: f64, tol: f64) -> bool {
    (p.alpha - alpha).abs() <= tol && (p.ell - ell).abs() <= tol
}

/// PROTOCOLS.md §8 item 1: the reference's fixed points (its float32 grid used the integer
/// Gram entries 753, 494, 719), within 0.005 in α and ℓ, with its stability labels
/// (outer points stable, middle one unstable).
#[test]
fn fixed_points_of_the_reference_sweep() {
    let g = Gram {
        aa: 753.0,
        ab: 494.0,
        bb: 719.0,
    };
    type Expected<'a> = [(f64, &'a [(f64, f64, bool)]); 4];
    let expected: Expected = [
        (
            6.0,
            &[
                (0.056, -0.070, true),
                (0.464, 0.000, false),
                (0.925, 0.062, true),
            ],
        ),
        (
            20.0,
            &[
                (0.384, -0.096, true),
                (0.464, -0.001, false),
                (0.561, 0.096, true),
            ],
        ),
        (30.0, &[(0.477, 0.055, true)]),
        (
            40.0,
            &[
                (0.380, -0.848, true),
                (0.458, -0.123, false),
                (0.543, 0.713, true),
            ],
        ),
    ];
    for (n, want) in expected {
        let r = Reduced::new(g, n, 700.0, 2, Branch::Plus).unwrap();
        let got = r.fixed_points(&SearchOptions::default(), &[]);
        assert_eq!(got.len(), want.len(), "n = {n}: {got:?}");
        for (p, &(a, l, stable)) in got.iter().zip(want) {
            // n = 30: the reference's grid cluster spans ℓ 0.03–0.08 around its centre.
            let tol_l = if n == 30.0 { 0.03 } else { 0.005 };
            assert!(
                (p.alpha - a).abs() <= 0.005 && (p.ell - l).abs() <= tol_l,
                "n = {n}: {p:?} vs ({a}, {l})"
            );
            assert_eq!(p.stable, stable, "n = {n}: stability of {p:?}");
        }
    }
}

/// With the exact Gram entries (rows 21 and 81) the outer fixed points are where full
/// K = 1 training runs land (PROTOCOLS.md §8 item 2, within 0.01).
#[test]
fn outer_fixed_points_match_full_runs() {
    let expected: [(f64, &[(f64, f64)]); 4] = [
        (6.0, &[(0.054, -0.069), (0.927, 0.060)]),
        (20.0, &[(0.384, -0.096), (0.562, 0.096)]),
        (30.0, &[(0.477, 0.055)]),
        (40.0, &[(0.382, -0.834), (0.542, 0.703)]),
    ];
    for (n, want) in expected {
        let stable: Vec<_> = fps(n).into_iter().filter(|p| p.stable).collect();
        assert_eq!(stable.len(), want.len(), "n = {n}: {stable:?}");
        for (p, &(a, l)) in stable.iter().zip(want) {
            assert!(close(p, a, l, 0.01), "n = {n}: {p:?} vs ({a}, {l})");
        }
    }
}

/// The whole diagram n = 1.2…71.9: three unsaturated points below the first fold, one
/// between the folds, three after the second (until the outer ones saturate), with the
/// folds near n ≈ 24.08 and n ≈ 36.48 (PROTOCOLS.md §8 item 1).
#[test]
fn bifurcation_diagram_and_folds() {
    let c = Continuation {
        gram: GRAM,
        temperature: 700.0,
        memories: 2,
        branch: Branch::Plus,
        options: SearchOptions::default(),
    };
    let mut counts = Vec::new();
    let mut folds = Vec::new();
    c.run(
        (2..720).map(|k| 1.0 + k as f64 / 10.0),
        |n, f| counts.push((n, f.iter().filter(|p| !p.saturated).count(), f.len())),
        |f| folds.push(f),
    )
    .unwrap();
    let count_at = |n: f64| counts.iter().find(|c| (c.0 - n).abs() < 1e-9).unwrap();
    for n in [6.0, 10.0, 20.0, 24.0] {
        assert_eq!(count_at(n).1, 3, "n = {n}: {:?}", count_at(n));
    }
    for n in [24.2, 30.0, 36.4] {
        assert_eq!(count_at(n).1, 1, "n = {n}: {:?}", count_at(n));
    }
    for n in [36.6, 40.0] {
        assert_eq!(count_at(n).1, 3, "n = {n}: {:?}", count_at(n));
    }
    for n in [45.0, 60.0, 71.9] {
        assert_eq!(
            count_at(n).2,
            3,
            "n = {n}: three points (some saturated): {:?}",
            count_at(n)
        );
    }
    // Brackets from an independent SciPy solve (fsolve on the same flow, sign of the
    // pair's existence on either side); the continuation locates folds to 1e-6.
    assert!(
        folds.iter().any(|f| f.n > 24.078 && f.n < 24.0785),
        "{folds:?}"
    );
    assert!(
        folds.iter().any(|f| f.n > 36.4768 && f.n < 36.477),
        "{folds:?}"
    );
    for f in &folds {
        println!(
            "fold at n = {:.7}, alpha {:.5}, ell {:.5}",
            f.n, f.alpha, f.ell
        );
    }
}

/// PROTOCOLS.md §8 item 3: T*(n) for two 4s with s ≈ 1320 falls from T_r ≈ 2.10 (n = 2)
/// to 1.18 (n = 10), 1.03 (n = 20), 0.98 (n = 30), and tends to s/2.
#[test]
fn transition_line() {
    let s = 1320.0f64;
    for (n, tr) in [(2.0, 2.10), (10.0, 1.18), (20.0, 1.03), (30.0, 0.98)] {
        let got = transition_temperature(s, n) / 784.0;
        assert!((got - tr).abs() < 0.01, "n = {n}: T*_r = {got}");
    }
    assert!((transition_temperature(s, 1e4) - s / 2.0).abs() < 1.0);
}

/// The flow vanishes at every fixed point found, and the effective temperature of K
/// memories is T/K^(1/n).
#[test]
fn flow_vanishes_at_fixed_points() {
    for n in [3.0, 12.5, 27.0, 44.0] {
        let r = Reduced::new(GRAM, n, 700.0, 2, Branch::Plus).unwrap();
        assert!((r.effective_temperature() - 700.0 / 2f64.powf(1.0 / n)).abs() < 1e-9);
        for p in r.fixed_points(&SearchOptions::default(), &[]) {
            let (da, dl) = r.flow(p.alpha, p.ell);
            assert!(
                da.abs() < 1e-9 && dl.abs() < 1e-9,
                "n = {n}: flow {da:e}, {dl:e} at {p:?}"
            );
        }
    }
}
