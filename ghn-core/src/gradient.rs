//! Exact gradients of the cost with respect to memories and labels (PROTOCOLS.md §2 step 3).
//!
//! With e = o − y and s = sign(e)·|e|^(2m−1):
//!
//! * ∂C/∂L[μ,c] = 2m · Σ_p a[p,μ] · s[p,c] · (1 − o[p,c])(1 + o[p,c])
//! * ∂C/∂M[μ]   = 2nm · Σ_p (Σ_c s[p,c](1 − o[p,c]²) L[μ,c]) · r[p,μ]^(n−1)/T · x_p
//!
//! Both are computed from the same (pre-step) parameters. The factors (1 − o)(1 + o) for
//! the labels and (1 − o·o) for the memories are written the way the reference writes them,
//! so that both round like it.
//!
//! The derivative of the rectified power at a non-positive overlap follows the reference:
//! it is r^(n−1) evaluated at r = 0 by `pow`, i.e. 0 for n > 1 and **1 for n = 1** (the
//! reference's `f_n(x, n−1)` with 0⁰ = 1, which treats max(h,0) as linear for the
//! gradient). For n < 1 the reference gets 0^(negative) = ∞ and then NaN; we use 0 there
//! (the one-sided derivative of the activation on the inactive side), documented as a
//! deviation.

use crate::error::{check_len, ShapeError};
use crate::kernel::Kernel;
use crate::model::{forward, power, underflow_threshold, Scratch};
use crate::params::Params;
use crate::scalar::Real;

/// d a/d h for a scaled overlap `r` = max(h,0)/T with activation `a` = r^n:
/// r^(n−1)/T (see the module docs for r = 0).
///
/// r^(n−1) is taken as a/r when `a` is a normal, unsaturated number: within 1.5 ulp of
/// the power and one division instead of a second `pow` per memory and sample. Otherwise
/// it is [`power`]`(r, n−1)` with `zero_below` = [`underflow_threshold`]`(n − 1)`
/// (ignored for n ≤ 1).
#[inline]
pub fn activation_derivative<F: Real, K: Kernel<F>>(
    kernel: &K,
    r: F,
    a: F,
    params: &Params<F>,
    zero_below: F,
) -> F {
    let n = params.n();
    let t = params.temperature();
    if r == F::ZERO {
        // 0^(n−1): 0 for n > 1, 1 for n = 1 (the reference's 0⁰), 0 for n < 1 (see above).
        return if n == F::ONE { F::ONE / t } else { F::ZERO };
    }
    let pw = if a >= F::MIN_NORMAL && a < F::BIG {
        a / r
    } else if n > F::ONE {
        power(kernel, r, n - F::ONE, zero_below)
    } else {
        kernel.pow(r, n - F::ONE)
    };
    (pw / t).min(F::BIG)
}

