//! `ghn reduced …`: the reduced two-memory system of PROTOCOLS.md §6 from the command
//! line — nullclines, fixed points, the bifurcation diagram in n with its folds, and the
//! linearised splitting dynamics. All math is ghn-core's `reduced` module; this module
//! parses, validates and prints (CSV by default, JSON with `--json`), on standard output.

use crate::data;
use crate::figure::{self, Mark, Panel, Series, TAB10};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use ghn_core::reduced::{
    eigenvalues, Branch, Continuation, FixedPoint, Fold, Gram, Reduced, SearchOptions, Splitting,
};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// Colours of the paper's Fig 6: stable points green, unstable red, the memory nullcline
/// purple, the label nullcline orange.
const GREEN: (u8, u8, u8) = (44, 160, 44);
const RED: (u8, u8, u8) = (214, 39, 40);
const PURPLE: (u8, u8, u8) = (148, 103, 189);
const ORANGE: (u8, u8, u8) = (255, 127, 14);

/// The `ghn reduced` subcommands.
#[derive(Subcommand, Debug)]
pub enum ReducedCommand {
    /// Memory (dα/dt = 0) and label (dℓ/dt = 0, and ℓ = ±1 where saturated) nullclines,
    /// as line segments over α × ℓ.
    Nullclines(NullclineArgs),
    /// Every fixed point at each n, with the eigenvalues of the (α, ℓ) flow's Jacobian.
    FixedPoints(SystemArgs),
    /// The fixed points followed in n, and the saddle-node points (folds) between them.
    Bifurcation(SystemArgs),
    /// The linearised splitting dynamics d(δα, δℓ)/dt = S·(δα, δℓ) of two memories at each
    /// stable fixed point (a saddle of the full two-memory dynamics).
    Splitting(SystemArgs),
}

/// Which pair of samples, at which temperature and n.
#[derive(Args, Debug, Clone)]
pub struct SystemArgs {
    /// Gram entries ⟨A|A⟩,⟨A|B⟩,⟨B|B⟩ (instead of --pair).
    #[arg(
        long,
        value_name = "AA,AB,BB",
        conflicts_with = "pair",
        allow_hyphen_values = true
    )]
    pub gram: Option<String>,
    /// Two rows of the bundled 200-digit set, A then B (0-based).
    #[arg(long, value_name = "paper200:I,J", default_value = "paper200:21,81")]
    pub pair: String,
    /// Absolute temperature T (T_r = T/784).
    #[arg(long, default_value_t = 700.0, allow_hyphen_values = true)]
    pub temperature: f64,
    /// Number K of identical memories (effective temperature T/K^(1/n)).
    #[arg(long, default_value_t = 2)]
    pub memories: usize,
    /// Branch of β: plus (β = 1 − |α|, the figures') or minus (β = −(1 − |α|)).
    #[arg(long, value_enum, default_value = "plus")]
    pub branch: BranchArg,
    /// Values of n (> 1), comma-separated.
    #[arg(
        long,
        value_name = "N,…",
        value_delimiter = ',',
        conflicts_with = "n_range",
        allow_hyphen_values = true
    )]
    pub n: Vec<f64>,
    /// A range of n: START:STOP:STEP, STOP excluded (the paper's diagram: 1.2:72:0.1).
    #[arg(long, value_name = "START:STOP:STEP")]
    pub n_range: Option<String>,
    /// Nodes per axis of the coarse sign-change scan before refinement.
    #[arg(long, default_value_t = SearchOptions::default().grid)]
    pub grid: usize,
    /// JSON instead of CSV.
    #[arg(long)]
    pub json: bool,
    /// Also draw the result as PNG and SVG into this directory (created if needed).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<std::path::PathBuf>,
}

