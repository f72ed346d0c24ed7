//! The paper's elementary event on a microcontroller: two memories trained on two digits
//! converge to a saddle of the full dynamics (a stable fixed point of the reduced
//! two-memory system) and then split (PROTOCOLS.md §7, Fig 6b).
//!
//! Board-independent: the application takes an [`OutputPin`] (toggled at each report, held
//! on from the split), a [`DelayNs`] and a counter of executed instructions; the board
//! supplies them (`main.rs` does for QEMU's mps2-an386). The math is ghn-core's, in f32
//! with libm (or micromath with the `fast-math` feature); the reduced system is solved in
//! f64 (soft-float on the M4F), once.
#![no_std]
#![deny(missing_docs)]

pub mod digits;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::OutputPin;
use ghn_core::reduced::{Branch, FixedPoint, Gram, Reduced, SearchOptions};
use ghn_core::{train_step, Dims, Network, Params, ParamsBuilder, PlainKernel, Scratch};

/// Memories.
pub const K: usize = 2;
/// Pixels per digit.
pub const D: usize = digits::PIXELS;
/// Classes.
pub const C: usize = 10;
/// Training samples (A and B).
pub const P: usize = 2;
/// Work-buffer length of one step.
pub const SCRATCH: usize = Dims::new(P, K, D, C).scratch_len();

/// The Fig 6b protocol (PROTOCOLS.md §7).
#[derive(Clone, Copy, Debug, PartialEq, defmt::Format)]
pub struct Protocol {
    /// Power n (m = n).
    pub n: f32,
    /// Absolute temperature T.
    pub temperature: f32,
    /// Learning rate.
    pub rate: f32,
    /// Centre of the symmetric perturbation: α.
    pub alpha: f32,
    /// Centre of the symmetric perturbation: ℓ.
    pub ell: f32,
    /// Size of the perturbation δ.
    pub delta: f32,
    /// Epochs.
    pub epochs: u32,
    /// Report every this many epochs.
    pub report_every: u32,
    /// The memories have split once |δα| exceeds this.
    pub split_threshold: f32,
}

/// The paper's Fig 6b run: K = 2, T = 700, n = 20, η = 0.001, (α, ℓ) = (0.4, 0.5),
/// δ = 10⁻³, 1000 epochs.
pub const FIG6B: Protocol = Protocol {
    n: 20.0,
    temperature: 700.0,
    rate: 0.001,
    alpha: 0.4,
    ell: 0.5,
    delta: 1e-3,
    epochs: 1000,
    report_every: 10,
    split_threshold: 0.01,
};

/// The pair's state in the reduced coordinates: memory μ = (α ± δα)A + …, label of A's
/// class ℓ ± δℓ.
#[derive(Clone, Copy, Debug, Default, PartialEq, defmt::Format)]
pub struct PairState {
    /// Mean α of the two memories.
    pub alpha: f32,
    /// Half their difference.
    pub delta_alpha: f32,
    /// Mean label of A's class.
    pub ell: f32,
    /// Half the difference of those labels.
    pub delta_ell: f32,
}

/// What a run found.
#[derive(Clone, Copy, Debug, PartialEq, defmt::Format)]
pub struct Outcome {
    /// First epoch with |δα| above the protocol's threshold, if the memories split.
    pub split_epoch: Option<u32>,
    /// Epoch of the pre-split state: where the pair moved slowest before the split (its
    /// closest approach to the saddle).
    pub pre_split_epoch: u32,
    /// The pre-split state.
    pub pre_split: PairState,
    /// The reduced system's stable fixed point nearest to the pre-split state.
    pub predicted: Option<FixedPoint<f64>>,
    /// |Δα| + |Δℓ| between the pre-split state and the predicted fixed point.
    pub distance: f32,
    /// Final (α, ℓ) of each memory.
    pub final_memories: [(f32, f32); K],
    /// Instructions per epoch, as counted by the board.
    pub instructions_per_epoch: u64,
}

