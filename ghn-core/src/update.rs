//! The normalised-momentum update step, exactly as the reference implementation codes it
//! (PROTOCOLS.md §2, `train_cycle` of `KrotovV2.py`). For every minibatch:
//!
//! 1. forward pass and both raw gradients from the current parameters
//!    ([`crate::gradient::gradients`]);
//! 2. first normalisation, per memory row: Ĝ = G / max_i |G_i| (a row whose max is exactly
//!    0 becomes 0), separately for ∂C/∂M over pixels and ∂C/∂L over classes;
//! 3. momentum: V ← μ·V − Ĝ (for both);
//! 4. second normalisation, per row: U = V / max_i |V_i| (0 if that max is 0);
//! 5. labels: L ← clip(L + η·U_L + ξ_L, −1, 1);
//! 6. memories: M ← M + η·U_M + ξ_M;
//! 7. memory bound: each row divided by max(1, max_i |M_i|) (rescale, the default), or
//!    every pixel clipped to [−1, 1] (clip).
//!
//! ξ is optional additive noise supplied by the caller (the reference applies it only in
//! "pulse" epochs). With momentum 0, U = −Ĝ: every memory moves by exactly η in its
//! largest-|gradient| pixel, and a memory whose gradient is exactly zero stays frozen.

use crate::error::{check_len, ShapeError};
use crate::gradient::gradients;
use crate::kernel::Kernel;
use crate::model::{Dims, Scratch, State};
use crate::params::{MemoryBound, Params};
use crate::scalar::Real;

/// Additive noise for one step: ξ_L (K×C) and ξ_M (K×D).
#[derive(Clone, Copy, Debug)]
pub struct Noise<'a, F> {
    /// Added to the labels before they are clipped.
    pub labels: &'a [F],
    /// Added to the memories before they are bounded.
    pub memories: &'a [F],
}

/// A source of fresh noise for every step of an epoch (see [`train_epoch`]).
pub trait NoiseSource<F> {
    /// Fills ξ_L (K×C) then ξ_M (K×D) for the next step; the order of the draws is the
    /// reference's (labels first).
    fn fill(&mut self, labels: &mut [F], memories: &mut [F]);
}

/// What a step reports.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StepReport {
    /// The batch cost before the step (f64 whatever the precision).
    pub cost: f64,
}

/// Divides each `cols`-long row of `v` by its largest absolute value; a row whose largest
/// absolute value is exactly 0 becomes all +0 (`np.divide(..., where=norm != 0)` with
/// a zeroed `out`).
pub fn normalize_rows<F: Real>(v: &mut [F], cols: usize) {
    for row in v.chunks_exact_mut(cols) {
        let mx = max_abs(row);
        if mx == F::ZERO {
            row.iter_mut().for_each(|x| *x = F::ZERO);
        } else {
            row.iter_mut().for_each(|x| *x /= mx);
        }
    }
}

/// Largest |x| of a slice (0 for an empty one).
#[inline]
pub fn max_abs<F: Real>(row: &[F]) -> F {
    row.iter().fold(F::ZERO, |m, &x| m.max(x.abs()))
}

/// Steps 2–7 for one group (memories or labels): first normalisation of the raw gradient
/// `g` in place, momentum into `v`, second normalisation, then `w += η·U (+ ξ)`.
fn momentum_step<F: Real>(
    g: &mut [F],
    v: &mut [F],
    w: &mut [F],
    cols: usize,
    params: &Params<F>,
    noise: Option<&[F]>,
) {
    normalize_rows(g, cols);
    let mom = params.momentum();
    for (vi, &gi) in v.iter_mut().zip(g.iter()) {
        *vi = *vi * mom - gi;
    }
    let eta = params.rate();
    for (r, (vrow, wrow)) in v
        .chunks_exact(cols)
        .zip(w.chunks_exact_mut(cols))
        .enumerate()
    {
        let mx = max_abs(vrow);
        let noise_row = noise.map(|n| &n[r * cols..(r + 1) * cols]);
        for (i, (&vi, wi)) in vrow.iter().zip(wrow.iter_mut()).enumerate() {
            let u = if mx == F::ZERO { F::ZERO } else { vi / mx };
            let mut new = *wi + eta * u;
            if let Some(nr) = noise_row {
                new += nr[i];
            }
            *wi = new;
        }
    }
}