/// `ghn reduced nullclines` options.
#[derive(Args, Debug, Clone)]
pub struct NullclineArgs {
    // (The pair, temperature and n.)
    #[allow(missing_docs)]
    #[command(flatten)]
    pub system: SystemArgs,
    /// Grid nodes per axis for the contours (the reference plots 1000).
    #[arg(long, default_value_t = 400)]
    pub resolution: usize,
    /// α range of the plot, LO:HI (the paper's panels: 0:1).
    #[arg(
        long,
        value_name = "LO:HI",
        default_value = "0:1",
        allow_hyphen_values = true
    )]
    pub alpha_range: String,
}

/// `--branch` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BranchArg {
    /// β = +(1 − |α|).
    Plus,
    /// β = −(1 − |α|).
    Minus,
}

impl From<BranchArg> for Branch {
    fn from(b: BranchArg) -> Self {
        match b {
            BranchArg::Plus => Branch::Plus,
            BranchArg::Minus => Branch::Minus,
        }
    }
}

/// A validated system description.
#[derive(Debug, Clone)]
pub struct System {
    /// Gram entries.
    pub gram: Gram<f64>,
    /// Absolute temperature.
    pub temperature: f64,
    /// Identical memories K.
    pub memories: usize,
    /// Branch.
    pub branch: Branch,
    /// The values of n, increasing, without repeats.
    pub ns: Vec<f64>,
    /// Search options.
    pub options: SearchOptions,
}

impl SystemArgs {
    /// Checks every parameter; errors name the flag.
    pub fn validate(&self) -> Result<System> {
        let gram = match &self.gram {
            Some(s) => parse_gram(s)?,
            None => pair_gram(&self.pair)?,
        };
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            bail!(
                "--temperature must be a positive number, got {}",
                self.temperature
            );
        }
        if self.memories == 0 {
            bail!("--memories must be at least 1");
        }
        if self.grid < 4 || self.grid > ghn_core::reduced::MAX_GRID {
            bail!(
                "--grid must lie in 4..={}, got {}",
                ghn_core::reduced::MAX_GRID,
                self.grid
            );
        }
        let mut ns = match &self.n_range {
            Some(r) => parse_range(r)?,
            None => self.n.clone(),
        };
        if ns.is_empty() {
            bail!("give n: --n 6,20,30,40 or --n-range 1.2:72:0.1");
        }
        if let Some(bad) = ns.iter().find(|n| !(n.is_finite() && **n > 1.0)) {
            bail!("--n: every n must be a number above 1 (the reduced flow is singular at n ≤ 1), got {bad}");
        }
        ns.sort_by(f64::total_cmp);
        ns.dedup();
        Ok(System {
            gram,
            temperature: self.temperature,
            memories: self.memories,
            branch: self.branch.into(),
            ns,
            options: SearchOptions {
                grid: self.grid,
                ..SearchOptions::default()
            },
        })
    }
}

/// `--gram AA,AB,BB`: three finite numbers of two independent samples.
fn parse_gram(s: &str) -> Result<Gram<f64>> {
    let v = crate::config::finite_numbers(s, ',', 3)
        .with_context(|| format!("--gram expects three numbers AA,AB,BB, got `{s}`"))?;
    let g = Gram {
        aa: v[0],
        ab: v[1],
        bb: v[2],
    };
    if g.aa <= 0.0 || g.bb <= 0.0 || g.aa * g.bb - g.ab * g.ab <= 0.0 {
        bail!(
            "--gram {s}: not the Gram matrix of two independent samples (needs AA > 0, BB > 0 and AA·BB > AB²)"
        );
    }
    Ok(g)
}

