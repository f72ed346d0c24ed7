//! The training driver: initialisation, the epoch loop (ghn-core's `train_epoch` with the
//! host kernel), metrics, trajectory frames, checkpoints, interruption and resumption,
//! and the run's output files.

use crate::config::{InitSpec, Precision, TrainConfig};
use crate::data::{seeded_rng, Dataset, STREAM_INIT, STREAM_NOISE};
use crate::kernel::{GemmKernel, HostFloat};
use crate::npz::{self, NpzOut};
use anyhow::{bail, Context, Result};
use ghn_core::{Dims, NoiseBuffers, NoiseSource, Params, Scratch, State};
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Set by the Ctrl-C / SIGTERM handler; the loop checkpoints and stops at the next epoch.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Exit code of a run stopped by a signal after writing its checkpoint (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Network state in precision `F`.
#[derive(Clone, Debug, PartialEq)]
pub struct NetState<F> {
    /// Memories (K×D).
    pub m: Vec<F>,
    /// Labels (K×C).
    pub l: Vec<F>,
    /// Memory momentum (K×D).
    pub vm: Vec<F>,
    /// Label momentum (K×C).
    pub vl: Vec<F>,
}

impl<F: HostFloat> NetState<F> {
    /// The state as ghn-core's mutable view.
    pub fn view(&mut self) -> State<'_, F> {
        State {
            memories: &mut self.m,
            labels: &mut self.l,
            memory_velocity: &mut self.vm,
            label_velocity: &mut self.vl,
        }
    }
}

/// M and L iid N(mean, std), labels drawn first like the reference, from the seed's
/// initialisation stream (the `--init gaussian` state of a run with this seed).
pub fn gaussian_state<F: HostFloat>(
    k: usize,
    d: usize,
    c: usize,
    mean: f64,
    std: f64,
    seed: u64,
) -> Result<NetState<F>> {
    let mut rng = seeded_rng(seed, STREAM_INIT);
    let dist = Normal::new(mean, std).context("--init gaussian: invalid normal distribution")?;
    let l = (0..k * c)
        .map(|_| F::from_f64(dist.sample(&mut rng)))
        .collect();
    let m = (0..k * d)
        .map(|_| F::from_f64(dist.sample(&mut rng)))
        .collect();
    Ok(NetState {
        m,
        l,
        vm: vec![F::ZERO; k * d],
        vl: vec![F::ZERO; k * c],
    })
}

/// Two memories around (α, ℓ) on samples A (class `da`) and B (class `db`), the
/// symmetric perturbation of PROTOCOLS.md §3 (Fig 6b): M₀ = (α+δ)A + (1−|α+δ|)B,
/// M₁ = (α−δ)A + (1−|α−δ|)B; L = −1 except L₀[d_A] = ℓ+δ, L₀[d_B] = −(ℓ−δ),
/// L₁[d_A] = ℓ−δ, L₁[d_B] = −(ℓ+δ).
#[allow(clippy::too_many_arguments)]
pub fn pair_state<F: HostFloat>(
    a: &[f64],
    b: &[f64],
    da: usize,
    db: usize,
    c: usize,
    alpha: f64,
    ell: f64,
    delta: f64,
) -> NetState<F> {
    let d = a.len();
    let mut m = Vec::with_capacity(2 * d);
    let mut l = vec![-1.0f64; 2 * c];
    for (mu, s) in [1.0, -1.0].into_iter().enumerate() {
        let w = alpha + s * delta;
        let v = 1.0 - w.abs();
        m.extend(a.iter().zip(b).map(|(&x, &y)| w * x + v * y));
        l[mu * c + da] = ell + s * delta;
        l[mu * c + db] = -(ell - s * delta);
    }
    NetState {
        m: m.into_iter().map(F::from_f64).collect(),
        l: l.into_iter().map(F::from_f64).collect(),
        vm: vec![F::ZERO; 2 * d],
        vl: vec![F::ZERO; 2 * c],
    }
}

