//! `ghn reproduce FIG --out DIR [--quick]`: the protocols of PROTOCOLS.md §7, their data as
//! CSV and their panels as PNG and SVG, plus a `run.json` manifest. Every file is written
//! atomically; `--quick` runs the same protocol on a coarser grid and says so on its
//! figures.
//!
//! The two-sample runs of Figs 6 and 7 train with ghn-core's `train_step` and its plain
//! kernel (K ≤ 2 and two samples: a GEMM would only add overhead), in f64, one run per
//! rayon task; results are collected in run order, so they do not depend on the threads.

use crate::data::{self, Dataset};
use crate::figure::{self, Cell, Mark, Panel, Series, TAB10};
use crate::npz::write_atomic;
use crate::reduced::{self, System};
use crate::train::{gaussian_state, pair_state, NetState};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use ghn_core::reduced::{transition_temperature, Branch, Gram, SearchOptions};
use ghn_core::{train_step, Dims, Params, ParamsBuilder, PlainKernel, Scratch};
use rayon::prelude::*;
use serde_json::json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `ghn reproduce` options.
#[derive(Args, Debug, Clone)]
pub struct ReproduceArgs {
    /// Which figure.
    #[arg(value_enum)]
    pub figure: FigureName,
    /// Output directory (created; files in it are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The same protocol on a coarser grid (minutes instead of the full run's time).
    #[arg(long)]
    pub quick: bool,
    /// Worker threads (results do not depend on it).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Seed of the Gaussian initialisations.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Figs 1, 2, 9: only these temperatures (absolute T, comma-separated) instead of the
    /// figure's, e.g. 650,750 for two of Fig 2's lines.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub temperatures: Option<Vec<f64>>,
    /// Figs 1, 2, 9: train this many epochs instead of the protocol's (for smoke tests;
    /// the figures then say so).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// S.17, Fig 4 and Fig 8 --fresh-samples: directory of the MNIST files (else
    /// $GHN_DATA_DIR, else the user data directory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Fig 8: train each seed on its own seeded MNIST sample of 20 ones, sevens and eights
    /// instead of the 200-digit set's (the reference's training file is not published;
    /// this shows how much the proportions depend on the set).
    #[arg(long)]
    pub fresh_samples: bool,
}

/// The figures `ghn reproduce` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FigureName {
    /// Fig 1: memories, α profiles and labels of K = 100 networks for n ∈ {3, 15, 30} and
    /// T ∈ {400, 550, 670}.
    Fig1,
    /// Fig 2a: mean max |α| and the number of samples needed to reconstruct a memory
    /// against n = 2…60, for T ∈ {450, 650, 750}.
    Fig2,
    /// Fig 6: nullclines, the bifurcation diagram with its folds, fixed-point memories,
    /// and two-memory runs that converge to the saddle and split (6a, 6b, 6c).
    Fig6,
    /// Fig 7: final memories of intra- and inter-digit two-sample runs over the (n, T_r)
    /// grid, with the transition line T*(n).
    Fig7,
    /// Fig 9: memories per class (L > 0.98) against T = 650…899 at n = 25.
    Fig9,
    /// Fig 3: the dynamics at n = 3 and n = 30 (T_r 0.85, 3501 epochs saved every 10):
    /// recognised samples, the learning tree and order, transitions, PCA paths.
    Fig3,
    /// Fig 4: 400 memories on a seeded 1000-digit MNIST sample, n = 3 and 30: the
    /// learning trees (needs the MNIST files, like s17).
    Fig4,
    /// Fig 5: digits 1, 4, 7 (60 samples), n = 3 and 30, T_r 1.02: ᾱ₁–ᾱ₄ and ᾱ₁–ᾱ₇
    /// trajectories, the splits and the plane ᾱ₁ + 2ᾱ₄ ≈ 1 between them.
    Fig5,
    /// Fig 8: digits 1, 7, 8, every memory started near a 1 or a 7: the proportion of 1s
    /// against n, and the one-memory saddle's ᾱ₁ (quick: T_r 1.02, every fourth n, 2 seeds).
    Fig8,
    /// Fig S.17: the learning order over 100 seeds, each on a fresh 200-digit sample of
    /// MNIST (needs the MNIST files: --data-dir, $GHN_DATA_DIR or `ghn data fetch`).
    S17,
}

/// Pixels, classes and the rescaling of the temperature (T_r = T/D).
const D: usize = 784;
const C: usize = 10;

