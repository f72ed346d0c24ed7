//! The settings of a training run, as parsed from the command line and as saved in
//! `config.json` (so that `--resume` continues with exactly the same settings).

use anyhow::{bail, Context, Result};
use ghn_core::{MemoryBound, Params, ParamsBuilder, Real};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Floating-point precision of a run or of saved arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats.
    F32,
    /// 64-bit floats (the reference's precision).
    F64,
}

/// Which data a run trains on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DataSpec {
    /// The bundled 200-digit set.
    Paper200,
    /// The MNIST training set from a directory.
    Mnist {
        /// Directory (resolved at parse time).
        dir: PathBuf,
    },
    /// Explicit data from an `.npz` with `X` and `T`.
    Npz {
        /// The file.
        path: PathBuf,
    },
}

/// How memories and labels are initialised.
///
/// Externally tagged in JSON (`{"gaussian": {"mean": …, "std": …}}`): an internally tagged
/// enum is buffered by serde, and its numbers then fail to parse whenever some other crate
/// in the build turns on serde_json's `arbitrary_precision` (defmt-decoder does).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitSpec {
    /// M and L iid N(mean, std) (labels drawn first, like the reference).
    Gaussian {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// Fig 8: N(−0.03, 0.01) for M and L, L −= 0.6, L[:, d] += 1.2, every memory
    /// = 0.8 × the mean training image of digit d.
    NearClass {
        /// The digit.
        digit: u8,
    },
    /// Two memories around (α, ℓ) on the pair of samples A, B (PROTOCOLS.md §3, Fig 6b):
    /// M₀ = (α+δ)A + (1−|α+δ|)B, M₁ = (α−δ)A + (1−|α−δ|)B; L = −1 except
    /// L₀[d_A] = ℓ+δ, L₀[d_B] = −(ℓ−δ), L₁[d_A] = ℓ−δ, L₁[d_B] = −(ℓ+δ).
    Pair {
        /// α, the weight of sample A.
        alpha: f64,
        /// ℓ, the label of class d_A.
        ell: f64,
        /// The symmetric perturbation δ.
        delta: f64,
    },
    /// From an `.npz` with `M`, `L` and optionally `VM`, `VL`.
    State {
        /// The file.
        path: PathBuf,
    },
}

impl std::str::FromStr for InitSpec {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        if let Some(rest) = s.strip_prefix("gaussian:") {
            let parts: Vec<&str> = rest.split(',').collect();
            if parts.len() != 2 {
                bail!("--init gaussian:MEAN,STD expects two numbers, got `{rest}`");
            }
            let mean: f64 = parts[0]
                .trim()
                .parse()
                .with_context(|| format!("--init: bad mean `{}`", parts[0]))?;
            let std: f64 = parts[1]
                .trim()
                .parse()
                .with_context(|| format!("--init: bad std `{}`", parts[1]))?;
            if !mean.is_finite() || !std.is_finite() || std < 0.0 {
                bail!("--init gaussian: mean must be finite and std finite and >= 0 (got {mean}, {std})");
            }
            Ok(InitSpec::Gaussian { mean, std })
        } else if let Some(rest) = s.strip_prefix("near-class:") {
            let digit: u8 = rest
                .trim()
                .parse()
                .ok()
                .filter(|d| *d < 10)
                .with_context(|| {
                    format!("--init near-class:D expects a digit 0..9, got `{rest}`")
                })?;
            Ok(InitSpec::NearClass { digit })
        } else if let Some(rest) = s.strip_prefix("pair:") {
            let v = finite_numbers(rest, ',', 3).with_context(|| {
                format!("--init pair:ALPHA,ELL,DELTA expects three finite numbers, got `{rest}`")
            })?;
            if v[0].abs() > 1.0 || v[1].abs() > 1.0 {
                bail!(
                    "--init pair: ALPHA and ELL must lie in [-1, 1] (got {}, {})",
                    v[0],
                    v[1]
                );
            }
            Ok(InitSpec::Pair {
                alpha: v[0],
                ell: v[1],
                delta: v[2],
            })
        } else if s == "gaussian" {
            Ok(InitSpec::Gaussian {
                mean: -0.003,
                std: 1e-5,
            })
        } else {
            bail!("--init `{s}`: expected gaussian:MEAN,STD, near-class:D or pair:ALPHA,ELL,DELTA (or use --init-state FILE)")
        }
    }
}

/// Exactly `count` finite numbers separated by `sep` (spaces around them allowed), or
/// `None`: the shared reading of `pair:A,L,D`, `--gram` and `--n-range`, whose callers
/// give their own messages.
pub(crate) fn finite_numbers(s: &str, sep: char, count: usize) -> Option<Vec<f64>> {
    s.split(sep)
        .map(|t| t.trim().parse::<f64>())
        .collect::<Result<Vec<f64>, _>>()
        .ok()
        .filter(|v| v.len() == count && v.iter().all(|x| x.is_finite()))
}

