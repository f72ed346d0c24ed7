//! The library behind the `ghn` command: data (IDX, the bundled 200-digit set, sampling,
//! download), the fast GEMM kernel plugged into ghn-core, the training driver with
//! checkpoints, and the output formats (.npz, CSV, JSON, PNG).
//!
//! All model math is ghn-core's; this crate adds I/O, a kernel and orchestration.
#![deny(missing_docs)]

pub mod analyze;
pub mod bench;
pub mod classtree;
pub mod cli;
pub mod config;
pub mod data;
pub mod dynamics;
pub mod eval;
pub mod fetch;
pub mod figsweep;
pub mod figure;
pub mod kernel;
pub mod npz;
pub mod plot;
pub mod reduced;
pub mod reproduce;
pub mod sweep;
pub mod train;
