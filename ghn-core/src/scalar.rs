//! The float trait the whole crate is generic over.
//!
//! [`Real`] is implemented for `f32` and `f64`. Transcendental functions go through
//! [`libm`], so results are the same on a laptop and on a Cortex-M4F. With the opt-in
//! `micromath` feature the `f32` transcendentals (`powf`, `tanh`, `exp`, `ln`, `sqrt`) use
//! micromath's approximations instead: a few times cheaper on an FPU without hardware
//! `exp`/`log`, at an accuracy cost that the test suite measures and the README states.

use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A real number type usable by the model: `f32` or `f64`.
pub trait Real:
    Copy
    + Default
    + PartialOrd
    + Debug
    + Display
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Send
    + Sync
    + 'static
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// 2.
    const TWO: Self;
    /// Largest magnitude intermediate products are clamped to. Sums of up to 2^20 such
    /// terms stay finite, so no `inf - inf = NaN` can arise. For `f64` (2^1000) this is far
    /// beyond any value the model reaches in practice, so it never changes an f64 result;
    /// for `f32` (2^100) it is what keeps high-n, low-T runs free of infinities.
    const BIG: Self;
    /// Powers (activations, error powers) whose exact value is below 2^this are taken as
    /// 0 without calling `pow`. For `f64` this is half the smallest subnormal, where `pow`
    /// itself rounds to 0, so nothing changes. For `f32` it is the smallest normal number:
    /// powers that would be subnormal (< 1.2e-38) are flushed to 0, because computing
    /// them takes libm's slow underflow path and, at n = 30, that was a quarter of an epoch.
    const UNDERFLOW_LOG2: f64;
    /// Smallest positive normal number.
    const MIN_NORMAL: Self;
    /// Whether gradients are computed up to a positive factor per memory row, which the
    /// update's per-row normalisation removes. `false` for `f64`: its gradients are the
    /// exact numbers, so a gradient underflows to 0 exactly where the reference's does
    /// ("zero gradient ⇒ frozen memory"). `true` for `f32`, whose range cannot hold the
    /// model's numbers: |e|^(2m−1) reaches 2^159 (computed as (|e|/2)^(2m−1) instead), and
    /// at the paper's initialisation (overlaps ≈ 1.4 at T = 670, n = 30) every activation
    /// underflows, which would freeze an f32 run forever. A memory whose largest activation
    /// is below [`Real::SAFE_ACTIVATION`] gets its gradient row from (r/r_max)^n and
    /// (r/r_max)^(n−1) instead, r_max being its largest scaled overlap in the batch.
    const SCALED_GRADIENTS: bool;
    /// See [`Real::SCALED_GRADIENTS`]: activations from this value up keep contributions
    /// down to 2^-66 of the largest one representable, so the row needs no rescaling.
    const SAFE_ACTIVATION: Self;
    /// The type's name, for reports.
    const NAME: &'static str;

    /// Conversion from `f64` (rounded to nearest for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Conversion to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Absolute value.
    fn abs(self) -> Self;
    /// `self` raised to the power `e`.
    fn powf(self, e: Self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Exponential.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// `true` unless NaN or infinite.
    fn is_finite(self) -> bool;

    /// NumPy's `sign`: -1, 0 or +1 (0 for ±0).
    #[inline]
    fn sign(self) -> Self {
        if self > Self::ZERO {
            Self::ONE
        } else if self < Self::ZERO {
            -Self::ONE
        } else {
            Self::ZERO
        }
    }

    /// The larger of two numbers (`self` if they compare equal or either is NaN).
    #[inline]
    fn max(self, other: Self) -> Self {
        if other > self {
            other
        } else {
            self
        }
    }

    /// The smaller of two numbers (`self` if they compare equal or either is NaN).
    #[inline]
    fn min(self, other: Self) -> Self {
        if other < self {
            other
        } else {
            self
        }
    }

    /// `self` limited to `[lo, hi]`, like `numpy.clip`.
    #[inline]
    fn clamp_to(self, lo: Self, hi: Self) -> Self {
        self.max(lo).min(hi)
    }

    /// `self` limited to `[-BIG, BIG]` (see [`Real::BIG`]).
    #[inline]
    fn saturate(self) -> Self {
        self.clamp_to(-Self::BIG, Self::BIG)
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const TWO: Self = 2.0;
    const BIG: Self = 1.0715086071862673e301; // 2^1000
    const MIN_NORMAL: Self = f64::MIN_POSITIVE;
    const UNDERFLOW_LOG2: f64 = -1075.0;
    const SCALED_GRADIENTS: bool = false;
    const SAFE_ACTIVATION: Self = 0.0;
    const NAME: &'static str = "f64";

    #[inline]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn abs(self) -> Self {
        libm::fabs(self)
    }
    #[inline]
    fn powf(self, e: Self) -> Self {
        libm::pow(self, e)
    }
    #[inline]
    fn tanh(self) -> Self {
        libm::tanh(self)
    }
    #[inline]
    fn exp(self) -> Self {
        libm::exp(self)
    }
    #[inline]
    fn ln(self) -> Self {
        libm::log(self)
    }
    #[inline]
    fn sqrt(self) -> Self {
        libm::sqrt(self)
    }
    #[inline]
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const TWO: Self = 2.0;
    const BIG: Self = 1.2676506e30; // 2^100
    const MIN_NORMAL: Self = f32::MIN_POSITIVE;
    const UNDERFLOW_LOG2: f64 = -126.0;
    const SCALED_GRADIENTS: bool = true;
    const SAFE_ACTIVATION: Self = 8.673617e-19; // 2^-60
    const NAME: &'static str = "f32";

    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline]
    fn abs(self) -> Self {
        libm::fabsf(self)
    }
    #[inline]
    fn powf(self, e: Self) -> Self {
        f32_math::powf(self, e)
    }
    #[inline]
    fn tanh(self) -> Self {
        f32_math::tanh(self)
    }
    #[inline]
    fn exp(self) -> Self {
        f32_math::exp(self)
    }
    #[inline]
    fn ln(self) -> Self {
        f32_math::ln(self)
    }
    #[inline]
    fn sqrt(self) -> Self {
        f32_math::sqrt(self)
    }
    #[inline]
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
}

