//! The reduced two-memory system of the paper (PROTOCOLS.md §6): two samples A and B,
//! identical memories M = αA + βB on |α| + |β| = 1, labels ℓ (class of A) and −ℓ (class
//! of B), the other labels at −1. It explains the splits of the full dynamics: its fixed
//! points (saddles of the full two-memory dynamics) appear and vanish through saddle-node
//! bifurcations as n grows.
//!
//! Everything depends on the Gram entries ⟨A|A⟩, ⟨A|B⟩, ⟨B|B⟩ ([`Gram`]), n (m = n), the
//! temperature T and the number K of identical memories, through the effective temperature
//! T̃ = T/K^(1/n).
//!
//! * [`Reduced::gradients`]: ∇_A, ∇_B, ∇_ℓ, ∇_γ;
//! * [`Reduced::flow`]: dα/dt and dℓ/dt (with label saturation at ℓ = ±1);
//! * [`Reduced::fixed_points`]: every fixed point by a coarse sign-change grid, continuation
//!   seeds and Newton refinement, each classified by the eigenvalues of the Jacobian of
//!   the (α, ℓ) flow;
//! * [`Reduced::locate_fold`]: a saddle-node point (fold in n) from the extended system;
//! * [`transition_temperature`]: the line T*(n) between mixtures and prototypes.

use crate::error::ParamError;
use crate::model::underflow_threshold;
use crate::scalar::Real;

/// Gram entries of the two samples: ⟨A|A⟩, ⟨A|B⟩, ⟨B|B⟩.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Gram<F> {
    /// ⟨A|A⟩.
    pub aa: F,
    /// ⟨A|B⟩.
    pub ab: F,
    /// ⟨B|B⟩.
    pub bb: F,
}

impl<F: Real> Gram<F> {
    /// The Gram entries of two samples of equal length.
    ///
    /// # Panics
    /// If the lengths differ.
    pub fn of(a: &[F], b: &[F]) -> Self {
        assert_eq!(a.len(), b.len(), "samples of different lengths");
        let dot = |x: &[F], y: &[F]| x.iter().zip(y).fold(F::ZERO, |s, (&p, &q)| s + p * q);
        Gram {
            aa: dot(a, a),
            ab: dot(a, b),
            bb: dot(b, b),
        }
    }
}

/// Which half of |α| + |β| = 1 the memories live on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Branch {
    /// β = +(1 − |α|): the branch of every figure.
    #[default]
    Plus,
    /// β = −(1 − |α|).
    Minus,
}

/// The four gradient terms at one point, and the scaled overlaps.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Gradients<F> {
    /// ∇_A: the memory's drive along A.
    pub a: F,
    /// ∇_B: the memory's drive along B.
    pub b: F,
    /// ∇_ℓ: the drive of the label ℓ.
    pub ell: F,
    /// ∇_γ: the drive of each of the other labels.
    pub gamma: F,
    /// x_A = max(⟨M|A⟩, 0)/T̃.
    pub xa: F,
    /// x_B = max(⟨M|B⟩, 0)/T̃.
    pub xb: F,
}

/// A fixed point of the reduced flow.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FixedPoint<F> {
    /// Coefficient of A.
    pub alpha: F,
    /// Coefficient of B (±(1 − |α|)).
    pub beta: F,
    /// Label of A's class.
    pub ell: F,
    /// Whether the label sits at ±1 (saturated), where the flow is one-dimensional.
    pub saturated: bool,
    /// Eigenvalues of the Jacobian of the (α, ℓ) flow, as (re, im) pairs (for a saturated
    /// point the second is the label direction's, 0).
    pub eigenvalues: [(F, F); 2],
    /// Stable in the reduced flow (every eigenvalue with a negative real part): a saddle
    /// of the full two-memory dynamics, where the memories wait before splitting.
    pub stable: bool,
}

/// Largest lattice of the coarse scan (nodes per axis); larger requests are clamped. Its
/// row buffers live on the stack, so it is kept small enough for a microcontroller.
pub const MAX_GRID: usize = 128;

/// Maximum number of fixed points [`Reduced::fixed_points`] returns.
pub const MAX_FIXED_POINTS: usize = 16;

/// Fixed points of one system.
pub type FixedPoints<F> = heapless::Vec<FixedPoint<F>, MAX_FIXED_POINTS>;

/// Options of the fixed-point search.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SearchOptions {
    /// Grid nodes per axis of the coarse sign-change scan over (α, ℓ) ∈ (−1, 1)².
    pub grid: usize,
    /// Newton iterations at most.
    pub max_iterations: usize,
    /// Convergence: step in (α, ℓ) below this.
    pub tolerance: f64,
    /// Fixed points closer than this (in α and ℓ) are the same.
    pub merge_distance: f64,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            grid: 32,
            max_iterations: 60,
            tolerance: 1e-12,
            merge_distance: 1e-6,
        }
    }
}

/// The reduced system for given Gram entries, n, temperature and number of memories.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Reduced<F> {
    gram: Gram<F>,
    n: F,
    t_eff: F,
    branch: Branch,
    /// Underflow thresholds for the exponents n, n − 1 and 2n − 1.
    zero_below: [F; 3],
}

/// (1 − o)^(2n−1)(1 − o²), the reference's form; 0 without calling `pow` where the power
/// underflows (libm's underflow path is slow and the scan hits it constantly).
#[inline]
fn error_factor<F: Real>(one_minus: F, o: F, two_n_minus_1: F, zero_below: F) -> F {
    if one_minus < zero_below {
        return F::ZERO;
    }
    one_minus.powf(two_n_minus_1) * (F::ONE - o * o)
}

