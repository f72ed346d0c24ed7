//! `ghn sweep`: many training runs over a grid of settings, on this machine's cores or as
//! a SLURM job array, each run analysed (PROTOCOLS.md §5) and gathered into one table.
//!
//! A sweep lives in one directory: `sweep.json` (the grid, written by the first command
//! that names it), `runs/NAME/` (one finished run each: the `ghn train` outputs plus
//! `analysis.json`), `partial/NAME/` (runs in progress, with their checkpoints) and
//! `results.csv` / `results.json`. A run is trained in `partial/` and renamed into `runs/`
//! when its analysis is written, so a folder in `runs/` is always complete: re-running a
//! sweep skips them, and resumes the others from their last checkpoint. The results do
//! not depend on the order, the sharding or the number of workers: each run is a
//! single-threaded `ghn train` whose every draw comes from its own seed.
//!
//! Grid settings are `ghn train` options (long names, `-` or `_`), so a sweep accepts
//! everything `ghn train` does and validates it the same way.

use crate::analyze::{analyse_state, pseudo_inverse, PseudoInverse, StateAnalysis};
use crate::cli::{check_against_data, install_signal_handler, train_config, training_data};
use crate::npz::{self, write_atomic};
use crate::train::{self, RunInfo, RunOptions, EXIT_INTERRUPTED};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// `ghn sweep` subcommands.
#[derive(Subcommand, Debug)]
pub enum SweepCommand {
    /// Train every run of the grid (or of one shard) that is not finished yet, in
    /// parallel, then gather the results when the whole grid is done.
    Run(RunArgs),
    /// Print a SLURM job-array script that runs the sweep, one shard per array task.
    Slurm(SlurmArgs),
    /// Gather the finished runs into DIR/results.csv and DIR/results.json.
    Collect(CollectArgs),
    /// List the runs of the grid in their stable order, with their state.
    List(GridArgs),
}

/// Where the grid comes from.
#[derive(Args, Debug, Clone)]
pub struct GridArgs {
    /// The sweep directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A TOML file: `[base]` settings for every run, `[grid]` lists of values (the first
    /// key varies slowest), `[analysis] threshold`. Optional once DIR/sweep.json exists.
    #[arg(long, value_name = "FILE")]
    pub grid: Option<PathBuf>,
    /// An axis on the command line: KEY=V1,V2,… or KEY=START:STOP:STEP (stop included),
    /// e.g. --axis n=2:60:1 --axis rescaled-temperature=0.83,0.96 --axis
    /// init=near-class:1,near-class:7 (with a comma it is a list). Repeatable; after the
    /// file's axes.
    #[arg(long = "axis", value_name = "KEY=VALUES")]
    pub axes: Vec<String>,
    /// A setting for every run: KEY=VALUE, e.g. --set epochs=10001. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Population threshold of the analysis (L[μ, d] ≥ this) [default: 0.99, or the
    /// file's].
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
}

/// `ghn sweep run` options.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The grid and the sweep directory.
    #[command(flatten)]
    pub grid: GridArgs,
    /// Run only shard I of N: the runs whose index is I modulo N [default: from SLURM's
    /// SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT when set, else the whole grid].
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Runs trained at once [default: the machine's cores].
    #[arg(long)]
    pub jobs: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// `ghn sweep slurm` options.
#[derive(Args, Debug)]
pub struct SlurmArgs {
    /// The grid and the sweep directory.
    #[command(flatten)]
    pub grid: GridArgs,
    /// Array tasks (shards) [default: one per run, at most 100].
    #[arg(long)]
    pub tasks: Option<usize>,
    /// CPUs per array task (runs trained at once within a task).
    #[arg(long, default_value_t = 1)]
    pub cpus_per_task: usize,
    /// Time limit per task (SLURM's --time), e.g. 02:00:00.
    #[arg(long)]
    pub time: Option<String>,
    /// Partition (SLURM's --partition).
    #[arg(long)]
    pub partition: Option<String>,
    /// Memory per task (SLURM's --mem), e.g. 2G.
    #[arg(long)]
    pub mem: Option<String>,
}

/// `ghn sweep collect` options.
#[derive(Args, Debug)]
pub struct CollectArgs {
    /// The sweep directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write the table even if some runs are not finished (they are left out).
    #[arg(long)]
    pub partial: bool,
}

/// A sweep's grid, as saved in `sweep.json`: setting names are `ghn train` long options
/// without the dashes, values their command-line text.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Spec {
    /// Settings shared by every run.
    pub base: Vec<(String, String)>,
    /// The axes, slowest first.
    pub axes: Vec<(String, Vec<String>)>,
    /// Population threshold of the analysis.
    pub threshold: f64,
}

