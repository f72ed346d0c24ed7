//! # ghn-core
//!
//! The math of generalized Hopfield networks (Krotov–Hopfield dense associative memories)
//! as trained in Boukacem et al., "Waddington landscape for prototype learning in
//! generalized Hopfield networks", Phys. Rev. Research 6, 033098 (2024): the forward pass,
//! exact gradients, the reference implementation's normalised-momentum update rule and
//! memory bounds — one source of truth shared by the `ghn` host program and the
//! Cortex-M4F firmware.
//!
//! ## Invariants
//! * `#![no_std]`, no allocation, no `unsafe`. Every buffer is borrowed from the caller
//!   ([`model::Scratch`], [`model::State`]) or held in fixed-capacity storage
//!   ([`network::Network`], [`network::Trainer`]).
//! * Generic over `f32` and `f64` through [`Real`]; transcendental functions come from
//!   `libm` (the `micromath` feature swaps in approximations for `f32`).
//! * Hyper-parameters are validated once ([`ParamsBuilder::build`]); invalid values are a
//!   typed [`ParamError`], never a panic or a NaN. Buffer lengths are checked at every
//!   public entry point ([`ShapeError`]).
//! * The update follows the reference code step by step ([`update`]); where the paper and
//!   the code differ, the code is followed and the difference documented.
//! * No NaN or infinity arises from finite inputs in [−1, 1]: intermediate products
//!   saturate at [`Real::BIG`], which no `f64` run of the paper's parameter range reaches.
//! * The two dense products go through [`Kernel`]; [`PlainKernel`] is the default.
//!
//! ## Example
//! ```
//! use ghn_core::{Dims, ParamsBuilder, PlainKernel, Scratch, State, train_step};
//! let dims = Dims::new(2, 1, 3, 2); // 2 samples, 1 memory, 3 pixels, 2 classes
//! let params = ParamsBuilder::new().n(2.0).temperature(1.0).rate(0.1).build(3).unwrap();
//! let x = [1.0, -1.0, 1.0, -1.0, 1.0, 1.0];
//! let y = [1.0, -1.0, -1.0, 1.0];
//! let (mut m, mut l, mut vm, mut vl) = ([0.1, 0.0, 0.2], [0.0; 2], [0.0; 3], [0.0; 2]);
//! let mut buf = vec![0.0; dims.scratch_len()];
//! let mut scratch = Scratch::from_buffer(&mut buf, dims).unwrap();
//! let mut state = State { memories: &mut m, labels: &mut l,
//!                         memory_velocity: &mut vm, label_velocity: &mut vl };
//! let report = train_step(&PlainKernel, &params, &x, &y, &mut state, &mut scratch, None).unwrap();
//! assert!(report.cost > 0.0);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod error;
pub mod gradient;
pub mod kernel;
pub mod model;
pub mod network;
pub mod params;
pub mod reduced;
pub mod scalar;
pub mod update;

pub use error::{ParamError, ShapeError};
pub use gradient::{activation_derivative, gradients};
pub use kernel::{Kernel, PlainKernel};
pub use model::{
    activation, cost, forward, outputs, power, predict, underflow_threshold, Dims, Scratch, State,
};
pub use network::{Network, Trainer};
pub use params::{effective_temperature, MemoryBound, Params, ParamsBuilder, Temperature};
pub use scalar::Real;
pub use update::{
    apply_update, bound_memories, max_abs, normalize_rows, train_epoch, train_step, Noise,
    NoiseBuffers, NoiseSource, StepReport,
};

/// Number of classes of MNIST, the paper's data set.
pub const MNIST_CLASSES: usize = 10;
/// Number of pixels of an MNIST image (28×28).
pub const MNIST_PIXELS: usize = 784;