/// x^e for x ≥ 0, 0 below `zero_below` (see [`crate::model::underflow_threshold`]).
#[inline]
fn pow_or_zero<F: Real>(x: F, e: F, zero_below: F) -> F {
    if x < zero_below {
        F::ZERO
    } else {
        x.powf(e)
    }
}

/// One memory's scaled overlaps x_A, x_B and their powers n and n − 1.
#[derive(Clone, Copy)]
struct Powers<F> {
    xa: F,
    xb: F,
    an: F,
    bn: F,
    an1: F,
    bn1: F,
}

/// The error factors (1 ∓ o)^(2n−1)(1 − o²) of A's class on A (`ea`) and on B (`eb`), and
/// of the other classes on A (`fa`) and on B (`fb`).
#[derive(Clone, Copy)]
struct Drives<F> {
    ea: F,
    eb: F,
    fa: F,
    fb: F,
}

impl<F: Real> Powers<F> {
    /// This memory's gradient terms for its label ℓ and the outputs' error factors `d`
    /// (8 other classes against 2 for the memory: the factor 4).
    fn gradients(&self, ell: F, d: Drives<F>) -> Gradients<F> {
        let four = F::TWO + F::TWO;
        Gradients {
            a: (ell * d.ea + four * d.fa) * self.an1,
            b: (-ell * d.eb + four * d.fb) * self.bn1,
            ell: d.ea * self.an - d.eb * self.bn,
            gamma: -d.fa * self.an - d.fb * self.bn,
            xa: self.xa,
            xb: self.xb,
        }
    }
}

impl<F: Real> Reduced<F> {
    /// The system for Gram entries `gram`, power n (m = n), temperature `t` and `k`
    /// identical memories (effective temperature T/k^(1/n)).
    pub fn new(gram: Gram<F>, n: F, t: F, k: usize, branch: Branch) -> Result<Self, ParamError> {
        if !n.is_finite() || n <= F::ONE {
            // n ≤ 1 makes x^(n−1) singular at x = 0; the paper's diagram starts at 1.2.
            return Err(ParamError::N(n.to_f64()));
        }
        if !t.is_finite() || t <= F::ZERO {
            return Err(ParamError::Temperature(t.to_f64()));
        }
        let t_eff = crate::params::effective_temperature(t, k.max(1), n);
        let zero_below = [
            underflow_threshold(n),
            underflow_threshold(n - F::ONE),
            underflow_threshold(F::TWO * n - F::ONE),
        ];
        Ok(Reduced {
            gram,
            n,
            t_eff,
            branch,
            zero_below,
        })
    }

    /// Power n.
    pub fn n(&self) -> F {
        self.n
    }

    /// Effective temperature T̃.
    pub fn effective_temperature(&self) -> F {
        self.t_eff
    }

    /// The same system at another n (same T and K).
    pub fn with_n(&self, n: F, t: F, k: usize) -> Result<Self, ParamError> {
        Reduced::new(self.gram, n, t, k, self.branch)
    }

    /// β on this branch for a given α.
    #[inline]
    pub fn beta(&self, alpha: F) -> F {
        let b = F::ONE - alpha.abs();
        match self.branch {
            Branch::Plus => b,
            Branch::Minus => -b,
        }
    }

    /// The gradient terms at (α, ℓ) (PROTOCOLS.md §6).
    pub fn gradients(&self, alpha: F, ell: F) -> Gradients<F> {
        let p = self.powers(alpha);
        let d = self.drives(ell * p.an, ell * p.bn, p.an, p.bn);
        p.gradients(ell, d)
    }

    /// The powers of one memory's scaled overlaps with A and B.
    fn powers(&self, alpha: F) -> Powers<F> {
        let beta = self.beta(alpha);
        let g = &self.gram;
        let n = self.n;
        let xa = (alpha * g.aa + beta * g.ab).max(F::ZERO) / self.t_eff;
        let xb = (alpha * g.ab + beta * g.bb).max(F::ZERO) / self.t_eff;
        let [zn, zn1, _] = self.zero_below;
        // x^n = x^(n−1)·x: one `pow` per overlap instead of two (`pow` is most of the
        // diagram's time), zero below the same threshold as before.
        let (an1, bn1) = (
            pow_or_zero(xa, n - F::ONE, zn1),
            pow_or_zero(xb, n - F::ONE, zn1),
        );
        let times = |p: F, x: F| if x < zn { F::ZERO } else { p * x };
        Powers {
            xa,
            xb,
            an: times(an1, xa),
            bn: times(bn1, xb),
            an1,
            bn1,
        }
    }

    /// The error factors of the outputs, from their fields: `ha`, `hb` for the output of
    /// A's class on A and on B (Σ_μ ℓ_μ x^n), `sa`, `sb` for the other classes (Σ_μ x^n).
    fn drives(&self, ha: F, hb: F, sa: F, sb: F) -> Drives<F> {
        let zp = self.zero_below[2];
        let p = F::TWO * self.n - F::ONE;
        let (oa, ob, ga, gb) = (ha.tanh(), hb.tanh(), sa.tanh(), sb.tanh());
        Drives {
            ea: error_factor(F::ONE - oa, oa, p, zp),
            eb: error_factor(F::ONE + ob, ob, p, zp),
            fa: error_factor(F::ONE - ga, ga, p, zp),
            fb: error_factor(F::ONE - gb, gb, p, zp),
        }
    }