/// The initial state for `cfg` on `data` (K memories).
pub fn initial_state<F: HostFloat>(cfg: &TrainConfig, data: &Dataset) -> Result<NetState<F>> {
    let (k, d, c) = (cfg.memories, data.d, data.c);
    let zeros = |n| vec![F::ZERO; n];
    match &cfg.init {
        InitSpec::Gaussian { mean, std } => gaussian_state(k, d, c, *mean, *std, cfg.seed),
        InitSpec::NearClass { digit } => {
            let digit = *digit;
            let rows: Vec<usize> = (0..data.len())
                .filter(|&i| data.labels[i] == digit)
                .collect();
            if rows.is_empty() {
                bail!(
                    "--init near-class:{digit}: the training data has no sample of digit {digit}"
                );
            }
            if digit as usize >= c {
                bail!("--init near-class:{digit}: the data has only {c} classes");
            }
            let mut rng = seeded_rng(cfg.seed, STREAM_INIT);
            let dist = Normal::new(-0.03, 0.01).expect("valid normal");
            let mut l: Vec<f64> = (0..k * c).map(|_| dist.sample(&mut rng)).collect();
            // The reference also draws M here; every row is then overwritten.
            for _ in 0..k * d {
                let _: f64 = dist.sample(&mut rng);
            }
            for mu in 0..k {
                for cl in 0..c {
                    l[mu * c + cl] += -0.6;
                }
                l[mu * c + digit as usize] += 1.2;
            }
            let mut mean = vec![0.0f64; d];
            for &r in &rows {
                for (mv, xv) in mean.iter_mut().zip(&data.x[r * d..(r + 1) * d]) {
                    *mv += xv;
                }
            }
            let row: Vec<f64> = mean.iter().map(|v| 0.8 * (v / rows.len() as f64)).collect();
            let m = (0..k)
                .flat_map(|_| row.iter().map(|&v| F::from_f64(v)))
                .collect();
            let l = l.into_iter().map(F::from_f64).collect();
            Ok(NetState {
                m,
                l,
                vm: zeros(k * d),
                vl: zeros(k * c),
            })
        }
        InitSpec::Pair { alpha, ell, delta } => {
            if k != 2 || data.len() != 2 || data.labels[0] == data.labels[1] {
                bail!(
                    "--init pair needs --memories 2 and exactly two training samples of different \
                     classes (e.g. --rows 21,81); got {k} memories and {} samples",
                    data.len()
                );
            }
            let (da, db) = (data.labels[0] as usize, data.labels[1] as usize);
            Ok(pair_state(
                &data.x[..d],
                &data.x[d..2 * d],
                da,
                db,
                c,
                *alpha,
                *ell,
                *delta,
            ))
        }
        InitSpec::State { path } => load_state(path, k, d, c),
    }
}

/// Loads `M`, `L` (and `VM`, `VL` when present) from an `.npz`, checking shapes.
pub fn load_state<F: HostFloat>(path: &Path, k: usize, d: usize, c: usize) -> Result<NetState<F>> {
    let name = path.display().to_string();
    let mut z = npz::open(path)?;
    let mut get = |key: &str, rows: usize, cols: usize, optional: bool| -> Result<Option<Vec<F>>> {
        if optional && !npz::has_key(&mut z, key)? {
            return Ok(None);
        }
        let a = npz::read_f64_2d(&mut z, key, &name)?;
        if a.dim() != (rows, cols) {
            bail!(
                "{name}: array `{key}` has shape {:?}, expected ({rows}, {cols})",
                a.dim()
            );
        }
        Ok(Some(a.iter().map(|&v| F::from_f64(v)).collect()))
    };
    let m = get("M", k, d, false)?.expect("required");
    let l = get("L", k, c, false)?.expect("required");
    let vm = get("VM", k, d, true)?.unwrap_or_else(|| vec![F::ZERO; k * d]);
    let vl = get("VL", k, c, true)?.unwrap_or_else(|| vec![F::ZERO; k * c]);
    Ok(NetState { m, l, vm, vl })
}

/// Additive N(mean, std) noise for one epoch: its own ChaCha stream, labels drawn first.
struct EpochNoise {
    rng: rand_chacha::ChaCha12Rng,
    dist: Normal<f64>,
}

impl<F: HostFloat> NoiseSource<F> for EpochNoise {
    fn fill(&mut self, labels: &mut [F], memories: &mut [F]) {
        for v in labels.iter_mut().chain(memories.iter_mut()) {
            *v = F::from_f64(self.dist.sample(&mut self.rng));
        }
    }
}

/// One row of `metrics.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    /// Epochs done.
    pub epoch: usize,
    /// Cost of the training data for the state after `epoch` epochs.
    pub cost: f64,
    /// Fraction of training samples classified correctly.
    pub accuracy: f64,
    /// Correctly recognised training samples per class (argmax right and max output > −1,
    /// the reference's guard against all outputs saturated at −1).
    pub correct: Vec<usize>,
}