/// One run of a sweep.
#[derive(Debug, Clone)]
pub struct Run {
    /// Position in the stable run order.
    pub index: usize,
    /// Folder name: the index and the axis values.
    pub name: String,
    /// (axis, value) of this run.
    pub point: Vec<(String, String)>,
}

/// Settings that belong to the sweep, not to a run.
const RESERVED: [&str; 5] = ["out", "resume", "threads", "quiet", "help"];

fn key(k: &str) -> Result<String> {
    let k = k.trim().replace('_', "-");
    if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        bail!("`{k}` is not a ghn train option name");
    }
    if RESERVED.contains(&k.as_str()) {
        bail!("`{k}` cannot be set per run (the sweep chooses it)");
    }
    Ok(k)
}

/// A TOML scalar as command-line text.
fn scalar(v: &toml::Value, what: &str) -> Result<String> {
    Ok(match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        _ => bail!("{what}: expected a number, a string or a boolean, got {v}"),
    })
}

/// Expands `a:b:step` (stop included, up to rounding) or `v1,v2,…`. A comma makes it a
/// list, so values with colons of their own (`near-class:1,near-class:7`) stay values.
pub fn expand_values(s: &str, what: &str) -> Result<Vec<String>> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() == 3 && !s.contains(',') {
        let p: Vec<f64> = parts
            .iter()
            .map(|t| t.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .with_context(|| format!("{what}: `{s}` is not START:STOP:STEP"))?;
        let (a, b, step) = (p[0], p[1], p[2]);
        if !(a.is_finite() && b.is_finite() && step.is_finite() && step > 0.0 && b >= a) {
            bail!("{what}: `{s}` needs finite START ≤ STOP and STEP > 0");
        }
        let count = ((b - a) / step + 1e-9).floor() as usize + 1;
        if count > 100_000 {
            bail!("{what}: `{s}` has {count} values");
        }
        // Integers stay integers in the folder names; others are rounded to 12 digits so
        // that 0.1-steps do not print as 0.30000000000000004.
        return Ok((0..count)
            .map(|i| {
                let v = a + i as f64 * step;
                let r = (v * 1e12).round() / 1e12;
                r.to_string()
            })
            .collect());
    }
    let v: Vec<String> = s
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    if v.is_empty() {
        bail!("{what}: no value in `{s}`");
    }
    Ok(v)
}

