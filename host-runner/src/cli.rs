//! Command-line parsing and dispatch.

use crate::config::{Bound, DataSpec, InitSpec, Precision, TrainConfig};
use crate::data::{self, Dataset};
use crate::train::{self, RunOptions};
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Generalized Hopfield networks (dense associative memories) on MNIST: training,
/// evaluation and benchmarks, faithful to the reference implementation of Boukacem et al.
/// (Phys. Rev. Research 6, 033098, 2024).
#[derive(Parser, Debug)]
#[command(name = "ghn", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a network (defaults: the paper's Fig-1 run on the bundled 200 digits).
    #[command(allow_negative_numbers = true)]
    Train(Box<TrainArgs>),
    /// Accuracy of a saved state on the MNIST test set (or another set).
    Eval(EvalArgs),
    /// Manage the MNIST files.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Time one epoch of the Fig-1 configuration with the plain and the fast kernel.
    Bench(crate::bench::BenchArgs),
    /// The reduced two-memory system (PROTOCOLS.md §6): nullclines, fixed points,
    /// bifurcation diagram, splitting dynamics.
    Reduced {
        #[command(subcommand)]
        command: crate::reduced::ReducedCommand,
    },
    /// Reproduce a figure of the paper: its protocol, CSV data, PNG and SVG panels.
    Reproduce(crate::reproduce::ReproduceArgs),
    /// Analyse saved memories: α decomposition, max |α|, reconstruction counts, ᾱ per
    /// class, identities, populations, recognised samples (PROTOCOLS.md §5).
    Analyze(crate::analyze::AnalyzeArgs),
    /// Learning dynamics of a saved trajectory: recognised samples over epochs, splits and
    /// the learning tree, learning order, transition matrices, a PCA view.
    Dynamics(crate::dynamics::DynamicsArgs),
    /// Many runs over a grid of settings, in parallel or as a SLURM job array, each
    /// analysed and gathered into one table.
    Sweep {
        #[command(subcommand)]
        command: crate::sweep::SweepCommand,
    },
}

#[derive(Subcommand, Debug)]
enum DataCommand {
    /// Download the four MNIST files (or import them with --from), verify their SHA-256
    /// and store them in the data directory.
    Fetch(crate::fetch::FetchArgs),
}

/// Data source names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DataName {
    /// The paper's fixed 200-digit set, bundled in the binary.
    Paper200,
    /// The MNIST training set (60000) from the data directory.
    Mnist,
}

/// Which data to use.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data set.
    #[arg(long, value_enum, default_value = "paper200")]
    pub data: DataName,
    /// Directory of the MNIST files (else $GHN_DATA_DIR, else the user data directory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Explicit data: an .npz with X (N×D, in [-1, 1]) and T (N×C, ±1 targets).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["digits", "per_class"])]
    pub data_npz: Option<PathBuf>,
    /// Rows of the data set to train on, in this order, e.g. 21,81 (0-based; the pair of
    /// the paper's Fig 6 in the 200-digit set).
    #[arg(long, value_name = "LIST", conflicts_with_all = ["digits", "per_class"])]
    pub rows: Option<String>,
    /// Digits to use, e.g. 1,4,7 (default: all ten).
    #[arg(long, value_name = "LIST")]
    pub digits: Option<String>,
    /// Samples per class: a seeded class-balanced sample without replacement.
    #[arg(long, value_name = "N")]
    pub per_class: Option<usize>,
}