/// `--pair paper200:I,J`: the Gram entries of two rows of the bundled set.
fn pair_gram(s: &str) -> Result<Gram<f64>> {
    let rows = s
        .strip_prefix("paper200:")
        .with_context(|| format!("--pair expects paper200:I,J, got `{s}`"))?;
    let idx: Vec<usize> = rows
        .split(',')
        .map(|t| t.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .ok()
        .filter(|v: &Vec<usize>| v.len() == 2)
        .with_context(|| format!("--pair expects two row numbers, got `{rows}`"))?;
    let set = data::paper200()?;
    if let Some(&r) = idx.iter().find(|&&r| r >= set.len()) {
        bail!("--pair: row {r} does not exist (the 200-digit set has rows 0..199)");
    }
    if set.labels[idx[0]] == set.labels[idx[1]] {
        // Same class: the reduced system's labels ℓ and −ℓ would be one output.
        bail!(
            "--pair {s}: both rows are digit {}; the reduced system needs two classes",
            set.labels[idx[0]]
        );
    }
    let d = set.d;
    let row = |r: usize| &set.x[r * d..(r + 1) * d];
    let g = Gram::of(row(idx[0]), row(idx[1]));
    if g.aa * g.bb - g.ab * g.ab <= 1e-9 * g.aa * g.bb {
        bail!("--pair {s}: the two rows are the same image");
    }
    Ok(g)
}

/// `START:STOP:STEP` → START, START+STEP, … below STOP, each rounded to 10 decimals so
/// that 1.2:72:0.1 prints 1.3, not 1.3000000000000003.
fn parse_range(s: &str) -> Result<Vec<f64>> {
    let v = crate::config::finite_numbers(s, ':', 3)
        .with_context(|| format!("--n-range expects START:STOP:STEP, got `{s}`"))?;
    let (start, stop, step) = (v[0], v[1], v[2]);
    if step <= 0.0 || stop <= start {
        bail!("--n-range {s}: needs STEP > 0 and STOP > START");
    }
    let count = ((stop - start) / step - 1e-9).ceil() as usize;
    if count > 1_000_000 {
        bail!("--n-range {s}: {count} values is too many");
    }
    Ok((0..count)
        .map(|k| ((start + k as f64 * step) * 1e10).round() / 1e10)
        .collect())
}

/// One fixed point in the JSON output.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct PointOut {
    /// Coefficient of A.
    pub alpha: f64,
    /// Coefficient of B.
    pub beta: f64,
    /// Label of A's class.
    pub ell: f64,
    /// Stable in the reduced flow (a saddle of the full two-memory dynamics).
    pub stable: bool,
    /// On ℓ = ±1.
    pub saturated: bool,
    /// Eigenvalues of the flow's Jacobian, as [re, im].
    pub eigenvalues: [[f64; 2]; 2],
}

impl From<&FixedPoint<f64>> for PointOut {
    fn from(p: &FixedPoint<f64>) -> Self {
        PointOut {
            alpha: p.alpha,
            beta: p.beta,
            ell: p.ell,
            stable: p.stable,
            saturated: p.saturated,
            eigenvalues: p.eigenvalues.map(|(re, im)| [re, im]),
        }
    }
}

/// The fixed points at one n.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AtN {
    /// n.
    pub n: f64,
    /// Effective temperature T/K^(1/n).
    pub effective_temperature: f64,
    /// Sorted by ℓ, then α.
    pub fixed_points: Vec<PointOut>,
}

/// A fold in the JSON output.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct FoldOut {
    /// n of the saddle-node point.
    pub n: f64,
    /// α where the pair meets.
    pub alpha: f64,
    /// ℓ where the pair meets.
    pub ell: f64,
}

impl From<Fold<f64>> for FoldOut {
    fn from(f: Fold<f64>) -> Self {
        FoldOut {
            n: f.n,
            alpha: f.alpha,
            ell: f.ell,
        }
    }
}

/// The fixed points at every n (continued from one n to the next) and the folds.
pub fn diagram(sys: &System) -> Result<(Vec<AtN>, Vec<FoldOut>)> {
    let cont = Continuation {
        gram: sys.gram,
        temperature: sys.temperature,
        memories: sys.memories,
        branch: sys.branch,
        options: sys.options,
    };
    let mut points = Vec::with_capacity(sys.ns.len());
    let mut folds = Vec::new();
    cont.run(
        sys.ns.iter().copied(),
        |n, fps| {
            points.push(AtN {
                n,
                effective_temperature: ghn_core::effective_temperature(
                    sys.temperature,
                    sys.memories,
                    n,
                ),
                fixed_points: fps.iter().map(PointOut::from).collect(),
            })
        },
        |f| folds.push(FoldOut::from(f)),
    )
    .map_err(|e| anyhow::anyhow!("reduced system: {e:?}"))?;
    Ok((points, folds))
}