impl Spec {
    /// Builds the grid from the file and the command line.
    pub fn from_args(g: &GridArgs) -> Result<Option<Spec>> {
        let mut base = Vec::new();
        let mut axes = Vec::new();
        let mut threshold = None;
        if let Some(path) = &g.grid {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--grid {name}: cannot read"))?;
            let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                // One line: the position and the parser's message, not its source excerpt.
                let at = e.span().map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!(" at line {line}, column {col}")
                });
                anyhow::anyhow!(
                    "--grid {name}: not valid TOML{}: {}",
                    at.unwrap_or_default(),
                    e.message().trim().replace('\n', "; ")
                )
            })?;
            for (section, v) in &table {
                let t = v.as_table().with_context(|| {
                    format!(
                        "--grid {name}: `{section}` must be a table ([base], [grid] or [analysis])"
                    )
                })?;
                match section.as_str() {
                    "base" => {
                        for (k, v) in t {
                            let what = format!("--grid {name}: base.{k}");
                            base.push((key(k).context(what.clone())?, scalar(v, &what)?));
                        }
                    }
                    "grid" => {
                        for (k, v) in t {
                            let what = format!("--grid {name}: grid.{k}");
                            let values = match v {
                                toml::Value::Array(a) => a
                                    .iter()
                                    .map(|x| scalar(x, &what))
                                    .collect::<Result<Vec<_>>>()?,
                                toml::Value::String(s) => expand_values(s, &what)?,
                                _ => bail!("{what}: expected a list of values or \"START:STOP:STEP\""),
                            };
                            if values.is_empty() {
                                bail!("{what}: empty list");
                            }
                            axes.push((key(k).context(what.clone())?, values));
                        }
                    }
                    "analysis" => {
                        for (k, v) in t {
                            match (k.as_str(), v) {
                                ("threshold", toml::Value::Float(f)) => threshold = Some(*f),
                                ("threshold", toml::Value::Integer(i)) => {
                                    threshold = Some(*i as f64)
                                }
                                _ => bail!("--grid {name}: analysis.{k}: unknown setting (only `threshold`, a number)"),
                            }
                        }
                    }
                    other => bail!(
                        "--grid {name}: unknown section [{other}] (expected [base], [grid], [analysis])"
                    ),
                }
            }
        }
        for s in &g.sets {
            let (k, v) = s
                .split_once('=')
                .with_context(|| format!("--set `{s}`: expected KEY=VALUE"))?;
            base.push((
                key(k).with_context(|| format!("--set `{s}`"))?,
                v.trim().to_string(),
            ));
        }
        for s in &g.axes {
            let (k, v) = s
                .split_once('=')
                .with_context(|| format!("--axis `{s}`: expected KEY=V1,V2,… or KEY=A:B:STEP"))?;
            let what = format!("--axis {k}");
            axes.push((key(k).context(what.clone())?, expand_values(v, &what)?));
        }
        if g.threshold.is_some() {
            threshold = g.threshold;
        }
        if g.grid.is_none() && base.is_empty() && axes.is_empty() && threshold.is_none() {
            return Ok(None);
        }
        let spec = Spec {
            base,
            axes,
            threshold: threshold.unwrap_or(0.99),
        };
        spec.check()?;
        Ok(Some(spec))
    }

    fn check(&self) -> Result<()> {
        if !(self.threshold.is_finite() && self.threshold > -1.0 && self.threshold <= 1.0) {
            bail!("threshold must lie in (−1, 1], got {}", self.threshold);
        }
        let mut seen: Vec<&str> = Vec::new();
        for k in self
            .base
            .iter()
            .map(|(k, _)| k)
            .chain(self.axes.iter().map(|(k, _)| k))
        {
            if seen.contains(&k.as_str()) {
                bail!("setting `{k}` is given twice (in the base settings and/or the axes)");
            }
            seen.push(k);
        }
        let total: usize = self.axes.iter().map(|(_, v)| v.len()).product();
        if total > 1_000_000 {
            bail!("the grid has {total} runs");
        }
        Ok(())
    }

    /// The runs in their stable order: the last axis varies fastest.
    pub fn runs(&self) -> Vec<Run> {
        let total: usize = self.axes.iter().map(|(_, v)| v.len()).product();
        (0..total)
            .map(|index| {
                let mut rem = index;
                let mut point = vec![(String::new(), String::new()); self.axes.len()];
                for (a, (k, vals)) in self.axes.iter().enumerate().rev() {
                    point[a] = (k.clone(), vals[rem % vals.len()].clone());
                    rem /= vals.len();
                }
                let mut name = format!("{index:05}");
                for (k, v) in &point {
                    let safe: String = v
                        .chars()
                        .map(|c| {
                            if c.is_ascii_alphanumeric() || ".-+".contains(c) {
                                c
                            } else {
                                '_'
                            }
                        })
                        .collect();
                    let _ = write!(name, "_{k}={safe}");
                }
                Run { index, name, point }
            })
            .collect()
    }

    /// The `ghn train` settings of a run.
    pub fn config(&self, run: &Run) -> Result<crate::config::TrainConfig> {
        let mut args: Vec<String> = Vec::new();
        for (k, v) in self.base.iter().chain(&run.point) {
            match v.as_str() {
                "true" => args.push(format!("--{k}")),
                "false" => {}
                _ => {
                    args.push(format!("--{k}"));
                    args.push(v.clone());
                }
            }
        }
        train_config(&args).with_context(|| format!("run {}", run.name))
    }
}

