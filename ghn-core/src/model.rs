//! Dimensions, buffers and the forward pass.
//!
//! The model (PROTOCOLS.md §1): K memories M (K×D) with labels L (K×C). For a sample x,
//! the scaled overlap of memory μ is r_μ = max(⟨M_μ|x⟩, 0)/T, its activation a_μ = r_μ^n,
//! and the outputs are o_c = tanh(Σ_μ L_μc a_μ). The cost of a batch is
//! Σ_p Σ_c |o_pc − y_pc|^(2m); the predicted class is argmax_c o_c.
//!
//! The activation is computed as (max(h,0)/T)^n, in that order, never as h^n·T^-n: the
//! factor T^-n underflows `f32` already for T ≈ 700, n ≥ 14.

use crate::error::{check_len, ShapeError};
use crate::kernel::Kernel;
use crate::params::Params;
use crate::scalar::Real;

/// The sizes of one batch and one network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dims {
    /// P: samples in the batch.
    pub samples: usize,
    /// K: memories.
    pub memories: usize,
    /// D: pixels per sample and per memory.
    pub pixels: usize,
    /// C: classes (outputs).
    pub classes: usize,
}

impl Dims {
    /// Dimensions of a batch of `samples` for a network of `memories` memories over
    /// `pixels` pixels with `classes` outputs.
    pub const fn new(samples: usize, memories: usize, pixels: usize, classes: usize) -> Self {
        Dims {
            samples,
            memories,
            pixels,
            classes,
        }
    }

    /// Number of elements [`Scratch::from_buffer`] needs for these dimensions.
    pub const fn scratch_len(&self) -> usize {
        let (p, k, d, c) = (self.samples, self.memories, self.pixels, self.classes);
        2 * p * k + 3 * p * c + k * d + k * c
    }

    /// Checks a batch: `x` is P×D, `y` is P×C.
    pub fn check_batch<F>(&self, x: &[F], y: &[F]) -> Result<(), ShapeError> {
        check_len("samples", x, self.samples * self.pixels)?;
        check_len("targets", y, self.samples * self.classes)
    }
}

/// Work buffers of one step: borrowed, so that no allocation happens inside the crate.
///
/// After [`forward`], [`Scratch::activations`] and [`Scratch::outputs`] hold the batch's
/// activations (P×K) and outputs (P×C); after a gradient computation,
/// [`Scratch::memory_gradient`] and [`Scratch::label_gradient`] hold ∂C/∂M and ∂C/∂L.
#[derive(Debug)]
pub struct Scratch<'a, F> {
    pub(crate) dims: Dims,
    /// P×K: scaled overlaps r = max(h,0)/T, then the memory-gradient coefficients.
    pub(crate) r: &'a mut [F],
    /// P×K: activations a = r^n.
    pub(crate) a: &'a mut [F],
    /// P×C: outputs o.
    pub(crate) o: &'a mut [F],
    /// P×C: error factor for the memory gradient, sign(e)|e|^(2m-1)(1 - o·o).
    pub(crate) qm: &'a mut [F],
    /// P×C: error factor for the label gradient, sign(e)|e|^(2m-1)(1 - o)(1 + o).
    pub(crate) ql: &'a mut [F],
    /// K×D: memory gradient.
    pub(crate) gm: &'a mut [F],
    /// K×C: label gradient.
    pub(crate) gl: &'a mut [F],
}

impl<'a, F: Real> Scratch<'a, F> {
    /// Splits one buffer of [`Dims::scratch_len`] elements into the work buffers.
    pub fn from_buffer(buf: &'a mut [F], dims: Dims) -> Result<Self, ShapeError> {
        check_len("scratch", buf, dims.scratch_len())?;
        let (p, k, d, c) = (dims.samples, dims.memories, dims.pixels, dims.classes);
        let (r, rest) = buf.split_at_mut(p * k);
        let (a, rest) = rest.split_at_mut(p * k);
        let (o, rest) = rest.split_at_mut(p * c);
        let (qm, rest) = rest.split_at_mut(p * c);
        let (ql, rest) = rest.split_at_mut(p * c);
        let (gm, gl) = rest.split_at_mut(k * d);
        Ok(Scratch {
            dims,
            r,
            a,
            o,
            qm,
            ql,
            gm,
            gl,
        })
    }