/// Applies steps 2–7 given the raw gradients `gm` (K×D) and `gl` (K×C), which are
/// normalised in place. `dims.samples` is not used.
pub fn apply_update<F: Real>(
    params: &Params<F>,
    dims: Dims,
    gm: &mut [F],
    gl: &mut [F],
    state: &mut State<'_, F>,
    noise: Option<Noise<'_, F>>,
) -> Result<(), ShapeError> {
    let (k, d, c) = (dims.memories, dims.pixels, dims.classes);
    state.check(dims)?;
    check_len("memory gradient", gm, k * d)?;
    check_len("label gradient", gl, k * c)?;
    if let Some(n) = &noise {
        check_len("label noise", n.labels, k * c)?;
        check_len("memory noise", n.memories, k * d)?;
    }
    // Labels first, as the reference does; the two groups are independent.
    momentum_step(
        gl,
        state.label_velocity,
        state.labels,
        c,
        params,
        noise.map(|n| n.labels),
    );
    for l in state.labels.iter_mut() {
        *l = l.clamp_to(-F::ONE, F::ONE);
    }
    momentum_step(
        gm,
        state.memory_velocity,
        state.memories,
        d,
        params,
        noise.map(|n| n.memories),
    );
    bound_memories(state.memories, d, params.bound());
    Ok(())
}

/// Step 7: keeps memories within [−1, 1] by rescaling rows or clipping pixels.
pub fn bound_memories<F: Real>(memories: &mut [F], pixels: usize, bound: MemoryBound) {
    match bound {
        MemoryBound::Rescale => {
            for row in memories.chunks_exact_mut(pixels) {
                let norm = max_abs(row);
                if norm > F::ONE {
                    row.iter_mut().for_each(|x| *x /= norm);
                }
            }
        }
        MemoryBound::Clip => {
            for x in memories.iter_mut() {
                *x = x.clamp_to(-F::ONE, F::ONE);
            }
        }
    }
}

/// One update step on the minibatch `x` (P×D), `y` (P×C): gradients from the current
/// parameters, then [`apply_update`]. Returns the minibatch cost before the step.
pub fn train_step<F: Real, K: Kernel<F>>(
    kernel: &K,
    params: &Params<F>,
    x: &[F],
    y: &[F],
    state: &mut State<'_, F>,
    scratch: &mut Scratch<'_, F>,
    noise: Option<Noise<'_, F>>,
) -> Result<StepReport, ShapeError> {
    let dims = scratch.dims;
    state.check(dims)?;
    let cost = gradients(kernel, params, x, y, state.memories, state.labels, scratch)?;
    apply_update(params, dims, scratch.gm, scratch.gl, state, noise)?;
    Ok(StepReport { cost })
}

/// Buffers and source for per-step noise in [`train_epoch`].
pub struct NoiseBuffers<'a, F> {
    /// Where the noise comes from.
    pub source: &'a mut dyn NoiseSource<F>,
    /// ξ_L buffer (K×C).
    pub labels: &'a mut [F],
    /// ξ_M buffer (K×D).
    pub memories: &'a mut [F],
}

/// One epoch: the data `x` (N×D), `y` (N×C) is split into `scratch.dims().samples`-sized
/// contiguous minibatches in data order, one step each (the reference's `nbMiniBatchs`).
/// With `noise`, fresh noise is drawn for every step. Returns the summed cost of the
/// minibatches (each before its own step).
pub fn train_epoch<F: Real, K: Kernel<F>>(
    kernel: &K,
    params: &Params<F>,
    x: &[F],
    y: &[F],
    state: &mut State<'_, F>,
    scratch: &mut Scratch<'_, F>,
    mut noise: Option<NoiseBuffers<'_, F>>,
) -> Result<StepReport, ShapeError> {
    let dims = scratch.dims;
    let (p, d, c) = (dims.samples, dims.pixels, dims.classes);
    if p == 0 || x.len() % (p * d) != 0 || x.is_empty() {
        return Err(ShapeError {
            buffer: "samples (a whole number of minibatches)",
            expected: p * d,
            got: x.len(),
        });
    }
    let batches = x.len() / (p * d);
    check_len("targets", y, batches * p * c)?;
    let mut cost = 0.0;
    for (xb, yb) in x.chunks_exact(p * d).zip(y.chunks_exact(p * c)) {
        let step_noise = match noise.as_mut() {
            Some(nb) => {
                nb.source.fill(nb.labels, nb.memories);
                Some(Noise {
                    labels: &*nb.labels,
                    memories: &*nb.memories,
                })
            }
            None => None,
        };
        cost += train_step(kernel, params, xb, yb, state, scratch, step_noise)?.cost;
    }
    Ok(StepReport { cost })
}
