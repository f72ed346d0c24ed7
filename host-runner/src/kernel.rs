//! The host's fast kernel: ghn-core's two dense products through `matrixmultiply`'s
//! blocked GEMM (via ndarray's safe `general_mat_mul`), split over output rows with rayon.
//!
//! Determinism: every output element is computed by the same GEMM code on the same
//! reduction (over pixels for X·Mᵀ, over samples for Gᵀ·X) whatever the split, because the
//! split is over output rows only and the GEMM's blocking of the reduction dimension does
//! not depend on the number of rows. Results are therefore bit-identical for any number
//! of threads (tested).

use ghn_core::{Kernel, Real};
use ndarray::linalg::general_mat_mul;
use ndarray::{s, ArrayView2, ArrayViewMut2, LinalgScalar};
use rayon::prelude::*;

/// Float types the host kernel supports.
pub trait HostFloat: Real + LinalgScalar + ndarray_npy::WritableElement {
    /// The platform's `pow` (glibc's on Linux: the one NumPy uses, 3× faster than libm's).
    fn std_pow(self, exp: Self) -> Self;
}
impl HostFloat for f32 {
    #[inline]
    fn std_pow(self, exp: Self) -> Self {
        self.powf(exp)
    }
}
impl HostFloat for f64 {
    #[inline]
    fn std_pow(self, exp: Self) -> Self {
        self.powf(exp)
    }
}

/// GEMM kernel split over output rows on the current rayon pool.
#[derive(Clone, Copy, Debug, Default)]
pub struct GemmKernel;

/// Below this many multiply-adds per part, splitting costs more than it saves.
const MIN_WORK_PER_PART: usize = 1 << 18;

fn parts(rows: usize, work: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    threads
        .min(rows)
        .min((work / MIN_WORK_PER_PART).max(1))
        .max(1)
}

impl<F: HostFloat> Kernel<F> for GemmKernel {
    fn x_mt(&self, x: &[F], m: &[F], p: usize, k: usize, d: usize, out: &mut [F]) {
        let mv = ArrayView2::from_shape((k, d), m).expect("memories shape");
        let n_parts = parts(p, p * k * d);
        let rows = p.div_ceil(n_parts).max(1);
        let job = |(xc, oc): (&[F], &mut [F])| {
            let r = oc.len() / k;
            let xv = ArrayView2::from_shape((r, d), xc).expect("samples shape");
            let mut ov = ArrayViewMut2::from_shape((r, k), oc).expect("overlaps shape");
            general_mat_mul(F::ONE, &xv, &mv.t(), F::ZERO, &mut ov);
        };
        let chunks = x[..p * d]
            .chunks(rows * d)
            .zip(out[..p * k].chunks_mut(rows * k));
        if n_parts == 1 {
            chunks.for_each(job);
        } else {
            chunks.collect::<Vec<_>>().into_par_iter().for_each(job);
        }
    }

    fn gt_x(&self, g: &[F], x: &[F], p: usize, k: usize, d: usize, out: &mut [F]) {
        let gv = ArrayView2::from_shape((p, k), g).expect("coefficients shape");
        let xv = ArrayView2::from_shape((p, d), x).expect("samples shape");
        let n_parts = parts(k, p * k * d);
        let rows = k.div_ceil(n_parts).max(1);
        let job = |(i, oc): (usize, &mut [F])| {
            let r0 = i * rows;
            let r = oc.len() / d;
            let gt = gv.slice(s![.., r0..r0 + r]);
            let mut ov = ArrayViewMut2::from_shape((r, d), oc).expect("gradient shape");
            general_mat_mul(F::ONE, &gt.t(), &xv, F::ZERO, &mut ov);
        };
        let chunks = out[..k * d].chunks_mut(rows * d).enumerate();
        if n_parts == 1 {
            chunks.for_each(job);
        } else {
            chunks.collect::<Vec<_>>().into_par_iter().for_each(job);
        }
    }

    #[inline]
    fn pow(&self, base: F, exp: F) -> F {
        base.std_pow(exp)
    }
}