/// Whether the f32 transcendentals are micromath's approximations (feature `micromath`).
pub const F32_USES_MICROMATH: bool = cfg!(feature = "micromath");

#[cfg(not(feature = "micromath"))]
mod f32_math {
    #[inline]
    pub fn powf(x: f32, e: f32) -> f32 {
        libm::powf(x, e)
    }
    #[inline]
    pub fn tanh(x: f32) -> f32 {
        libm::tanhf(x)
    }
    #[inline]
    pub fn exp(x: f32) -> f32 {
        libm::expf(x)
    }
    #[inline]
    pub fn ln(x: f32) -> f32 {
        libm::logf(x)
    }
    #[inline]
    pub fn sqrt(x: f32) -> f32 {
        libm::sqrtf(x)
    }
}

#[cfg(feature = "micromath")]
mod f32_math {
    use micromath::F32Ext;

    #[inline]
    pub fn powf(x: f32, e: f32) -> f32 {
        // x^e = exp(e·ln x) with the corrected `ln` below; pow's exact edge values
        // (x^0 = 1, 0^e = 0 for e > 0) are kept explicit since ln 0 is not defined there.
        if e == 0.0 {
            1.0
        } else if x == 0.0 {
            if e > 0.0 {
                0.0
            } else {
                f32::INFINITY
            }
        } else {
            F32Ext::exp(e * ln(x))
        }
    }
    #[inline]
    pub fn tanh(x: f32) -> f32 {
        // micromath has no tanh: 1 - 2/(e^{2|x|}+1) is exact in form and saturates to ±1.
        let ax = if x < 0.0 { -x } else { x };
        if ax > 9.0 {
            return if x < 0.0 { -1.0 } else { 1.0 };
        }
        let t = 1.0 - 2.0 / (F32Ext::exp(2.0 * ax) + 1.0);
        if x < 0.0 {
            -t
        } else {
            t
        }
    }
    #[inline]
    pub fn exp(x: f32) -> f32 {
        F32Ext::exp(x)
    }
    #[inline]
    pub fn ln(x: f32) -> f32 {
        // micromath 2.1's ln is badly wrong below 1 (ln 0.9 gives -0.182, the value of
        // -ln 1.2; worst absolute error 0.12). Reflecting through 1/x brings the worst
        // absolute error over [1e-6, 1e6] down to 6e-5 (measured).
        if x < 1.0 && x > 0.0 {
            -F32Ext::ln(1.0 / x)
        } else {
            F32Ext::ln(x)
        }
    }
    #[inline]
    pub fn sqrt(x: f32) -> f32 {
        F32Ext::sqrt(x)
    }
}