/// Every setting of a training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Data source.
    pub data: DataSpec,
    /// Digits used (all ten by default).
    pub digits: Vec<u8>,
    /// Samples per class (seeded class-balanced sample), or all the selected samples.
    pub per_class: Option<usize>,
    /// Explicit rows of the data set, in this order (instead of digits and sampling).
    #[serde(default)]
    pub rows: Option<Vec<usize>>,
    /// Number of memories K.
    pub memories: usize,
    /// Power n.
    pub n: f64,
    /// Power m (None: m = n).
    pub m: Option<f64>,
    /// Absolute temperature (exactly one of this and `rescaled_temperature`).
    pub temperature: Option<f64>,
    /// Rescaled temperature T_r = T/D.
    pub rescaled_temperature: Option<f64>,
    /// Learning rate.
    pub rate: f64,
    /// Momentum.
    pub momentum: f64,
    /// Epochs.
    pub epochs: usize,
    /// Minibatches per epoch (contiguous, in data order).
    pub minibatches: usize,
    /// Memory bound mode.
    pub memory_bound: Bound,
    /// Epochs (0-based) in which additive noise is applied at every step.
    pub noise_pulses: Vec<usize>,
    /// Noise mean.
    pub noise_mean: f64,
    /// Noise standard deviation.
    pub noise_std: f64,
    /// Learning-rate decay factor applied at the start of every epoch (reference `isDecay`).
    pub rate_decay: Option<f64>,
    /// Seed of every random draw (sampling, initialisation, noise).
    pub seed: u64,
    /// Precision of the training arithmetic.
    pub precision: Precision,
    /// Initialisation.
    pub init: InitSpec,
    /// Save a trajectory frame every this many epochs.
    pub save_every: Option<usize>,
    /// Precision of the saved trajectory.
    pub save_precision: Precision,
    /// Write a metrics row every this many epochs.
    pub log_every: usize,
    /// Write a checkpoint every this many epochs (0: only on interrupt).
    pub checkpoint_every: usize,
}

/// Memory bound as a command-line value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    /// Divide by max(1, max |M|) per memory (the reference's default).
    Rescale,
    /// Clip every pixel to [−1, 1].
    Clip,
}

impl From<Bound> for MemoryBound {
    fn from(b: Bound) -> Self {
        match b {
            Bound::Rescale => MemoryBound::Rescale,
            Bound::Clip => MemoryBound::Clip,
        }
    }
}

impl TrainConfig {
    /// Validates everything that does not need the data, with messages naming the flag.
    pub fn validate(&self) -> Result<()> {
        if self.memories == 0 {
            bail!("--memories must be at least 1 (got 0)");
        }
        if self.epochs == 0 {
            bail!("--epochs must be at least 1 (got 0)");
        }
        if self.minibatches == 0 {
            bail!("--minibatches must be at least 1 (got 0)");
        }
        if self.log_every == 0 {
            bail!("--log-every must be at least 1 (got 0)");
        }
        if self.save_every == Some(0) {
            bail!("--save-every must be at least 1 (got 0)");
        }
        if self.per_class == Some(0) {
            bail!("--per-class must be at least 1 (got 0)");
        }
        if self.digits.is_empty() {
            bail!("--digits: no digit selected");
        }
        match (self.temperature, self.rescaled_temperature) {
            (Some(_), Some(_)) => {
                bail!("give either --temperature or --rescaled-temperature, not both")
            }
            (None, None) => bail!("no temperature given"),
            _ => {}
        }
        if !self.noise_std.is_finite() || self.noise_std < 0.0 || !self.noise_mean.is_finite() {
            bail!("--noise-mean must be finite and --noise-std finite and >= 0");
        }
        if let Some(d) = self.rate_decay {
            if !d.is_finite() || d <= 0.0 || d > 1.0 {
                bail!("--rate-decay must be in (0, 1] (got {d})");
            }
        }
        self.params::<f64>(784).map(|_| ())
    }

    /// The model's parameters for `pixels` input dimensions, with errors naming the flag.
    pub fn params<F: Real>(&self, pixels: usize) -> Result<Params<F>> {
        let mut b = ParamsBuilder::new()
            .n(F::from_f64(self.n))
            .rate(F::from_f64(self.rate))
            .momentum(F::from_f64(self.momentum))
            .bound(self.memory_bound.into());
        if let Some(m) = self.m {
            b = b.m(F::from_f64(m));
        }
        b = match (self.temperature, self.rescaled_temperature) {
            (Some(t), _) => b.temperature(F::from_f64(t)),
            (None, Some(tr)) => b.rescaled_temperature(F::from_f64(tr)),
            (None, None) => bail!("no temperature given"),
        };
        b.build(pixels).map_err(|e| {
            use ghn_core::ParamError as E;
            let flag = match e {
                E::N(_) => "--n",
                E::M(_) => "--m",
                E::Temperature(_) => "--temperature",
                E::RescaledTemperature(_) => "--rescaled-temperature",
                E::Rate(_) => "--rate",
                E::Momentum(_) => "--momentum",
                E::NoPixels => "data",
            };
            anyhow::anyhow!("{flag}: {e}")
        })
    }
}