/// Forward pass over a data set: cost, accuracy and correct counts per class.
pub fn evaluate<F: HostFloat>(
    params: &Params<F>,
    data: &Dataset,
    x: &[F],
    t: &[F],
    m: &[F],
    l: &[F],
    k: usize,
) -> Metrics {
    let dims = Dims::new(data.len(), k, data.d, data.c);
    let mut buf = vec![F::ZERO; dims.scratch_len()];
    let mut s = Scratch::from_buffer(&mut buf, dims).expect("scratch sized by dims");
    ghn_core::forward(&GemmKernel, params, x, m, l, &mut s).expect("shapes checked by caller");
    let cost = ghn_core::cost(s.outputs(), t, params.m());
    let mut correct = vec![0usize; data.c];
    for (o, &lab) in s.outputs().chunks(data.c).zip(&data.labels) {
        let best = ghn_core::predict(o);
        if best == lab as usize && o[best] > -F::ONE {
            correct[lab as usize] += 1;
        }
    }
    let total: usize = correct.iter().sum();
    Metrics {
        epoch: 0,
        cost,
        accuracy: total as f64 / data.len() as f64,
        correct,
    }
}

/// The header of `metrics.csv`.
pub fn metrics_header(c: usize) -> String {
    let mut h = String::from("epoch,cost,accuracy");
    for i in 0..c {
        h.push_str(&format!(",correct_{i}"));
    }
    h
}

fn metrics_csv(rows: &[Metrics], c: usize) -> String {
    let mut s = metrics_header(c);
    s.push('\n');
    for r in rows {
        s.push_str(&format!("{},{:e},{}", r.epoch, r.cost, r.accuracy));
        for v in &r.correct {
            s.push_str(&format!(",{v}"));
        }
        s.push('\n');
    }
    s
}

/// Saved frames of a trajectory, in the save precision (kept as f64 here, narrowed when
/// written).
#[derive(Clone, Debug, Default, PartialEq)]
struct Frames {
    m: Vec<f64>,
    l: Vec<f64>,
    epochs: Vec<u64>,
}

/// `run.json`: what a run was, for humans and scripts.
#[derive(Serialize, Deserialize, Debug)]
pub struct RunInfo {
    /// Program name and version.
    pub program: String,
    /// Every setting (also in config.json).
    pub config: TrainConfig,
    /// Absolute temperature used.
    pub temperature: f64,
    /// Number of training samples.
    pub samples: usize,
    /// Pixels per sample.
    pub pixels: usize,
    /// Classes.
    pub classes: usize,
    /// SHA-256 of the training data (samples then targets, little-endian f64).
    pub data_sha256: String,
    /// Epochs done.
    pub epochs_done: usize,
    /// Wall time of the training loop in seconds (summed over resumed parts).
    pub wall_seconds: f64,
    /// Threads used by the last part.
    pub threads: usize,
    /// Final training cost and accuracy.
    pub final_cost: f64,
    /// Final training accuracy.
    pub final_accuracy: f64,
}

/// Reads the run.json given, or the one next to `input` (a state or trajectory file),
/// with errors naming the file.
pub fn run_info(input: &Path, run: Option<&Path>) -> Result<(PathBuf, RunInfo)> {
    let path = match run {
        Some(p) => p.to_path_buf(),
        None => input.parent().unwrap_or(Path::new(".")).join("run.json"),
    };
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: cannot read (give the run's run.json with --run)",
            path.display()
        )
    })?;
    let info: RunInfo = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a ghn run.json", path.display()))?;
    Ok((path, info))
}

impl RunInfo {
    /// The model parameters (n, m, absolute T) the run trained with, for `d` pixels;
    /// errors name `path`, the run.json.
    pub fn params(&self, d: usize, path: &Path) -> Result<ghn_core::Params<f64>> {
        let mut b = ghn_core::ParamsBuilder::new()
            .n(self.config.n)
            .temperature(self.temperature);
        if let Some(mm) = self.config.m {
            b = b.m(mm);
        }
        b.build(d)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

/// Options of a run that do not change its result.
pub struct RunOptions {
    /// Output directory.
    pub out: PathBuf,
    /// No progress bar.
    pub quiet: bool,
    /// Threads of the kernel's pool.
    pub threads: usize,
}

const CHECKPOINT: &str = "checkpoint.npz";

/// Trains per `cfg` on `data`, writing outputs into `opts.out` (which must exist).
/// Resumes from `opts.out/checkpoint.npz` if it is there. Returns the exit code (0, or
/// [`EXIT_INTERRUPTED`] when stopped by a signal after checkpointing).
pub fn run(cfg: &TrainConfig, data: &Dataset, opts: &RunOptions) -> Result<i32> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .context("cannot start the worker threads")?;
    pool.install(|| match cfg.precision {
        Precision::F64 => run_typed::<f64>(cfg, data, opts),
        Precision::F32 => run_typed::<f32>(cfg, data, opts),
    })
}

fn to_f64<F: HostFloat>(v: &[F]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64()).collect()
}

