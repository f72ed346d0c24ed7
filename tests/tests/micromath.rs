//! Accuracy cost of ghn-core's `micromath` feature, measured on the model's outputs.
//!
//! With the feature, f32 `powf`/`tanh`/`exp`/`ln`/`sqrt` are micromath's approximations;
//! f64 keeps libm. The reference here is f64 on the Fig-1 configuration (n = 30,
//! T = 670, the bundled 200 digits, 100 memories near digit prototypes). The numbers
//! printed are the ones quoted in the README; the assertions hold them to those bounds.
//! `cargo test` measures plain (libm) f32; `scripts/test.sh` runs it again with
//! `--features micromath`.

use ghn_core::scalar::F32_USES_MICROMATH;
use ghn_core::{forward, Dims, ParamsBuilder, PlainKernel, Real, Scratch};
use ghn_tests::paper200::{self, C, D};
use ghn_tests::strategies::{cast, run, Owned, Problem};

fn setup() -> Problem {
    let (x, y) = paper200::load();
    let k = 100;
    // Memory μ = 0.8 × sample 2μ plus a weak mixture with its neighbour: overlaps spread
    // over the whole range of a trained network.
    let mut m = vec![0.0; k * D];
    for mu in 0..k {
        for i in 0..D {
            m[mu * D + i] = 0.8 * x[(2 * mu) * D + i] + 0.1 * x[(2 * mu + 1) * D + i];
        }
    }
    let mut l = vec![-1.0; k * C];
    for mu in 0..k {
        l[mu * C + (2 * mu) / 20] = 1.0;
        l[mu * C + (mu * 7) % C] = 0.3;
    }
    Problem {
        dims: Dims::new(200, k, D, C),
        x,
        y,
        m,
        l,
    }
}

fn outputs<F: Real>(pb: &Problem) -> (Vec<f64>, Vec<f64>) {
    let params = ParamsBuilder::new()
        .n(F::from_f64(30.0))
        .temperature(F::from_f64(670.0))
        .build(D)
        .unwrap();
    let mut buf = vec![F::ZERO; pb.dims.scratch_len()];
    let mut s = Scratch::from_buffer(&mut buf, pb.dims).unwrap();
    let (x, m, l) = (cast::<F>(&pb.x), cast::<F>(&pb.m), cast::<F>(&pb.l));
    forward(&PlainKernel, &params, &x, &m, &l, &mut s).unwrap();
    (
        s.activations().iter().map(|v| v.to_f64()).collect(),
        s.outputs().iter().map(|v| v.to_f64()).collect(),
    )
}

#[test]
fn micromath_accuracy_on_model_outputs() {
    let pb = setup();
    let (a64, o64) = outputs::<f64>(&pb);
    let (a32, o32) = outputs::<f32>(&pb);
    // Relative error of the activations that matter (a > 1e-3 of the largest); the
    // median over them says what is typical.
    let amax = a64.iter().fold(0.0f64, |m, v| m.max(*v));
    let mut rel: Vec<f64> = a64
        .iter()
        .zip(&a32)
        .filter(|(r, _)| **r > 1e-3 * amax)
        .map(|(r, v)| ((v - r) / r).abs())
        .collect();
    rel.sort_by(f64::total_cmp);
    let rel_a = *rel.last().unwrap();
    let rel_med = rel[rel.len() / 2];
    let abs_o = o64
        .iter()
        .zip(&o32)
        .map(|(r, v)| (v - r).abs())
        .fold(0.0f64, f64::max);
    let agree = o64
        .chunks(C)
        .zip(o32.chunks(C))
        .filter(|(r, v)| ghn_core::predict(r) == ghn_core::predict(v))
        .count();

    // 20 training steps from the same state: largest memory and label deviation.
    let params64 = ParamsBuilder::new()
        .n(30.0)
        .temperature(670.0)
        .build(D)
        .unwrap();
    let params32 = ParamsBuilder::new()
        .n(30.0f32)
        .temperature(670.0)
        .build(D)
        .unwrap();
    let (mut s64, mut s32) = (
        Owned::<f64>::from_problem(&pb),
        Owned::<f32>::from_problem(&pb),
    );
    run(&pb, &params64, &mut s64, 20, |_, _| {});
    run(&pb, &params32, &mut s32, 20, |_, _| {});
    let dm = s64
        .m
        .iter()
        .zip(&s32.m)
        .map(|(a, b)| (a - *b as f64).abs())
        .fold(0.0, f64::max);

    let mode = if F32_USES_MICROMATH {
        "micromath"
    } else {
        "libm"
    };
    println!(
        "{mode} f32 vs libm f64 (n=30, T=670, K=100, 200 digits): activations ({} above 1e-3 of max) rel. error median {rel_med:.2e} max {rel_a:.2e}, \
         outputs max abs. error {abs_o:.2e}, predictions agree {agree}/200, memories after 20 steps max |ΔM| {dm:.2e}",
        rel.len()
    );
    // Bounds a little above the figures measured and quoted in the README.
    let (max_rel_a, max_abs_o, max_dm) = if F32_USES_MICROMATH {
        (1e-2, 5e-3, 5e-3)
    } else {
        (5e-4, 5e-4, 5e-3)
    };
    assert!(rel_a < max_rel_a, "{mode}: activation error {rel_a}");
    assert!(abs_o < max_abs_o, "{mode}: output error {abs_o}");
    assert_eq!(agree, 200, "{mode}: predictions differ from f64");
    assert!(dm < max_dm, "{mode}: training deviation {dm}");
}
