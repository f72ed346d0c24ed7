//! The reduced two-memory system against PROTOCOLS.md §8 items 1 and 3.

use ghn_core::reduced::{
    eigenvalues, transition_temperature, Branch, Continuation, FixedPoint, Gram, Reduced,
    SearchOptions, Splitting,
};
use ghn_core::{train_step, Dims, ParamsBuilder, PlainKernel, Scratch, State};

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
    // Exactly these two: a point that reaches ℓ = ±1 (near n ≈ 50.5 here) is not a fold.
    assert_eq!(folds.len(), 2, "{folds:?}");
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

/// Two identical memories at T are the reduced system with K = 2 (PROTOCOLS.md §8 item 4,
/// in the reduced coordinates): the split flow at δ = 0 equals its flow, and δ stays 0.
#[test]
fn splitting_system_without_split_is_the_reduced_system() {
    for n in [3.0, 12.0, 20.0, 40.0] {
        let split = Splitting::new(GRAM, n, 700.0, Branch::Plus).unwrap();
        let red = Reduced::new(GRAM, n, 700.0, 2, Branch::Plus).unwrap();
        for (alpha, ell) in [(0.1, -0.5), (0.4, 0.5), (0.56, 0.09), (0.9, 0.95)] {
            let [da, dda, dl, ddl] = split.split_flow(alpha, 0.0, ell, 0.0);
            let (ra, rl) = red.flow(alpha, ell);
            assert!(
                (da - ra).abs() <= 1e-9 * ra.abs().max(1e-300)
                    && (dl - rl).abs() <= 1e-9 * rl.abs().max(1e-300),
                "n {n} at ({alpha}, {ell}): split {da}, {dl} vs reduced {ra}, {rl}"
            );
            assert_eq!((dda, ddl), (0.0, 0.0));
        }
    }
}

/// The stable fixed points of the reduced flow are saddles of the full two-memory
/// dynamics: the linearised splitting dynamics there has a growing mode.
#[test]
fn stable_fixed_points_are_unstable_to_splitting() {
    for n in [6.0, 20.0, 30.0, 40.0] {
        let split = Splitting::new(GRAM, n, 700.0, Branch::Plus).unwrap();
        let stable: Vec<_> = fps(n)
            .into_iter()
            .filter(|p| p.stable && !p.saturated)
            .collect();
        assert!(!stable.is_empty(), "n = {n}");
        for p in stable {
            let e = eigenvalues(split.splitting_matrix(p.alpha, p.ell));
            assert!(e[0].0 > 0.0, "n = {n}, {p:?}: splitting eigenvalues {e:?}");
        }
    }
}

/// The linearised (δα, δℓ) flow against a full two-memory training run started just off
/// the fixed point (the `Figure 6S.Splitting` protocol: n = 12, T = 800, η = 0.001, the
/// antisymmetric perturbation M = (α ± δα)A + (1 − α ∓ δα)B, L[d_A] = ℓ ± δℓ,
/// L[d_B] = −ℓ ∓ δℓ), with a perturbation small enough for the linearisation.
#[test]
fn linearised_splitting_matches_a_full_two_memory_run() {
    let d = ghn_tests::paper200::D;
    let c = ghn_tests::paper200::C;
    let (x, y) = ghn_tests::paper200::rows(&[21, 81]);
    let (a, b) = (&x[..d], &x[d..]);
    let g = Gram::of(a, b);
    let (n, t, eta) = (12.0, 800.0, 0.001);
    let fp = Reduced::new(g, n, t, 2, Branch::Plus)
        .unwrap()
        .fixed_points(&SearchOptions::default(), &[])
        .into_iter()
        .filter(|p| p.stable && !p.saturated)
        .max_by(|p, q| p.alpha.total_cmp(&q.alpha))
        .expect("a stable fixed point");
    let s = Splitting::new(g, n, t, Branch::Plus)
        .unwrap()
        .splitting_matrix(fp.alpha, fp.ell);

    let coeffs = |m: &[f64]| {
        let (ma, mb): (f64, f64) = (
            m.iter().zip(a).map(|(p, q)| p * q).sum(),
            m.iter().zip(b).map(|(p, q)| p * q).sum(),
        );
        let det = g.aa * g.bb - g.ab * g.ab;
        (g.bb * ma - g.ab * mb) / det
    };
    let params = ParamsBuilder::new()
        .n(n)
        .temperature(t)
        .rate(eta)
        .build(d)
        .unwrap();
    let dims = Dims::new(2, 2, d, c);
    let mut buf = vec![0.0; dims.scratch_len()];
    // Two perturbation directions: pure δα, pure δℓ.
    for (d_alpha, d_ell) in [(2e-3, 0.0), (0.0, 2e-3)] {
        let mut m = Vec::with_capacity(2 * d);
        let mut l = vec![-1.0; 2 * c];
        for (mu, sgn) in [1.0, -1.0].into_iter().enumerate() {
            let w = fp.alpha + sgn * d_alpha;
            m.extend(a.iter().zip(b).map(|(p, q)| w * p + (1.0 - w) * q));
            l[mu * c + 1] = fp.ell + sgn * d_ell;
            l[mu * c + 4] = -(fp.ell + sgn * d_ell);
        }
        let (mut vm, mut vl) = (vec![0.0; 2 * d], vec![0.0; 2 * c]);
        let mut scratch = Scratch::from_buffer(&mut buf, dims).unwrap();
        let split_of = |m: &[f64], l: &[f64]| {
            (
                (coeffs(&m[..d]) - coeffs(&m[d..])) / 2.0,
                (l[1] - l[c + 1]) / 2.0,
            )
        };
        let before = split_of(&m, &l);
        let epochs = 10;
        for _ in 0..epochs {
            let mut st = State {
                memories: &mut m,
                labels: &mut l,
                memory_velocity: &mut vm,
                label_velocity: &mut vl,
            };
            train_step(&PlainKernel, &params, &x, &y, &mut st, &mut scratch, None).unwrap();
        }
        let after = split_of(&m, &l);
        // Measured mean rate of (δα, δℓ) over the run, time in units of η per epoch,
        // against the linear flow's exact solution over the same time (δℓ alone does not
        // grow at first order: it grows through the δα it drives).
        let dt = epochs as f64 * eta;
        let measured = [(after.0 - before.0) / dt, (after.1 - before.1) / dt];
        let mut lin = [before.0, before.1];
        let sub = 10_000;
        for _ in 0..sub {
            let h = dt / sub as f64;
            let v = [
                s[0][0] * lin[0] + s[0][1] * lin[1],
                s[1][0] * lin[0] + s[1][1] * lin[1],
            ];
            lin = [lin[0] + h * v[0], lin[1] + h * v[1]];
        }
        let predicted = [(lin[0] - before.0) / dt, (lin[1] - before.1) / dt];
        let err = (measured[0] - predicted[0]).hypot(measured[1] - predicted[1]);
        let size = predicted[0].hypot(predicted[1]);
        println!(
            "δ = ({d_alpha}, {d_ell}) at FP ({:.4}, {:.4}): measured {measured:?}, linearised {predicted:?}",
            fp.alpha, fp.ell
        );
        assert!(
            err <= 0.05 * size,
            "δ = ({d_alpha}, {d_ell}): measured {measured:?} vs linearised {predicted:?}"
        );
    }
}

