//! Error types: invalid hyper-parameters and mismatched buffer shapes.

use core::fmt;

/// An invalid hyper-parameter; each variant carries the offending value.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ParamError {
    /// n must be finite and > 0.
    N(f64),
    /// m must be finite and ≥ 1.
    M(f64),
    /// The absolute temperature must be finite and > 0.
    Temperature(f64),
    /// The rescaled temperature must be finite and > 0.
    RescaledTemperature(f64),
    /// The learning rate must be finite and > 0.
    Rate(f64),
    /// The momentum must be in [0, 1).
    Momentum(f64),
    /// The number of pixels D must be ≥ 1.
    NoPixels,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ParamError::N(v) => write!(f, "n must be a finite number > 0 (got {v})"),
            ParamError::M(v) => write!(f, "m must be a finite number >= 1 (got {v})"),
            ParamError::Temperature(v) => {
                write!(f, "temperature must be a finite number > 0 (got {v})")
            }
            ParamError::RescaledTemperature(v) => {
                write!(
                    f,
                    "rescaled temperature must be a finite number > 0 (got {v})"
                )
            }
            ParamError::Rate(v) => write!(f, "learning rate must be a finite number > 0 (got {v})"),
            ParamError::Momentum(v) => write!(f, "momentum must be in [0, 1) (got {v})"),
            ParamError::NoPixels => write!(f, "the number of pixels must be at least 1"),
        }
    }
}

impl core::error::Error for ParamError {}

/// A buffer whose length does not match the dimensions it is used with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ShapeError {
    /// Which buffer (e.g. `"memories"`).
    pub buffer: &'static str,
    /// The length the dimensions require.
    pub expected: usize,
    /// The length given.
    pub got: usize,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "buffer `{}` has {} elements, {} expected",
            self.buffer, self.got, self.expected
        )
    }
}

impl core::error::Error for ShapeError {}

/// Checks that `buf` has exactly `expected` elements.
pub(crate) fn check_len<T>(
    buffer: &'static str,
    buf: &[T],
    expected: usize,
) -> Result<(), ShapeError> {
    if buf.len() == expected {
        Ok(())
    } else {
        Err(ShapeError {
            buffer,
            expected,
            got: buf.len(),
        })
    }
}