const POINT_HEADER: &str =
    "n,effective_temperature,alpha,beta,ell,stable,saturated,eig1_re,eig1_im,eig2_re,eig2_im";

fn point_rows(out: &mut String, points: &[AtN]) {
    for at in points {
        for p in &at.fixed_points {
            let [[e1r, e1i], [e2r, e2i]] = p.eigenvalues;
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{e1r},{e1i},{e2r},{e2i}",
                at.n, at.effective_temperature, p.alpha, p.beta, p.ell, p.stable, p.saturated
            );
        }
    }
}

/// `ghn reduced fixed-points`: CSV rows, or a JSON array of `{n, fixed_points}`.
pub fn fixed_points_text(a: &SystemArgs) -> Result<String> {
    let sys = a.validate()?;
    let (points, folds) = diagram(&sys)?;
    if let Some(dir) = &a.plot {
        plot_diagram(dir, "fixed-points", &points, &folds, None)?;
    }
    if a.json {
        return Ok(serde_json::to_string_pretty(&points)? + "\n");
    }
    let mut out = String::from(POINT_HEADER);
    out.push('\n');
    point_rows(&mut out, &points);
    Ok(out)
}

/// `ghn reduced bifurcation`: the fixed points plus the folds; CSV with a `kind` column,
/// or JSON `{"diagram": [{n, fixed_points}, …], "folds": [{n, alpha, ell}, …]}`.
pub fn bifurcation_text(a: &SystemArgs) -> Result<String> {
    let sys = a.validate()?;
    let (points, folds) = diagram(&sys)?;
    if let Some(dir) = &a.plot {
        plot_diagram(dir, "bifurcation", &points, &folds, None)?;
        plot_diagram_3d(dir, "bifurcation-3d", &points, &folds, None)?;
    }
    if a.json {
        #[derive(Serialize)]
        struct Out {
            diagram: Vec<AtN>,
            folds: Vec<FoldOut>,
        }
        return Ok(serde_json::to_string_pretty(&Out {
            diagram: points,
            folds,
        })? + "\n");
    }
    let mut body = String::new();
    point_rows(&mut body, &points);
    let mut out = format!("kind,{POINT_HEADER}\n");
    for l in body.lines() {
        let _ = writeln!(out, "fixed_point,{l}");
    }
    for f in &folds {
        let _ = writeln!(out, "fold,{},,{},,{},,,,,,", f.n, f.alpha, f.ell);
    }
    Ok(out)
}

/// The linearised splitting dynamics at one fixed point.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct SplitOut {
    /// n.
    pub n: f64,
    /// α of the fixed point.
    pub alpha: f64,
    /// ℓ of the fixed point.
    pub ell: f64,
    /// S with d(δα, δℓ)/dt = S·(δα, δℓ).
    pub matrix: [[f64; 2]; 2],
    /// Eigenvalues of S as [re, im], larger real part first.
    pub eigenvalues: [[f64; 2]; 2],
    /// Unit (δα, δℓ) direction of the fastest-growing mode (when its eigenvalue is real).
    pub split_direction: Option<[f64; 2]>,
}

