//! Proptest strategies shared by every property, one per kind of value, and the
//! deterministic runner configuration (fixed seed, no persistence files).

use ghn_core::{Dims, MemoryBound, Params, ParamsBuilder, PlainKernel, Real, Scratch, State};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};
use std::ops::RangeInclusive;

/// Fixed seed of every property run: failures reproduce and shrink the same way each time.
pub const SEED: u64 = 0x6768_6e2d_636f_7265;

/// The runner configuration: `cases` cases (default 256, or `PROPTEST_CASES`), a fixed
/// ChaCha seed, no regression files.
pub fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(SEED),
        failure_persistence: None,
        ..Config::default()
    }
}

/// A training problem: a batch and a network, in f64.
#[derive(Clone, Debug)]
pub struct Problem {
    /// Sizes.
    pub dims: Dims,
    /// Samples, P×D, in [−1, 1].
    pub x: Vec<f64>,
    /// ±1 one-hot targets, P×C.
    pub y: Vec<f64>,
    /// Memories, K×D, in [−1, 1].
    pub m: Vec<f64>,
    /// Labels, K×C, in [−1, 1].
    pub l: Vec<f64>,
}

/// One-hot ±1 targets for the given classes.
pub fn one_hot(classes: &[usize], c: usize) -> Vec<f64> {
    let mut y = vec![-1.0; classes.len() * c];
    for (p, &k) in classes.iter().enumerate() {
        y[p * c + k] = 1.0;
    }
    y
}

/// Problems with sizes drawn from the given ranges and every value uniform in [−1, 1].
pub fn problem(
    p: RangeInclusive<usize>,
    k: RangeInclusive<usize>,
    d: RangeInclusive<usize>,
    c: RangeInclusive<usize>,
) -> impl Strategy<Value = Problem> {
    (p, k, d, c).prop_flat_map(|(p, k, d, c)| {
        (
            prop::collection::vec(-1.0f64..=1.0, p * d),
            prop::collection::vec(0..c, p),
            prop::collection::vec(-1.0f64..=1.0, k * d),
            prop::collection::vec(-1.0f64..=1.0, k * c),
        )
            .prop_map(move |(x, classes, m, l)| Problem {
                dims: Dims::new(p, k, d, c),
                y: one_hot(&classes, c),
                x,
                m,
                l,
            })
    })
}

/// Problems at the extremes of the model's range: pixels mostly ±1 and some memories
/// equal to samples (overlap up to D), which drives activations to their largest values.
pub fn extreme_problem(
    p: RangeInclusive<usize>,
    k: RangeInclusive<usize>,
    d: RangeInclusive<usize>,
) -> impl Strategy<Value = Problem> {
    let pixel = prop_oneof![Just(-1.0f64), Just(1.0f64), -1.0f64..=1.0];
    (p, k, d).prop_flat_map(move |(p, k, d)| {
        let c = 10;
        (
            prop::collection::vec(pixel.clone(), p * d),
            prop::collection::vec(0..c, p),
            prop::collection::vec(-1.0f64..=1.0, k * d),
            prop::collection::vec(-1.0f64..=1.0, k * c),
            prop::collection::vec(prop::option::of(0..p), k),
        )
            .prop_map(move |(x, classes, mut m, l, copies)| {
                for (mu, copy) in copies.iter().enumerate() {
                    if let Some(src) = copy {
                        m[mu * d..(mu + 1) * d].copy_from_slice(&x[src * d..(src + 1) * d]);
                    }
                }
                Problem {
                    dims: Dims::new(p, k, d, c),
                    y: one_hot(&classes, c),
                    x,
                    m,
                    l,
                }
            })
    })
}

/// Powers n: integers and non-integers in `range`.
pub fn power(range: RangeInclusive<f64>) -> impl Strategy<Value = f64> {
    let (lo, hi) = (*range.start(), *range.end());
    prop_oneof![
        ((lo.ceil() as u32)..=(hi.floor() as u32)).prop_map(f64::from),
        range,
    ]
}

/// Memory bound modes.
pub fn bound() -> impl Strategy<Value = MemoryBound> {
    prop_oneof![Just(MemoryBound::Rescale), Just(MemoryBound::Clip)]
}

/// Hyper-parameters as plain numbers (converted per precision by [`Hyper::params`]).
#[derive(Clone, Copy, Debug)]
pub struct Hyper {
    /// Power n.
    pub n: f64,
    /// Power m (None: m = n).
    pub m: Option<f64>,
    /// Rescaled temperature.
    pub tr: f64,
    /// Learning rate.
    pub rate: f64,
    /// Momentum.
    pub momentum: f64,
    /// Memory bound.
    pub bound: MemoryBound,
}