    /// Whether the rescaling is active at (α, ℓ): N = sgn(α)∇_A + sgn(β)∇_B > 0.
    pub fn rescaling_active(&self, alpha: F, ell: F) -> bool {
        let g = self.gradients(alpha, ell);
        alpha.sign() * g.a + self.beta(alpha).sign() * g.b > F::ZERO
    }

    /// The flow (dα/dt, dℓ/dt) at (α, ℓ):
    /// dα/dt = (∇_A − α·N)/(|∇_A| + |∇_B|) (the rescaling term only while N > 0),
    /// dℓ/dt = ∇_ℓ / max(|∇_ℓ|, |∇_γ|), 0 at ℓ = ±1 when it pushes outward.
    /// Where every gradient has underflowed the flow is (0, 0).
    pub fn flow(&self, alpha: F, ell: F) -> (F, F) {
        self.flow_of(&self.gradients(alpha, ell), alpha, ell)
    }

    /// The flow of one memory at (α, ℓ) driven by the gradient terms `g`.
    fn flow_of(&self, g: &Gradients<F>, alpha: F, ell: F) -> (F, F) {
        let beta = self.beta(alpha);
        let norm = g.a.abs() + g.b.abs();
        let da = if norm > F::ZERO {
            let nn = alpha.sign() * g.a + beta.sign() * g.b;
            let resc = if nn > F::ZERO { alpha * nn } else { F::ZERO };
            (g.a - resc) / norm
        } else {
            F::ZERO
        };
        let ln = g.ell.abs().max(g.gamma.abs());
        let mut dl = if ln > F::ZERO { g.ell / ln } else { F::ZERO };
        if (ell >= F::ONE && dl > F::ZERO) || (ell <= -F::ONE && dl < F::ZERO) {
            dl = F::ZERO;
        }
        (da, dl)
    }

    /// The fixed-point residual (β∇_A − α∇_B, ∇_ℓ), each scaled to the flow's units;
    /// NaN where every gradient has underflowed (no direction is defined there).
    fn residual(&self, alpha: F, ell: F) -> (F, F) {
        let g = self.gradients(alpha, ell);
        let beta = self.beta(alpha);
        let norm = g.a.abs() + g.b.abs();
        let nan = F::from_f64(f64::NAN);
        let r1 = if norm > F::ZERO {
            (beta * g.a - alpha * g.b) / norm
        } else {
            nan
        };
        // The label equation's own normalisation, ∇_ℓ/max(|∇_ℓ|, |∇_γ|), is flat (±1)
        // away from its root, which stalls Newton; asinh(∇_ℓ/|∇_γ|) has the same root, is
        // linear near it and only logarithmic far from it.
        let r2 = if g.gamma != F::ZERO {
            asinh(g.ell / g.gamma.abs())
        } else {
            nan
        };
        (r1, r2)
    }

    fn fd_step(&self) -> F {
        // ~ cube root of the precision: central differences of a smooth function.
        if F::MIN_NORMAL.to_f64() < 1e-300 {
            F::from_f64(1e-6)
        } else {
            F::from_f64(2e-3)
        }
    }

    /// Jacobian of `f` at (α, ℓ) by central differences.
    fn jacobian_of(&self, f: impl Fn(F, F) -> (F, F), alpha: F, ell: F) -> [[F; 2]; 2] {
        self.jacobian_h(f, alpha, ell, self.fd_step())
    }

    /// Jacobian of `f` by central differences with step `h`.
    fn jacobian_h(&self, f: impl Fn(F, F) -> (F, F), alpha: F, ell: F, h: F) -> [[F; 2]; 2] {
        let two_h = F::TWO * h;
        let (pa, pl) = (f(alpha + h, ell), f(alpha, ell + h));
        let (ma, ml) = (f(alpha - h, ell), f(alpha, ell - h));
        [
            [(pa.0 - ma.0) / two_h, (pl.0 - ml.0) / two_h],
            [(pa.1 - ma.1) / two_h, (pl.1 - ml.1) / two_h],
        ]
    }

    /// Jacobian of the (α, ℓ) flow at a point, by central differences (labels unsaturated).
    pub fn jacobian(&self, alpha: F, ell: F) -> [[F; 2]; 2] {
        self.jacobian_of(|a, l| self.flow(a, l), alpha, ell)
    }

    /// Newton on the residual from (α, ℓ); `None` if it leaves the domain or does not
    /// converge.
    fn newton(&self, alpha: F, ell: F, opts: &SearchOptions) -> Option<(F, F)> {
        self.newton_h(alpha, ell, opts, self.fd_step())
    }

    /// Newton with finite-difference step `h` (smaller than the nullclines' width: at low
    /// n the memory residual turns over within ~1e-6 in ℓ near the middle point).
    fn newton_h(&self, alpha: F, ell: F, opts: &SearchOptions, h: F) -> Option<(F, F)> {
        let one = F::ONE;
        self.newton_in(alpha, ell, opts, h, [-one, one, -one, one])
    }