#[derive(Args, Debug)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Number of memories K.
    #[arg(long, default_value_t = 100)]
    memories: usize,
    /// Power n of the rectified polynomial (> 0, may be non-integer).
    #[arg(long, default_value_t = 30.0)]
    n: f64,
    /// Power m of the cost (default: m = n, as in every experiment of the paper).
    #[arg(long)]
    m: Option<f64>,
    /// Absolute temperature T.
    #[arg(long, conflicts_with = "rescaled_temperature")]
    temperature: Option<f64>,
    /// Rescaled temperature T_r = T/D [default: 0.85].
    #[arg(long)]
    rescaled_temperature: Option<f64>,
    /// Learning rate.
    #[arg(long, default_value_t = 0.005)]
    rate: f64,
    /// Momentum in [0, 1).
    #[arg(long, default_value_t = 0.0)]
    momentum: f64,
    /// Number of epochs.
    #[arg(long, default_value_t = 5000)]
    epochs: usize,
    /// Contiguous equal minibatches per epoch (one step each).
    #[arg(long, default_value_t = 1)]
    minibatches: usize,
    /// Memory bound after each step.
    #[arg(long, value_enum, default_value = "rescale")]
    memory_bound: Bound,
    /// Epochs (0-based) with additive noise at every step, e.g. 100,200.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    noise_pulses: Vec<usize>,
    /// Mean of the noise.
    #[arg(long, default_value_t = 0.0)]
    noise_mean: f64,
    /// Standard deviation of the noise.
    #[arg(long, default_value_t = 1e-5)]
    noise_std: f64,
    /// Multiply the learning rate by this factor at the start of every epoch (the
    /// reference's isDecay uses 0.998).
    #[arg(long)]
    rate_decay: Option<f64>,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Arithmetic precision.
    #[arg(long, value_enum, default_value = "f64")]
    precision: Precision,
    /// Worker threads (results are bit-identical for any number).
    #[arg(long)]
    threads: Option<usize>,
    /// Initialisation: gaussian:MEAN,STD, near-class:D (Fig 8) or pair:ALPHA,ELL,DELTA (two
    /// memories around (α, ℓ) on a pair of samples, Fig 6b).
    #[arg(
        long,
        default_value = "gaussian:-0.003,1e-5",
        conflicts_with = "init_state"
    )]
    init: String,
    /// Initial state from an .npz with M (K×D), L (K×C) and optionally VM, VL.
    #[arg(long, value_name = "FILE")]
    init_state: Option<PathBuf>,
    /// Output directory.
    #[arg(long, value_name = "DIR", required_unless_present = "resume")]
    out: Option<PathBuf>,
    /// Save a trajectory frame every S epochs (trajectory.npz).
    #[arg(long, value_name = "S")]
    save_every: Option<usize>,
    /// Precision of trajectory.npz [default: the run's precision].
    #[arg(long, value_enum)]
    save_precision: Option<Precision>,
    /// Write a metrics.csv row every this many epochs.
    #[arg(long, default_value_t = 10)]
    log_every: usize,
    /// Write a checkpoint every this many epochs (0: only when interrupted).
    #[arg(long, default_value_t = 1000)]
    checkpoint_every: usize,
    /// No progress bar or summary.
    #[arg(long)]
    quiet: bool,
    /// Continue the interrupted run in DIR (every other setting comes from DIR/config.json).
    #[arg(long, value_name = "DIR", exclusive = false)]
    resume: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(crate) struct EvalArgs {
    /// The state: an .npz with M and L (final.npz, or a checkpoint).
    #[arg(long, value_name = "FILE")]
    state: PathBuf,
    /// The run.json giving n, m and T [default: next to the state file].
    #[arg(long, value_name = "FILE")]
    run: Option<PathBuf>,
    #[command(flatten)]
    data: EvalData,
}

#[derive(Args, Debug)]
struct EvalData {
    /// Data set to evaluate on.
    #[arg(long, value_enum, default_value = "mnist")]
    data: DataName,
    /// Directory of the MNIST files (else $GHN_DATA_DIR, else the user data directory).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Evaluate on an .npz with X and T instead.
    #[arg(long, value_name = "FILE")]
    data_npz: Option<PathBuf>,
    /// Use the MNIST training set instead of the test set.
    #[arg(long)]
    train_set: bool,
    /// Digits to evaluate on (default: all).
    #[arg(long, value_name = "LIST")]
    digits: Option<String>,
}

/// What `config.json` holds: the settings and the data they were used with.
#[derive(Serialize, Deserialize)]
struct SavedConfig {
    config: TrainConfig,
    data_sha256: String,
}