/// The sweep's grid: the one given, checked against DIR/sweep.json, or the saved one.
/// Writes sweep.json when it is new.
fn resolve(g: &GridArgs) -> Result<Spec> {
    let saved_path = g.out.join("sweep.json");
    let saved: Option<Spec> = if saved_path.exists() {
        let text = std::fs::read_to_string(&saved_path)
            .with_context(|| format!("{}: cannot read", saved_path.display()))?;
        Some(
            serde_json::from_str(&text)
                .with_context(|| format!("{}: not a ghn sweep.json", saved_path.display()))?,
        )
    } else {
        None
    };
    let given = Spec::from_args(g)?;
    let spec = match (given, saved) {
        (Some(gv), Some(sv)) => {
            if gv != sv {
                bail!(
                    "--out {}: holds a different sweep (sweep.json); use another directory, or give no grid to continue it",
                    g.out.display()
                );
            }
            sv
        }
        (Some(gv), None) => gv,
        (None, Some(sv)) => sv,
        (None, None) => bail!(
            "no grid: give --grid FILE and/or --axis/--set (or --out a directory with a sweep.json)"
        ),
    };
    let runs = spec.runs();
    // Every run's settings are checked before anything is written or trained.
    for r in &runs {
        spec.config(r)?
            .validate()
            .with_context(|| format!("run {}", r.name))?;
    }
    if !saved_path.exists() {
        std::fs::create_dir_all(&g.out)
            .with_context(|| format!("--out {}: cannot create directory", g.out.display()))?;
        write_atomic(
            &saved_path,
            (serde_json::to_string_pretty(&spec)? + "\n").as_bytes(),
        )?;
    }
    Ok(spec)
}

/// Parses `I/N`, or takes the shard from SLURM's array variables.
fn shard(s: Option<&str>) -> Result<(usize, usize)> {
    if let Some(s) = s {
        let (i, n) = s
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)))
            .with_context(|| format!("--shard `{s}`: expected I/N, e.g. 0/4"))?;
        if n == 0 || i >= n {
            bail!("--shard {s}: need 0 ≤ I < N");
        }
        return Ok((i, n));
    }
    let var = |k: &str| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
    };
    match (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT")) {
        (Some(id), Some(count)) if count > 0 => {
            let min = var("SLURM_ARRAY_TASK_MIN").unwrap_or(0);
            let i = id
                .checked_sub(min)
                .filter(|&i| i < count)
                .with_context(|| {
                    format!(
                        "SLURM_ARRAY_TASK_ID {id} is outside the array (min {min}, count {count})"
                    )
                })?;
            Ok((i, count))
        }
        _ => Ok((0, 1)),
    }
}

/// What happened to a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Finished earlier.
    Skipped,
    /// Trained now.
    Trained,
    /// Stopped by a signal (checkpoint written).
    Interrupted,
}

/// Pseudo-inverses by data hash, shared by the runs of a sweep.
type PinvCache = Mutex<HashMap<String, Arc<PseudoInverse>>>;