fn from_f64<F: HostFloat>(v: &[f64]) -> Vec<F> {
    v.iter().map(|&x| F::from_f64(x)).collect()
}

/// Rounds through the save precision, so frames kept in memory equal what is written.
fn save_round(v: &[f64], p: Precision) -> Vec<f64> {
    match p {
        Precision::F64 => v.to_vec(),
        Precision::F32 => v.iter().map(|&x| x as f32 as f64).collect(),
    }
}

fn run_typed<F: HostFloat>(cfg: &TrainConfig, data: &Dataset, opts: &RunOptions) -> Result<i32> {
    let (k, d, c, n) = (cfg.memories, data.d, data.c, data.len());
    let params: Params<F> = cfg.params(d)?;
    if n % cfg.minibatches != 0 {
        bail!(
            "--minibatches {}: {n} training samples do not split into equal minibatches",
            cfg.minibatches
        );
    }
    let x: Vec<F> = from_f64(&data.x);
    let t: Vec<F> = from_f64(&data.t);
    let dims = Dims::new(n / cfg.minibatches, k, d, c);
    let ckpt_path = opts.out.join(CHECKPOINT);

    // State, frames and metrics: from the checkpoint, or fresh.
    let (mut st, mut frames, mut metrics, start, mut wall) = if ckpt_path.exists() {
        load_checkpoint::<F>(&ckpt_path, k, d, c)?
    } else {
        let st = initial_state::<F>(cfg, data)?;
        (st, Frames::default(), Vec::new(), 0usize, 0.0)
    };
    if start > cfg.epochs {
        bail!(
            "{}: checkpoint is at epoch {start}, beyond --epochs {}",
            ckpt_path.display(),
            cfg.epochs
        );
    }
    let record =
        |st: &NetState<F>, epoch: usize, frames: &mut Frames, metrics: &mut Vec<Metrics>| {
            if cfg
                .save_every
                .is_some_and(|s| epoch.is_multiple_of(s) || epoch == cfg.epochs)
                && frames.epochs.last() != Some(&(epoch as u64))
            {
                frames
                    .m
                    .extend(save_round(&to_f64(&st.m), cfg.save_precision));
                frames
                    .l
                    .extend(save_round(&to_f64(&st.l), cfg.save_precision));
                frames.epochs.push(epoch as u64);
            }
            if (epoch.is_multiple_of(cfg.log_every) || epoch == cfg.epochs)
                && metrics.last().map(|m: &Metrics| m.epoch) != Some(epoch)
            {
                let mut row = evaluate(&params, data, &x, &t, &st.m, &st.l, k);
                row.epoch = epoch;
                metrics.push(row);
            }
        };
    if start == 0 {
        record(&st, 0, &mut frames, &mut metrics);
    }

    let bar = progress_bar(cfg.epochs, start, opts.quiet);
    let mut buf = vec![F::ZERO; dims.scratch_len()];
    let mut noise_l = vec![F::ZERO; k * c];
    let mut noise_m = vec![F::ZERO; k * d];
    let began = Instant::now();
    // The rate of epoch e is η·decay^(e+1), multiplied up epoch by epoch as the reference does.
    let mut rate = cfg.rate;
    if let Some(decay) = cfg.rate_decay {
        for _ in 0..start {
            rate *= decay;
        }
    }
    for epoch in start..cfg.epochs {
        let mut p = params;
        if let Some(decay) = cfg.rate_decay {
            rate *= decay;
            p = p
                .with_rate(F::from_f64(rate))
                .with_context(|| format!("--rate-decay: rate underflowed at epoch {epoch}"))?;
        }
        let mut noise = EpochNoise {
            rng: seeded_rng(cfg.seed, STREAM_NOISE + epoch as u64),
            dist: Normal::new(cfg.noise_mean, cfg.noise_std).context("--noise-std")?,
        };
        let noise_bufs = cfg.noise_pulses.contains(&epoch).then(|| NoiseBuffers {
            source: &mut noise as &mut dyn NoiseSource<F>,
            labels: &mut noise_l,
            memories: &mut noise_m,
        });
        let mut scratch = Scratch::from_buffer(&mut buf, dims)?;
        let report = ghn_core::train_epoch(
            &GemmKernel,
            &p,
            &x,
            &t,
            &mut st.view(),
            &mut scratch,
            noise_bufs,
        )?;
        let done = epoch + 1;
        record(&st, done, &mut frames, &mut metrics);
        if let Some(bar) = &bar {
            bar.set_position(done as u64);
            if let Some(last) = metrics.last() {
                bar.set_message(format!(
                    "cost {:.4e} | train acc {:.3}",
                    report.cost.max(0.0),
                    last.accuracy
                ));
            }
        }
        let interrupted = INTERRUPTED.load(Ordering::SeqCst);
        let periodic =
            cfg.checkpoint_every > 0 && done % cfg.checkpoint_every == 0 && done < cfg.epochs;
        if interrupted || periodic {
            let elapsed = wall + began.elapsed().as_secs_f64();
            write_checkpoint(&ckpt_path, &st, &frames, &metrics, done, elapsed, k, d, c)?;
            if interrupted {
                if let Some(bar) = &bar {
                    bar.abandon();
                }
                eprintln!(
                    "ghn: interrupted at epoch {done}/{}; checkpoint written to {}. Continue with: ghn train --resume {}",
                    cfg.epochs,
                    ckpt_path.display(),
                    opts.out.display()
                );
                return Ok(EXIT_INTERRUPTED);
            }
        }
    }
    wall += began.elapsed().as_secs_f64();
    if let Some(bar) = &bar {
        bar.finish();
    }

    // Outputs.
    let mut fin = NpzOut::new();
    fin.add_slice("M", &st.m, &[k, d])?;
    fin.add_slice("L", &st.l, &[k, c])?;
    fin.add_slice("VM", &st.vm, &[k, d])?;
    fin.add_slice("VL", &st.vl, &[k, c])?;
    fin.write(&opts.out.join("final.npz"))?;
    if cfg.save_every.is_some() {
        write_frames(
            &opts.out.join("trajectory.npz"),
            &frames,
            cfg.save_precision,
            k,
            d,
            c,
        )?;
    }
    npz::write_atomic(
        &opts.out.join("metrics.csv"),
        metrics_csv(&metrics, c).as_bytes(),
    )?;
    crate::plot::memories_png(&opts.out.join("memories.png"), &to_f64(&st.m), k, d)?;
    let last = metrics.last().expect("the final epoch is always logged");
    let info = RunInfo {
        program: format!("ghn {}", env!("CARGO_PKG_VERSION")),
        config: cfg.clone(),
        temperature: params.temperature().to_f64(),
        samples: n,
        pixels: d,
        classes: c,
        data_sha256: data.sha256(),
        epochs_done: cfg.epochs,
        wall_seconds: wall,
        threads: opts.threads,
        final_cost: last.cost,
        final_accuracy: last.accuracy,
    };
    npz::write_atomic(
        &opts.out.join("run.json"),
        serde_json::to_string_pretty(&info)?.as_bytes(),
    )?;
    if ckpt_path.exists() {
        std::fs::remove_file(&ckpt_path)
            .with_context(|| format!("{}: cannot remove", ckpt_path.display()))?;
    }
    if !opts.quiet {
        eprintln!(
            "ghn: {} epochs in {:.2} s; final cost {:.4e}, training accuracy {:.3}; outputs in {}",
            cfg.epochs,
            wall,
            last.cost,
            last.accuracy,
            opts.out.display()
        );
    }
    Ok(0)
}