/// PROTOCOLS.md §8 item 2, with real training: one memory (K = 1) on rows 21 and 81 at the
/// effective temperature 700/2^(1/n), η = 0.005, 5000 epochs, from a pure digit
/// (M = B with ℓ = −1, or M = A with ℓ = +1; L = −1 elsewhere, L[d_B] = −ℓ), lands on
/// the reduced system's outer stable fixed points within 0.01 in α and ℓ.
#[test]
fn full_one_memory_runs_land_on_the_outer_fixed_points() {
    let (d, c) = (ghn_tests::paper200::D, ghn_tests::paper200::C);
    let (da, db) = (1, 4);
    let (x, y) = ghn_tests::paper200::rows(&[21, 81]);
    let (a, b) = (&x[..d], &x[d..]);
    let g = Gram::of(a, b);
    let det = g.aa * g.bb - g.ab * g.ab;
    let dims = Dims::new(2, 1, d, c);
    let mut buf = vec![0.0; dims.scratch_len()];
    for n in [6.0, 20.0, 30.0, 40.0] {
        let t_eff = 700.0 / 2f64.powf(1.0 / n);
        let stable: Vec<_> = Reduced::new(g, n, 700.0, 2, Branch::Plus)
            .unwrap()
            .fixed_points(&SearchOptions::default(), &[])
            .into_iter()
            .filter(|p| p.stable && !p.saturated)
            .collect();
        let params = ParamsBuilder::new()
            .n(n)
            .temperature(t_eff)
            .rate(0.005)
            .build(d)
            .unwrap();
        for (alpha0, ell0) in [(0.0, -1.0), (1.0, 1.0)] {
            let mut m: Vec<f64> = a
                .iter()
                .zip(b)
                .map(|(p, q)| alpha0 * p + (1.0 - alpha0) * q)
                .collect();
            let mut l = vec![-1.0; c];
            l[da] = ell0;
            l[db] = -ell0;
            let (mut vm, mut vl) = (vec![0.0; d], vec![0.0; c]);
            let mut scratch = Scratch::from_buffer(&mut buf, dims).unwrap();
            for _ in 0..5000 {
                let mut st = State {
                    memories: &mut m,
                    labels: &mut l,
                    memory_velocity: &mut vm,
                    label_velocity: &mut vl,
                };
                train_step(&PlainKernel, &params, &x, &y, &mut st, &mut scratch, None).unwrap();
            }
            let (ma, mb): (f64, f64) = (
                m.iter().zip(a).map(|(p, q)| p * q).sum(),
                m.iter().zip(b).map(|(p, q)| p * q).sum(),
            );
            let alpha = (g.bb * ma - g.ab * mb) / det;
            let ell = l[da];
            println!("n = {n}, start α = {alpha0}: landed at ({alpha:.4}, {ell:.4})");
            assert!(
                stable
                    .iter()
                    .any(|p| (p.alpha - alpha).abs() < 0.01 && (p.ell - ell).abs() < 0.01),
                "n = {n} from α = {alpha0}: ({alpha}, {ell}) is not a stable point of {stable:?}"
            );
        }
    }
}