/// Trains and analyses one run unless it is finished; `runs/NAME` appears only complete.
pub fn execute(spec: &Spec, run: &Run, dir: &Path, cache: &PinvCache) -> Result<Outcome> {
    let done = dir.join("runs").join(&run.name);
    if done.join("analysis.json").exists() {
        return Ok(Outcome::Skipped);
    }
    let cfg = spec.config(run)?;
    let data = training_data(&cfg).with_context(|| format!("run {}", run.name))?;
    check_against_data(&cfg, &data).with_context(|| format!("run {}", run.name))?;
    let part = dir.join("partial").join(&run.name);
    let saved = serde_json::json!({"config": cfg, "data_sha256": data.sha256()});
    let config_path = part.join("config.json");
    // A partial run of other settings (the grid file was edited) starts over.
    let same = std::fs::read_to_string(&config_path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v == saved);
    if !same && part.exists() {
        std::fs::remove_dir_all(&part)
            .with_context(|| format!("{}: cannot remove", part.display()))?;
    }
    std::fs::create_dir_all(&part)
        .with_context(|| format!("{}: cannot create directory", part.display()))?;
    if !same {
        write_atomic(
            &config_path,
            serde_json::to_string_pretty(&saved)?.as_bytes(),
        )?;
    }
    if !part.join("final.npz").exists() || part.join("checkpoint.npz").exists() {
        let code = train::run(
            &cfg,
            &data,
            &RunOptions {
                out: part.clone(),
                quiet: true,
                threads: 1,
            },
        )?;
        if code == EXIT_INTERRUPTED {
            return Ok(Outcome::Interrupted);
        }
    }
    let params = cfg.params::<f64>(data.d)?;
    let pinv = {
        let sha = data.sha256();
        let hit = cache.lock().expect("cache lock").get(&sha).cloned();
        match hit {
            Some(p) => p,
            None => {
                let p = Arc::new(pseudo_inverse(&data.x, data.len(), data.d, 1e-10)?);
                cache.lock().expect("cache lock").insert(sha, p.clone());
                p
            }
        }
    };
    let fin = part.join("final.npz");
    let name = fin.display().to_string();
    let mut z = npz::open(&fin)?;
    let m = npz::read_f64(&mut z, "M", &name)?;
    let l = npz::read_f64(&mut z, "L", &name)?;
    let k = cfg.memories;
    let (an, _) = analyse_state(
        m.as_slice().context("M layout")?,
        l.as_slice().context("L layout")?,
        k,
        &data,
        &params,
        &pinv,
        spec.threshold,
    )?;
    let json = serde_json::json!({
        "run": run.name,
        "point": run.point,
        "threshold": spec.threshold,
        "memories": an.memories,
        "summary": an.summary,
    });
    write_atomic(
        &part.join("analysis.json"),
        (serde_json::to_string_pretty(&json)? + "\n").as_bytes(),
    )?;
    std::fs::create_dir_all(dir.join("runs"))
        .with_context(|| format!("{}: cannot create directory", dir.join("runs").display()))?;
    if done.exists() {
        // An incomplete folder left by hand: the fresh one replaces it.
        std::fs::remove_dir_all(&done)
            .with_context(|| format!("{}: cannot remove", done.display()))?;
    }
    std::fs::rename(&part, &done)
        .with_context(|| format!("{}: cannot move into runs/", part.display()))?;
    Ok(Outcome::Trained)
}

/// Runs `count` runs of `spec` (those of shard `i/n`) in `dir` with `jobs` workers.
/// Returns the outcomes in run order.
pub fn run_grid(
    spec: &Spec,
    dir: &Path,
    (i, n): (usize, usize),
    jobs: usize,
    quiet: bool,
) -> Result<Vec<Outcome>> {
    let mine: Vec<Run> = spec
        .runs()
        .into_iter()
        .filter(|r| r.index % n == i)
        .collect();
    let cache = PinvCache::default();
    let bar = (!quiet).then(|| {
        let b = indicatif::ProgressBar::new(mine.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} runs ({per_sec}, ETA {eta}) {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    });
    // Plain threads pulling from a shared counter, not rayon: a rayon worker that waits on
    // the run's own pool would start further runs while it waits, so `jobs` would not bound
    // the runs in flight.
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Outcome>>>> =
        (0..mine.len()).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(mine.len().max(1)) {
            scope.spawn(|| loop {
                let j = next.fetch_add(1, Ordering::SeqCst);
                let Some(r) = mine.get(j) else { break };
                let o = if train::INTERRUPTED.load(Ordering::SeqCst) {
                    Ok(Outcome::Interrupted)
                } else {
                    execute(spec, r, dir, &cache)
                };
                if let Some(b) = &bar {
                    b.inc(1);
                    b.set_message(r.name.clone());
                }
                *slots[j].lock().expect("slot lock") = Some(o);
            });
        }
    });
    let outcomes: Vec<Result<Outcome>> = slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .expect("slot lock")
                .expect("every run visited")
        })
        .collect();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    outcomes.into_iter().collect()
}

/// One row of the results table.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ResultRow {
    /// Run index.
    pub index: usize,
    /// Run folder name.
    pub name: String,
    /// Axis values.
    pub point: Vec<(String, String)>,
    /// Final training cost.
    pub final_cost: f64,
    /// Final training accuracy.
    pub final_accuracy: f64,
    /// The analysis of the final state.
    pub analysis: StateAnalysis,
    /// Wall time of the run's training loop (its run.json, summed over resumed parts);
    /// not saved in results.json, so that equal sweeps give equal bytes.
    #[serde(skip)]
    pub wall_seconds: f64,
}