fn progress_bar(total: usize, start: usize, quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} epoch {pos}/{len} | {msg} | {per_sec} | ETA {eta}",
        )
        .expect("valid template"),
    );
    bar.set_position(start as u64);
    bar.reset_eta();
    Some(bar)
}

fn write_frames(path: &Path, f: &Frames, p: Precision, k: usize, d: usize, c: usize) -> Result<()> {
    let frames = f.epochs.len();
    let mut out = NpzOut::new();
    match p {
        Precision::F64 => {
            out.add_slice("M", &f.m, &[frames, k, d])?;
            out.add_slice("L", &f.l, &[frames, k, c])?;
        }
        Precision::F32 => {
            let m: Vec<f32> = f.m.iter().map(|&v| v as f32).collect();
            let l: Vec<f32> = f.l.iter().map(|&v| v as f32).collect();
            out.add_slice("M", &m, &[frames, k, d])?;
            out.add_slice("L", &l, &[frames, k, c])?;
        }
    }
    // int64: NumPy's default integer, what the reference's notebooks expect.
    let epochs: Vec<i64> = f.epochs.iter().map(|&e| e as i64).collect();
    out.add_slice("epochs", &epochs, &[frames])?;
    out.write(path)
}

#[allow(clippy::too_many_arguments)]
fn write_checkpoint<F: HostFloat>(
    path: &Path,
    st: &NetState<F>,
    frames: &Frames,
    metrics: &[Metrics],
    epoch: usize,
    wall: f64,
    k: usize,
    d: usize,
    c: usize,
) -> Result<()> {
    let mut z = NpzOut::new();
    z.add_slice("M", &st.m, &[k, d])?;
    z.add_slice("L", &st.l, &[k, c])?;
    z.add_slice("VM", &st.vm, &[k, d])?;
    z.add_slice("VL", &st.vl, &[k, c])?;
    z.add_slice("epoch", &[epoch as i64], &[])?;
    z.add_slice("wall_seconds", &[wall], &[])?;
    let nf = frames.epochs.len();
    z.add_slice("frames_M", &frames.m, &[nf, k, d])?;
    z.add_slice("frames_L", &frames.l, &[nf, k, c])?;
    let fe: Vec<i64> = frames.epochs.iter().map(|&e| e as i64).collect();
    z.add_slice("frames_epochs", &fe, &[nf])?;
    let cols = 3 + c;
    let mut rows = Vec::with_capacity(metrics.len() * cols);
    for r in metrics {
        rows.extend([r.epoch as f64, r.cost, r.accuracy]);
        rows.extend(r.correct.iter().map(|&v| v as f64));
    }
    z.add_slice("metrics", &rows, &[metrics.len(), cols])?;
    z.write(path)
}