/// Runs `ghn reproduce`.
pub fn run(a: &ReproduceArgs) -> Result<i32> {
    let threads = a.threads.unwrap_or_else(crate::cli::default_threads);
    if threads == 0 {
        bail!("--threads must be at least 1");
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;
    let start = Instant::now();
    let set = data::paper200()?;
    let sweeps = matches!(
        a.figure,
        FigureName::Fig1
            | FigureName::Fig2
            | FigureName::Fig9
            | FigureName::Fig3
            | FigureName::Fig4
            | FigureName::Fig5
            | FigureName::Fig8
            | FigureName::S17
    );
    if !sweeps && (a.temperatures.is_some() || a.epochs.is_some()) {
        bail!("--temperatures and --epochs apply to fig1–fig5, fig8, fig9 and s17 only");
    }
    if let Some(ts) = &a.temperatures {
        if ts.is_empty() || ts.iter().any(|t| !(t.is_finite() && *t > 0.0)) {
            bail!("--temperatures: every temperature must be finite and > 0");
        }
    }
    if a.fresh_samples && a.figure != FigureName::Fig8 {
        bail!("--fresh-samples applies to fig8 only");
    }
    if a.epochs == Some(0) {
        bail!("--epochs must be at least 1");
    }
    // Only once every option is known good, so that a refused command leaves nothing.
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("--out {}: cannot create directory", a.out.display()))?;
    let note_text = match (a.quick, a.epochs) {
        (_, Some(e)) => Some(format!("NOT THE PAPER'S PROTOCOL: {e} epochs (--epochs)")),
        (true, None) => Some("QUICK RUN (--quick): coarser grid than the paper's protocol".into()),
        (false, None) => None,
    };
    let note = note_text.as_deref();
    let (summary, runs_training_s) = if sweeps {
        let setup = crate::figsweep::Setup {
            out: &a.out,
            quick: a.quick,
            note,
            jobs: threads,
            seed: a.seed,
            temperatures: a.temperatures.clone(),
            epochs: a.epochs,
            quiet: a.quiet,
            training_s: Default::default(),
        };
        let r = match a.figure {
            FigureName::Fig1 => crate::figsweep::fig1(&setup, &set)?,
            FigureName::Fig2 => crate::figsweep::fig2(&setup, &set)?,
            FigureName::Fig3 => crate::figsweep::fig3(&setup, &set)?,
            FigureName::Fig5 => crate::figsweep::fig5(&setup, &set)?,
            FigureName::Fig8 if !a.fresh_samples => crate::figsweep::fig8(&setup, &set, None)?,
            FigureName::S17 | FigureName::Fig4 | FigureName::Fig8 => {
                let dir = std::path::absolute(data::mnist_dir(a.data_dir.as_deref())?)
                    .context("--data-dir: cannot resolve path")?;
                match a.figure {
                    FigureName::S17 => crate::figsweep::s17(&setup, &dir)?,
                    FigureName::Fig4 => crate::figsweep::fig4(&setup, &dir)?,
                    _ => crate::figsweep::fig8(&setup, &set, Some(&dir))?,
                }
            }
            _ => crate::figsweep::fig9(&setup, &set)?,
        };
        match r {
            Some(v) => (v, Some(setup.training_s.get())),
            None => {
                eprintln!(
                    "ghn: interrupted; finished runs are kept in {}: run the same command again to continue",
                    a.out.join("runs").display()
                );
                return Ok(crate::figsweep::INTERRUPTED);
            }
        }
    } else {
        let v = pool.install(|| match a.figure {
            FigureName::Fig6 => fig6(&a.out, a.quick, note, &set),
            FigureName::Fig7 => fig7(&a.out, a.quick, note, &set, a.seed),
            _ => unreachable!("sweep figures handled above"),
        })?;
        (v, None)
    };
    let manifest = json!({
        "figure": format!("{:?}", a.figure).to_lowercase(),
        "quick": a.quick,
        "epochs_override": a.epochs,
        "seed": a.seed,
        "threads": threads,
        "program_version": env!("CARGO_PKG_VERSION"),
        "data_sha256": set.sha256(),
        "wall_time_s": start.elapsed().as_secs_f64(),
        // The runs' own training times summed: a figure finished over several
        // invocations reports its whole cost, where wall_time_s is the last one's.
        "runs_training_s": runs_training_s,
        "summary": summary,
    });
    write_atomic(
        &a.out.join("run.json"),
        (serde_json::to_string_pretty(&manifest)? + "\n").as_bytes(),
    )?;
    Ok(0)
}