/// Runs a parsed command; returns the process exit code.
pub fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Train(a) => train_cmd(*a),
        Command::Eval(a) => crate::eval::run(&a.state, a.run.as_deref(), &eval_data(&a.data)?),
        Command::Data {
            command: DataCommand::Fetch(a),
        } => crate::fetch::run(&a).map(|_| 0),
        Command::Bench(a) => crate::bench::run(&a).map(|_| 0),
        Command::Reduced { command } => crate::reduced::run(&command).map(|_| 0),
        Command::Reproduce(a) => crate::reproduce::run(&a),
        Command::Analyze(a) => crate::analyze::run(&a),
        Command::Dynamics(a) => crate::dynamics::run(&a),
        Command::Sweep { command } => crate::sweep::run(&command),
    }
}

fn eval_data(a: &EvalData) -> Result<Dataset> {
    let base = if let Some(p) = &a.data_npz {
        data::read_npz_data(p)?
    } else {
        match a.data {
            DataName::Paper200 => data::paper200()?,
            DataName::Mnist => data::mnist(&data::mnist_dir(a.data_dir.as_deref())?, !a.train_set)?,
        }
    };
    Ok(match &a.digits {
        Some(s) => data::filter_digits(&base, &data::parse_digits(s)?),
        None => base,
    })
}

/// Loads the training data a config describes.
pub fn training_data(cfg: &TrainConfig) -> Result<Dataset> {
    let base = match &cfg.data {
        DataSpec::Paper200 => data::paper200()?,
        DataSpec::Mnist { dir } => data::mnist(dir, false)?,
        DataSpec::Npz { path } => return data::read_npz_data(path),
    };
    if let Some(rows) = &cfg.rows {
        if let Some(&r) = rows.iter().find(|&&r| r >= base.len()) {
            bail!(
                "--rows: row {r} does not exist (the data set has {} rows)",
                base.len()
            );
        }
        return Ok(base.select(rows));
    }
    match cfg.per_class {
        Some(k) => data::sample_balanced(&base, &cfg.digits, k, cfg.seed),
        None => Ok(data::filter_digits(&base, &cfg.digits)),
    }
}

/// The machine's cores: the default for every `--threads` and `--jobs`.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn train_cmd(a: TrainArgs) -> Result<i32> {
    let threads = a.threads.unwrap_or_else(default_threads);
    if threads == 0 {
        bail!("--threads must be at least 1");
    }
    if let Some(dir) = &a.resume {
        return resume(dir, threads, a.quiet);
    }
    let out = a.out.clone().expect("clap requires --out without --resume");
    let cfg = config_from_args(&a)?;
    cfg.validate()?;
    let data = training_data(&cfg)?;
    check_against_data(&cfg, &data)?;
    if out.join("config.json").exists() {
        bail!(
            "--out {}: already holds a run (config.json); use --resume {} or another directory",
            out.display(),
            out.display()
        );
    }
    std::fs::create_dir_all(&out)
        .with_context(|| format!("--out {}: cannot create directory", out.display()))?;
    let saved = SavedConfig {
        config: cfg.clone(),
        data_sha256: data.sha256(),
    };
    crate::npz::write_atomic(
        &out.join("config.json"),
        serde_json::to_string_pretty(&saved)?.as_bytes(),
    )?;
    install_signal_handler();
    train::run(
        &cfg,
        &data,
        &RunOptions {
            out,
            quiet: a.quiet,
            threads,
        },
    )
}

fn resume(dir: &Path, threads: usize, quiet: bool) -> Result<i32> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("--resume: cannot read {}", path.display()))?;
    let saved: SavedConfig = serde_json::from_str(&text)
        .with_context(|| format!("--resume: {} is not a ghn config", path.display()))?;
    if dir.join("final.npz").exists() && !dir.join("checkpoint.npz").exists() {
        bail!("--resume {}: this run has already finished", dir.display());
    }
    let cfg = saved.config;
    cfg.validate()?;
    let data = training_data(&cfg)?;
    if data.sha256() != saved.data_sha256 {
        bail!(
            "--resume {}: the training data differs from the data the run started with",
            dir.display()
        );
    }
    install_signal_handler();
    train::run(
        &cfg,
        &data,
        &RunOptions {
            out: dir.to_path_buf(),
            quiet,
            threads,
        },
    )
}