type Loaded<F> = (NetState<F>, Frames, Vec<Metrics>, usize, f64);

fn load_checkpoint<F: HostFloat>(path: &Path, k: usize, d: usize, c: usize) -> Result<Loaded<F>> {
    let name = path.display().to_string();
    let st = load_state::<F>(path, k, d, c)?;
    // The state was saved in the run precision: reading through f64 is exact for f32 too.
    let mut z = npz::open(path)?;
    let scalar_i64 = |z: &mut ndarray_npy::NpzReader<std::fs::File>, key: &str| -> Result<i64> {
        let a: ndarray::ArrayD<i64> = z
            .by_name(key)
            .with_context(|| format!("{name}: missing or bad `{key}`"))?;
        a.iter()
            .next()
            .copied()
            .with_context(|| format!("{name}: empty `{key}`"))
    };
    let epoch = scalar_i64(&mut z, "epoch")?;
    let epoch =
        usize::try_from(epoch).with_context(|| format!("{name}: negative epoch {epoch}"))?;
    let wall = npz::read_f64(&mut z, "wall_seconds", &name)?
        .iter()
        .next()
        .copied()
        .unwrap_or(0.0);
    let fm = npz::read_f64(&mut z, "frames_M", &name)?;
    let fl = npz::read_f64(&mut z, "frames_L", &name)?;
    let fe: ndarray::ArrayD<i64> = z
        .by_name("frames_epochs")
        .with_context(|| format!("{name}: missing `frames_epochs`"))?;
    let frames = Frames {
        m: fm.iter().copied().collect(),
        l: fl.iter().copied().collect(),
        epochs: fe.iter().map(|&e| e as u64).collect(),
    };
    let mt = npz::read_f64(&mut z, "metrics", &name)?;
    let cols = 3 + c;
    let metrics = mt
        .as_slice()
        .context("metrics layout")?
        .chunks(cols)
        .map(|r| Metrics {
            epoch: r[0] as usize,
            cost: r[1],
            accuracy: r[2],
            correct: r[3..].iter().map(|&v| v as usize).collect(),
        })
        .collect();
    Ok((st, frames, metrics, epoch, wall))
}
