//! Fixed-capacity storage: a network and a trainer that need no allocator and can live in
//! a `static` on a microcontroller.
//!
//! [`Network`] holds K memories of D pixels with C labels and both momentum buffers, all
//! as arrays sized by const generics. [`Trainer`] holds up to P training samples in a
//! [`heapless::Vec`] (pushing past capacity hands the sample back) and every work buffer
//! of a step, so a step touches no memory outside the two values.
//!
//! Memory cost: `Network` is 2·K·(D + C) floats, `Trainer` is P·(D + C) floats of data
//! plus 2·P·K + 3·P·C + K·(D + C) floats of work space.

use crate::error::ShapeError;
use crate::kernel::Kernel;
use crate::model::{forward, Dims, Scratch, State};
use crate::params::Params;
use crate::scalar::Real;
use crate::update::{train_step, Noise, StepReport};

/// K memories of D pixels with C labels, and their momentum buffers.
#[derive(Clone, Debug, PartialEq)]
pub struct Network<F, const K: usize, const D: usize, const C: usize> {
    /// Memories M, one row per memory.
    pub memories: [[F; D]; K],
    /// Labels L, one row per memory.
    pub labels: [[F; C]; K],
    /// Momentum buffer of the memories.
    pub memory_velocity: [[F; D]; K],
    /// Momentum buffer of the labels.
    pub label_velocity: [[F; C]; K],
}

impl<F: Real, const K: usize, const D: usize, const C: usize> Network<F, K, D, C> {
    /// All-zero memories, labels and momentum (usable in a `static` initialiser).
    pub const fn zeroed() -> Self {
        Network {
            memories: [[F::ZERO; D]; K],
            labels: [[F::ZERO; C]; K],
            memory_velocity: [[F::ZERO; D]; K],
            label_velocity: [[F::ZERO; C]; K],
        }
    }

    /// The state as slices, for the slice-based functions.
    pub fn state(&mut self) -> State<'_, F> {
        State {
            memories: self.memories.as_flattened_mut(),
            labels: self.labels.as_flattened_mut(),
            memory_velocity: self.memory_velocity.as_flattened_mut(),
            label_velocity: self.label_velocity.as_flattened_mut(),
        }
    }
}

/// Up to P training samples of D pixels with C targets, and the work buffers of a step.
#[derive(Clone, Debug)]
pub struct Trainer<F, const P: usize, const K: usize, const D: usize, const C: usize> {
    samples: heapless::Vec<[F; D], P>,
    targets: heapless::Vec<[F; C], P>,
    r: [[F; K]; P],
    a: [[F; K]; P],
    o: [[F; C]; P],
    qm: [[F; C]; P],
    ql: [[F; C]; P],
    gm: [[F; D]; K],
    gl: [[F; C]; K],
}

impl<F: Real, const P: usize, const K: usize, const D: usize, const C: usize> Default
    for Trainer<F, P, K, D, C>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real, const P: usize, const K: usize, const D: usize, const C: usize>
    Trainer<F, P, K, D, C>
{
    /// An empty trainer (usable in a `static` initialiser).
    pub const fn new() -> Self {
        Trainer {
            samples: heapless::Vec::new(),
            targets: heapless::Vec::new(),
            r: [[F::ZERO; K]; P],
            a: [[F::ZERO; K]; P],
            o: [[F::ZERO; C]; P],
            qm: [[F::ZERO; C]; P],
            ql: [[F::ZERO; C]; P],
            gm: [[F::ZERO; D]; K],
            gl: [[F::ZERO; C]; K],
        }
    }

    /// Adds a sample with the ±1 one-hot target of `class`.
    ///
    /// Returns the sample back if the trainer is full or `class >= C`.
    pub fn push(&mut self, sample: [F; D], class: usize) -> Result<(), [F; D]> {
        if class >= C || self.samples.is_full() {
            return Err(sample);
        }
        let mut target = [-F::ONE; C];
        target[class] = F::ONE;
        self.samples.push(sample)?;
        // Cannot fail: both vectors have the same capacity and length.
        let _ = self.targets.push(target);
        Ok(())
    }

    /// Number of samples held.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether no sample is held.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The samples held.
    pub fn samples(&self) -> &[[F; D]] {
        &self.samples
    }

    /// One full-batch step over the samples held (an epoch of the paper's main protocol).
    pub fn step<Kn: Kernel<F>>(
        &mut self,
        kernel: &Kn,
        params: &Params<F>,
        net: &mut Network<F, K, D, C>,
        noise: Option<Noise<'_, F>>,
    ) -> Result<StepReport, ShapeError> {
        let (x, y, mut scratch) = self.split()?;
        train_step(kernel, params, x, y, &mut net.state(), &mut scratch, noise)
    }

    /// Outputs (one row of C per sample) of `net` on the samples held.
    pub fn outputs<Kn: Kernel<F>>(
        &mut self,
        kernel: &Kn,
        params: &Params<F>,
        net: &Network<F, K, D, C>,
    ) -> Result<&[[F; C]], ShapeError> {
        let n = self.samples.len();
        let (x, _, mut scratch) = self.split()?;
        forward(
            kernel,
            params,
            x,
            net.memories.as_flattened(),
            net.labels.as_flattened(),
            &mut scratch,
        )?;
        Ok(&self.o[..n])
    }

    /// The samples and targets held, and work buffers sized for them.
    #[allow(clippy::type_complexity)]
    fn split(&mut self) -> Result<(&[F], &[F], Scratch<'_, F>), ShapeError> {
        let dims = Dims::new(self.samples.len(), K, D, C);
        let scratch = Scratch::from_parts(
            dims,
            self.r.as_flattened_mut(),
            self.a.as_flattened_mut(),
            self.o.as_flattened_mut(),
            self.qm.as_flattened_mut(),
            self.ql.as_flattened_mut(),
            self.gm.as_flattened_mut(),
            self.gl.as_flattened_mut(),
        )?;
        Ok((
            self.samples.as_flattened(),
            self.targets.as_flattened(),
            scratch,
        ))
    }
}
