//! `ghn analyze`: the paper's analyses of saved memories (PROTOCOLS.md §5) — the α
//! decomposition on the training samples by the Moore–Penrose pseudo-inverse, max |α|, the
//! number of samples needed to reconstruct each memory, the aggregated ᾱ_d per class,
//! label identities and class populations, and the training samples recognised per class —
//! for a state (`final.npz`) or for every frame of a trajectory (`trajectory.npz`).
//!
//! Analyses read saved files only; they never reach into a trainer.

use crate::cli::training_data;
use crate::data::Dataset;
use crate::npz::{self, write_atomic, NpzOut};
use crate::train::{evaluate, run_info};
use anyhow::{bail, Context, Result};
use clap::Args;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `ghn analyze` options.
#[derive(Args, Debug, Clone)]
pub struct AnalyzeArgs {
    /// A saved state: an .npz with M (K×D) and L (K×C), e.g. DIR/final.npz.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "trajectory",
        required_unless_present = "trajectory"
    )]
    pub state: Option<PathBuf>,
    /// A saved trajectory: DIR/trajectory.npz with M (F×K×D), L (F×K×C) and epochs.
    #[arg(long, value_name = "FILE")]
    pub trajectory: Option<PathBuf>,
    /// The run's run.json (its data, n and T) [default: next to the input file].
    #[arg(long, value_name = "FILE")]
    pub run: Option<PathBuf>,
    /// Population threshold: memory μ counts for class d when L[μ, d] ≥ this (the paper
    /// uses 0.99 for Fig 1, 0.98 for Fig 9, 0.9 for Fig 8).
    #[arg(long, default_value_t = 0.99, allow_hyphen_values = true)]
    pub threshold: f64,
    /// SVD cutoff of the pseudo-inverse, relative to the largest singular value (the
    /// 200-digit set has rank 199; any value in [1e-12, 1e-3] gives the same α).
    #[arg(long, default_value_t = 1e-10)]
    pub rcond: f64,
    /// Output directory: analysis.json, memories.csv, summary.csv, alpha.npz.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// One memory's analysis.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct MemoryAnalysis {
    /// max_i |α_i|.
    pub max_alpha: f64,
    /// Samples needed to reconstruct it within the run's tolerance (PROTOCOLS.md §5).
    pub reconstruction_count: usize,
    /// ᾱ_d = Σ of α over the samples of class d, one value per class (Eq. 6).
    pub alpha_bar: Vec<f64>,
    /// argmax_c L[μ, c].
    pub identity: usize,
}

/// The summary of one set of memories.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Summary {
    /// Mean over memories of max |α|.
    pub mean_max_alpha: f64,
    /// Its standard deviation (population).
    pub std_max_alpha: f64,
    /// Mean reconstruction count.
    pub mean_reconstruction_count: f64,
    /// Memories with L[μ, d] ≥ the threshold, per class d.
    pub population: Vec<usize>,
    /// Training samples recognised per class (argmax right and max output > −1, the
    /// reference's Fig 3 guard).
    pub recognised: Vec<usize>,
    /// The reconstruction tolerance used: 0.05·D·mean |M|.
    pub tolerance: f64,
}

/// The analysis of one state.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct StateAnalysis {
    /// Per memory.
    pub memories: Vec<MemoryAnalysis>,
    /// Over memories.
    pub summary: Summary,
}

/// The pseudo-inverse of the P×D sample matrix, D×P, and its rank.
pub struct PseudoInverse {
    /// pinv(X), D×P.
    pub matrix: Array2<f64>,
    /// Singular values above the cutoff.
    pub rank: usize,
}

