//! Shared helpers for ghn's integration and property tests.
pub mod strategies;