/// S at every stable unsaturated fixed point of the two-memory system at each n.
pub fn splitting(sys: &System) -> Result<Vec<SplitOut>> {
    if sys.memories != 2 {
        bail!(
            "--memories {}: the splitting dynamics is that of two memories (use --memories 2)",
            sys.memories
        );
    }
    let (points, _) = diagram(sys)?;
    let mut out = Vec::new();
    for at in &points {
        let split = Splitting::new(sys.gram, at.n, sys.temperature, sys.branch)
            .map_err(|e| anyhow::anyhow!("reduced system: {e:?}"))?;
        for p in at.fixed_points.iter().filter(|p| p.stable && !p.saturated) {
            let s = split.splitting_matrix(p.alpha, p.ell);
            let eig = eigenvalues(s);
            out.push(SplitOut {
                n: at.n,
                alpha: p.alpha,
                ell: p.ell,
                matrix: s,
                eigenvalues: eig.map(|(re, im)| [re, im]),
                split_direction: (eig[0].1 == 0.0).then(|| eigenvector(s, eig[0].0)),
            });
        }
    }
    Ok(out)
}

/// A unit eigenvector of the 2×2 matrix `s` for the real eigenvalue `l`, with δα ≥ 0.
fn eigenvector(s: [[f64; 2]; 2], l: f64) -> [f64; 2] {
    // (s − l)v = 0: v ⟂ the larger of the two rows of s − l.
    let r0 = [s[0][0] - l, s[0][1]];
    let r1 = [s[1][0], s[1][1] - l];
    let r = if r0[0].hypot(r0[1]) >= r1[0].hypot(r1[1]) {
        r0
    } else {
        r1
    };
    let mut v = if r[0] == 0.0 && r[1] == 0.0 {
        [1.0, 0.0]
    } else {
        [-r[1], r[0]]
    };
    let norm = v[0].hypot(v[1]);
    v = [v[0] / norm, v[1] / norm];
    if v[0] < 0.0 || (v[0] == 0.0 && v[1] < 0.0) {
        v = [-v[0], -v[1]];
    }
    v
}

/// `ghn reduced splitting`: CSV rows or a JSON array.
pub fn splitting_text(a: &SystemArgs) -> Result<String> {
    let rows = splitting(&a.validate()?)?;
    if let Some(dir) = &a.plot {
        plot_splitting(dir, &rows)?;
    }
    if a.json {
        return Ok(serde_json::to_string_pretty(&rows)? + "\n");
    }
    let mut out = String::from(
        "n,alpha,ell,s11,s12,s21,s22,eig1_re,eig1_im,eig2_re,eig2_im,split_dalpha,split_dell\n",
    );
    for r in &rows {
        let [[a, b], [c, d]] = r.matrix;
        let [[e1r, e1i], [e2r, e2i]] = r.eigenvalues;
        let (va, vl) = r
            .split_direction
            .map_or((String::new(), String::new()), |v| {
                (v[0].to_string(), v[1].to_string())
            });
        let _ = writeln!(
            out,
            "{},{},{},{a},{b},{c},{d},{e1r},{e1i},{e2r},{e2i},{va},{vl}",
            r.n, r.alpha, r.ell
        );
    }
    Ok(out)
}

/// The nullclines at one n, as segments [α₀, ℓ₀, α₁, ℓ₁].
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct NullclinesOut {
    /// n.
    pub n: f64,
    /// dα/dt = 0.
    pub memory: Vec<[f64; 4]>,
    /// dℓ/dt = 0 inside (−1, 1), and the stretches of ℓ = ±1 where the label is saturated.
    pub label: Vec<[f64; 4]>,
}