/// Reads the finished runs of the sweep in `dir`, in run order; also the names of the
/// unfinished ones.
pub fn gather(spec: &Spec, dir: &Path) -> Result<(Vec<ResultRow>, Vec<String>)> {
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for r in spec.runs() {
        let d = dir.join("runs").join(&r.name);
        let ap = d.join("analysis.json");
        if !ap.exists() {
            missing.push(r.name);
            continue;
        }
        let read = |p: &Path| -> Result<serde_json::Value> {
            let t = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read", p.display()))?;
            serde_json::from_str(&t).with_context(|| format!("{}: not JSON", p.display()))
        };
        let a = read(&ap)?;
        let info: RunInfo = serde_json::from_value(read(&d.join("run.json"))?)
            .with_context(|| format!("{}: not a ghn run.json", d.join("run.json").display()))?;
        let analysis: StateAnalysis = serde_json::from_value(serde_json::json!({
            "memories": a["memories"],
            "summary": a["summary"],
        }))
        .with_context(|| format!("{}: not a ghn analysis", ap.display()))?;
        rows.push(ResultRow {
            index: r.index,
            name: r.name,
            point: r.point,
            final_cost: info.final_cost,
            final_accuracy: info.final_accuracy,
            analysis,
            wall_seconds: info.wall_seconds,
        });
    }
    Ok((rows, missing))
}

/// The results table as CSV (no wall times: equal sweeps give equal bytes).
pub fn results_csv(spec: &Spec, rows: &[ResultRow]) -> String {
    let c = rows
        .first()
        .map(|r| r.analysis.summary.population.len())
        .unwrap_or(10);
    let mut s = String::from("index,name");
    for (k, _) in &spec.axes {
        let _ = write!(s, ",{k}");
    }
    s.push_str(",final_cost,final_accuracy,mean_max_alpha,std_max_alpha,mean_reconstruction_count");
    for j in 0..c {
        let _ = write!(s, ",population_{j}");
    }
    for j in 0..c {
        let _ = write!(s, ",recognised_{j}");
    }
    s.push('\n');
    for r in rows {
        let _ = write!(s, "{},{}", r.index, r.name);
        for (_, v) in &r.point {
            let _ = write!(s, ",{v}");
        }
        let m = &r.analysis.summary;
        let _ = write!(
            s,
            ",{},{},{},{},{}",
            r.final_cost,
            r.final_accuracy,
            m.mean_max_alpha,
            m.std_max_alpha,
            m.mean_reconstruction_count
        );
        for v in m.population.iter().chain(&m.recognised) {
            let _ = write!(s, ",{v}");
        }
        s.push('\n');
    }
    s
}

/// Writes results.csv and results.json for the finished runs.
pub fn write_results(spec: &Spec, dir: &Path, rows: &[ResultRow]) -> Result<()> {
    write_atomic(&dir.join("results.csv"), results_csv(spec, rows).as_bytes())?;
    let json = serde_json::json!({"spec": spec, "runs": rows});
    write_atomic(
        &dir.join("results.json"),
        (serde_json::to_string(&json)? + "\n").as_bytes(),
    )
}

