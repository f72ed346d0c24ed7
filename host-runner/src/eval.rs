//! `ghn eval`: accuracy of a saved state on a data set.

use crate::data::Dataset;
use crate::npz;
use crate::train::{evaluate, run_info};
use anyhow::{bail, Result};
use std::path::Path;

/// Evaluates the state in `state` (M, L) with the n, m, T of `run` (default: run.json next
/// to the state) on `data`, printing accuracy overall and per class.
pub fn run(state: &Path, run: Option<&Path>, data: &Dataset) -> Result<i32> {
    let (run_path, info) = run_info(state, run)?;
    let name = state.display().to_string();
    let mut z = npz::open(state)?;
    let m = npz::read_f64_2d(&mut z, "M", &name)?;
    let l = npz::read_f64_2d(&mut z, "L", &name)?;
    let (k, d) = m.dim();
    if l.dim().0 != k || l.dim().1 != data.c {
        bail!(
            "{name}: L has shape {:?}, expected ({k}, {})",
            l.dim(),
            data.c
        );
    }
    if d != data.d {
        bail!(
            "{name}: memories have {d} pixels but the data has {}",
            data.d
        );
    }
    let params = info.params(d, &run_path)?;
    let m: Vec<f64> = m.iter().copied().collect();
    let l: Vec<f64> = l.iter().copied().collect();
    let res = evaluate(&params, data, &data.x, &data.t, &m, &l, k);
    println!(
        "accuracy {:.4} on {} samples (cost {:.6e})",
        res.accuracy,
        data.len(),
        res.cost
    );
    for (class, &ok) in res.correct.iter().enumerate() {
        let total = data.labels.iter().filter(|&&c| c as usize == class).count();
        if total > 0 {
            println!(
                "  class {class}: {ok}/{total} ({:.4})",
                ok as f64 / total as f64
            );
        }
    }
    Ok(0)
}