/// Errors of a run.
#[derive(Clone, Copy, Debug, PartialEq, defmt::Format)]
pub enum AppError {
    /// The protocol's parameters were rejected.
    Params(ghn_core::ParamError),
    /// A buffer had the wrong size (a build error, reported rather than hidden).
    Shape,
    /// The reduced system could not be built.
    Reduced,
}

/// Where the network and the work buffers live (a `static` on the board).
pub struct Buffers {
    /// Memories, labels and momentum buffers.
    pub net: Network<f32, K, D, C>,
    /// Work buffers of one step.
    pub scratch: [f32; SCRATCH],
}

impl Buffers {
    /// Zeroed buffers (usable in a `static` initialiser).
    pub const fn new() -> Self {
        Buffers {
            net: Network::zeroed(),
            scratch: [0.0; SCRATCH],
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

/// The Gram entries of A and B, from the stored bytes in f64 (exactly as the host computes
/// them from its f64 pixels).
pub fn gram() -> Gram<f64> {
    let (mut aa, mut ab, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&a, &b) in digits::A_BYTES.iter().zip(digits::B_BYTES.iter()) {
        let (a, b) = (digits::pixel_f64(a), digits::pixel_f64(b));
        aa += a * a;
        ab += a * b;
        bb += b * b;
    }
    Gram { aa, ab, bb }
}

/// Sets the Fig 6b initial state: M₀ = (α+δ)A + (1−|α+δ|)B, M₁ = (α−δ)A + (1−|α−δ|)B,
/// L = −1 except L₀[d_A] = ℓ+δ, L₀[d_B] = −(ℓ−δ), L₁[d_A] = ℓ−δ, L₁[d_B] = −(ℓ+δ).
/// Computed in f64 and rounded once, as the host does for an f32 run.
pub fn initialise(p: &Protocol, net: &mut Network<f32, K, D, C>) {
    let (alpha, ell, delta) = (p.alpha as f64, p.ell as f64, p.delta as f64);
    let (da, db) = (digits::CLASS_A as usize, digits::CLASS_B as usize);
    for (mu, s) in [1.0f64, -1.0].into_iter().enumerate() {
        let w = alpha + s * delta;
        let v = 1.0 - libm::fabs(w);
        for (i, m) in net.memories[mu].iter_mut().enumerate() {
            let (a, b) = (
                digits::pixel_f64(digits::A_BYTES[i]),
                digits::pixel_f64(digits::B_BYTES[i]),
            );
            *m = (w * a + v * b) as f32;
        }
        net.labels[mu].fill(-1.0);
        net.labels[mu][da] = (ell + s * delta) as f32;
        net.labels[mu][db] = (-(ell - s * delta)) as f32;
    }
    // Filled in place: `= [[0.0; D]; K]` builds a 3 KB row on the stack first at opt-level z.
    net.memory_velocity.as_flattened_mut().fill(0.0);
    net.label_velocity.as_flattened_mut().fill(0.0);
}

/// α of each memory: its coefficient of A in the least-squares fit M ≈ αA + βB (overlaps
/// summed in f32 on the FPU, the 2×2 solve in f64).
pub fn alphas(net: &Network<f32, K, D, C>, g: &Gram<f64>) -> [f64; K] {
    let det = g.aa * g.bb - g.ab * g.ab;
    let mut out = [0.0; K];
    for (o, m) in out.iter_mut().zip(net.memories.iter()) {
        let (mut ma, mut mb) = (0.0f32, 0.0f32);
        for ((&x, &a), &b) in m
            .iter()
            .zip(digits::SAMPLES[0].iter())
            .zip(digits::SAMPLES[1].iter())
        {
            ma += x * a;
            mb += x * b;
        }
        *o = (g.bb * ma as f64 - g.ab * mb as f64) / det;
    }
    out
}

/// The pair's reduced coordinates.
pub fn pair_state(net: &Network<f32, K, D, C>, g: &Gram<f64>) -> PairState {
    let a = alphas(net, g);
    let da = digits::CLASS_A as usize;
    let (l0, l1) = (net.labels[0][da] as f64, net.labels[1][da] as f64);
    PairState {
        alpha: ((a[0] + a[1]) / 2.0) as f32,
        delta_alpha: ((a[0] - a[1]) / 2.0) as f32,
        ell: ((l0 + l1) / 2.0) as f32,
        delta_ell: ((l0 - l1) / 2.0) as f32,
    }
}

/// The model's parameters for `p`.
pub fn params(p: &Protocol) -> Result<Params<f32>, AppError> {
    ParamsBuilder::new()
        .n(p.n)
        .temperature(p.temperature)
        .rate(p.rate)
        .build(D)
        .map_err(AppError::Params)
}

/// The reduced system for the protocol's pair: K identical memories at T (effective
/// temperature T/K^(1/n)), on the branch β = 1 − |α| of the figures.
pub fn reduced_system(p: &Protocol, g: Gram<f64>) -> Result<Reduced<f64>, AppError> {
    Reduced::new(g, p.n as f64, p.temperature as f64, K, Branch::Plus)
        .map_err(|_| AppError::Reduced)
}

/// Solves the reduced system, logs its stable fixed points and returns the one nearest
/// to `pre` with its distance |Δα| + |Δℓ|.
///
/// Not inlined: the search's locals (a 1 KB list of fixed points, scan rows, the quadtree
/// stack) would otherwise be merged into the caller's frame and stay on the stack during
/// training too (measured: 5.3 KB frame for `run`).
#[inline(never)]
pub fn predict(
    p: &Protocol,
    g: Gram<f64>,
    pre: &PairState,
) -> Result<(Option<FixedPoint<f64>>, f32), AppError> {
    let mut fps = reduced_system(p, g)?.fixed_points(&SearchOptions::default(), &[]);
    fps.retain(|f| f.stable);
    for f in fps.iter() {
        defmt::info!(
            "reduced: stable fixed point alpha={=f64} beta={=f64} ell={=f64}",
            f.alpha,
            f.beta,
            f.ell
        );
    }
    let dist = |f: &FixedPoint<f64>| {
        libm::fabs(f.alpha - pre.alpha as f64) + libm::fabs(f.ell - pre.ell as f64)
    };
    let predicted = fps
        .iter()
        .copied()
        .min_by(|x, y| dist(x).total_cmp(&dist(y)));
    let distance = predicted.map_or(f32::INFINITY, |f| dist(&f) as f32);
    match predicted {
        Some(f) => defmt::info!(
            "predicted: alpha={=f64} ell={=f64} distance={=f32}",
            f.alpha,
            f.ell,
            distance
        ),
        None => defmt::warn!("predicted: no stable fixed point"),
    }
    Ok((predicted, distance))
}

/// Runs the protocol: logs the configuration, a report every `report_every` epochs, the
/// split, the final memories and the comparison with the reduced theory.
///
/// `instructions` returns a running count of executed instructions (the board's clock).
pub fn run<Pin: OutputPin, Dl: DelayNs>(
    p: &Protocol,
    bufs: &mut Buffers,
    pin: &mut Pin,
    delay: &mut Dl,
    mut instructions: impl FnMut() -> u64,
) -> Result<Outcome, AppError> {
    let params = params(p)?;
    let g = gram();
    defmt::info!(
        "config: K={=usize} D={=usize} n={=f32} T={=f32} rate={=f32} alpha0={=f32} ell0={=f32} delta={=f32} epochs={=u32} report_every={=u32} split_threshold={=f32} fast_math={=bool}",
        K, D, p.n, p.temperature, p.rate, p.alpha, p.ell, p.delta, p.epochs, p.report_every,
        p.split_threshold, cfg!(feature = "fast-math")
    );
    defmt::info!(
        "digits: A class {=u8} byte sum {=u32}, B class {=u8} byte sum {=u32}; gram aa={=f64} ab={=f64} bb={=f64}",
        digits::CLASS_A,
        digits::byte_sum(&digits::A_BYTES),
        digits::CLASS_B,
        digits::byte_sum(&digits::B_BYTES),
        g.aa,
        g.ab,
        g.bb
    );

    initialise(p, &mut bufs.net);
    let dims = Dims::new(P, K, D, C);
    let mut scratch = Scratch::from_buffer(&mut bufs.scratch, dims).map_err(|_| AppError::Shape)?;
    let mut prev = pair_state(&bufs.net, &g);
    let mut slowest = (f32::INFINITY, 0u32, prev);
    let mut split_epoch = None;
    let mut led = false;
    let start = instructions();
    let mut compute = 0u64;
    for epoch in 1..=p.epochs {
        let t0 = instructions();
        let report = train_step(
            &PlainKernel,
            &params,
            digits::SAMPLES.as_flattened(),
            digits::TARGETS.as_flattened(),
            &mut bufs.net.state(),
            &mut scratch,
            None,
        )
        .map_err(|_| AppError::Shape)?;
        compute += instructions() - t0;
        let s = pair_state(&bufs.net, &g);
        if split_epoch.is_none() {
            if libm::fabsf(s.delta_alpha) > p.split_threshold {
                split_epoch = Some(epoch);
                defmt::info!(
                    "split: epoch={=u32} alpha={=f32} dalpha={=f32} ell={=f32} dell={=f32}",
                    epoch,
                    s.alpha,
                    s.delta_alpha,
                    s.ell,
                    s.delta_ell
                );
                // Held on from the split.
                let _ = pin.set_high();
                led = true;
                delay.delay_us(100);
            } else {
                let speed = libm::fabsf(s.alpha - prev.alpha) + libm::fabsf(s.ell - prev.ell);
                if speed < slowest.0 {
                    slowest = (speed, epoch, s);
                }
            }
        }
        prev = s;
        if epoch % p.report_every == 0 {
            defmt::info!(
                "epoch={=u32} alpha={=f32} dalpha={=f32} ell={=f32} dell={=f32} cost={=f32}",
                epoch,
                s.alpha,
                s.delta_alpha,
                s.ell,
                s.delta_ell,
                report.cost as f32
            );
            if split_epoch.is_none() {
                led = !led;
                let _ = if led { pin.set_high() } else { pin.set_low() };
            }
        }
    }
    let total = instructions() - start;
    let a = alphas(&bufs.net, &g);
    let da = digits::CLASS_A as usize;
    let final_memories = [
        (a[0] as f32, bufs.net.labels[0][da]),
        (a[1] as f32, bufs.net.labels[1][da]),
    ];
    for (mu, (alpha, ell)) in final_memories.iter().enumerate() {
        defmt::info!(
            "final: memory={=usize} alpha={=f32} ell={=f32}",
            mu,
            alpha,
            ell
        );
    }
    let (_, pre_epoch, pre) = slowest;
    defmt::info!(
        "pre-split: epoch={=u32} alpha={=f32} ell={=f32} dalpha={=f32} dell={=f32}",
        pre_epoch,
        pre.alpha,
        pre.ell,
        pre.delta_alpha,
        pre.delta_ell
    );

    let t0 = instructions();
    let (predicted, distance) = predict(p, g, &pre)?;
    let solve = instructions() - t0;
    let per_epoch = compute / p.epochs.max(1) as u64;
    defmt::info!(
        "instructions: per_epoch={=u64} training_total={=u64} reduced_solve={=u64}",
        per_epoch,
        total,
        solve
    );
    match split_epoch {
        Some(e) => defmt::info!("done: split at epoch {=u32}", e),
        None => defmt::info!("done: no split"),
    }
    Ok(Outcome {
        split_epoch,
        pre_split_epoch: pre_epoch,
        pre_split: pre,
        predicted,
        distance,
        final_memories,
        instructions_per_epoch: per_epoch,
    })
}
