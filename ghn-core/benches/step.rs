//! One full-batch training step with the plain-loop kernel, in f32 and f64:
//! the two-memory firmware shape (K=2, N=2, D=784) and the Fig-1 shape
//! (K=100, N=200, D=784, n=30, T=670) on the bundled 200-digit set.
//!
//! Run with `cargo bench -p ghn-core`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ghn_core::{Dims, ParamsBuilder, PlainKernel, Real, Scratch, State};
use std::hint::black_box;

const D: usize = 784;
const C: usize = 10;

/// The bundled 200-digit set, scaled to [−1, 1], with ±1 one-hot targets (20 per class).
fn paper200() -> (Vec<f64>, Vec<f64>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/paper200/paper200-images-idx3-ubyte"
    );
    let bytes = std::fs::read(path).expect("bundled data/paper200 images");
    let pixels = &bytes[16..];
    assert_eq!(pixels.len(), 200 * D, "unexpected size of {path}");
    let x = pixels
        .iter()
        .map(|&b| b as f64 / 255.0 * 2.0 - 1.0)
        .collect();
    let mut y = vec![-1.0; 200 * C];
    for p in 0..200 {
        y[p * C + p / 20] = 1.0;
    }
    (x, y)
}

/// Deterministic values around the paper's initialisation mean −0.003.
fn init(len: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            -0.003 + 1e-5 * (((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5)
        })
        .collect()
}

fn bench_shape<F: Real>(c: &mut Criterion, k: usize, n_samples: usize, n: f64, t: f64) {
    let (x_all, y_all) = paper200();
    // Spread the samples over the classes: every (200/N)-th row.
    let stride = 200 / n_samples;
    let rows: Vec<usize> = (0..n_samples).map(|i| i * stride).collect();
    let x: Vec<F> = rows
        .iter()
        .flat_map(|&r| x_all[r * D..(r + 1) * D].iter().map(|&v| F::from_f64(v)))
        .collect();
    let y: Vec<F> = rows
        .iter()
        .flat_map(|&r| y_all[r * C..(r + 1) * C].iter().map(|&v| F::from_f64(v)))
        .collect();
    let params = ParamsBuilder::new()
        .n(F::from_f64(n))
        .temperature(F::from_f64(t))
        .rate(F::from_f64(0.005))
        .build(D)
        .unwrap();
    let dims = Dims::new(n_samples, k, D, C);
    let m0: Vec<F> = init(k * D, 1).into_iter().map(F::from_f64).collect();
    let l0: Vec<F> = init(k * C, 2).into_iter().map(F::from_f64).collect();
    let mut buf = vec![F::ZERO; dims.scratch_len()];
    let name = format!("K{k}_N{n_samples}_D{D}");
    c.bench_with_input(
        BenchmarkId::new(format!("step_plain/{}", F::NAME), name),
        &dims,
        |b, &dims| {
            let (mut m, mut l) = (m0.clone(), l0.clone());
            let (mut vm, mut vl) = (vec![F::ZERO; k * D], vec![F::ZERO; k * C]);
            b.iter(|| {
                let mut scratch = Scratch::from_buffer(&mut buf, dims).unwrap();
                let mut st = State {
                    memories: &mut m,
                    labels: &mut l,
                    memory_velocity: &mut vm,
                    label_velocity: &mut vl,
                };
                black_box(
                    ghn_core::train_step(
                        &PlainKernel,
                        &params,
                        &x,
                        &y,
                        &mut st,
                        &mut scratch,
                        None,
                    )
                    .unwrap(),
                )
            })
        },
    );
}

fn steps(c: &mut Criterion) {
    bench_shape::<f32>(c, 2, 2, 20.0, 700.0);
    bench_shape::<f64>(c, 2, 2, 20.0, 700.0);
    bench_shape::<f32>(c, 100, 200, 30.0, 670.0);
    bench_shape::<f64>(c, 100, 200, 30.0, 670.0);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = steps
}
criterion_main!(benches);