/// Row `r` of the set.
fn row(set: &Dataset, r: usize) -> &[f64] {
    &set.x[r * set.d..(r + 1) * set.d]
}

/// The mean image of the rows of class `digit`.
pub(crate) fn class_mean(set: &Dataset, digit: u8) -> Vec<f64> {
    let rows: Vec<usize> = (0..set.len()).filter(|&r| set.labels[r] == digit).collect();
    let mut m = vec![0.0; set.d];
    for &r in &rows {
        for (v, x) in m.iter_mut().zip(row(set, r)) {
            *v += x;
        }
    }
    m.iter().map(|v| v / rows.len() as f64).collect()
}

/// (α, β) of `m` in the least-squares fit m ≈ αA + βB: the α decomposition on the two
/// samples (their pseudo-inverse).
pub fn pair_coefficients(g: &Gram<f64>, a: &[f64], b: &[f64], m: &[f64]) -> (f64, f64) {
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
    let (ma, mb) = (dot(m, a), dot(m, b));
    let det = g.aa * g.bb - g.ab * g.ab;
    ((g.bb * ma - g.ab * mb) / det, (g.aa * mb - g.ab * ma) / det)
}

/// ±1 one-hot targets of `classes`.
fn targets(classes: &[usize]) -> Vec<f64> {
    data::one_hot(&classes.iter().map(|&c| c as u8).collect::<Vec<_>>(), C)
}

/// Trains `state` on `x` (P×D) with targets `y` for `epochs` full-batch steps, calling
/// `each(epoch, state)` after every step (and once for epoch 0).
pub(crate) fn train_small(
    params: &Params<f64>,
    x: &[f64],
    y: &[f64],
    state: &mut NetState<f64>,
    epochs: usize,
    mut each: impl FnMut(usize, &NetState<f64>),
) -> Result<()> {
    let k = state.l.len() / C;
    let dims = Dims::new(x.len() / D, k, D, C);
    let mut buf = vec![0.0; dims.scratch_len()];
    let mut scratch =
        Scratch::from_buffer(&mut buf, dims).map_err(|e| anyhow::anyhow!("shape: {e:?}"))?;
    each(0, state);
    for e in 1..=epochs {
        train_step(
            &PlainKernel,
            params,
            x,
            y,
            &mut state.view(),
            &mut scratch,
            None,
        )
        .map_err(|e| anyhow::anyhow!("shape: {e:?}"))?;
        each(e, state);
    }
    Ok(())
}

pub(crate) fn params(n: f64, t: f64, rate: f64) -> Result<Params<f64>> {
    ParamsBuilder::new()
        .n(n)
        .temperature(t)
        .rate(rate)
        .build(D)
        .map_err(|e| anyhow::anyhow!("parameters: {e:?}"))
}

pub(crate) fn write_csv(dir: &Path, name: &str, text: &str) -> Result<()> {
    write_atomic(&dir.join(name), text.as_bytes())
}

// ------------------------------------------------------------------------------ Fig 6 --

/// The Fig 6b runs: (α, ℓ, δ) of the symmetric perturbation (PROTOCOLS.md §7).
const FIG6B_STARTS: [(f64, f64, f64); 3] =
    [(0.4, 0.5, 1e-3), (0.6, -0.2, 1e-3), (0.01, -0.04, 1e-5)];

