//! Small examples checked against values computed by hand, and parameter validation.

use ghn_core::{
    gradients, predict, train_step, Dims, MemoryBound, Network, ParamError, ParamsBuilder,
    PlainKernel, Scratch, ShapeError, State, Trainer,
};

/// One sample x = (1, 0.5), one memory M = (0.5, 0.5), labels L = (0.2, −0.1), T = 0.5,
/// n = 2, m = 1, target class 0. By hand: h = 0.75, r = 1.5, a = 2.25,
/// o = (tanh 0.45, tanh −0.225), e = o − (1, −1), q_c = e_c(1 − o_c²),
/// ∂C/∂L_c = 2·a·q_c, ∂C/∂M_i = 2·n·m·(Σ_c q_c L_c)·(r/T)·x_i.
#[test]
fn hand_computed_gradients() {
    let params = ParamsBuilder::new()
        .n(2.0)
        .m(1.0)
        .temperature(0.5)
        .rate(0.125)
        .build(2)
        .unwrap();
    let dims = Dims::new(1, 1, 2, 2);
    let (x, y) = ([1.0f64, 0.5], [1.0f64, -1.0]);
    let (m, l) = ([0.5f64, 0.5], [0.2f64, -0.1]);
    let mut buf = vec![0.0; dims.scratch_len()];
    let mut s = Scratch::from_buffer(&mut buf, dims).unwrap();
    let cost = gradients(&PlainKernel, &params, &x, &y, &m, &l, &mut s).unwrap();

    let (o0, o1) = (0.45f64.tanh(), (-0.225f64).tanh());
    assert!((s.activations()[0] - 2.25).abs() < 1e-15);
    assert!((s.outputs()[0] - o0).abs() < 1e-15 && (s.outputs()[1] - o1).abs() < 1e-15);
    let (e0, e1) = (o0 - 1.0, o1 + 1.0);
    assert!((cost - (e0 * e0 + e1 * e1)).abs() < 1e-14);
    let (q0, q1) = (e0 * (1.0 - o0 * o0), e1 * (1.0 - o1 * o1));
    let gl = s.label_gradient();
    assert!((gl[0] - 2.0 * 2.25 * q0).abs() < 1e-14);
    assert!((gl[1] - 2.0 * 2.25 * q1).abs() < 1e-14);
    let coef = 2.0 * 2.0 * 1.0 * (q0 * 0.2 + q1 * -0.1) * (1.5 / 0.5);
    let gm = s.memory_gradient();
    assert!((gm[0] - coef).abs() < 1e-14 && (gm[1] - coef * 0.5).abs() < 1e-14);
    // The numbers themselves, worked out on paper: q0 ≈ −0.475200, q1 ≈ 0.740592.
    assert!((q0 + 0.475200).abs() < 1e-6 && (q1 - 0.740592).abs() < 1e-6);
}

/// The same example through one update step (momentum 0, η = 1/8). The memory gradient is
/// a negative multiple of x = (1, 0.5), so the normalised step moves M by +η along
/// (1, 0.5): M = (0.625, 0.5625) exactly. The label gradient (2a·q0, 2a·q1) has its
/// largest magnitude at class 1, so L = (0.2 + η·|q0|/q1, −0.1 − η).
#[test]
fn hand_computed_step() {
    let params = ParamsBuilder::new()
        .n(2.0)
        .m(1.0)
        .temperature(0.5)
        .rate(0.125)
        .build(2)
        .unwrap();
    let dims = Dims::new(1, 1, 2, 2);
    let (x, y) = ([1.0, 0.5], [1.0, -1.0]);
    let (mut m, mut l, mut vm, mut vl) = ([0.5f64, 0.5], [0.2f64, -0.1], [0.0f64; 2], [0.0f64; 2]);
    let mut buf = vec![0.0; dims.scratch_len()];
    let mut s = Scratch::from_buffer(&mut buf, dims).unwrap();
    let mut st = State {
        memories: &mut m,
        labels: &mut l,
        memory_velocity: &mut vm,
        label_velocity: &mut vl,
    };
    train_step(&PlainKernel, &params, &x, &y, &mut st, &mut s, None).unwrap();
    assert_eq!(m, [0.625, 0.5625]);
    assert_eq!(vm, [1.0, 0.5]);
    assert!((l[0] - (0.2 + 0.125 * 0.475200 / 0.740592)).abs() < 1e-6);
    assert_eq!(l[1], -0.1 - 0.125);
}

/// A memory pushed past 1 is rescaled as a whole row, so its shape is kept.
#[test]
fn rescale_keeps_shape_clip_does_not() {
    // x = (1, 1): both pixels get the same gradient, one step of η = 0.5 from (0.9, 0.1)
    // goes to (1.4, 0.6) before the bound.
    for (bound, expected) in [
        (MemoryBound::Rescale, [1.0, 0.6 / 1.4]),
        (MemoryBound::Clip, [1.0, 0.6]),
    ] {
        let params = ParamsBuilder::new()
            .n(2.0)
            .temperature(1.0)
            .rate(0.5)
            .bound(bound)
            .build(2)
            .unwrap();
        let mut net: Network<f64, 1, 2, 2> = Network::zeroed();
        net.memories = [[0.9, 0.1]];
        net.labels = [[0.5, -0.5]];
        let mut tr: Trainer<f64, 1, 1, 2, 2> = Trainer::new();
        tr.push([1.0, 1.0], 0).unwrap();
        tr.step(&PlainKernel, &params, &mut net, None).unwrap();
        assert!(
            (net.memories[0][0] - expected[0]).abs() < 1e-15,
            "{bound:?}"
        );
        assert!(
            (net.memories[0][1] - expected[1]).abs() < 1e-15,
            "{bound:?}"
        );
    }
}

