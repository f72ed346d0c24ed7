//! Shared helpers for ghn's integration and property tests.
pub mod paper200;
pub mod strategies;