/// The nullclines of the reduced system at each n, by marching squares on a
/// `resolution`² grid over [α_lo, α_hi] × [−1, 1]. Nodes where every gradient has
/// underflowed (no direction is defined) are left out, so their border is not drawn as a
/// nullcline.
pub fn nullclines(
    sys: &System,
    resolution: usize,
    alpha: (f64, f64),
) -> Result<Vec<NullclinesOut>> {
    let r = resolution;
    let mut out = Vec::new();
    for &n in &sys.ns {
        let red = Reduced::new(sys.gram, n, sys.temperature, sys.memories, sys.branch)
            .map_err(|e| anyhow::anyhow!("reduced system: {e:?}"))?;
        let ax = |i: usize| alpha.0 + (alpha.1 - alpha.0) * i as f64 / (r - 1) as f64;
        let lx = |j: usize| -1.0 + 2.0 * j as f64 / (r - 1) as f64;
        let mut fm = vec![f64::NAN; r * r];
        let mut fl = vec![f64::NAN; r * r];
        for j in 0..r {
            for i in 0..r {
                let (a, l) = (ax(i), lx(j));
                let g = red.gradients(a, l);
                if g.a.abs() + g.b.abs() > 0.0 {
                    fm[j * r + i] = red.flow(a, l).0;
                }
                if g.gamma != 0.0 {
                    // Same sign as dℓ/dt, but smooth across its root (dℓ/dt is ±1 away
                    // from it), so the interpolated crossing is accurate.
                    fl[j * r + i] = g.ell / g.gamma.abs();
                }
            }
        }
        let mut label = marching_squares(&fl, r, &ax, &lx);
        // Saturated stretches: ℓ = ±1 where the label pushes outward.
        for (edge, j) in [(1.0, r - 1), (-1.0, 0)] {
            for i in 1..r {
                let push = |k: usize| fl[j * r + k] * edge > 0.0;
                if push(i - 1) && push(i) {
                    label.push([ax(i - 1), edge, ax(i), edge]);
                }
            }
        }
        out.push(NullclinesOut {
            n,
            memory: marching_squares(&fm, r, &ax, &lx),
            label,
        });
    }
    Ok(out)
}

/// Zero-level segments of `f` on an r×r grid (row j = ℓ index), with linear interpolation
/// along the cell edges; cells with a NaN corner are skipped.
fn marching_squares(
    f: &[f64],
    r: usize,
    ax: &impl Fn(usize) -> f64,
    lx: &impl Fn(usize) -> f64,
) -> Vec<[f64; 4]> {
    let mut segs = Vec::new();
    for j in 0..r - 1 {
        for i in 0..r - 1 {
            // Corners counter-clockwise from (i, j).
            let c = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
            let v = c.map(|(x, y)| f[y * r + x]);
            if v.iter().any(|x| x.is_nan()) {
                continue;
            }
            let mut pts = Vec::with_capacity(4);
            for e in 0..4 {
                let (p, q) = (e, (e + 1) % 4);
                if (v[p] > 0.0) != (v[q] > 0.0) {
                    let t = v[p] / (v[p] - v[q]);
                    let (xp, yp) = (ax(c[p].0), lx(c[p].1));
                    let (xq, yq) = (ax(c[q].0), lx(c[q].1));
                    pts.push((xp + t * (xq - xp), yp + t * (yq - yp)));
                }
            }
            match pts.len() {
                2 => segs.push([pts[0].0, pts[0].1, pts[1].0, pts[1].1]),
                4 => {
                    // Saddle cell: pair the crossings by the centre's sign.
                    let centre = v.iter().sum::<f64>() / 4.0;
                    let (a, b) = if (centre > 0.0) == (v[0] > 0.0) {
                        ((0, 3), (1, 2))
                    } else {
                        ((0, 1), (2, 3))
                    };
                    for (s, t) in [a, b] {
                        segs.push([pts[s].0, pts[s].1, pts[t].0, pts[t].1]);
                    }
                }
                _ => {}
            }
        }
    }
    segs
}