    /// Builds the work buffers from separate slices (for fixed-capacity storage).
    /// Each slice may be longer than needed; the leading part is used.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        dims: Dims,
        r: &'a mut [F],
        a: &'a mut [F],
        o: &'a mut [F],
        qm: &'a mut [F],
        ql: &'a mut [F],
        gm: &'a mut [F],
        gl: &'a mut [F],
    ) -> Result<Self, ShapeError> {
        let (p, k, d, c) = (dims.samples, dims.memories, dims.pixels, dims.classes);
        Ok(Scratch {
            dims,
            r: take("overlaps", r, p * k)?,
            a: take("activations", a, p * k)?,
            o: take("outputs", o, p * c)?,
            qm: take("memory error factors", qm, p * c)?,
            ql: take("label error factors", ql, p * c)?,
            gm: take("memory gradient", gm, k * d)?,
            gl: take("label gradient", gl, k * c)?,
        })
    }

    /// The dimensions these buffers were made for.
    pub fn dims(&self) -> Dims {
        self.dims
    }
    /// Activations a (P×K) of the last forward pass.
    pub fn activations(&self) -> &[F] {
        self.a
    }
    /// Outputs o (P×C) of the last forward pass.
    pub fn outputs(&self) -> &[F] {
        self.o
    }
    /// ∂C/∂M (K×D) of the last gradient computation.
    pub fn memory_gradient(&self) -> &[F] {
        self.gm
    }
    /// ∂C/∂L (K×C) of the last gradient computation.
    pub fn label_gradient(&self) -> &[F] {
        self.gl
    }
}

fn take<'a, F>(
    buffer: &'static str,
    s: &'a mut [F],
    len: usize,
) -> Result<&'a mut [F], ShapeError> {
    if s.len() < len {
        return Err(ShapeError {
            buffer,
            expected: len,
            got: s.len(),
        });
    }
    Ok(&mut s[..len])
}

/// The trainable state: memories, labels and their momentum buffers.
#[derive(Debug)]
pub struct State<'a, F> {
    /// Memories M (K×D).
    pub memories: &'a mut [F],
    /// Labels L (K×C).
    pub labels: &'a mut [F],
    /// Momentum buffer of the memories V_M (K×D).
    pub memory_velocity: &'a mut [F],
    /// Momentum buffer of the labels V_L (K×C).
    pub label_velocity: &'a mut [F],
}

impl<F> State<'_, F> {
    /// Checks every buffer against `memories` × `pixels` and `memories` × `classes`.
    pub fn check(&self, dims: Dims) -> Result<(), ShapeError> {
        let (k, d, c) = (dims.memories, dims.pixels, dims.classes);
        check_len("memories", self.memories, k * d)?;
        check_len("labels", self.labels, k * c)?;
        check_len("memory velocity", self.memory_velocity, k * d)?;
        check_len("label velocity", self.label_velocity, k * c)
    }
}

/// `base^exp` through the kernel's `pow`, for `base ≥ 0` and `exp > 0`, returning 0
/// without calling `pow` when `base < zero_below` (see [`underflow_threshold`]).
#[inline]
pub fn power<F: Real, K: Kernel<F>>(kernel: &K, base: F, exp: F, zero_below: F) -> F {
    if base < zero_below {
        F::ZERO
    } else {
        kernel.pow(base, exp)
    }
}