/// Ctrl-C and SIGTERM set [`train::INTERRUPTED`]: runs checkpoint and stop.
pub(crate) fn install_signal_handler() {
    // Errors only if a handler is already installed, which is fine.
    let _ =
        ctrlc::set_handler(|| train::INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst));
}

fn config_from_args(a: &TrainArgs) -> Result<TrainConfig> {
    let data = if let Some(p) = &a.data.data_npz {
        DataSpec::Npz { path: absolute(p)? }
    } else {
        match a.data.data {
            DataName::Paper200 => {
                if a.data.data_dir.is_some() {
                    bail!("--data-dir is only used with --data mnist");
                }
                DataSpec::Paper200
            }
            DataName::Mnist => DataSpec::Mnist {
                dir: absolute(&data::mnist_dir(a.data.data_dir.as_deref())?)?,
            },
        }
    };
    let digits = match &a.data.digits {
        Some(s) => data::parse_digits(s)?,
        None => (0..10).collect(),
    };
    let init = match &a.init_state {
        Some(p) => InitSpec::State { path: absolute(p)? },
        None => a.init.parse()?,
    };
    let rescaled = match (a.temperature, a.rescaled_temperature) {
        (None, None) => Some(0.85),
        (_, r) => r,
    };
    let mut noise_pulses = a.noise_pulses.clone();
    noise_pulses.sort_unstable();
    noise_pulses.dedup();
    Ok(TrainConfig {
        data,
        digits,
        per_class: a.data.per_class,
        rows: match &a.data.rows {
            Some(s) => Some(parse_rows(s)?),
            None => None,
        },
        memories: a.memories,
        n: a.n,
        m: a.m,
        temperature: a.temperature,
        rescaled_temperature: rescaled,
        rate: a.rate,
        momentum: a.momentum,
        epochs: a.epochs,
        minibatches: a.minibatches,
        memory_bound: a.memory_bound,
        noise_pulses,
        noise_mean: a.noise_mean,
        noise_std: a.noise_std,
        rate_decay: a.rate_decay,
        seed: a.seed,
        precision: a.precision,
        init,
        save_every: a.save_every,
        save_precision: a.save_precision.unwrap_or(a.precision),
        log_every: a.log_every,
        checkpoint_every: a.checkpoint_every,
    })
}

/// The settings `ghn train ARGS` would use (without `--out`): how sweeps turn a grid
/// point into a run, with the same defaults and validation as the command line.
pub(crate) fn train_config(args: &[String]) -> Result<TrainConfig> {
    let mut all: Vec<String> = ["ghn", "train", "--out", "unused"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    all.extend_from_slice(args);
    let cli = Cli::try_parse_from(&all).map_err(|e| {
        let text = e.to_string();
        let first = text
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ");
        anyhow::anyhow!("ghn train {}: {first}", args.join(" "))
    })?;
    match cli.command {
        Command::Train(a) => config_from_args(&a),
        _ => unreachable!("parsed as `ghn train`"),
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("{}: cannot resolve path", p.display()))
}

/// Parses `--rows 21,81`.
fn parse_rows(s: &str) -> Result<Vec<usize>> {
    let rows: Vec<usize> = s
        .split(',')
        .map(|t| t.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .with_context(|| {
            format!("--rows expects a comma-separated list of row numbers, got `{s}`")
        })?;
    if rows.is_empty() {
        bail!("--rows: no row given");
    }
    Ok(rows)
}

/// Checks that need the data: pixels for the temperature, minibatch split, the
/// initialisation (loaded once here so a bad --init-state fails before --out is created).
pub(crate) fn check_against_data(cfg: &TrainConfig, data: &Dataset) -> Result<()> {
    if data.is_empty() {
        bail!("the selected training data is empty");
    }
    cfg.params::<f64>(data.d)?;
    if !data.len().is_multiple_of(cfg.minibatches) {
        bail!(
            "--minibatches {}: {} training samples do not split into equal minibatches",
            cfg.minibatches,
            data.len()
        );
    }
    train::initial_state::<f64>(cfg, data)?;
    Ok(())
}
