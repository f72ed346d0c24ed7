//! Hyper-parameters and their validation.
//!
//! [`ParamsBuilder`] collects the values a user gives (n, m, temperature, learning rate,
//! momentum, memory bound); [`ParamsBuilder::build`] checks every one of them and returns
//! a [`Params`] whose invariants the rest of the crate relies on:
//! n > 0, m ≥ 1, T > 0 (absolute), rate > 0, momentum ∈ [0, 1), all finite.

use crate::error::ParamError;
use crate::scalar::Real;

/// The network's temperature, absolute or rescaled by the number of pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Temperature<F> {
    /// The absolute temperature T of the reference code (its `temp`).
    Absolute(F),
    /// The paper's rescaled temperature T_r = T / D.
    Rescaled(F),
}

impl<F: Real> Temperature<F> {
    /// The absolute temperature for `pixels` input dimensions.
    pub fn absolute(self, pixels: usize) -> F {
        match self {
            Temperature::Absolute(t) => t,
            Temperature::Rescaled(tr) => tr * F::from_f64(pixels as f64),
        }
    }
}

/// How memories are kept inside [-1, 1] after each step (PROTOCOLS.md §2 step 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MemoryBound {
    /// Divide each memory by max(1, max_i |M_i|) — the reference's default
    /// ("linear conservation"): keeps memories in the span of the data.
    #[default]
    Rescale,
    /// Clip every pixel to [-1, 1] (the reference's `useClipping=True`).
    Clip,
}

/// Validated hyper-parameters of the model and of its update rule.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Params<F> {
    n: F,
    m: F,
    temperature: F,
    rate: F,
    momentum: F,
    bound: MemoryBound,
}

impl<F: Real> Params<F> {
    /// Power n of the rectified polynomial activation (> 0, may be non-integer).
    pub fn n(&self) -> F {
        self.n
    }
    /// Power m of the cost Σ|o − y|^(2m) (≥ 1).
    pub fn m(&self) -> F {
        self.m
    }
    /// Absolute temperature T (> 0).
    pub fn temperature(&self) -> F {
        self.temperature
    }
    /// Learning rate η (> 0).
    pub fn rate(&self) -> F {
        self.rate
    }
    /// Momentum coefficient in [0, 1).
    pub fn momentum(&self) -> F {
        self.momentum
    }
    /// Memory bound mode.
    pub fn bound(&self) -> MemoryBound {
        self.bound
    }
    /// The same parameters at another absolute temperature (validated).
    pub fn with_temperature(self, temperature: F) -> Result<Self, ParamError> {
        check_temperature(temperature)?;
        Ok(Params {
            temperature,
            ..self
        })
    }
    /// The same parameters with another learning rate (validated), e.g. for rate decay.
    pub fn with_rate(self, rate: F) -> Result<Self, ParamError> {
        check_rate(rate)?;
        Ok(Params { rate, ..self })
    }
}

/// Collects hyper-parameters; [`ParamsBuilder::build`] validates them.
///
/// Defaults are those of the paper's main figures: n = 30, m = n, T_r = 0.85, η = 0.005,
/// momentum 0, memories rescaled.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParamsBuilder<F> {
    /// Power n of the activation.
    pub n: F,
    /// Power m of the cost; `None` means m = n (every experiment of the paper).
    pub m: Option<F>,
    /// Temperature, absolute or rescaled.
    pub temperature: Temperature<F>,
    /// Learning rate η.
    pub rate: F,
    /// Momentum coefficient.
    pub momentum: F,
    /// Memory bound mode.
    pub bound: MemoryBound,
}

impl<F: Real> Default for ParamsBuilder<F> {
    fn default() -> Self {
        ParamsBuilder {
            n: F::from_f64(30.0),
            m: None,
            temperature: Temperature::Rescaled(F::from_f64(0.85)),
            rate: F::from_f64(0.005),
            momentum: F::ZERO,
            bound: MemoryBound::Rescale,
        }
    }
}

impl<F: Real> ParamsBuilder<F> {
    /// Builder with the paper's defaults (see the type's docs).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets n (and m too, while m is left at its default m = n).
    pub fn n(mut self, n: F) -> Self {
        self.n = n;
        self
    }
    /// Sets m explicitly.
    pub fn m(mut self, m: F) -> Self {
        self.m = Some(m);
        self
    }
    /// Sets the absolute temperature T.
    pub fn temperature(mut self, t: F) -> Self {
        self.temperature = Temperature::Absolute(t);
        self
    }
    /// Sets the rescaled temperature T_r = T / D.
    pub fn rescaled_temperature(mut self, tr: F) -> Self {
        self.temperature = Temperature::Rescaled(tr);
        self
    }
    /// Sets the learning rate.
    pub fn rate(mut self, rate: F) -> Self {
        self.rate = rate;
        self
    }
    /// Sets the momentum.
    pub fn momentum(mut self, momentum: F) -> Self {
        self.momentum = momentum;
        self
    }
    /// Sets the memory bound mode.
    pub fn bound(mut self, bound: MemoryBound) -> Self {
        self.bound = bound;
        self
    }

    /// Validates every value for inputs of `pixels` dimensions (needed to turn a rescaled
    /// temperature into an absolute one).
    pub fn build(self, pixels: usize) -> Result<Params<F>, ParamError> {
        if pixels == 0 {
            return Err(ParamError::NoPixels);
        }
        let n = self.n;
        if !n.is_finite() || n <= F::ZERO {
            return Err(ParamError::N(n.to_f64()));
        }
        let m = self.m.unwrap_or(n);
        if !m.is_finite() || m < F::ONE {
            return Err(ParamError::M(m.to_f64()));
        }
        if let Temperature::Rescaled(tr) = self.temperature {
            if !tr.is_finite() || tr <= F::ZERO {
                return Err(ParamError::RescaledTemperature(tr.to_f64()));
            }
        }
        let temperature = self.temperature.absolute(pixels);
        check_temperature(temperature)?;
        check_rate(self.rate)?;
        let momentum = self.momentum;
        if !momentum.is_finite() || momentum < F::ZERO || momentum >= F::ONE {
            return Err(ParamError::Momentum(momentum.to_f64()));
        }
        Ok(Params {
            n,
            m,
            temperature,
            rate: self.rate,
            momentum,
            bound: self.bound,
        })
    }
}

fn check_temperature<F: Real>(t: F) -> Result<(), ParamError> {
    if !t.is_finite() || t <= F::ZERO {
        return Err(ParamError::Temperature(t.to_f64()));
    }
    Ok(())
}

fn check_rate<F: Real>(rate: F) -> Result<(), ParamError> {
    if !rate.is_finite() || rate <= F::ZERO {
        return Err(ParamError::Rate(rate.to_f64()));
    }
    Ok(())
}

/// The temperature at which one memory follows exactly the trajectory of `k` identical
/// memories with identical labels at temperature `t`: T̃ = T / k^(1/n)
/// (PROTOCOLS.md §6, "Effective temperature").
pub fn effective_temperature<F: Real>(t: F, k: usize, n: F) -> F {
    t / F::from_f64(k as f64).powf(F::ONE / n)
}