impl Hyper {
    /// Validated parameters in precision `F` for `pixels` pixels.
    pub fn params<F: Real>(&self, pixels: usize) -> Params<F> {
        let mut b = ParamsBuilder::new()
            .n(F::from_f64(self.n))
            .rescaled_temperature(F::from_f64(self.tr))
            .rate(F::from_f64(self.rate))
            .momentum(F::from_f64(self.momentum))
            .bound(self.bound);
        if let Some(m) = self.m {
            b = b.m(F::from_f64(m));
        }
        b.build(pixels)
            .expect("strategy produced invalid parameters")
    }
}

/// Hyper-parameters with n from `n`, m = n or independent in [1, 4], T_r in [0.3, 1.5],
/// rate in [1e−3, 0.1], momentum 0 or in [0, 0.9), either bound.
pub fn hyper(n: impl Strategy<Value = f64>) -> impl Strategy<Value = Hyper> {
    (
        n,
        prop::option::of(1.0f64..=4.0),
        0.3f64..=1.5,
        1e-3f64..=0.1,
        prop_oneof![Just(0.0), 0.0f64..0.9],
        bound(),
    )
        .prop_map(|(n, m, tr, rate, momentum, bound)| Hyper {
            n,
            m,
            tr,
            rate,
            momentum,
            bound,
        })
}

/// Owned network state in precision `F`.
#[derive(Clone, Debug, PartialEq)]
pub struct Owned<F> {
    /// Memories (K×D).
    pub m: Vec<F>,
    /// Labels (K×C).
    pub l: Vec<F>,
    /// Memory momentum (K×D).
    pub vm: Vec<F>,
    /// Label momentum (K×C).
    pub vl: Vec<F>,
}

impl<F: Real> Owned<F> {
    /// The problem's memories and labels with zero momentum.
    pub fn from_problem(pb: &Problem) -> Self {
        Owned {
            m: pb.m.iter().map(|&v| F::from_f64(v)).collect(),
            l: pb.l.iter().map(|&v| F::from_f64(v)).collect(),
            vm: vec![F::ZERO; pb.m.len()],
            vl: vec![F::ZERO; pb.l.len()],
        }
    }

    /// Borrowed view for ghn-core's functions.
    pub fn state(&mut self) -> State<'_, F> {
        State {
            memories: &mut self.m,
            labels: &mut self.l,
            memory_velocity: &mut self.vm,
            label_velocity: &mut self.vl,
        }
    }

    /// Every value, in order m, l, vm, vl.
    pub fn values(&self) -> impl Iterator<Item = F> + '_ {
        self.m
            .iter()
            .chain(&self.l)
            .chain(&self.vm)
            .chain(&self.vl)
            .copied()
    }
}

/// Converts a slice of f64 to precision `F`.
pub fn cast<F: Real>(v: &[f64]) -> Vec<F> {
    v.iter().map(|&x| F::from_f64(x)).collect()
}

/// Trains `state` on the problem's batch for `steps` full-batch steps with the plain
/// kernel, calling `each` after every step with the state and the step's cost.
pub fn run<F: Real>(
    pb: &Problem,
    params: &Params<F>,
    state: &mut Owned<F>,
    steps: usize,
    mut each: impl FnMut(&Owned<F>, f64),
) {
    let x = cast::<F>(&pb.x);
    let y = cast::<F>(&pb.y);
    let mut buf = vec![F::ZERO; pb.dims.scratch_len()];
    for _ in 0..steps {
        let mut scratch = Scratch::from_buffer(&mut buf, pb.dims).unwrap();
        let report = ghn_core::train_step(
            &PlainKernel,
            params,
            &x,
            &y,
            &mut state.state(),
            &mut scratch,
            None,
        )
        .unwrap();
        each(state, report.cost);
    }
}

/// Largest absolute difference between two equally long sequences (∞ if a value is NaN).
pub fn max_diff(a: impl IntoIterator<Item = f64>, b: impl IntoIterator<Item = f64>) -> f64 {
    a.into_iter()
        .zip(b)
        .map(|(x, y)| {
            let d = (x - y).abs();
            if d.is_nan() {
                f64::INFINITY
            } else {
                d
            }
        })
        .fold(0.0, f64::max)
}