    /// Newton that gives up as soon as it leaves the box [α₀, α₁] × [ℓ₀, ℓ₁] (`bounds`,
    /// clipped to the open unit square): a search inside one cell need not chase a
    /// root that belongs to another (most cells the scan flags hold two nearly parallel
    /// nullclines and no root, and an unbounded Newton wanders there for all its
    /// iterations).
    fn newton_in(
        &self,
        mut alpha: F,
        mut ell: F,
        opts: &SearchOptions,
        h: F,
        bounds: [F; 4],
    ) -> Option<(F, F)> {
        let inside = |a: F, l: F| {
            a.abs() < F::ONE
                && l.abs() < F::ONE
                && a >= bounds[0]
                && a <= bounds[1]
                && l >= bounds[2]
                && l <= bounds[3]
        };
        let tol = F::from_f64(opts.tolerance);
        let tiny = F::from_f64(1e-15);
        for _ in 0..opts.max_iterations {
            let (r1, r2) = self.residual(alpha, ell);
            if r1.abs() < tiny && r2.abs() < tiny {
                return (alpha.abs() < F::ONE && ell.abs() < F::ONE).then_some((alpha, ell));
            }
            let j = self.jacobian_h(|a, l| self.residual(a, l), alpha, ell, h);
            let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
            if det == F::ZERO || !det.is_finite() {
                return None;
            }
            let da = (j[1][1] * r1 - j[0][1] * r2) / det;
            let dl = (j[0][0] * r2 - j[1][0] * r1) / det;
            // Damp long steps: the residual is only locally linear.
            let step = da.abs().max(dl.abs());
            let damp = if step > F::from_f64(0.05) {
                F::from_f64(0.05) / step
            } else {
                F::ONE
            };
            alpha -= damp * da;
            ell -= damp * dl;
            if !inside(alpha, ell) {
                return None;
            }
            if step < tol {
                return Some((alpha, ell));
            }
        }
        // Converged as far as the precision allows?
        let (r1, r2) = self.residual(alpha, ell);
        let small = F::from_f64(1e3 * opts.tolerance);
        (r1.abs() < small && r2.abs() < small).then_some((alpha, ell))
    }

    /// Classifies an unsaturated fixed point by the eigenvalues of the flow's Jacobian.
    fn classify(&self, alpha: F, ell: F) -> FixedPoint<F> {
        let j = self.jacobian(alpha, ell);
        let eig = eigenvalues(j);
        FixedPoint {
            alpha,
            beta: self.beta(alpha),
            ell,
            saturated: false,
            stable: eig[0].0 < F::ZERO && eig[1].0 < F::ZERO,
            eigenvalues: eig,
        }
    }

    /// Every fixed point: a coarse sign-change scan of the residual over (α, ℓ) ∈ (−1, 1)²
    /// (plus Newton from every `seeds` point, for continuation from a neighbouring n),
    /// then the saturated points on ℓ = ±1. See [`Reduced::fixed_points_in`].
    pub fn fixed_points(&self, opts: &SearchOptions, seeds: &[(F, F)]) -> FixedPoints<F> {
        let one = F::ONE - F::from_f64(1e-9);
        self.fixed_points_in([-one, one, -one, one], opts.grid, opts, seeds, true)
    }

    /// Fixed points inside the box [α₀, α₁] × [ℓ₀, ℓ₁] (`bounds`), scanned on a
    /// `grid`×`grid` lattice. Cells where both residuals change sign are refined by
    /// quadtree bisection (the nullclines can be steep: near ℓ = 0 the memory residual
    /// turns over within 10⁻³), then polished by Newton. With `saturated`, the points
    /// on ℓ = ±1 where the label pushes outward are added (1-D bisection along the line).
    /// Only points where the rescaling is active count. Sorted by ℓ, then α.
    pub fn fixed_points_in(
        &self,
        bounds: [F; 4],
        grid: usize,
        opts: &SearchOptions,
        seeds: &[(F, F)],
        saturated: bool,
    ) -> FixedPoints<F> {
        let mut out = FixedPoints::new();
        let g = grid.clamp(2, MAX_GRID);
        let [a_lo, a_hi, l_lo, l_hi] = bounds;
        let at = |lo: F, hi: F, i: usize| lo + (hi - lo) * F::from_f64(i as f64 / (g - 1) as f64);
        for &(a, l) in seeds {
            if let Some((a, l)) = self.newton(a, l, opts) {
                self.accept(a, l, opts, &mut out);
            }
        }
        // Scan one row of ℓ at a time (no allocation): residual signs at the nodes.
        let mut prev = [(0i8, 0i8); MAX_GRID];
        for j in 0..g {
            let l = at(l_lo, l_hi, j);
            let mut row = [(0i8, 0i8); MAX_GRID];
            for (i, cell) in row.iter_mut().enumerate().take(g) {
                *cell = signs(self.residual(at(a_lo, a_hi, i), l));
            }
            if j > 0 {
                for i in 1..g {
                    if crosses(&[prev[i - 1], prev[i], row[i - 1], row[i]]) {
                        let cell = [
                            at(a_lo, a_hi, i - 1),
                            at(a_lo, a_hi, i),
                            at(l_lo, l_hi, j - 1),
                            l,
                        ];
                        // A point already found here (from a seed) needs no refinement.
                        let known = out.iter().any(|p| {
                            !p.saturated
                                && p.alpha >= cell[0]
                                && p.alpha <= cell[1]
                                && p.ell >= cell[2]
                                && p.ell <= cell[3]
                        });
                        if !known {
                            self.refine(cell, opts, &mut out);
                        }
                    }
                }
            }
            prev = row;
        }
        if saturated {
            for &edge in &[F::ONE, -F::ONE] {
                self.saturated_points(edge, a_lo, a_hi, g, opts, &mut out);
            }
        }
        // Sort by ℓ then α (insertion sort: a handful of points).
        for i in 1..out.len() {
            let mut k = i;
            while k > 0 && (out[k].ell, out[k].alpha) < (out[k - 1].ell, out[k - 1].alpha) {
                out.swap(k, k - 1);
                k -= 1;
            }
        }
        out
    }

