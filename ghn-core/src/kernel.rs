//! The two dense products of a training step, behind a trait.
//!
//! Everything else in a step is O(P·K·C) or O(K·D); the two products X·Mᵀ and Gᵀ·X are
//! O(P·K·D) and dominate. [`Kernel`] lets the host plug a fast GEMM while every line of
//! math around the products stays in this crate. [`PlainKernel`] is the portable default
//! (and the firmware's kernel).
//!
//! All matrices are dense, row-major, with the shapes given by the arguments.

use crate::scalar::Real;

/// The dense products of the forward pass and of the memory gradient.
///
/// # Contract
/// Callers in this crate check every length before calling; an implementation may assume
/// `x.len() == p*d`, `m.len() == k*d`, `g.len() == p*k` and that `out` has the result's
/// size. For reproducibility an implementation must be deterministic: the same inputs give
/// the same bits, whatever the number of threads it uses.
pub trait Kernel<F: Real> {
    /// `out (p×k) = x (p×d) · mᵀ (d×k)`: the overlaps ⟨M_μ|x_p⟩.
    fn x_mt(&self, x: &[F], m: &[F], p: usize, k: usize, d: usize, out: &mut [F]);

    /// `out (k×d) = gᵀ (k×p) · x (p×d)`: Σ_p g[p,μ]·x_p for every memory μ.
    fn gt_x(&self, g: &[F], x: &[F], p: usize, k: usize, d: usize, out: &mut [F]);

    /// `base^exp` for `base ≥ 0`: the activations' power, P·K calls per step. The default
    /// is [`Real::powf`] (libm). A host may use its platform's `pow` instead (glibc's is
    /// three times faster and is the one NumPy calls); both are accurate to within an ulp.
    #[inline]
    fn pow(&self, base: F, exp: F) -> F {
        base.powf(exp)
    }
}

/// Plain loops, no allocation, no unsafe: the reference kernel and the firmware's.
///
/// Sums run sequentially in index order (over pixels for overlaps, over samples for the
/// gradient, like the reference's per-sample accumulation).
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PlainKernel;

impl<F: Real> Kernel<F> for PlainKernel {
    fn x_mt(&self, x: &[F], m: &[F], p: usize, k: usize, d: usize, out: &mut [F]) {
        for (xp, out_p) in x.chunks_exact(d).zip(out.chunks_exact_mut(k)).take(p) {
            for (mu, o) in m.chunks_exact(d).zip(out_p.iter_mut()) {
                let mut acc = F::ZERO;
                for (&a, &b) in xp.iter().zip(mu) {
                    acc += a * b;
                }
                *o = acc;
            }
        }
    }

    fn gt_x(&self, g: &[F], x: &[F], p: usize, k: usize, d: usize, out: &mut [F]) {
        out[..k * d].iter_mut().for_each(|v| *v = F::ZERO);
        for (gp, xp) in g.chunks_exact(k).zip(x.chunks_exact(d)).take(p) {
            for (&w, out_mu) in gp.iter().zip(out.chunks_exact_mut(d)) {
                if w == F::ZERO {
                    // Adding exact zeros changes nothing (not even -0 to +0 here: the
                    // accumulator started at +0), so skip the row.
                    continue;
                }
                for (o, &xi) in out_mu.iter_mut().zip(xp) {
                    *o += w * xi;
                }
            }
        }
    }
}