fn fig6(out: &Path, quick: bool, note: Option<&str>, set: &Dataset) -> Result<serde_json::Value> {
    let (ra, rb) = (21, 81);
    let (a, b) = (row(set, ra), row(set, rb));
    let (da, db) = (set.labels[ra] as usize, set.labels[rb] as usize);
    let g = Gram::of(a, b);
    let system = |ns: Vec<f64>| System {
        gram: g,
        temperature: 700.0,
        memories: 2,
        branch: Branch::Plus,
        ns,
        options: SearchOptions::default(),
    };

    // 6a: nullclines and fixed points at n = 6, 20, 30, 40.
    let panel_ns = vec![6.0, 20.0, 30.0, 40.0];
    let sys_a = system(panel_ns.clone());
    let curves = reduced::nullclines(&sys_a, if quick { 300 } else { 1000 }, (0.0, 1.0))?;
    let (panel_points, _) = reduced::diagram(&sys_a)?;
    let mut csv = String::from("n,nullcline,alpha0,ell0,alpha1,ell1\n");
    for c in &curves {
        for (name, segs) in [("memory", &c.memory), ("label", &c.label)] {
            for s in segs {
                let _ = writeln!(csv, "{},{name},{},{},{},{}", c.n, s[0], s[1], s[2], s[3]);
            }
        }
    }
    write_csv(out, "fig6a_nullclines.csv", &csv)?;
    reduced::plot_nullclines(
        out,
        "fig6a_nullclines",
        &curves,
        &panel_points,
        (0.0, 1.0),
        note,
    )?;

    // Memory images of those fixed points (rows: n = 6, 20, 30, 40; ℓ increasing).
    let mut images = Vec::new();
    let mut count = 0;
    for at in &panel_points {
        for p in &at.fixed_points {
            images.extend(a.iter().zip(b).map(|(x, y)| p.alpha * x + p.beta * y));
            count += 1;
        }
    }
    crate::plot::memories_png(
        &out.join("fig6_fixed_point_memories.png"),
        &images,
        count,
        D,
    )?;

    // 6c: the diagram for n = 1.2 … 71.9 and its folds.
    let step = if quick { 0.5 } else { 0.1 };
    let ns: Vec<f64> = (0..)
        .map(|k| ((1.2 + k as f64 * step) * 1e10).round() / 1e10)
        .take_while(|&n| n < 71.95)
        .collect();
    let t0 = Instant::now();
    let (points, folds) = reduced::diagram(&system(ns.clone()))?;
    let diagram_s = t0.elapsed().as_secs_f64();
    let mut csv = String::from("n,alpha,beta,ell,stable,saturated\n");
    for at in &points {
        for p in &at.fixed_points {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{}",
                at.n, p.alpha, p.beta, p.ell, p.stable, p.saturated
            );
        }
    }
    write_csv(out, "fig6c_diagram.csv", &csv)?;
    let mut csv = String::from("n,alpha,ell\n");
    for f in &folds {
        let _ = writeln!(csv, "{},{},{}", f.n, f.alpha, f.ell);
    }
    write_csv(out, "fig6c_folds.csv", &csv)?;
    reduced::plot_diagram(out, "fig6c_diagram", &points, &folds, note)?;
    reduced::plot_diagram_3d(out, "fig6c_diagram_3d", &points, &folds, note)?;

    // 6b: two-memory runs at n = 20 from three symmetric perturbations.
    let n = 20.0;
    let p = params(n, 700.0, 0.001)?;
    let x: Vec<f64> = a.iter().chain(b).copied().collect();
    let y = targets(&[da, db]);
    let runs: Vec<Vec<[f64; 5]>> = FIG6B_STARTS
        .par_iter()
        .map(|&(alpha, ell, delta)| -> Result<Vec<[f64; 5]>> {
            let mut st = pair_state::<f64>(a, b, da, db, C, alpha, ell, delta);
            let mut traj = Vec::with_capacity(1001);
            train_small(&p, &x, &y, &mut st, 1000, |e, s| {
                let (a0, _) = pair_coefficients(&g, a, b, &s.m[..D]);
                let (a1, _) = pair_coefficients(&g, a, b, &s.m[D..]);
                let (l0, l1) = (s.l[da], s.l[C + da]);
                traj.push([
                    e as f64,
                    (a0 + a1) / 2.0,
                    (a0 - a1) / 2.0,
                    (l0 + l1) / 2.0,
                    (l0 - l1) / 2.0,
                ]);
            })?;
            Ok(traj)
        })
        .collect::<Result<_>>()?;
    let mut csv = String::from("run,alpha0,ell0,delta,epoch,alpha,dalpha,ell,dell\n");
    let mut splits = Vec::new();
    for (i, (traj, start)) in runs.iter().zip(FIG6B_STARTS).enumerate() {
        for r in traj {
            let _ = writeln!(
                csv,
                "{i},{},{},{},{},{},{},{},{}",
                start.0, start.1, start.2, r[0], r[1], r[2], r[3], r[4]
            );
        }
        let split = traj
            .iter()
            .find(|r| r[2].abs() > 0.01)
            .map(|r| r[0] as usize);
        // The state the pair waited at: its slowest point before the split.
        let end = split.unwrap_or(traj.len() - 1);
        let wait = traj[1..end.max(2)]
            .windows(2)
            .min_by(|u, v| {
                let sp = |w: &[[f64; 5]]| (w[1][1] - w[0][1]).abs() + (w[1][3] - w[0][3]).abs();
                sp(u).total_cmp(&sp(v))
            })
            .map(|w| w[1]);
        splits.push(json!({
            "start": {"alpha": start.0, "ell": start.1, "delta": start.2},
            "split_epoch": split,
            "saddle": wait.map(|w| json!({"epoch": w[0], "alpha": w[1], "ell": w[3]})),
        }));
    }
    write_csv(out, "fig6b_runs.csv", &csv)?;
    let n20 = curves.iter().find(|c| c.n == n).expect("n = 20 is a panel");
    let mut over =
        reduced::nullcline_panel(n20, panel_points.iter().find(|at| at.n == n), (0.0, 1.0));
    over.title = "two memories at n = 20 over the nullclines (mean α, ℓ)".into();
    let mut split_panel = Panel {
        title: "their split: |δα| against epoch (log10)".into(),
        x_label: "epoch".into(),
        y_label: "log10 |δα|".into(),
        ..Panel::default()
    };
    for (i, (traj, start)) in runs.iter().zip(FIG6B_STARTS).enumerate() {
        let name = format!("(α, ℓ) = ({}, {})", start.0, start.1);
        let color = [TAB10[0], TAB10[5], TAB10[9]][i];
        over.series.push(Series::new(
            &name,
            traj.iter().map(|r| (r[1], r[3])).collect(),
            Mark::Line,
            color,
        ));
        split_panel.series.push(Series::new(
            &name,
            traj.iter()
                .filter(|r| r[2] != 0.0)
                .map(|r| (r[0], r[2].abs().log10()))
                .collect(),
            Mark::Line,
            color,
        ));
    }
    figure::write(
        &out.join("fig6b_runs"),
        &[over, split_panel],
        2,
        (640, 520),
        note,
    )?;

    // 6b, right: the full two-memory cost around the saddles (PROTOCOLS.md §6 "Cost
    // landscape"), over α and δα, with ℓ on the label nullcline and δℓ = k·δα, k fitted on
    // the split of the (0.01, −0.04) run (epochs 405–768).
    let at20: Vec<_> = panel_points
        .iter()
        .find(|at| at.n == n)
        .map(|at| at.fixed_points.clone())
        .unwrap_or_default();
    let stable_alphas: Vec<f64> = at20.iter().filter(|p| p.stable).map(|p| p.alpha).collect();
    let (amin, amax) = at20
        .iter()
        .map(|p| p.alpha)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    let (sxy, sxx) = runs[2]
        .iter()
        .filter(|r| (405.0..=768.0).contains(&r[0]))
        .fold((0.0, 0.0), |(xy, xx), r| {
            (xy + r[2] * r[4], xx + r[2] * r[2])
        });
    let k_fit = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let red = ghn_core::reduced::Reduced::new(g, n, 700.0, 2, Branch::Plus)
        .map_err(|e| anyhow::anyhow!("reduced system: {e:?}"))?;
    // dℓ/dt = 0 at α: a sign change of ∇_ℓ in ℓ ∈ (−1, 1), by bisection.
    let label_nullcline = |alpha: f64| -> Option<f64> {
        let f = |l: f64| red.gradients(alpha, l).ell;
        let (mut lo, mut hi) = (-0.999, 0.999);
        let flo = f(lo);
        let fhi = f(hi);
        if flo == 0.0 || fhi == 0.0 || (flo > 0.0) == (fhi > 0.0) {
            return None;
        }
        for _ in 0..60 {
            let mid = (lo + hi) / 2.0;
            if (f(mid) > 0.0) == (flo > 0.0) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some((lo + hi) / 2.0)
    };
    let (na, nd) = if quick { (40, 30) } else { (120, 90) };
    let (a0, a1) = (amin - 0.07, amax + 0.07);
    let dims = Dims::new(2, 2, D, C);
    let mut buf = vec![0.0; dims.scratch_len()];
    let mut scratch =
        Scratch::from_buffer(&mut buf, dims).map_err(|e| anyhow::anyhow!("shape: {e:?}"))?;
    let mut surface = Vec::new();
    let mut csv = String::from("alpha,dalpha,ell,dell,cost\n");
    for i in 0..na {
        let alpha = a0 + (a1 - a0) * i as f64 / (na - 1) as f64;
        let Some(ell) = label_nullcline(alpha) else {
            continue;
        };
        for j in 0..nd {
            let dalpha = -0.03 + 0.06 * j as f64 / (nd - 1) as f64;
            let dell = k_fit * dalpha;
            let mut m = Vec::with_capacity(2 * D);
            let mut l = vec![-1.0; 2 * C];
            for (mu, sg) in [1.0, -1.0].into_iter().enumerate() {
                let w = alpha + sg * dalpha;
                m.extend(a.iter().zip(b).map(|(x, y)| w * x + (1.0 - w) * y));
                l[mu * C + da] = ell + sg * dell;
                l[mu * C + db] = -(ell + sg * dell);
            }
            ghn_core::forward(&PlainKernel, &p, &x, &m, &l, &mut scratch)
                .map_err(|e| anyhow::anyhow!("shape: {e:?}"))?;
            let cost = ghn_core::cost(scratch.outputs(), &y, p.m());
            let _ = writeln!(csv, "{alpha},{dalpha},{ell},{dell},{cost}");
            surface.push((alpha, dalpha, cost));
        }
    }
    write_csv(out, "fig6b_cost.csv", &csv)?;
    let (lo, hi) = surface
        .iter()
        .map(|v| v.2.max(1e-300).log10())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    let (ha, hd) = (
        (a1 - a0) / (na - 1) as f64 / 2.0,
        0.06 / (nd - 1) as f64 / 2.0,
    );
    let cost_panel = Panel {
        title: format!(
            "log10 cost, n = 20 (ℓ on its nullcline, δℓ = {k_fit:.2}·δα; green: saddles)"
        ),
        x_label: "α".into(),
        y_label: "δα".into(),
        x_range: Some((a0 - ha, a1 + ha)),
        y_range: Some((-0.03 - hd, 0.03 + hd)),
        cells: surface
            .iter()
            .map(|&(al, dal, c)| Cell {
                x: (al - ha, al + ha),
                y: (dal - hd, dal + hd),
                color: figure::sequential(c.max(1e-300).log10(), lo, hi),
            })
            .collect(),
        series: vec![Series::new(
            "",
            stable_alphas.iter().map(|&a| (a, 0.0)).collect(),
            Mark::Points(5),
            (44, 160, 44),
        )],
    };
    figure::write(&out.join("fig6b_cost"), &[cost_panel], 1, (720, 520), note)?;

    Ok(json!({
        "pair": {"rows": [ra, rb], "classes": [da, db], "gram": {"aa": g.aa, "ab": g.ab, "bb": g.bb}},
        "diagram": {"n_values": ns.len(), "wall_time_s": diagram_s,
                    "folds": folds.iter().map(|f| json!({"n": f.n, "alpha": f.alpha, "ell": f.ell})).collect::<Vec<_>>()},
        "fig6b": splits,
    }))
}