    /// Adds the unsaturated fixed point (α, ℓ) if the rescaling is active there and it is
    /// not already in `out`.
    fn accept(&self, a: F, l: F, opts: &SearchOptions, out: &mut FixedPoints<F>) {
        if !self.rescaling_active(a, l) {
            return;
        }
        let md = F::from_f64(opts.merge_distance.max(10.0 * opts.tolerance));
        if out
            .iter()
            .any(|p| !p.saturated && (p.alpha - a).abs() < md && (p.ell - l).abs() < md)
        {
            return;
        }
        let _ = out.push(self.classify(a, l));
    }

    /// Quadtree refinement of a cell whose corners show both residuals changing sign,
    /// down to 1e-8, then Newton.
    fn refine(&self, cell: [F; 4], opts: &SearchOptions, out: &mut FixedPoints<F>) {
        let before = out.len();
        self.quadtree(cell, opts, out);
        if out.len() == before {
            // Corner signs can miss a crossing inside a sub-cell; Newton from the centre
            // catches the smooth cases.
            let (am, lm) = ((cell[0] + cell[1]) / F::TWO, (cell[2] + cell[3]) / F::TWO);
            // Within two cell widths: a root further away is another cell's.
            let (wa, wl) = (F::TWO * (cell[1] - cell[0]), F::TWO * (cell[3] - cell[2]));
            let near = [cell[0] - wa, cell[1] + wa, cell[2] - wl, cell[3] + wl];
            if let Some((a, l)) = self.newton_in(am, lm, opts, self.fd_step(), near) {
                self.accept(a, l, opts, out);
            }
        }
    }

    fn quadtree(&self, cell: [F; 4], opts: &SearchOptions, out: &mut FixedPoints<F>) {
        // Sub-cells as (level, i, j) within `cell`: 9 bytes each instead of four floats,
        // so that the search fits a microcontroller's stack. Corners are computed from the
        // root by the same formula at every level, so neighbouring cells share edges
        // exactly.
        let mut stack: heapless::Vec<(u8, u32, u32), 96> = heapless::Vec::new();
        let _ = stack.push((0, 0, 0));
        let [ra0, ra1, rl0, rl1] = cell;
        let (wa, wl) = (ra1 - ra0, rl1 - rl0);
        let min = F::from_f64(1e-8);
        let mut budget = 400usize;
        while let Some((lv, i, j)) = stack.pop() {
            let inv = F::ONE / F::from_f64((1u64 << lv) as f64);
            let corner = |lo: F, w: F, k: u32| lo + w * (F::from_f64(k as f64) * inv);
            let (a0, a1) = (corner(ra0, wa, i), corner(ra0, wa, i + 1));
            let (l0, l1) = (corner(rl0, wl, j), corner(rl0, wl, j + 1));
            let (am, lm) = ((a0 + a1) / F::TWO, (l0 + l1) / F::TWO);
            if ((a1 - a0) < min && (l1 - l0) < min) || lv >= 31 {
                // Only a converged Newton counts: near a fold the two nullclines are
                // nearly tangent and pass through the same tiny cells without meeting.
                let h = (a1 - a0).max(l1 - l0) / F::from_f64(8.0);
                if let Some((a, l)) = self.newton_h(am, lm, opts, h) {
                    self.accept(a, l, opts, out);
                }
                continue;
            }
            if budget == 0 {
                break;
            }
            budget -= 1;
            let xs = [a0, am, a1];
            let ys = [l0, lm, l1];
            let mut s = [[(0i8, 0i8); 3]; 3];
            for (yi, &y) in ys.iter().enumerate() {
                for (xi, &x) in xs.iter().enumerate() {
                    s[yi][xi] = signs(self.residual(x, y));
                }
            }
            for yi in 0..2u32 {
                for xi in 0..2u32 {
                    let (x, y) = (xi as usize, yi as usize);
                    if crosses(&[s[y][x], s[y][x + 1], s[y + 1][x], s[y + 1][x + 1]]) {
                        let _ = stack.push((lv + 1, 2 * i + xi, 2 * j + yi));
                    }
                }
            }
        }
    }

    /// Saturated fixed points on the line ℓ = `edge` (±1) for α in [a_lo, a_hi].
    fn saturated_points(
        &self,
        edge: F,
        a_lo: F,
        a_hi: F,
        g: usize,
        opts: &SearchOptions,
        out: &mut FixedPoints<F>,
    ) {
        let f1 = |a: F| self.residual(a, edge).0;
        let at = |i: usize| a_lo + (a_hi - a_lo) * F::from_f64(i as f64 / (g - 1) as f64);
        let mut a0 = at(0);
        let mut v0 = f1(a0);
        for i in 1..g {
            let a1 = at(i);
            let v1 = f1(a1);
            if v0.is_finite() && v1.is_finite() && (v0 <= F::ZERO) != (v1 <= F::ZERO) {
                let a = bisect(&f1, a0, a1, v0, opts.tolerance);
                let gr = self.gradients(a, edge);
                let md = F::from_f64(opts.merge_distance);
                let dup = out
                    .iter()
                    .any(|p| p.saturated && p.ell == edge && (p.alpha - a).abs() < md);
                if gr.ell * edge > F::ZERO && self.rescaling_active(a, edge) && !dup {
                    let h = self.fd_step();
                    let slope =
                        (self.flow(a + h, edge).0 - self.flow(a - h, edge).0) / (F::TWO * h);
                    let _ = out.push(FixedPoint {
                        alpha: a,
                        beta: self.beta(a),
                        ell: edge,
                        saturated: true,
                        eigenvalues: [(slope, F::ZERO), (F::ZERO, F::ZERO)],
                        stable: slope < F::ZERO,
                    });
                }
            }
            a0 = a1;
            v0 = v1;
        }
    }