/// `ghn reduced nullclines`: CSV `n,nullcline,alpha0,ell0,alpha1,ell1`, or a JSON array.
pub fn nullclines_text(a: &NullclineArgs) -> Result<String> {
    let sys = a.system.validate()?;
    if !(8..=4000).contains(&a.resolution) {
        bail!("--resolution must lie in 8..=4000, got {}", a.resolution);
    }
    let range = a
        .alpha_range
        .split_once(':')
        .and_then(|(lo, hi)| {
            Some((
                lo.trim().parse::<f64>().ok()?,
                hi.trim().parse::<f64>().ok()?,
            ))
        })
        .filter(|(lo, hi)| lo.is_finite() && hi.is_finite() && -1.0 <= *lo && lo < hi && *hi <= 1.0)
        .with_context(|| {
            format!(
                "--alpha-range expects LO:HI with −1 ≤ LO < HI ≤ 1, got `{}`",
                a.alpha_range
            )
        })?;
    let curves = nullclines(&sys, a.resolution, range)?;
    if let Some(dir) = &a.system.plot {
        let (points, _) = diagram(&sys)?;
        plot_nullclines(dir, "nullclines", &curves, &points, range, None)?;
    }
    if a.system.json {
        return Ok(serde_json::to_string_pretty(&curves)? + "\n");
    }
    let mut out = String::from("n,nullcline,alpha0,ell0,alpha1,ell1\n");
    for c in &curves {
        for (name, segs) in [("memory", &c.memory), ("label", &c.label)] {
            for s in segs {
                let _ = writeln!(out, "{},{name},{},{},{},{}", c.n, s[0], s[1], s[2], s[3]);
            }
        }
    }
    Ok(out)
}

/// Fixed points of one n as two point series (stable, unstable) in the (α, ℓ) plane.
fn point_series(points: &[PointOut]) -> Vec<Series> {
    let pick = |stable: bool| -> Vec<(f64, f64)> {
        points
            .iter()
            .filter(|p| p.stable == stable)
            .map(|p| (p.alpha, p.ell))
            .collect()
    };
    vec![
        Series::new("stable", pick(true), Mark::Points(5), GREEN),
        Series::new("unstable", pick(false), Mark::Points(5), RED),
    ]
}

/// The diagram's projections: α against n and ℓ against n, folds marked.
pub fn plot_diagram(
    dir: &Path,
    name: &str,
    points: &[AtN],
    folds: &[FoldOut],
    note: Option<&str>,
) -> Result<()> {
    let proj = |ell: bool, stable: bool| -> Vec<(f64, f64)> {
        points
            .iter()
            .flat_map(|at| {
                at.fixed_points
                    .iter()
                    .filter(move |p| p.stable == stable)
                    .map(move |p| (at.n, if ell { p.ell } else { p.alpha }))
            })
            .collect()
    };
    let fold = |ell: bool| {
        folds
            .iter()
            .map(|f| (f.n, if ell { f.ell } else { f.alpha }))
            .collect()
    };
    let panel = |ell: bool| Panel {
        title: format!("fixed points: {} against n", if ell { "ℓ" } else { "α" }),
        x_label: "n".into(),
        y_label: if ell { "ℓ" } else { "α" }.into(),
        x_range: None,
        y_range: Some(if ell { (-1.05, 1.05) } else { (-0.05, 1.05) }),
        series: vec![
            Series::new(
                "stable (saddle of the full dynamics)",
                proj(ell, true),
                Mark::Points(2),
                GREEN,
            ),
            Series::new("unstable", proj(ell, false), Mark::Points(2), RED),
            Series::new("fold", fold(ell), Mark::Points(6), (0, 0, 0)),
        ],
        ..Panel::default()
    };
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--plot: cannot create {}", dir.display()))?;
    figure::write(
        &dir.join(name),
        &[panel(false), panel(true)],
        2,
        (640, 480),
        note,
    )
}