/// Runs `ghn sweep`.
pub fn run(cmd: &SweepCommand) -> Result<i32> {
    match cmd {
        SweepCommand::Run(a) => {
            let jobs = a.jobs.unwrap_or_else(crate::cli::default_threads);
            if jobs == 0 {
                bail!("--jobs must be at least 1");
            }
            let sh = shard(a.shard.as_deref())?;
            let spec = resolve(&a.grid)?;
            install_signal_handler();
            let outcomes = run_grid(&spec, &a.grid.out, sh, jobs, a.quiet)?;
            let trained = outcomes.iter().filter(|o| **o == Outcome::Trained).count();
            let skipped = outcomes.iter().filter(|o| **o == Outcome::Skipped).count();
            if outcomes.contains(&Outcome::Interrupted) {
                eprintln!(
                    "ghn: sweep interrupted ({trained} runs finished now, {skipped} before); run the same command again to continue"
                );
                return Ok(EXIT_INTERRUPTED);
            }
            // Nothing is left in progress by this shard; the folder goes when no shard uses it.
            let _ = std::fs::remove_dir(a.grid.out.join("partial"));
            let (rows, missing) = gather(&spec, &a.grid.out)?;
            if missing.is_empty() {
                write_results(&spec, &a.grid.out, &rows)?;
            }
            if !a.quiet {
                eprintln!(
                    "ghn: shard {}/{}: {trained} runs trained, {skipped} already done; {} of {} runs of the grid finished{}",
                    sh.0,
                    sh.1,
                    rows.len(),
                    rows.len() + missing.len(),
                    if missing.is_empty() {
                        format!("; results in {}", a.grid.out.join("results.csv").display())
                    } else {
                        String::new()
                    }
                );
            }
            Ok(0)
        }
        SweepCommand::Collect(a) => {
            let spec = resolve(&GridArgs {
                out: a.out.clone(),
                grid: None,
                axes: vec![],
                sets: vec![],
                threshold: None,
            })?;
            let (rows, missing) = gather(&spec, &a.out)?;
            if !missing.is_empty() && !a.partial {
                bail!(
                    "--out {}: {} of {} runs are not finished (first: {}); run the sweep again, or use --partial",
                    a.out.display(),
                    missing.len(),
                    rows.len() + missing.len(),
                    missing[0]
                );
            }
            write_results(&spec, &a.out, &rows)?;
            println!(
                "{} runs gathered into {}",
                rows.len(),
                a.out.join("results.csv").display()
            );
            Ok(0)
        }
        SweepCommand::List(g) => {
            let spec = resolve(g)?;
            for r in spec.runs() {
                let state = if g
                    .out
                    .join("runs")
                    .join(&r.name)
                    .join("analysis.json")
                    .exists()
                {
                    "done"
                } else if g.out.join("partial").join(&r.name).exists() {
                    "partial"
                } else {
                    "todo"
                };
                println!("{}\t{state}", r.name);
            }
            Ok(0)
        }
        SweepCommand::Slurm(a) => {
            let spec = resolve(&a.grid)?;
            let runs = spec.runs().len();
            let tasks = a.tasks.unwrap_or(runs.min(100));
            if tasks == 0 || tasks > runs {
                bail!("--tasks must lie in 1..={runs} (the grid has {runs} runs)");
            }
            if a.cpus_per_task == 0 {
                bail!("--cpus-per-task must be at least 1");
            }
            print!("{}", slurm_script(&a.grid.out, runs, tasks, a)?);
            Ok(0)
        }
    }
}

/// Quotes a word for a POSIX shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn slurm_script(dir: &Path, runs: usize, tasks: usize, a: &SlurmArgs) -> Result<String> {
    let exe = std::env::current_exe().context("cannot find the ghn executable")?;
    let dir = std::path::absolute(dir)
        .with_context(|| format!("--out {}: cannot resolve path", dir.display()))?;
    let logs = dir.join("slurm");
    std::fs::create_dir_all(&logs)
        .with_context(|| format!("{}: cannot create directory", logs.display()))?;
    let mut s = String::from("#!/bin/bash\n");
    let _ = writeln!(
        s,
        "# ghn sweep: {runs} runs in {}, as {tasks} array tasks.",
        dir.display()
    );
    let _ = writeln!(
        s,
        "# Submit: sbatch THIS_FILE; then: ghn sweep collect --out {}",
        dir.display()
    );
    let _ = writeln!(s, "#SBATCH --job-name=ghn-sweep");
    let _ = writeln!(s, "#SBATCH --array=0-{}", tasks - 1);
    let _ = writeln!(s, "#SBATCH --cpus-per-task={}", a.cpus_per_task);
    let _ = writeln!(s, "#SBATCH --output={}/%A_%a.out", logs.display());
    if let Some(t) = &a.time {
        let _ = writeln!(s, "#SBATCH --time={t}");
    }
    if let Some(p) = &a.partition {
        let _ = writeln!(s, "#SBATCH --partition={p}");
    }
    if let Some(m) = &a.mem {
        let _ = writeln!(s, "#SBATCH --mem={m}");
    }
    s.push_str("set -euo pipefail\n");
    s.push_str(
        "# The shard (task I of N) comes from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT;\n",
    );
    s.push_str("# a requeued or re-submitted task skips the runs already finished.\n");
    let _ = writeln!(
        s,
        "exec {} sweep run --out {} --jobs {} --quiet",
        sh_quote(&exe.display().to_string()),
        sh_quote(&dir.display().to_string()),
        a.cpus_per_task
    );
    Ok(s)
}