    /// A saddle-node point (fold in n) near (α, ℓ, n): the solution of residual = 0 and
    /// det J = 0 in (α, ℓ, n) by Newton with central differences, with T and K fixed.
    /// Returns (α, ℓ, n), or `None` if Newton fails.
    pub fn locate_fold(
        &self,
        alpha: F,
        ell: F,
        t: F,
        k: usize,
        opts: &SearchOptions,
    ) -> Option<(F, F, F)> {
        let sys = |a: F, l: F, n: F| -> Option<[F; 3]> {
            let s = self.with_n(n, t, k).ok()?;
            let (r1, r2) = s.residual(a, l);
            let j = s.jacobian_of(|x, y| s.residual(x, y), a, l);
            Some([r1, r2, j[0][0] * j[1][1] - j[0][1] * j[1][0]])
        };
        let (mut a, mut l, mut n) = (alpha, ell, self.n);
        let h = F::from_f64(1e-4);
        for _ in 0..opts.max_iterations {
            let f = sys(a, l, n)?;
            let mut jac = [[F::ZERO; 3]; 3];
            for (c, d) in [
                (0usize, (h, F::ZERO, F::ZERO)),
                (1, (F::ZERO, h, F::ZERO)),
                (2, (F::ZERO, F::ZERO, h)),
            ] {
                let p = sys(a + d.0, l + d.1, n + d.2)?;
                let m = sys(a - d.0, l - d.1, n - d.2)?;
                for r in 0..3 {
                    jac[r][c] = (p[r] - m[r]) / (F::TWO * h);
                }
            }
            let step = solve3(jac, f)?;
            let size = step[0]
                .abs()
                .max(step[1].abs())
                .max(step[2].abs() / F::from_f64(100.0));
            let damp = if size > F::from_f64(0.02) {
                F::from_f64(0.02) / size
            } else {
                F::ONE
            };
            a -= damp * step[0];
            l -= damp * step[1];
            n -= damp * step[2];
            if !(a.abs() < F::ONE && l.abs() < F::ONE && n > F::ONE) {
                return None;
            }
            if step[0].abs().max(step[1].abs()).max(step[2].abs()) < F::from_f64(1e-11) {
                return Some((a, l, n));
            }
        }
        None
    }
}

/// Signs of a residual pair: ±1, 0, or 2 where undefined (NaN).
fn signs<F: Real>((r1, r2): (F, F)) -> (i8, i8) {
    let sgn = |v: F| -> i8 {
        if v > F::ZERO {
            1
        } else if v < F::ZERO {
            -1
        } else if v == F::ZERO {
            0
        } else {
            2
        }
    };
    (sgn(r1), sgn(r2))
}

/// Whether both residuals change sign strictly across four corners, all defined. Exact
/// zeros do not count: they come from underflow (a flat, undefined region), and a root
/// exactly on a node is also seen by the neighbouring cells.
fn crosses(c: &[(i8, i8); 4]) -> bool {
    let changes = |pick: fn(&(i8, i8)) -> i8| {
        let mut lo = false;
        let mut hi = false;
        for v in c.iter().map(pick) {
            if v == 2 {
                return false;
            }
            lo |= v < 0;
            hi |= v > 0;
        }
        lo && hi
    };
    changes(|p| p.0) && changes(|p| p.1)
}

/// asinh(x), odd, without overflow for large |x|.
fn asinh<F: Real>(x: F) -> F {
    let ax = x.abs();
    let v = if ax > F::from_f64(1e8) {
        (F::TWO * ax).ln()
    } else {
        (ax + (ax * ax + F::ONE).sqrt()).ln()
    };
    if x < F::ZERO {
        -v
    } else {
        v
    }
}

