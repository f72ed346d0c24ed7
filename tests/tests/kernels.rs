//! ghn-core's plain kernel against the host's GEMM kernel: the same products to rounding,
//! the same training run to 1e−9, and the GEMM kernel bit-identical for any thread count.

use ghn_core::{Kernel, PlainKernel};
use ghn_tests::strategies::*;
use host_runner::kernel::GemmKernel;
use proptest::prelude::*;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn products<K: Kernel<f64>>(k: &K, pb: &Problem, g: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (p, kk, d) = (pb.dims.samples, pb.dims.memories, pb.dims.pixels);
    let mut h = vec![0.0; p * kk];
    let mut out = vec![0.0; kk * d];
    k.x_mt(&pb.x, &pb.m, p, kk, d, &mut h);
    k.gt_x(g, &pb.x, p, kk, d, &mut out);
    (h, out)
}

proptest! {
    #![proptest_config(config())]

    /// Same products to rounding; GEMM bit-identical on 1, 2 and 3 threads. Sizes reach
    /// past the kernel's threshold for splitting work between threads.
    #[test]
    fn gemm_matches_plain_and_is_thread_independent(
        pb in problem(1..=300, 1..=40, 1..=900, 2..=2),
        seed in any::<u64>(),
    ) {
        let (p, k) = (pb.dims.samples, pb.dims.memories);
        let mut s = seed;
        let g: Vec<f64> = (0..p * k).map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        }).collect();
        let (h0, o0) = products(&PlainKernel, &pb, &g);
        let results: Vec<_> = [1, 2, 3].iter().map(|&t| pool(t).install(|| products(&GemmKernel, &pb, &g))).collect();
        for r in &results[1..] {
            prop_assert!(r == &results[0], "GEMM results depend on the thread count");
        }
        let scale = pb.dims.pixels.max(p) as f64;
        prop_assert!(max_diff(h0.iter().copied(), results[0].0.iter().copied()) <= 1e-13 * scale);
        prop_assert!(max_diff(o0.iter().copied(), results[0].1.iter().copied()) <= 1e-13 * scale);
    }
}

/// 50 Fig-1 epochs with each kernel stay within 1e−9 of each other (f64), and within the
/// f32 tolerance in f32.
#[test]
fn training_with_either_kernel_agrees() {
    fn run_both<F: host_runner::kernel::HostFloat>(tol: f64) {
        let mut a = host_runner::bench::Fig1::<F>::new().unwrap();
        let mut b = host_runner::bench::Fig1::<F>::new().unwrap();
        for _ in 0..50 {
            a.step(&PlainKernel).unwrap();
            pool(2).install(|| b.step(&GemmKernel).unwrap());
        }
        let d = max_diff(
            a.memories().iter().map(|v| v.to_f64()),
            b.memories().iter().map(|v| v.to_f64()),
        );
        assert!(
            d <= tol,
            "{}: kernels differ by {d:e} after 50 epochs",
            F::NAME
        );
        let moved = a
            .memories()
            .iter()
            .map(|v| (v.to_f64() + 0.003).abs())
            .fold(0.0, f64::max);
        assert!(moved > 0.1, "the run did not move ({moved})");
    }
    run_both::<f64>(1e-9);
    run_both::<f32>(1e-3);
}

/// f32 follows f64 from the paper's initialisation, where every f32 activation underflows
/// and the gradients come from the per-memory rescaled path (`Real::SCALED_GRADIENTS`).
#[test]
fn f32_follows_f64_from_the_papers_initialisation() {
    let mut a = host_runner::bench::Fig1::<f64>::new().unwrap();
    let mut b = host_runner::bench::Fig1::<f32>::new().unwrap();
    for epoch in 1..=100 {
        a.step(&GemmKernel).unwrap();
        b.step(&GemmKernel).unwrap();
        let d = max_diff(
            a.memories().iter().copied(),
            b.memories().iter().map(|&v| v as f64),
        );
        assert!(
            d <= 1e-4,
            "epoch {epoch}: f32 and f64 memories differ by {d:e}"
        );
    }
}