/// pinv(X) by SVD, singular values below `rcond`·σ_max treated as zero.
pub fn pseudo_inverse(x: &[f64], p: usize, d: usize, rcond: f64) -> Result<PseudoInverse> {
    if !(rcond.is_finite() && rcond > 0.0 && rcond < 1.0) {
        bail!("--rcond must lie in (0, 1), got {rcond}");
    }
    let m = nalgebra::DMatrix::from_row_slice(p, d, x);
    let svd = m.svd(true, true);
    let smax = svd.singular_values.max();
    let cut = rcond * smax;
    let rank = svd.singular_values.iter().filter(|&&s| s > cut).count();
    let pinv = svd
        .pseudo_inverse(cut)
        .map_err(|e| anyhow::anyhow!("pseudo-inverse: {e}"))?;
    // nalgebra is column-major: element (i, j) is pinv[(i, j)].
    let matrix = Array2::from_shape_fn((d, p), |(i, j)| pinv[(i, j)]);
    Ok(PseudoInverse { matrix, rank })
}

/// Analyses memories `m` (K×D) with labels `l` (K×C) against the training data: α = M·pinv(X).
/// `recognised` is filled by the caller (it needs the run's n and T).
pub fn analyse(
    m: ArrayView2<f64>,
    l: ArrayView2<f64>,
    data: &Dataset,
    pinv: &PseudoInverse,
    threshold: f64,
) -> (StateAnalysis, Array2<f64>) {
    let (k, d) = m.dim();
    let (p, c) = (data.len(), data.c);
    let alpha = m.dot(&pinv.matrix); // K×P
    let x = ArrayView2::from_shape((p, d), &data.x).expect("dataset shape");
    let tolerance = 0.05 * d as f64 * m.iter().map(|v| v.abs()).sum::<f64>() / (k * d) as f64;
    // The loop of the reference stops at P − 1 samples (199 for the 200-digit set).
    let max_w = p.saturating_sub(1).max(1);
    let mut memories = Vec::with_capacity(k);
    for mu in 0..k {
        let a = alpha.row(mu);
        let max_alpha = a.iter().fold(0.0f64, |s, v| s.max(v.abs()));
        let mut order: Vec<usize> = (0..p).collect();
        // Largest |α| first; ties by index, so the order is reproducible.
        order.sort_by(|&i, &j| a[j].abs().total_cmp(&a[i].abs()).then(i.cmp(&j)));
        let mut rec = vec![0.0; d];
        let mut count = max_w;
        for (w, &i) in order.iter().take(max_w).enumerate() {
            for (r, &xv) in rec.iter_mut().zip(x.row(i)) {
                *r += a[i] * xv;
            }
            let err: f64 = rec.iter().zip(m.row(mu)).map(|(r, v)| (r - v).abs()).sum();
            if err < tolerance {
                count = w + 1;
                break;
            }
        }
        let mut alpha_bar = vec![0.0; c];
        for (i, &lab) in data.labels.iter().enumerate() {
            alpha_bar[lab as usize] += a[i];
        }
        let lr = l.row(mu);
        let identity = (0..c).fold(0, |best, j| if lr[j] > lr[best] { j } else { best });
        memories.push(MemoryAnalysis {
            max_alpha,
            reconstruction_count: count,
            alpha_bar,
            identity,
        });
    }
    let kf = k as f64;
    let mean_max_alpha = memories.iter().map(|q| q.max_alpha).sum::<f64>() / kf;
    let std_max_alpha = (memories
        .iter()
        .map(|q| (q.max_alpha - mean_max_alpha).powi(2))
        .sum::<f64>()
        / kf)
        .sqrt();
    let mean_reconstruction_count = memories
        .iter()
        .map(|q| q.reconstruction_count as f64)
        .sum::<f64>()
        / kf;
    let population = (0..c)
        .map(|j| (0..k).filter(|&mu| l[(mu, j)] >= threshold).count())
        .collect();
    (
        StateAnalysis {
            memories,
            summary: Summary {
                mean_max_alpha,
                std_max_alpha,
                mean_reconstruction_count,
                population,
                recognised: vec![0; c],
                tolerance,
            },
        },
        alpha,
    )
}

