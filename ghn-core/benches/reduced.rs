//! The whole bifurcation diagram of the reduced system for the Fig-6 pair (rows 21 and 81,
//! T = 700, K = 2): every fixed point for n = 1.2…71.9 in steps of 0.1, with the folds.
//! Run with `cargo bench -p ghn-core --bench reduced`.

use criterion::{criterion_group, criterion_main, Criterion};
use ghn_core::reduced::{Branch, Continuation, Gram, SearchOptions};
use std::hint::black_box;

fn diagram(c: &mut Criterion) {
    let cont = Continuation {
        gram: Gram {
            aa: 753.2249,
            ab: 494.0239,
            bb: 719.7008,
        },
        temperature: 700.0f64,
        memories: 2,
        branch: Branch::Plus,
        options: SearchOptions::default(),
    };
    c.bench_function("reduced/diagram_n1.2-71.9", |b| {
        b.iter(|| {
            let mut points = 0;
            let mut folds = 0;
            cont.run(
                (2..=709).map(|k| 1.0 + k as f64 / 10.0),
                |_, f| points += f.len(),
                |_| folds += 1,
            )
            .unwrap();
            black_box((points, folds))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = diagram
}
criterion_main!(benches);