#[test]
fn trainer_capacity_and_prediction() {
    let mut tr: Trainer<f32, 2, 1, 3, 4> = Trainer::new();
    assert!(
        tr.push([0.0; 3], 4).is_err(),
        "class 4 of 4 must be refused"
    );
    tr.push([1.0, 0.0, 0.0], 2).unwrap();
    tr.push([0.0, 1.0, 0.0], 1).unwrap();
    assert_eq!(
        tr.push([0.5; 3], 0),
        Err([0.5; 3]),
        "full trainer hands the sample back"
    );
    let params = ParamsBuilder::new()
        .n(1.0)
        .temperature(1.0)
        .build(3)
        .unwrap();
    let mut net: Network<f32, 1, 3, 4> = Network::zeroed();
    net.memories = [[1.0, 0.5, 0.0]];
    net.labels = [[-1.0, -0.5, 1.0, -1.0]];
    let out = tr.outputs(&PlainKernel, &params, &net).unwrap();
    assert_eq!(predict(&out[0]), 2);
    assert_eq!(predict(&out[1]), 2);
    assert_eq!(
        predict(&[0.5f32, 0.5, 0.1]),
        0,
        "ties go to the first index"
    );
}

#[test]
fn invalid_parameters_are_typed_errors() {
    let b = ParamsBuilder::<f64>::new();
    assert_eq!(b.n(0.0).build(784), Err(ParamError::N(0.0)));
    assert_eq!(b.n(-2.0).build(784), Err(ParamError::N(-2.0)));
    assert!(matches!(b.n(f64::NAN).build(784), Err(ParamError::N(_))));
    assert_eq!(b.n(3.0).m(0.5).build(784), Err(ParamError::M(0.5)));
    assert_eq!(b.n(0.5).build(784), Err(ParamError::M(0.5)), "m = n < 1");
    assert_eq!(
        b.temperature(0.0).build(784),
        Err(ParamError::Temperature(0.0))
    );
    assert_eq!(
        b.rescaled_temperature(-1.0).build(784),
        Err(ParamError::RescaledTemperature(-1.0))
    );
    assert_eq!(b.rate(0.0).build(784), Err(ParamError::Rate(0.0)));
    assert_eq!(b.momentum(1.0).build(784), Err(ParamError::Momentum(1.0)));
    assert_eq!(b.momentum(-0.1).build(784), Err(ParamError::Momentum(-0.1)));
    assert_eq!(b.build(0), Err(ParamError::NoPixels));
    assert_eq!(
        ParamError::Rate(-1.0).to_string(),
        "learning rate must be a finite number > 0 (got -1)"
    );
    let p = b.rescaled_temperature(0.85).build(784).unwrap();
    assert!((p.temperature() - 666.4).abs() < 1e-9);
    assert_eq!(p.m(), p.n(), "m defaults to n");
    assert!(p.with_temperature(-1.0).is_err());
}

#[test]
fn wrong_shapes_are_typed_errors() {
    let params = ParamsBuilder::<f64>::new().build(3).unwrap();
    let dims = Dims::new(2, 1, 3, 2);
    let mut buf = vec![0.0; dims.scratch_len() - 1];
    assert_eq!(
        Scratch::from_buffer(&mut buf, dims).unwrap_err(),
        ShapeError {
            buffer: "scratch",
            expected: dims.scratch_len(),
            got: dims.scratch_len() - 1
        }
    );
    let mut buf = vec![0.0; dims.scratch_len()];
    let mut s = Scratch::from_buffer(&mut buf, dims).unwrap();
    let (x, y) = ([0.0; 6], [0.0; 4]);
    let (mut m, mut l, mut vm, mut vl) = ([0.0; 3], [0.0; 2], [0.0; 3], [0.0; 1]);
    let mut st = State {
        memories: &mut m,
        labels: &mut l,
        memory_velocity: &mut vm,
        label_velocity: &mut vl,
    };
    let err = train_step(&PlainKernel, &params, &x, &y, &mut st, &mut s, None).unwrap_err();
    assert_eq!(err.buffer, "label velocity");
    let err = train_step(&PlainKernel, &params, &x[..5], &y, &mut st, &mut s, None);
    assert!(err.is_err());
}

/// The firmware keeps its network and trainer in statics: both build in const context.
static NET: Network<f32, 2, 784, 10> = Network::zeroed();
static TRAINER: Trainer<f32, 2, 2, 784, 10> = Trainer::new();

#[test]
fn fixed_capacity_types_fit_in_a_static() {
    assert_eq!(NET.memories[1][783], 0.0);
    assert!(TRAINER.is_empty());
    assert_eq!(
        core::mem::size_of::<Network<f32, 2, 784, 10>>(),
        4 * 2 * 2 * (784 + 10)
    );
}