/// [`analyse`] plus the training samples recognised per class with the run's parameters:
/// the whole analysis of one state of K memories.
pub fn analyse_state(
    m: &[f64],
    l: &[f64],
    k: usize,
    data: &Dataset,
    params: &ghn_core::Params<f64>,
    pinv: &PseudoInverse,
    threshold: f64,
) -> Result<(StateAnalysis, Array2<f64>)> {
    let mv = ArrayView2::from_shape((k, data.d), m)?;
    let lv = ArrayView2::from_shape((k, data.c), l)?;
    let (mut an, alpha) = analyse(mv, lv, data, pinv, threshold);
    an.summary.recognised = evaluate(params, data, &data.x, &data.t, m, l, k).correct;
    Ok((an, alpha))
}

/// One analysed frame (a state is one frame at the run's last epoch).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Frame {
    /// Epochs trained when the memories were saved.
    pub epoch: i64,
    /// The analysis.
    #[serde(flatten)]
    pub analysis: StateAnalysis,
}

/// Runs `ghn analyze`.
pub fn run(a: &AnalyzeArgs) -> Result<i32> {
    if !(a.threshold.is_finite() && a.threshold > -1.0 && a.threshold <= 1.0) {
        bail!("--threshold must lie in (−1, 1], got {}", a.threshold);
    }
    let input = a
        .state
        .as_deref()
        .or(a.trajectory.as_deref())
        .expect("clap requires --state or --trajectory");
    let name = input.display().to_string();
    let (run_path, info) = run_info(input, a.run.as_deref())?;
    let data = training_data(&info.config)
        .with_context(|| format!("{}: loading the run's training data", run_path.display()))?;
    if data.sha256() != info.data_sha256 {
        bail!(
            "{}: the training data loaded now differs from the run's (SHA-256 {} vs {})",
            run_path.display(),
            data.sha256(),
            info.data_sha256
        );
    }
    let (d, c) = (data.d, data.c);
    let mut z = npz::open(input)?;
    let m = npz::read_f64(&mut z, "M", &name)?;
    let l = npz::read_f64(&mut z, "L", &name)?;
    // A state is one frame; a trajectory is F frames.
    let (frames, k) = match (a.state.is_some(), m.ndim(), l.ndim()) {
        (true, 2, 2) => (1, m.shape()[0]),
        (false, 3, 3) => (m.shape()[0], m.shape()[1]),
        _ => bail!(
            "{name}: M has shape {:?} and L {:?}; a state has M (K×D), L (K×C), a trajectory M (F×K×D), L (F×K×C)",
            m.shape(),
            l.shape()
        ),
    };
    if m.len() != frames * k * d || l.len() != frames * k * c {
        bail!(
            "{name}: M {:?} and L {:?} do not fit K = {k} memories of D = {d} pixels and C = {c} classes",
            m.shape(),
            l.shape()
        );
    }
    if let Some(bad) = m.iter().chain(l.iter()).find(|v| !v.is_finite()) {
        bail!("{name}: M or L holds a non-finite value ({bad})");
    }
    let epochs: Vec<i64> = if a.state.is_some() {
        vec![info.epochs_done as i64]
    } else {
        let e: ndarray::Array1<i64> = z
            .by_name("epochs")
            .with_context(|| format!("{name}: missing int64 array `epochs`"))?;
        if e.len() != frames {
            bail!("{name}: {} epochs for {frames} frames", e.len());
        }
        e.to_vec()
    };
    let params = info.params(d, &run_path)?;
    let pinv = pseudo_inverse(&data.x, data.len(), d, a.rcond)?;

    let (ms, ls) = (
        m.as_slice().expect("standard layout"),
        l.as_slice().expect("standard layout"),
    );
    let mut out_frames = Vec::with_capacity(frames);
    let mut alphas = Vec::with_capacity(frames * k * data.len());
    for f in 0..frames {
        let (an, alpha) = analyse_state(
            &ms[f * k * d..(f + 1) * k * d],
            &ls[f * k * c..(f + 1) * k * c],
            k,
            &data,
            &params,
            &pinv,
            a.threshold,
        )?;
        alphas.extend(alpha.iter().copied());
        out_frames.push(Frame {
            epoch: epochs[f],
            analysis: an,
        });
    }
    write_outputs(
        &a.out,
        a,
        &out_frames,
        &alphas,
        &epochs,
        k,
        data.len(),
        pinv.rank,
    )?;
    let last = &out_frames[frames - 1].analysis.summary;
    println!(
        "{frames} frame(s), K = {k}, P = {} (rank {}): mean max|α| {:.4}, mean reconstruction count {:.1} (last frame); wrote {}",
        data.len(),
        pinv.rank,
        last.mean_max_alpha,
        last.mean_reconstruction_count,
        a.out.display()
    );
    Ok(0)
}