// ------------------------------------------------------------------------------ Fig 7 --

/// The (n, T) grid of Fig 7: n = 2…30, T = 400…880 step 20 (T_r 0.51…1.12); quick: every
/// second n and every second T.
fn fig7_grid(quick: bool) -> (Vec<f64>, Vec<f64>) {
    let s = if quick { 2 } else { 1 };
    let ns = (2..=30).step_by(s).map(|n| n as f64).collect();
    let ts = (0..=24)
        .step_by(s)
        .map(|i| 400.0 + 20.0 * i as f64)
        .collect();
    (ns, ts)
}

/// Slices of the paper's Fig 7 (T_r), matched to the nearest grid temperature.
/// The dominant α that marks a prototype in Fig 7 intra: halfway between a mixture of the
/// two 4s (α ≈ 0.5 each; 0.47–0.53 here, they do not weigh the same) and a pure prototype
/// (1). Below the line at low T_r and high n the memory drifts slowly off the mixture
/// (0.56–0.6 at n = 30) without becoming a prototype; a 0.5 threshold would count that.
pub const JUMP: f64 = 0.75;

const INTRA_SLICES: [f64; 3] = [1.12, 1.07, 1.02];
const INTER_SLICES: [f64; 3] = [1.12, 1.02, 0.94];

