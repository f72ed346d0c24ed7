//! Property tests of ghn-core's numerical invariants (at least 256 cases each, fixed seed).

use ghn_core::{cost, forward, gradients, Dims, MemoryBound, Params, PlainKernel, Real, Scratch};
use ghn_tests::strategies::*;
use proptest::prelude::*;

/// Cost of the batch for memories `m` and labels `l` (f64).
fn batch_cost(pb: &Problem, params: &Params<f64>, m: &[f64], l: &[f64]) -> f64 {
    let mut buf = vec![0.0; pb.dims.scratch_len()];
    let mut s = Scratch::from_buffer(&mut buf, pb.dims).unwrap();
    forward(&PlainKernel, params, &pb.x, m, l, &mut s).unwrap();
    cost(s.outputs(), &pb.y, params.m())
}

/// Analytic gradients (∂C/∂M, ∂C/∂L) and the cost.
fn analytic(pb: &Problem, params: &Params<f64>) -> (Vec<f64>, Vec<f64>, f64) {
    let mut buf = vec![0.0; pb.dims.scratch_len()];
    let mut s = Scratch::from_buffer(&mut buf, pb.dims).unwrap();
    let c = gradients(&PlainKernel, params, &pb.x, &pb.y, &pb.m, &pb.l, &mut s).unwrap();
    (s.memory_gradient().to_vec(), s.label_gradient().to_vec(), c)
}

