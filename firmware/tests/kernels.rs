//! On-target unit tests (defmt-test) of ghn-core's f32 kernels on the Cortex-M4F's FPU,
//! against f64 references computed on the device.
#![no_std]
#![no_main]

use cortex_m_rt::{exception, ExceptionFrame};
use cortex_m_semihosting::debug::{exit, EXIT_FAILURE};
use defmt_semihosting as _;
use panic_probe as _;

#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    exit(EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

/// Relative error of `a` against `b`.
fn rel(a: f64, b: f64) -> f64 {
    libm::fabs(a - b) / libm::fmax(libm::fabs(b), 1e-30)
}

#[defmt_test::tests]
mod tests {
    use super::rel;
    use ghn_core::{Kernel, PlainKernel};
    use ghn_firmware::digits::{pixel_f64, A_BYTES, B_BYTES, PIXELS, SAMPLES};
    use ghn_firmware::{gram, initialise, Buffers, FIG6B};

    /// X·Mᵀ: the four overlaps of the Fig 6b start, against f64 sums of the same f32 values.
    #[test]
    fn x_mt_matches_f64() {
        let mut b = Buffers::new();
        initialise(&FIG6B, &mut b.net);
        let mut out = [0f32; 4];
        PlainKernel.x_mt(
            SAMPLES.as_flattened(),
            b.net.memories.as_flattened(),
            2,
            2,
            PIXELS,
            &mut out,
        );
        for p in 0..2 {
            for mu in 0..2 {
                let want: f64 = SAMPLES[p]
                    .iter()
                    .zip(b.net.memories[mu].iter())
                    .map(|(&x, &m)| x as f64 * m as f64)
                    .sum();
                let got = out[p * 2 + mu] as f64;
                assert!(
                    rel(got, want) < 1e-5,
                    "overlap {} {}: {} vs {}",
                    p,
                    mu,
                    got,
                    want
                );
            }
        }
    }

    /// Gᵀ·X with a zero weight (skipped row) and a non-zero one.
    #[test]
    fn gt_x_matches_f64() {
        let g = [0.25f32, 0.0, -1.5, 2.0];
        let mut out = [0f32; 2 * PIXELS];
        PlainKernel.gt_x(&g, SAMPLES.as_flattened(), 2, 2, PIXELS, &mut out);
        for mu in 0..2 {
            for i in 0..PIXELS {
                let want =
                    g[mu] as f64 * SAMPLES[0][i] as f64 + g[2 + mu] as f64 * SAMPLES[1][i] as f64;
                assert!(libm::fabs(out[mu * PIXELS + i] as f64 - want) < 1e-6);
            }
        }
    }

    /// The activations' power (libm's powf, or micromath's with fast-math) against f64.
    #[test]
    fn pow_matches_f64() {
        let tol = if cfg!(feature = "fast-math") {
            2e-2
        } else {
            1e-6
        };
        for i in 1..50 {
            let x = i as f32 / 25.0;
            let got = PlainKernel.pow(x, 20.0f32) as f64;
            let want = libm::pow(x as f64, 20.0);
            assert!(rel(got, want) < tol, "{}^20: {} vs {}", x, got, want);
        }
    }

    /// The f32 pixels in flash are the f64 pixels of the stored bytes, rounded once, and
    /// the Gram entries are those of rows 21 and 81 (PROTOCOLS.md §8).
    #[test]
    fn digits_and_gram() {
        for i in 0..PIXELS {
            assert_eq!(SAMPLES[0][i], pixel_f64(A_BYTES[i]) as f32);
            assert_eq!(SAMPLES[1][i], pixel_f64(B_BYTES[i]) as f32);
        }
        let g = gram();
        assert!(libm::fabs(g.aa - 753.2249) < 1e-3);
        assert!(libm::fabs(g.ab - 494.0239) < 1e-3);
        assert!(libm::fabs(g.bb - 719.7008) < 1e-3);
    }
}