/// A base below which `base^exp` is taken as 0 (for `exp > 0`): where the exact power is
/// below 2^[`Real::UNDERFLOW_LOG2`] — in f64 exactly where `pow` rounds to 0, in f32 where
/// it would be subnormal.
pub fn underflow_threshold<F: Real>(exp: F) -> F {
    // A 1e-6 margin keeps the threshold below the exact one despite rounding.
    let t = libm::exp2(F::UNDERFLOW_LOG2 / exp.to_f64()) * (1.0 - 1e-6);
    F::from_f64(t)
}

/// Scaled overlap r = max(h, 0)/T and activation a = r^n of one memory on one sample,
/// with the kernel's `pow`. `a` saturates at [`Real::BIG`] so that later sums cannot
/// overflow (f32 only, in practice).
#[inline]
pub fn activation<F: Real, K: Kernel<F>>(kernel: &K, h: F, params: &Params<F>) -> (F, F) {
    let r = h.max(F::ZERO) / params.temperature();
    let a = power(kernel, r, params.n(), underflow_threshold(params.n())).min(F::BIG);
    (r, a)
}

/// Forward pass over a batch: fills the scaled overlaps, activations (P×K) and outputs
/// (P×C) of `scratch`. `x` is P×D, `memories` K×D, `labels` K×C.
pub fn forward<F: Real, K: Kernel<F>>(
    kernel: &K,
    params: &Params<F>,
    x: &[F],
    memories: &[F],
    labels: &[F],
    scratch: &mut Scratch<'_, F>,
) -> Result<(), ShapeError> {
    let dims = scratch.dims;
    let (p, k, d, c) = (dims.samples, dims.memories, dims.pixels, dims.classes);
    check_len("samples", x, p * d)?;
    check_len("memories", memories, k * d)?;
    check_len("labels", labels, k * c)?;
    kernel.x_mt(x, memories, p, k, d, scratch.r);
    let (t, n) = (params.temperature(), params.n());
    let zero_below = underflow_threshold(n);
    for (r, a) in scratch.r.iter_mut().zip(scratch.a.iter_mut()) {
        let rv = r.max(F::ZERO) / t;
        *r = rv;
        *a = power(kernel, rv, n, zero_below).min(F::BIG);
    }
    outputs(scratch.a, labels, k, c, scratch.o);
    Ok(())
}

/// o[p,c] = tanh(Σ_μ a[p,μ]·L[μ,c]) for activations `a` (P×K), labels (K×C), into `o`
/// (P×C). The sum runs over memories in index order, like the reference's
/// `np.sum(L * a, axis=0)`.
pub fn outputs<F: Real>(a: &[F], labels: &[F], k: usize, c: usize, o: &mut [F]) {
    for (ap, op) in a.chunks_exact(k).zip(o.chunks_exact_mut(c)) {
        op.iter_mut().for_each(|v| *v = F::ZERO);
        for (&amu, lmu) in ap.iter().zip(labels.chunks_exact(c)) {
            for (v, &l) in op.iter_mut().zip(lmu) {
                *v += l * amu;
            }
        }
        for v in op.iter_mut() {
            *v = v.saturate().tanh();
        }
    }
}

/// The cost Σ_p Σ_c |o − y|^(2m) of outputs `o` against targets `y` (same shapes),
/// accumulated in f64 (the value overflows f32 for large m).
pub fn cost<F: Real>(o: &[F], y: &[F], m: F) -> f64 {
    let two_m = 2.0 * m.to_f64();
    o.iter()
        .zip(y)
        .map(|(&ov, &yv)| libm::pow((ov - yv).abs().to_f64(), two_m))
        .sum()
}

/// Index of the largest output (the first one on ties, like `numpy.argmax`).
///
/// # Panics
/// If `outputs` is empty.
pub fn predict<F: Real>(outputs: &[F]) -> usize {
    let mut best = 0;
    for (i, &v) in outputs.iter().enumerate() {
        if v > outputs[best] {
            best = i;
        }
    }
    best
}
