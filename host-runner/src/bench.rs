//! `ghn bench`: one full-batch epoch of the Fig-1 configuration (K = 100, the 200 digits,
//! n = 30, T = 670) with ghn-core's plain kernel and with the host's GEMM kernel, on one
//! thread, in f64 and f32.

use crate::kernel::{GemmKernel, HostFloat};
use anyhow::Result;
use ghn_core::{Dims, Kernel, ParamsBuilder, PlainKernel, Scratch, State};
use std::time::Instant;

/// Options of `ghn bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Epochs timed per kernel and precision.
    #[arg(long, default_value_t = 200)]
    epochs: usize,
}

/// A Fig-1 training problem (K = 100, the bundled 200 digits, n = 30, T = 670) with
/// memories near the paper's initialisation, ready for [`Fig1::step`].
pub struct Fig1<F> {
    params: ghn_core::Params<F>,
    x: Vec<F>,
    t: Vec<F>,
    dims: Dims,
    m: Vec<F>,
    l: Vec<F>,
    vm: Vec<F>,
    vl: Vec<F>,
    buf: Vec<F>,
}

impl<F: HostFloat> Fig1<F> {
    /// The problem at its initial state.
    pub fn new() -> Result<Self> {
        let data = crate::data::paper200()?;
        let (k, d, c, n) = (100, data.d, data.c, data.len());
        let params = ParamsBuilder::new()
            .n(F::from_f64(30.0))
            .temperature(F::from_f64(670.0))
            .rate(F::from_f64(0.005))
            .build(d)?;
        let mut m = vec![F::from_f64(-0.003); k * d];
        for (i, v) in m.iter_mut().enumerate() {
            *v += F::from_f64(1e-5 * ((i * 7919 % 1000) as f64 / 1000.0 - 0.5));
        }
        let dims = Dims::new(n, k, d, c);
        Ok(Fig1 {
            params,
            x: data.x.iter().map(|&v| F::from_f64(v)).collect(),
            t: data.t.iter().map(|&v| F::from_f64(v)).collect(),
            dims,
            m,
            l: vec![F::from_f64(-0.003); k * c],
            vm: vec![F::ZERO; k * d],
            vl: vec![F::ZERO; k * c],
            buf: vec![F::ZERO; dims.scratch_len()],
        })
    }

    /// The memories (K×D) in their current state.
    pub fn memories(&self) -> &[F] {
        &self.m
    }

    /// One full-batch epoch with `kernel`.
    pub fn step<K: Kernel<F>>(&mut self, kernel: &K) -> Result<()> {
        let mut s = Scratch::from_buffer(&mut self.buf, self.dims)?;
        let mut st = State {
            memories: &mut self.m,
            labels: &mut self.l,
            memory_velocity: &mut self.vm,
            label_velocity: &mut self.vl,
        };
        ghn_core::train_step(
            kernel,
            &self.params,
            &self.x,
            &self.t,
            &mut st,
            &mut s,
            None,
        )?;
        Ok(())
    }
}

fn time_epochs<F: HostFloat, K: Kernel<F>>(kernel: &K, epochs: usize) -> Result<f64> {
    let mut p = Fig1::<F>::new()?;
    // Warm-up: the first steps move the memories into the regime of a real run.
    for _ in 0..epochs.min(20) {
        p.step(kernel)?;
    }
    let t0 = Instant::now();
    for _ in 0..epochs {
        p.step(kernel)?;
    }
    Ok(t0.elapsed().as_secs_f64() / epochs as f64)
}

/// Runs the benchmark and prints a table.
pub fn run(a: &BenchArgs) -> Result<()> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    pool.install(|| -> Result<()> {
        let epochs = a.epochs.max(1);
        println!(
            "Fig-1 epoch (K=100, N=200, D=784, n=30, T=670), one thread, {epochs} epochs each"
        );
        println!(
            "{:<10} {:>14} {:>12} {:>12} {:>10}",
            "precision", "kernel", "ms/epoch", "epochs/s", "speed-up"
        );
        for prec in ["f64", "f32"] {
            let (plain, gemm) = if prec == "f64" {
                (
                    time_epochs::<f64, _>(&PlainKernel, epochs)?,
                    time_epochs::<f64, _>(&GemmKernel, epochs)?,
                )
            } else {
                (
                    time_epochs::<f32, _>(&PlainKernel, epochs)?,
                    time_epochs::<f32, _>(&GemmKernel, epochs)?,
                )
            };
            println!(
                "{prec:<10} {:>14} {:>12.3} {:>12.1} {:>10}",
                "plain",
                plain * 1e3,
                1.0 / plain,
                "1.00x"
            );
            println!(
                "{prec:<10} {:>14} {:>12.3} {:>12.1} {:>9.2}x",
                "gemm",
                gemm * 1e3,
                1.0 / gemm,
                plain / gemm
            );
        }
        Ok(())
    })
}