/// The diagram in 3-D, (α, ℓ) against n, as the paper's Fig 6c.
pub fn plot_diagram_3d(
    dir: &Path,
    stem: &str,
    points: &[AtN],
    folds: &[FoldOut],
    note: Option<&str>,
) -> Result<()> {
    let pick = |stable: bool| -> Vec<(f64, f64, f64)> {
        points
            .iter()
            .flat_map(|at| {
                at.fixed_points
                    .iter()
                    .filter(move |p| p.stable == stable)
                    .map(move |p| (p.alpha, p.ell, at.n))
            })
            .collect()
    };
    let (n0, n1) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.n), b.max(p.n))
        });
    let fig = figure::Scatter3 {
        title: "fixed points of the reduced system".into(),
        labels: ["α".into(), "ℓ".into(), "n".into()],
        series: vec![
            ("stable".into(), pick(true), GREEN),
            ("unstable".into(), pick(false), RED),
            (
                "fold".into(),
                folds.iter().map(|f| (f.alpha, f.ell, f.n)).collect(),
                (0, 0, 0),
            ),
        ],
        ranges: [(-0.1, 1.0), (-1.0, 1.0), (n0.min(n1), n1.max(n0 + 1.0))],
        note: note.map(str::to_string),
    };
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--plot: cannot create {}", dir.display()))?;
    figure::write_3d(&dir.join(stem), &fig, (820, 700))
}

/// A panel with both nullclines at one n and, when given, its fixed points.
pub fn nullcline_panel(c: &NullclinesOut, points: Option<&AtN>, alpha: (f64, f64)) -> Panel {
    let segs = |v: &[[f64; 4]]| {
        v.iter()
            .flat_map(|s| [(s[0], s[1]), (s[2], s[3])])
            .collect()
    };
    let mut series = vec![
        Series::new("dα/dt = 0", segs(&c.memory), Mark::Segments, PURPLE),
        Series::new("dℓ/dt = 0", segs(&c.label), Mark::Segments, ORANGE),
    ];
    if let Some(at) = points {
        series.extend(point_series(&at.fixed_points));
    }
    Panel {
        title: format!("nullclines, n = {}", c.n),
        x_label: "α".into(),
        y_label: "ℓ".into(),
        x_range: Some(alpha),
        y_range: Some((-1.0, 1.0)),
        series,
        ..Panel::default()
    }
}

/// One panel per n: both nullclines and the fixed points, as `dir/stem.png` and `.svg`.
pub fn plot_nullclines(
    dir: &Path,
    stem: &str,
    curves: &[NullclinesOut],
    points: &[AtN],
    alpha: (f64, f64),
    note: Option<&str>,
) -> Result<()> {
    let panels: Vec<Panel> = curves
        .iter()
        .map(|c| nullcline_panel(c, points.iter().find(|a| a.n == c.n), alpha))
        .collect();
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--plot: cannot create {}", dir.display()))?;
    figure::write(
        &dir.join(stem),
        &panels,
        panels.len().min(4),
        (480, 440),
        note,
    )
}

/// The splitting growth rate against n, one series per branch of stable points.
pub fn plot_splitting(dir: &Path, rows: &[SplitOut]) -> Result<()> {
    let branch = |upper: bool| -> Vec<(f64, f64)> {
        rows.iter()
            .filter(|r| (r.ell >= 0.0) == upper)
            .map(|r| (r.n, r.eigenvalues[0][0]))
            .collect()
    };
    let panel = Panel {
        title: "splitting: largest eigenvalue of S at the stable points".into(),
        x_label: "n".into(),
        y_label: "growth rate of (δα, δℓ)".into(),
        series: vec![
            Series::new("ℓ ≥ 0", branch(true), Mark::Points(3), TAB10[0]),
            Series::new("ℓ < 0", branch(false), Mark::Points(3), TAB10[1]),
        ],
        ..Panel::default()
    };
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--plot: cannot create {}", dir.display()))?;
    figure::write(&dir.join("splitting"), &[panel], 1, (720, 480), None)
}

/// Runs a `ghn reduced` subcommand and prints its table.
pub fn run(cmd: &ReducedCommand) -> Result<()> {
    let text = match cmd {
        ReducedCommand::Nullclines(a) => nullclines_text(a)?,
        ReducedCommand::FixedPoints(a) => fixed_points_text(a)?,
        ReducedCommand::Bifurcation(a) => bifurcation_text(a)?,
        ReducedCommand::Splitting(a) => splitting_text(a)?,
    };
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
        .context("writing to standard output")?;
    Ok(())
}