fn fig7(
    out: &Path,
    quick: bool,
    note: Option<&str>,
    set: &Dataset,
    seed: u64,
) -> Result<serde_json::Value> {
    let (ns, ts) = fig7_grid(quick);
    let epochs = 10_001; // 1 + 10000 + 1 in the reference's saving calls: 10001 steps.
    let rate = 0.001;
    let grid: Vec<(f64, f64)> = ts
        .iter()
        .flat_map(|&t| ns.iter().map(move |&n| (n, t)))
        .collect();

    // Intra: two 4s (rows 80, 81), one memory from the Gaussian start.
    let (ra, rb) = (80, 81);
    let (a, b) = (row(set, ra), row(set, rb));
    let ga = Gram::of(a, b);
    let x: Vec<f64> = a.iter().chain(b).copied().collect();
    let y = targets(&[set.labels[ra] as usize, set.labels[rb] as usize]);
    let intra: Vec<(f64, f64)> = grid
        .par_iter()
        .map(|&(n, t)| -> Result<(f64, f64)> {
            let mut st = gaussian_state::<f64>(1, D, C, -0.003, 1e-5, seed)?;
            train_small(&params(n, t, rate)?, &x, &y, &mut st, epochs, |_, _| {})?;
            Ok(pair_coefficients(&ga, a, b, &st.m))
        })
        .collect::<Result<_>>()?;

    // Inter: the class means of the 4s and the 9s of the 200-digit set, two memories
    // from M₀ = 0.5A − 0.2B, M₁ = 0.5B − 0.2A, L = −1 except L₀[4] = L₁[9] = +1.
    let (d4, d9) = (4usize, 9usize);
    let (ma, mb) = (class_mean(set, d4 as u8), class_mean(set, d9 as u8));
    let ge = Gram::of(&ma, &mb);
    let xe: Vec<f64> = ma.iter().chain(&mb).copied().collect();
    let ye = targets(&[d4, d9]);
    let inter: Vec<(f64, f64)> = grid
        .par_iter()
        .map(|&(n, t)| -> Result<(f64, f64)> {
            let mut m = Vec::with_capacity(2 * D);
            m.extend(ma.iter().zip(&mb).map(|(p, q)| 0.5 * p - 0.2 * q));
            m.extend(ma.iter().zip(&mb).map(|(p, q)| 0.5 * q - 0.2 * p));
            let mut l = vec![-1.0; 2 * C];
            l[d4] = 1.0;
            l[C + d9] = 1.0;
            let mut st = NetState {
                m,
                l,
                vm: vec![0.0; 2 * D],
                vl: vec![0.0; 2 * C],
            };
            train_small(&params(n, t, rate)?, &xe, &ye, &mut st, epochs, |_, _| {})?;
            // The minor α of each memory: B's in memory 0, A's in memory 1.
            let (_, minor0) = pair_coefficients(&ge, &ma, &mb, &st.m[..D]);
            let (minor1, _) = pair_coefficients(&ge, &ma, &mb, &st.m[D..]);
            Ok((minor0, minor1))
        })
        .collect::<Result<_>>()?;

    let dd = D as f64;
    let line = |s: f64, n: f64| transition_temperature(s, n) / dd;
    let s_intra = ga.aa + ga.ab;
    let (s_inter_a, s_inter_b) = (ge.aa + ge.ab, ge.bb + ge.ab);

    let mut csv =
        String::from("n,temperature,rescaled_temperature,alpha_a,alpha_b,dominant_alpha\n");
    for (&(n, t), &(p, q)) in grid.iter().zip(&intra) {
        let _ = writeln!(csv, "{n},{t},{},{p},{q},{}", t / dd, p.max(q));
    }
    write_csv(out, "fig7_intra.csv", &csv)?;
    let mut csv = String::from(
        "n,temperature,rescaled_temperature,minor_alpha_memory0,minor_alpha_memory1\n",
    );
    for (&(n, t), &(p, q)) in grid.iter().zip(&inter) {
        let _ = writeln!(csv, "{n},{t},{},{p},{q}", t / dd);
    }
    write_csv(out, "fig7_inter.csv", &csv)?;
    let fine: Vec<f64> = (0..=280).map(|i| 2.0 + i as f64 * 0.1).collect();
    let mut csv = String::from("n,t_star_r_intra,t_star_r_inter_a,t_star_r_inter_b\n");
    for &n in &fine {
        let _ = writeln!(
            csv,
            "{n},{},{},{}",
            line(s_intra, n),
            line(s_inter_a, n),
            line(s_inter_b, n)
        );
    }
    write_csv(out, "fig7_line.csv", &csv)?;

    // The intra threshold per temperature: the first n where the memory becomes a
    // prototype (dominant α above JUMP), against the first n where T_r lies above the
    // line (the prototype side).
    let mut thresholds = Vec::new();
    let mut csv = String::from("rescaled_temperature,n_jump,n_line,difference\n");
    for &t in &ts {
        let tr = t / dd;
        let jump = grid
            .iter()
            .zip(&intra)
            .filter(|((_, tt), _)| *tt == t)
            .find(|(_, &(p, q))| p.max(q) > JUMP)
            .map(|((n, _), _)| *n);
        let cross = fine.iter().copied().find(|&n| tr > line(s_intra, n));
        let diff = match (jump, cross) {
            (Some(j), Some(c)) => Some(j - c),
            _ => None,
        };
        let f = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        let _ = writeln!(csv, "{tr},{},{},{}", f(jump), f(cross), f(diff));
        thresholds.push(json!({"rescaled_temperature": tr, "n_jump": jump, "n_line": cross}));
    }
    write_csv(out, "fig7_thresholds.csv", &csv)?;

    // Panels: heat maps over (n, T_r) with the line, and slices.
    let (hn, ht) = ((ns[1] - ns[0]) / 2.0, (ts[1] - ts[0]) / dd / 2.0);
    let cells = |vals: &[f64], color: &dyn Fn(f64) -> (u8, u8, u8)| -> Vec<Cell> {
        grid.iter()
            .zip(vals)
            .map(|(&(n, t), &v)| Cell {
                x: (n - hn, n + hn),
                y: (t / dd - ht, t / dd + ht),
                color: color(v),
            })
            .collect()
    };
    let tr_range = Some((ts[0] / dd - ht, ts[ts.len() - 1] / dd + ht));
    // The line where it lies inside the plotted T_r range.
    let line_series = |s: f64, name: &str, color| {
        Series::new(
            name,
            fine.iter()
                .map(|&n| (n, line(s, n)))
                .filter(|&(_, t)| tr_range.is_some_and(|(lo, hi)| t >= lo && t <= hi))
                .collect(),
            Mark::Line,
            color,
        )
    };
    let n_range = Some((ns[0] - hn, ns[ns.len() - 1] + hn));
    let dominant: Vec<f64> = intra.iter().map(|&(p, q)| p.max(q)).collect();
    let heat = |title: &str, vals: &[f64], color: &dyn Fn(f64) -> (u8, u8, u8), s: f64| Panel {
        title: title.into(),
        x_label: "n".into(),
        y_label: "T_r".into(),
        x_range: n_range,
        y_range: tr_range,
        cells: cells(vals, color),
        series: vec![line_series(s, "T*(n)", (0, 0, 0))],
    };
    let slices = |title: &str, at: &[f64], vals: &[Vec<f64>], names: &[&str]| {
        let mut p = Panel {
            title: title.into(),
            x_label: "n".into(),
            y_label: "α".into(),
            ..Panel::default()
        };
        for (si, &tr) in at.iter().enumerate() {
            let t = *ts
                .iter()
                .min_by(|x, y| ((**x / dd) - tr).abs().total_cmp(&((**y / dd) - tr).abs()))
                .expect("a grid");
            for (vi, v) in vals.iter().enumerate() {
                let pts = grid
                    .iter()
                    .zip(v)
                    .filter(|((_, tt), _)| *tt == t)
                    .map(|((n, _), &a)| (*n, a))
                    .collect();
                p.series.push(Series::new(
                    &format!("{} T_r = {:.2}", names[vi], t / dd),
                    pts,
                    Mark::Line,
                    TAB10[(si * vals.len() + vi) % 10],
                ));
            }
        }
        p
    };
    let seq = |v: f64| figure::sequential(v, 0.4, 1.0);
    let bwr = |v: f64| {
        let c = crate::plot::bwr(v / 0.5);
        (c[0], c[1], c[2])
    };
    figure::write(
        &out.join("fig7_intra"),
        &[
            heat(
                "intra (two 4s): dominant α (0.4 … 1)",
                &dominant,
                &seq,
                s_intra,
            ),
            slices(
                "dominant α, slices",
                &INTRA_SLICES,
                std::slice::from_ref(&dominant),
                &["α"],
            ),
        ],
        2,
        (640, 520),
        note,
    )?;
    let minor0: Vec<f64> = inter.iter().map(|v| v.0).collect();
    let minor1: Vec<f64> = inter.iter().map(|v| v.1).collect();
    figure::write(
        &out.join("fig7_inter"),
        &[
            heat(
                "inter: α₉ of memory 1 (−0.5 blue … 0.5 red)",
                &minor0,
                &bwr,
                s_inter_a,
            ),
            heat("inter: α₄ of memory 2", &minor1, &bwr, s_inter_b),
            slices(
                "minor α, slices",
                &INTER_SLICES,
                &[minor0, minor1],
                &["α₉ (mem 1)", "α₄ (mem 2)"],
            ),
        ],
        3,
        (560, 500),
        note,
    )?;
    Ok(json!({
        "grid": {"n": ns, "temperature": ts, "epochs": epochs, "rate": rate},
        "intra": {"rows": [ra, rb], "s": s_intra, "jump": JUMP, "thresholds": thresholds},
        "inter": {"classes": [d4, d9], "means_of": "the 20 samples per class of the 200-digit set"},
    }))
}