/// Central finite differences of the cost with respect to every entry of `which`.
fn finite_differences(pb: &Problem, params: &Params<f64>, labels: bool) -> Vec<f64> {
    let h = 1e-6;
    let len = if labels { pb.l.len() } else { pb.m.len() };
    (0..len)
        .map(|i| {
            let (mut m, mut l) = (pb.m.clone(), pb.l.clone());
            let v = if labels { &mut l } else { &mut m };
            let orig = v[i];
            v[i] = orig + h;
            let up = batch_cost(pb, params, &m, &l);
            let (mut m, mut l) = (pb.m.clone(), pb.l.clone());
            let v = if labels { &mut l } else { &mut m };
            v[i] = orig - h;
            let down = batch_cost(pb, params, &m, &l);
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// Whether any overlap is so close to the kink at 0 that a finite difference straddles it.
fn near_kink(pb: &Problem) -> bool {
    let Dims {
        samples: p,
        memories: k,
        pixels: d,
        ..
    } = pb.dims;
    (0..p).any(|i| {
        (0..k).any(|mu| {
            let h: f64 = (0..d).map(|j| pb.x[i * d + j] * pb.m[mu * d + j]).sum();
            h.abs() < 1e-4
        })
    })
}

proptest! {
    #![proptest_config(config())]

    /// 1. Analytic gradients equal central finite differences of the cost (f64), for
    ///    integer and non-integer n ≥ 1.5 and m ≠ n.
    #[test]
    fn gradients_match_finite_differences(
        pb in problem(1..=4, 1..=3, 1..=8, 2..=4),
        hy in hyper(power(1.5..=6.0)),
    ) {
        prop_assume!(!near_kink(&pb));
        let params = hy.params::<f64>(pb.dims.pixels);
        let (gm, gl, cost) = analytic(&pb, &params);
        // Rounding in the cost limits a central difference to ~1e-16·C/h absolute.
        let floor = 1e-7 * cost.max(1.0);
        for (analytic, labels) in [(gm, false), (gl, true)] {
            let fd = finite_differences(&pb, &params, labels);
            let scale = analytic.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
            for (i, (a, f)) in analytic.iter().zip(&fd).enumerate() {
                let err = (a - f).abs() / scale;
                prop_assert!(
                    err < 1e-5 || (a - f).abs() < floor,
                    "{} gradient entry {}: analytic {} vs finite difference {} (relative error {:e})",
                    if labels { "label" } else { "memory" }, i, a, f, err
                );
            }
        }
    }

    /// 2. After every step: max |pixel| ≤ 1 per memory (rescale) or every pixel in [−1, 1]
    ///    (clip — the same statement), and every label in [−1, 1].
    #[test]
    fn bounds_hold_after_every_step(
        pb in problem(1..=6, 1..=5, 1..=20, 2..=10),
        hy in hyper(power(1.0..=40.0)),
    ) {
        let params = hy.params::<f64>(pb.dims.pixels);
        let mut st = Owned::<f64>::from_problem(&pb);
        run(&pb, &params, &mut st, 5, |s, _| {
            for row in s.m.chunks(pb.dims.pixels) {
                let mx = row.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                assert!(mx <= 1.0, "memory max |pixel| {mx} > 1 ({:?})", params.bound());
            }
            assert!(s.l.iter().all(|l| (-1.0..=1.0).contains(l)), "label outside [-1, 1]");
        });
    }

    /// 3. A memory whose gradient row is exactly zero (it overlaps every sample negatively,
    ///    so its activation and its derivative vanish for n > 1) is left unchanged, and
    ///    nothing becomes NaN.
    #[test]
    fn zero_gradient_row_is_frozen(
        pb in problem(1..=6, 2..=5, 1..=20, 2..=10),
        hy in hyper(power(1.1..=40.0)),
        frozen in 0usize..5,
    ) {
        let mut pb = pb;
        let d = pb.dims.pixels;
        let frozen = frozen % pb.dims.memories;
        // Positive samples and a negative memory: every overlap < 0.
        for v in pb.x.iter_mut() { *v = 0.05 + 0.95 * v.abs(); }
        for v in pb.m[frozen * d..(frozen + 1) * d].iter_mut() { *v = -0.05 - 0.95 * v.abs(); }
        let params = hy.params::<f64>(d);
        let (gm, gl, _) = analytic(&pb, &params);
        prop_assert!(gm[frozen * d..(frozen + 1) * d].iter().all(|&g| g == 0.0));
        let c = pb.dims.classes;
        prop_assert!(gl[frozen * c..(frozen + 1) * c].iter().all(|&g| g == 0.0));
        let before = Owned::<f64>::from_problem(&pb);
        let mut st = before.clone();
        run(&pb, &params, &mut st, 3, |_, _| {});
        prop_assert_eq!(&st.m[frozen * d..(frozen + 1) * d], &before.m[frozen * d..(frozen + 1) * d]);
        prop_assert_eq!(&st.l[frozen * c..(frozen + 1) * c], &before.l[frozen * c..(frozen + 1) * c]);
        prop_assert!(st.values().all(f64::is_finite));
    }

    /// 4. No NaN or infinity anywhere (state, outputs, cost) for n up to 80, T_r in
    ///    [0.3, 1.5], D up to 784, inputs in [−1, 1], in f32 and in f64.
    #[test]
    fn no_nan_or_infinity(
        pb in extreme_problem(1..=6, 1..=6, 1..=784),
        hy in hyper(power(1.0..=80.0)),
    ) {
        fn check<F: Real>(pb: &Problem, hy: &Hyper) -> Result<(), TestCaseError> {
            let params = hy.params::<F>(pb.dims.pixels);
            let mut st = Owned::<F>::from_problem(pb);
            let mut bad = None;
            run(pb, &params, &mut st, 3, |s, c| {
                if bad.is_none() && (!c.is_finite() || !s.values().all(|v| v.is_finite())) {
                    bad = Some(c);
                }
            });
            prop_assert!(bad.is_none(), "non-finite value in {} (cost {:?})", F::NAME, bad);
            let mut buf = vec![F::ZERO; pb.dims.scratch_len()];
            let mut s = Scratch::from_buffer(&mut buf, pb.dims).unwrap();
            let x = cast::<F>(&pb.x);
            forward(&PlainKernel, &params, &x, &st.m, &st.l, &mut s).unwrap();
            prop_assert!(s.outputs().iter().chain(s.activations()).all(|v| v.is_finite()));
            Ok(())
        }
        check::<f64>(&pb, &hy)?;
        check::<f32>(&pb, &hy)?;
    }

    /// 5. Permuting the memories (rows of M and L together) permutes the result of a step.
    #[test]
    fn permutation_equivariance(
        pb in problem(1..=6, 2..=6, 1..=20, 2..=10),
        hy in hyper(power(1.0..=30.0)),
        perm_seed in any::<u64>(),
    ) {
        let (k, d, c) = (pb.dims.memories, pb.dims.pixels, pb.dims.classes);
        let mut perm: Vec<usize> = (0..k).collect();
        // Fisher–Yates with a simple LCG from the drawn seed.
        let mut s = perm_seed;
        for i in (1..k).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (s >> 33) as usize % (i + 1));
        }
        let permute = |v: &[f64], cols: usize| -> Vec<f64> {
            perm.iter().flat_map(|&src| v[src * cols..(src + 1) * cols].to_vec()).collect()
        };
        let params = hy.params::<f64>(d);
        let mut a = Owned::<f64>::from_problem(&pb);
        let mut pbp = pb.clone();
        pbp.m = permute(&pb.m, d);
        pbp.l = permute(&pb.l, c);
        let mut b = Owned::<f64>::from_problem(&pbp);
        run(&pb, &params, &mut a, 2, |_, _| {});
        run(&pbp, &params, &mut b, 2, |_, _| {});
        let tol = 1e-10;
        prop_assert!(max_diff(permute(&a.m, d), b.m.clone()) <= tol);
        prop_assert!(max_diff(permute(&a.l, c), b.l.clone()) <= tol);
        prop_assert!(max_diff(permute(&a.vm, d), b.vm.clone()) <= tol);
        prop_assert!(max_diff(permute(&a.vl, c), b.vl.clone()) <= tol);
    }

    /// 6. K identical memories with identical labels at temperature T follow the trajectory
    ///    of one memory at T/K^(1/n) (to 1e−9 over 20 steps), and stay bitwise identical.
    #[test]
    fn identical_memories_follow_effective_temperature(
        pb in problem(1..=6, 1..=1, 1..=20, 2..=10),
        hy in hyper(power(1.0..=40.0)),
        copies in 2usize..=5,
    ) {
        let (d, c) = (pb.dims.pixels, pb.dims.classes);
        let single = hy.params::<f64>(d);
        let t_eff = ghn_core::effective_temperature(single.temperature(), copies, single.n());
        let single = single.with_temperature(t_eff).unwrap();
        let many = hy.params::<f64>(d);
        let mut one = Owned::<f64>::from_problem(&pb);
        let mut pbk = pb.clone();
        pbk.dims.memories = copies;
        pbk.m = pb.m.repeat(copies);
        pbk.l = pb.l.repeat(copies);
        let mut k = Owned::<f64>::from_problem(&pbk);
        let mut traj = Vec::new();
        run(&pb, &single, &mut one, 20, |s, _| traj.push(s.clone()));
        let mut step = 0;
        run(&pbk, &many, &mut k, 20, |s, _| {
            for mu in 0..copies {
                assert_eq!(&s.m[mu * d..(mu + 1) * d], &s.m[..d], "copies diverged");
                assert_eq!(&s.l[mu * c..(mu + 1) * c], &s.l[..c], "copies diverged");
            }
            let dm = max_diff(s.m[..d].iter().copied(), traj[step].m.iter().copied());
            let dl = max_diff(s.l[..c].iter().copied(), traj[step].l.iter().copied());
            assert!(dm <= 1e-9 && dl <= 1e-9, "step {step}: |ΔM| {dm:e}, |ΔL| {dl:e}");
            step += 1;
        });
    }

    /// 7. f32 and f64 agree over a short run (10 steps): every memory pixel and label
    ///    within 1e−3 (the stated tolerance; typical differences are ~1e−6).
    #[test]
    fn f32_agrees_with_f64(
        pb in problem(1..=6, 1..=5, 1..=40, 2..=10),
        hy in hyper(power(1.5..=8.0)),
    ) {
        let mut hy = hy;
        hy.m = None;
        let mut a = Owned::<f64>::from_problem(&pb);
        let mut b = Owned::<f32>::from_problem(&pb);
        run(&pb, &hy.params::<f64>(pb.dims.pixels), &mut a, 10, |_, _| {});
        run(&pb, &hy.params::<f32>(pb.dims.pixels), &mut b, 10, |_, _| {});
        let dm = max_diff(a.m.iter().copied(), b.m.iter().map(|&v| v as f64));
        let dl = max_diff(a.l.iter().copied(), b.l.iter().map(|&v| v as f64));
        prop_assert!(dm <= 1e-3 && dl <= 1e-3, "|ΔM| {dm:e}, |ΔL| {dl:e}");
    }
}

/// Clip mode keeps every pixel in [−1, 1] but does not rescale rows; rescale mode divides
/// a row by its max |pixel| only when that exceeds 1.
#[test]
fn memory_bound_modes() {
    let mut m = vec![0.5, 2.0, -4.0, 0.25, 0.5, -0.75];
    ghn_core::bound_memories(&mut m, 3, MemoryBound::Rescale);
    assert_eq!(m, vec![0.125, 0.5, -1.0, 0.25, 0.5, -0.75]);
    let mut m = vec![0.5, 2.0, -4.0, 0.25, 0.5, -0.75];
    ghn_core::bound_memories(&mut m, 3, MemoryBound::Clip);
    assert_eq!(m, vec![0.5, 1.0, -1.0, 0.25, 0.5, -0.75]);
}