#[allow(clippy::too_many_arguments)]
fn write_outputs(
    dir: &Path,
    a: &AnalyzeArgs,
    frames: &[Frame],
    alphas: &[f64],
    epochs: &[i64],
    k: usize,
    p: usize,
    rank: usize,
) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--out {}: cannot create directory", dir.display()))?;
    let c = frames[0].analysis.summary.population.len();
    let mut mem = String::from("epoch,memory,identity,max_alpha,reconstruction_count");
    for j in 0..c {
        let _ = write!(mem, ",alpha_bar_{j}");
    }
    mem.push('\n');
    let mut sum =
        String::from("epoch,mean_max_alpha,std_max_alpha,mean_reconstruction_count,tolerance");
    for j in 0..c {
        let _ = write!(sum, ",population_{j}");
    }
    for j in 0..c {
        let _ = write!(sum, ",recognised_{j}");
    }
    sum.push('\n');
    for f in frames {
        for (mu, q) in f.analysis.memories.iter().enumerate() {
            let _ = write!(
                mem,
                "{},{mu},{},{},{}",
                f.epoch, q.identity, q.max_alpha, q.reconstruction_count
            );
            for v in &q.alpha_bar {
                let _ = write!(mem, ",{v}");
            }
            mem.push('\n');
        }
        let s = &f.analysis.summary;
        let _ = write!(
            sum,
            "{},{},{},{},{}",
            f.epoch, s.mean_max_alpha, s.std_max_alpha, s.mean_reconstruction_count, s.tolerance
        );
        for v in s.population.iter().chain(&s.recognised) {
            let _ = write!(sum, ",{v}");
        }
        sum.push('\n');
    }
    write_atomic(&dir.join("memories.csv"), mem.as_bytes())?;
    write_atomic(&dir.join("summary.csv"), sum.as_bytes())?;
    let mut npz_out = NpzOut::new();
    if frames.len() == 1 && a.state.is_some() {
        npz_out.add_slice("alpha", alphas, &[k, p])?;
    } else {
        npz_out.add_slice("alpha", alphas, &[frames.len(), k, p])?;
        npz_out.add_slice("epochs", epochs, &[frames.len()])?;
    }
    npz_out.write(&dir.join("alpha.npz"))?;
    let common = serde_json::json!({
        "input": a.state.as_ref().or(a.trajectory.as_ref()).map(|p| p.display().to_string()),
        "threshold": a.threshold,
        "rcond": a.rcond,
        "samples": p,
        "rank": rank,
    });
    let json = if a.state.is_some() {
        let f = &frames[0];
        serde_json::json!({
            "epoch": f.epoch,
            "memories": f.analysis.memories,
            "summary": f.analysis.summary,
            "settings": common,
        })
    } else {
        serde_json::json!({"frames": frames, "settings": common})
    };
    write_atomic(
        &dir.join("analysis.json"),
        (serde_json::to_string_pretty(&json)? + "\n").as_bytes(),
    )
}