/// Bisection of `f` on [lo, hi] where f(lo) = `vlo` and f changes sign.
fn bisect<F: Real>(f: &impl Fn(F) -> F, mut lo: F, mut hi: F, mut vlo: F, tol: f64) -> F {
    let tol = F::from_f64(tol);
    for _ in 0..200 {
        let mid = (lo + hi) / F::TWO;
        if (hi - lo).abs() < tol {
            return mid;
        }
        let vm = f(mid);
        if (vm <= F::ZERO) == (vlo <= F::ZERO) {
            lo = mid;
            vlo = vm;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / F::TWO
}

/// Eigenvalues of a real 2×2 matrix as (re, im) pairs, larger real part first.
pub fn eigenvalues<F: Real>(j: [[F; 2]; 2]) -> [(F, F); 2] {
    let tr = j[0][0] + j[1][1];
    let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
    let half = tr / F::TWO;
    let disc = half * half - det;
    if disc >= F::ZERO {
        let s = disc.sqrt();
        [(half + s, F::ZERO), (half - s, F::ZERO)]
    } else {
        let s = (-disc).sqrt();
        [(half, s), (half, -s)]
    }
}

/// Solves a 3×3 linear system by Cramer's rule; `None` if singular.
fn solve3<F: Real>(m: [[F; 3]; 3], b: [F; 3]) -> Option<[F; 3]> {
    let det3 = |m: [[F; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det3(m);
    if d == F::ZERO || !d.is_finite() {
        return None;
    }
    let mut x = [F::ZERO; 3];
    for (c, xc) in x.iter_mut().enumerate() {
        let mut mc = m;
        for r in 0..3 {
            mc[r][c] = b[r];
        }
        *xc = det3(mc) / d;
    }
    Some(x)
}

/// The transition line between mixtures and prototypes (PROTOCOLS.md §6, reconstructed
/// SM 6.1): T*(n) = s / (2·[artanh(1 − 2^(−1/(2n)))]^(1/n)) with s = ⟨A|A⟩ + ⟨A|B⟩.
/// Prototypes are learned above T*.
pub fn transition_temperature<F: Real>(s: F, n: F) -> F {
    let y = F::ONE - F::TWO.powf(-F::ONE / (F::TWO * n));
    // artanh(y) = ½ ln((1 + y)/(1 − y)).
    let artanh = ((F::ONE + y) / (F::ONE - y)).ln() / F::TWO;
    s / (F::TWO * artanh.powf(F::ONE / n))
}

/// A saddle-node bifurcation: a pair of fixed points born or annihilated at `n`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fold<F> {
    /// Where the pair meets, in n (to about 1e−7).
    pub n: F,
    /// α of the pair where it meets.
    pub alpha: F,
    /// ℓ of the pair where it meets.
    pub ell: F,
}

/// The continuation of the fixed points in n: T, K and the branch fixed.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Continuation<F> {
    /// Gram entries.
    pub gram: Gram<F>,
    /// Temperature T (before the effective-temperature correction).
    pub temperature: F,
    /// Number of identical memories K.
    pub memories: usize,
    /// Branch of β.
    pub branch: Branch,
    /// Search options.
    pub options: SearchOptions,
}

impl<F: Real> Continuation<F> {
    /// The system at `n`.
    pub fn at(&self, n: F) -> Result<Reduced<F>, ParamError> {
        Reduced::new(self.gram, n, self.temperature, self.memories, self.branch)
    }

    /// Follows the fixed points over increasing `ns`: calls `each(n, points)` for every n
    /// (Newton from the previous n's points plus the global scan), and `fold(f)` for every
    /// saddle-node point between consecutive n, located by bisection in n on the
    /// existence of the colliding pair (a local search around it).
    pub fn run(
        &self,
        ns: impl IntoIterator<Item = F>,
        mut each: impl FnMut(F, &FixedPoints<F>),
        mut fold: impl FnMut(Fold<F>),
    ) -> Result<(), ParamError> {
        let mut prev: Option<(F, FixedPoints<F>)> = None;
        for n in ns {
            let sys = self.at(n)?;
            let seeds: heapless::Vec<(F, F), MAX_FIXED_POINTS> = prev
                .as_ref()
                .map(|(_, p)| {
                    p.iter()
                        .filter(|q| !q.saturated)
                        .map(|q| (q.alpha, q.ell))
                        .collect()
                })
                .unwrap_or_default();
            let fps = sys.fixed_points(&self.options, &seeds);
            if let Some((pn, pf)) = &prev {
                let count = |v: &FixedPoints<F>| v.iter().filter(|p| !p.saturated).count();
                let (c0, c1) = (count(pf), count(&fps));
                if c0 > c1 {
                    // A pair vanished between pn and n: it exists at pn.
                    if let Some(f) = self.bisect_fold(pf, *pn, n)? {
                        fold(f);
                    }
                } else if c1 > c0 {
                    // A pair was born: it exists at n; go back until it does not.
                    if let Some(f) = self.bisect_fold(&fps, n, *pn)? {
                        fold(f);
                    }
                }
            }
            each(n, &fps);
            prev = Some((n, fps));
        }
        Ok(())
    }

    /// The closest pair of unsaturated points.
    fn closest_pair(points: &FixedPoints<F>) -> Option<PointPair<F>> {
        let un: heapless::Vec<(F, F), MAX_FIXED_POINTS> = points
            .iter()
            .filter(|p| !p.saturated)
            .map(|p| (p.alpha, p.ell))
            .collect();
        let mut best: Option<(F, PointPair<F>)> = None;
        for i in 0..un.len() {
            for j in i + 1..un.len() {
                let d = (un[i].0 - un[j].0).abs() + (un[i].1 - un[j].1).abs();
                if best.is_none_or(|b| d < b.0) {
                    best = Some((d, (un[i], un[j])));
                }
            }
        }
        best.map(|b| b.1)
    }

    /// Whether two points exist near the pair (p, q) at `n`; returns the pair found.
    fn pair_at(&self, n: F, p: (F, F), q: (F, F)) -> Result<Option<PointPair<F>>, ParamError> {
        let sys = self.at(n)?;
        // The pair exists at n when Newton from both of its members (from the
        // neighbouring n) converges to two distinct points with the rescaling active.
        // No scan: near the fold the nullclines are nearly tangent over many cells, and
        // scanning them on every bisection step cost as much as the rest of the diagram.
        let md = F::from_f64(
            self.options
                .merge_distance
                .max(10.0 * self.options.tolerance),
        );
        let found = |s: (F, F)| {
            sys.newton(s.0, s.1, &self.options)
                .filter(|&(a, l)| sys.rescaling_active(a, l))
        };
        Ok(match (found(p), found(q)) {
            (Some(u), Some(v)) if (u.0 - v.0).abs() >= md || (u.1 - v.1).abs() >= md => {
                Some((u, v))
            }
            _ => None,
        })
    }

    /// Bisection in n between `n_with` (the pair in `points` exists) and `n_without`.
    fn bisect_fold(
        &self,
        points: &FixedPoints<F>,
        n_with: F,
        n_without: F,
    ) -> Result<Option<Fold<F>>, ParamError> {
        let Some(mut pair) = Self::closest_pair(points) else {
            return Ok(None);
        };
        let (mut yes, mut no) = (n_with, n_without);
        // The coarse scan may find a newborn pair a few steps late: while the pair still
        // exists at `no`, step further (up to 50 steps).
        let step = no - yes;
        let mut tries = 0;
        while let Some(p) = self.pair_at(no, pair.0, pair.1)? {
            tries += 1;
            if tries > 50 || no + step <= F::ONE {
                return Ok(None);
            }
            yes = no;
            pair = p;
            no += step;
        }
        for _ in 0..40 {
            if (yes - no).abs() < F::from_f64(1e-7) {
                break;
            }
            let mid = (yes + no) / F::TWO;
            match self.pair_at(mid, pair.0, pair.1)? {
                Some(p) => {
                    yes = mid;
                    pair = p;
                }
                None => no = mid,
            }
        }
        // A true saddle-node pair meets at the fold. A pair that stays apart lost one
        // member another way: it reached ℓ = ±1 and became a saturated point (a border
        // collision, not a fold).
        let gap = (pair.0 .0 - pair.1 .0).abs() + (pair.0 .1 - pair.1 .1).abs();
        if gap > F::from_f64(0.05) {
            return Ok(None);
        }
        Ok(Some(Fold {
            n: (yes + no) / F::TWO,
            alpha: (pair.0 .0 + pair.1 .0) / F::TWO,
            ell: (pair.0 .1 + pair.1 .1) / F::TWO,
        }))
    }
}

/// Two points of the (α, ℓ) plane, as found by the fold search.
type PointPair<F> = ((F, F), (F, F));

/// Two memories of the pair that may differ, at the absolute temperature T: memory 0 is
/// (α + δα)A + (β ∓ …)B with label ℓ + δℓ, memory 1 is (α − δα)A + … with ℓ − δℓ (each on
/// |α_μ| + |β_μ| = 1, the label of B's class at −ℓ_μ). Both feed the same outputs, so their
/// gradients are coupled. At δα = δℓ = 0 it is the reduced system with K = 2 (effective
/// temperature T/2^(1/n)); around a fixed point, its linearisation in (δα, δℓ) is the
/// splitting dynamics of PROTOCOLS.md §6 ("Saddle dynamics", S.85–S.88).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Splitting<F> {
    /// One memory at T (K = 1): the per-memory overlaps, powers and flow.
    one: Reduced<F>,
}

impl<F: Real> Splitting<F> {
    /// The pair system for Gram entries `gram`, power n (m = n) and temperature `t`.
    pub fn new(gram: Gram<F>, n: F, t: F, branch: Branch) -> Result<Self, ParamError> {
        Ok(Splitting {
            one: Reduced::new(gram, n, t, 1, branch)?,
        })
    }

    /// The reduced system of the two memories while they are identical (K = 2 at T).
    pub fn merged(&self) -> Reduced<F> {
        let r = &self.one;
        // The effective temperature of K = 1 is T itself.
        Reduced::new(r.gram, r.n, r.t_eff, 2, r.branch).expect("validated in new")
    }

    /// The gradient terms of each memory, `m[μ]` = (α_μ, ℓ_μ).
    pub fn gradients(&self, m: [(F, F); 2]) -> [Gradients<F>; 2] {
        let p = [self.one.powers(m[0].0), self.one.powers(m[1].0)];
        let d = self.one.drives(
            m[0].1 * p[0].an + m[1].1 * p[1].an,
            m[0].1 * p[0].bn + m[1].1 * p[1].bn,
            p[0].an + p[1].an,
            p[0].bn + p[1].bn,
        );
        [p[0].gradients(m[0].1, d), p[1].gradients(m[1].1, d)]
    }

    /// The flow (dα_μ/dt, dℓ_μ/dt) of each memory, with the reduced system's rescaling
    /// and label saturation applied to each.
    pub fn flow(&self, m: [(F, F); 2]) -> [(F, F); 2] {
        let g = self.gradients(m);
        [
            self.one.flow_of(&g[0], m[0].0, m[0].1),
            self.one.flow_of(&g[1], m[1].0, m[1].1),
        ]
    }

    /// The flow in split coordinates: (dα, dδα, dℓ, dδℓ)/dt, the half-sums and
    /// half-differences of the two memories' flows.
    pub fn split_flow(&self, alpha: F, delta_alpha: F, ell: F, delta_ell: F) -> [F; 4] {
        let [f0, f1] = self.flow([
            (alpha + delta_alpha, ell + delta_ell),
            (alpha - delta_alpha, ell - delta_ell),
        ]);
        [
            (f0.0 + f1.0) / F::TWO,
            (f0.0 - f1.0) / F::TWO,
            (f0.1 + f1.1) / F::TWO,
            (f0.1 - f1.1) / F::TWO,
        ]
    }

    /// The linearised splitting dynamics at (α, ℓ): the matrix S with
    /// d(δα, δℓ)/dt ≈ S·(δα, δℓ), by central differences at δ = 0 (the δ components of
    /// the flow are odd in δ, so the difference is exact to second order).
    pub fn splitting_matrix(&self, alpha: F, ell: F) -> [[F; 2]; 2] {
        let h = self.one.fd_step();
        let two_h = F::TWO * h;
        let (pa, ma) = (
            self.split_flow(alpha, h, ell, F::ZERO),
            self.split_flow(alpha, -h, ell, F::ZERO),
        );
        let (pl, ml) = (
            self.split_flow(alpha, F::ZERO, ell, h),
            self.split_flow(alpha, F::ZERO, ell, -h),
        );
        [
            [(pa[1] - ma[1]) / two_h, (pl[1] - ml[1]) / two_h],
            [(pa[3] - ma[3]) / two_h, (pl[3] - ml[3]) / two_h],
        ]
    }
}
