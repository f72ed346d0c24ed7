//! One full-batch epoch of the Fig-1 configuration (K = 100, N = 200, D = 784, n = 30,
//! T = 670) on one thread: ghn-core's plain kernel against the host's GEMM kernel, in
//! f64 and f32. Run with `cargo bench -p host-runner`.

use criterion::{criterion_group, criterion_main, Criterion};
use ghn_core::PlainKernel;
use host_runner::bench::Fig1;
use host_runner::kernel::{GemmKernel, HostFloat};

fn group<F: HostFloat>(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut g = c.benchmark_group(format!("fig1_epoch/{}", F::NAME));
    let mut plain = Fig1::<F>::new().unwrap();
    g.bench_function("plain", |b| b.iter(|| plain.step(&PlainKernel).unwrap()));
    let mut gemm = Fig1::<F>::new().unwrap();
    g.bench_function("gemm_1_thread", |b| {
        pool.install(|| b.iter(|| gemm.step(&GemmKernel).unwrap()))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    group::<f64>(c);
    group::<f32>(c);
}

criterion_group! {
    name = epoch;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = benches
}
criterion_main!(epoch);