/// Forward pass plus both gradients for the batch `x` (P×D) with targets `y` (P×C).
///
/// Returns the batch cost (accumulated in f64). Afterwards `scratch` holds the outputs,
/// activations, ∂C/∂M (K×D) and ∂C/∂L (K×C). In `f64` the gradients are exact. In `f32`
/// (see [`Real::SCALED_GRADIENTS`]) every row is a positive multiple of the exact one —
/// all the update step needs, since it normalises each row by its largest entry.
pub fn gradients<F: Real, K: Kernel<F>>(
    kernel: &K,
    params: &Params<F>,
    x: &[F],
    y: &[F],
    memories: &[F],
    labels: &[F],
    scratch: &mut Scratch<'_, F>,
) -> Result<f64, ShapeError> {
    let dims = scratch.dims;
    let (p, k, d, c) = (dims.samples, dims.memories, dims.pixels, dims.classes);
    check_len("targets", y, p * c)?;
    forward(kernel, params, x, memories, labels, scratch)?;

    // Error factors and cost.
    let m = params.m();
    let two_m_minus_1 = F::TWO * m - F::ONE;
    // f32 computes (|e|/2)^(2m−1); undo that scale for the reported cost only.
    let cost_scale = if F::SCALED_GRADIENTS {
        libm::pow(2.0, two_m_minus_1.to_f64())
    } else {
        1.0
    };
    let zero_below = underflow_threshold(two_m_minus_1);
    let mut cost = 0.0f64;
    for (((&o, &t), qm), ql) in scratch
        .o
        .iter()
        .zip(y)
        .zip(scratch.qm.iter_mut())
        .zip(scratch.ql.iter_mut())
    {
        let e = o - t;
        let abs_e = e.abs();
        // f32 cannot hold 2^159: it computes (|e|/2)^(2m−1), a common factor that the
        // per-memory normalisation removes (see `Real::SCALED_GRADIENTS`).
        let base = if F::SCALED_GRADIENTS {
            abs_e / F::TWO
        } else {
            abs_e
        };
        let pw = power(kernel, base, two_m_minus_1, zero_below);
        cost += pw.to_f64() * abs_e.to_f64() * cost_scale;
        let s = e.sign() * pw;
        *qm = s * (F::ONE - o * o);
        *ql = s * (F::ONE - o) * (F::ONE + o);
    }

    // f32 only: memories whose activations all underflow get their gradient rows from
    // activations relative to the memory's largest overlap (see `Real::SCALED_GRADIENTS`).
    // `row_scale[μ]` is that overlap, or 0 for an unscaled row; it lives in the first K
    // entries of the memory-gradient buffer until the kernel fills it at the end.
    let n = params.n();
    let zero_below_n = underflow_threshold(n);
    let zero_below_nm1 = if n > F::ONE {
        underflow_threshold(n - F::ONE)
    } else {
        F::ZERO
    };
    let row_scale = &mut scratch.gm[..k];
    row_scale.iter_mut().for_each(|v| *v = F::ZERO);
    if F::SCALED_GRADIENTS && n > F::ONE {
        let amax = &mut scratch.gl[..k];
        amax.iter_mut().for_each(|v| *v = F::ZERO);
        for (rp, ap) in scratch.r.chunks_exact(k).zip(scratch.a.chunks_exact(k)) {
            for (((&rv, &av), rm), am) in rp
                .iter()
                .zip(ap)
                .zip(row_scale.iter_mut())
                .zip(amax.iter_mut())
            {
                *rm = rm.max(rv);
                *am = am.max(av);
            }
        }
        for (rm, &am) in row_scale.iter_mut().zip(amax.iter()) {
            if am >= F::SAFE_ACTIVATION {
                *rm = F::ZERO;
            }
        }
    }
    let row_scale = &scratch.gm[..k];

    // Label gradient: 2m · aᵀ·ql, samples accumulated in order.
    scratch.gl.iter_mut().for_each(|v| *v = F::ZERO);
    for ((ap, rp), qp) in scratch
        .a
        .chunks_exact(k)
        .zip(scratch.r.chunks_exact(k))
        .zip(scratch.ql.chunks_exact(c))
    {
        for (((&amu, &rv), &scale), glmu) in ap
            .iter()
            .zip(rp)
            .zip(row_scale)
            .zip(scratch.gl.chunks_exact_mut(c))
        {
            let amu = if scale == F::ZERO {
                amu
            } else {
                power(kernel, rv / scale, n, zero_below_n)
            };
            if amu == F::ZERO {
                continue;
            }
            for (g, &q) in glmu.iter_mut().zip(qp) {
                *g += amu * q;
            }
        }
    }
    let two_m = F::TWO * m;
    for g in scratch.gl.iter_mut() {
        *g *= two_m;
    }

    // Memory gradient: coefficients (P×K) in place of r, then 2nm·coefᵀ·X by the kernel.
    let two_nm = two_m * n;
    let t = params.temperature();
    for ((rp, ap), qp) in scratch
        .r
        .chunks_exact_mut(k)
        .zip(scratch.a.chunks_exact(k))
        .zip(scratch.qm.chunks_exact(c))
    {
        for (((rv, &av), &scale), lmu) in rp
            .iter_mut()
            .zip(ap)
            .zip(row_scale)
            .zip(labels.chunks_exact(c))
        {
            let mut s = F::ZERO;
            for (&q, &l) in qp.iter().zip(lmu) {
                s += q * l;
            }
            let dr = if scale == F::ZERO {
                activation_derivative(kernel, *rv, av, params, zero_below_nm1)
            } else {
                power(kernel, *rv / scale, n - F::ONE, zero_below_nm1) / t
            };
            *rv = (two_nm * s * dr).saturate();
        }
    }
    kernel.gt_x(scratch.r, x, p, k, d, scratch.gm);
    Ok(cost)
}
