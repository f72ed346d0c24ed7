//! `ghn dynamics`: the learning dynamics of a saved trajectory (PROTOCOLS.md §5) —
//! training samples recognised per class over epochs, the splits of memories that move
//! together (the learning tree, with the saddle state before each split), the learning
//! order, transition matrices between class clusters and a 2-D PCA view of the memory
//! trajectories among the training samples.
//!
//! Grouping: at each saved frame, memories whose RMS pixel distance ‖M_a − M_b‖/√D is
//! below the threshold are linked, and groups are the connected components (single
//! linkage). A group of one frame that is spread over several groups at the next frame has
//! split there. The threshold mostly sets when a split is seen: groups that separate
//! exponentially give the same tree at thresholds a factor 10 apart (tested); in real
//! runs a memory moves at most η per pixel and step, so split epochs move with the
//! threshold and so does the fine structure. The class tree ([`crate::classtree`]) is
//! built at the threshold and at the ends of a window around it (a factor 10 by default)
//! and their consensus says which clades hold over the whole window (README, RESULTS).

use crate::analyze::{pseudo_inverse, PseudoInverse};
use crate::classtree::{class_tree, consensus, identities, Consensus};
use crate::cli::training_data;
use crate::data::Dataset;
use crate::figure::{self, Cell, Mark, Panel, Series, TAB10};
use crate::npz::{self, write_atomic, NpzOut};
use crate::train::{evaluate, run_info};
use anyhow::{bail, Context, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `ghn dynamics` options.
#[derive(Args, Debug, Clone)]
pub struct DynamicsArgs {
    /// A saved trajectory: DIR/trajectory.npz (M F×K×D, L F×K×C, epochs).
    #[arg(long, value_name = "FILE")]
    pub trajectory: PathBuf,
    /// The run's run.json [default: next to the trajectory].
    #[arg(long, value_name = "FILE")]
    pub run: Option<PathBuf>,
    /// Grouping threshold: memories closer than this RMS pixel distance are together.
    #[arg(long, default_value_t = 0.05)]
    pub group_threshold: f64,
    /// The class tree is also built at threshold/√W and threshold·√W, and the clades found
    /// at all three are reported as the consensus (1: the threshold alone).
    #[arg(long, default_value_t = 10.0, value_name = "W")]
    pub threshold_window: f64,
    /// A class counts as learned from the first frame with more than this many of its
    /// training samples recognised (the reference: 4 of 20).
    #[arg(long, default_value_t = 4)]
    pub learned_above: usize,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// One node of the learning tree: a group of memories between its birth and its split.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Node {
    /// Index in the node list.
    pub id: usize,
    /// The node it split from.
    pub parent: Option<usize>,
    /// Its memories (ascending).
    pub members: Vec<usize>,
    /// First epoch at which it exists as its own group.
    pub start_epoch: i64,
    /// Epoch at which it was seen split (None: still together at the last frame).
    pub end_epoch: Option<i64>,
    /// Children after the split.
    pub children: Vec<usize>,
    /// Final identities (argmax L at the last frame) of its members: count per class.
    pub classes: Vec<usize>,
}

/// A split: a group seen together at one frame and spread over several groups at the next.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Split {
    /// First saved epoch at which the group is no longer one.
    pub epoch: i64,
    /// Last saved epoch at which it was.
    pub last_together_epoch: i64,
    /// The node that split.
    pub parent: usize,
    /// Its children.
    pub children: Vec<usize>,
    /// Members before.
    pub before: Vec<usize>,
    /// Members of each child.
    pub after: Vec<Vec<usize>>,
    /// Final identities of each child's members: count per class.
    pub classes: Vec<Vec<usize>>,
    /// ᾱ per class of the group's mean memory at the last frame together (the saddle).
    pub saddle_alpha_bar: Vec<f64>,
}

/// The learning tree.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Tree {
    /// Grouping threshold used.
    pub threshold: f64,
    /// Nodes; roots first.
    pub nodes: Vec<Node>,
    /// Splits in the order seen.
    pub splits: Vec<Split>,
    /// Frames at which memories of different nodes were together again (not a tree edge).
    pub rejoin_frames: usize,
}

impl Tree {
    /// The tree's shape: each split as (members before, members of each child), in order
    /// of members — what must not depend on the threshold.
    pub fn shape(&self) -> Vec<(Vec<usize>, Vec<Vec<usize>>)> {
        let mut v: Vec<_> = self
            .splits
            .iter()
            .map(|s| (s.before.clone(), s.after.clone()))
            .collect();
        v.sort();
        v
    }
}

/// Connected components of memories closer than `thr` (RMS over `d` pixels): a group
/// label per memory, labels numbered by their smallest member.
pub fn groups(m: &[f64], k: usize, d: usize, thr: f64) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..k).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let lim = thr * thr * d as f64;
    for a in 0..k {
        for b in a + 1..k {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra == rb {
                continue;
            }
            let (x, y) = (&m[a * d..(a + 1) * d], &m[b * d..(b + 1) * d]);
            let mut s = 0.0;
            for (p, q) in x.iter().zip(y) {
                s += (p - q) * (p - q);
                if s >= lim {
                    break;
                }
            }
            if s < lim {
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    (0..k).map(|i| find(&mut parent, i)).collect()
}

/// Builds the learning tree from F frames of K memories (`m`: F×K×D), their final labels
/// (`last_l`: K×C) and, for the saddles, the pseudo-inverse and the sample labels.
#[allow(clippy::too_many_arguments)]
pub fn split_tree(
    m: &[f64],
    epochs: &[i64],
    k: usize,
    d: usize,
    last_l: &[f64],
    c: usize,
    thr: f64,
    saddle: Option<(&PseudoInverse, &[u8])>,
) -> Tree {
    let f = epochs.len();
    let identity = identities(last_l, k, c);
    let classes_of = |members: &[usize]| {
        let mut v = vec![0usize; c];
        for &mu in members {
            v[identity[mu]] += 1;
        }
        v
    };
    let frame = |t: usize| &m[t * k * d..(t + 1) * k * d];
    let mut nodes: Vec<Node> = Vec::new();
    let mut splits = Vec::new();
    let mut rejoin_frames = 0;
    let g0 = groups(frame(0), k, d, thr);
    let mut roots: Vec<usize> = g0.clone();
    roots.sort_unstable();
    roots.dedup();
    let mut active: Vec<usize> = Vec::new();
    for r in roots {
        let members: Vec<usize> = (0..k).filter(|&i| g0[i] == r).collect();
        active.push(nodes.len());
        nodes.push(Node {
            id: nodes.len(),
            parent: None,
            classes: classes_of(&members),
            members,
            start_epoch: epochs[0],
            end_epoch: None,
            children: vec![],
        });
    }
    for t in 1..f {
        let g = groups(frame(t), k, d, thr);
        let mut next = Vec::new();
        // Groups at t holding members of several active nodes: memories met again.
        let mut owner = vec![usize::MAX; k];
        let mut met = false;
        for &id in &active {
            for &mu in &nodes[id].members {
                if owner[g[mu]] != usize::MAX && owner[g[mu]] != id {
                    met = true;
                }
                owner[g[mu]] = id;
            }
        }
        if met {
            rejoin_frames += 1;
        }
        for id in active {
            let members = nodes[id].members.clone();
            let mut labels: Vec<usize> = members.iter().map(|&mu| g[mu]).collect();
            labels.sort_unstable();
            labels.dedup();
            if labels.len() == 1 {
                next.push(id);
                continue;
            }
            let after: Vec<Vec<usize>> = labels
                .iter()
                .map(|&lab| members.iter().copied().filter(|&mu| g[mu] == lab).collect())
                .collect();
            let mut children = Vec::new();
            for part in &after {
                let cid = nodes.len();
                children.push(cid);
                next.push(cid);
                nodes.push(Node {
                    id: cid,
                    parent: Some(id),
                    classes: classes_of(part),
                    members: part.clone(),
                    start_epoch: epochs[t],
                    end_epoch: None,
                    children: vec![],
                });
            }
            nodes[id].end_epoch = Some(epochs[t]);
            nodes[id].children = children.clone();
            let saddle_alpha_bar = match saddle {
                Some((pinv, labels)) => {
                    let mean = mean_memory(frame(t - 1), &members, d);
                    alpha_bar(&mean, pinv, labels, c)
                }
                None => vec![],
            };
            splits.push(Split {
                epoch: epochs[t],
                last_together_epoch: epochs[t - 1],
                parent: id,
                children,
                before: members,
                classes: after.iter().map(|p| classes_of(p)).collect(),
                after,
                saddle_alpha_bar,
            });
        }
        active = next;
    }
    Tree {
        threshold: thr,
        nodes,
        splits,
        rejoin_frames,
    }
}

/// The mean of some memories of one frame.
pub fn mean_memory(frame: &[f64], members: &[usize], d: usize) -> Vec<f64> {
    let mut v = vec![0.0; d];
    for &mu in members {
        for (a, b) in v.iter_mut().zip(&frame[mu * d..(mu + 1) * d]) {
            *a += b;
        }
    }
    v.iter().map(|x| x / members.len() as f64).collect()
}

/// ᾱ per class (Eq. 6) of one memory.
pub fn alpha_bar(mem: &[f64], pinv: &PseudoInverse, labels: &[u8], c: usize) -> Vec<f64> {
    let mv = ndarray::ArrayView1::from(mem);
    let a = mv.dot(&pinv.matrix);
    let mut v = vec![0.0; c];
    for (i, &lab) in labels.iter().enumerate() {
        v[lab as usize] += a[i];
    }
    v
}

/// The learning order from recognised counts per frame (`counts[t][d]`): the epoch at
/// which each class first goes from ≤ `above` to > `above` recognised samples (the first
/// frame if it is above at every frame), `None` if never; the classes sorted by that
/// epoch, the never-learned last (the reference's argmax ranks them first — an artefact).
pub fn learning_order(
    counts: &[Vec<usize>],
    epochs: &[i64],
    above: usize,
) -> Vec<(usize, Option<i64>)> {
    let c = counts.first().map_or(0, |r| r.len());
    let mut v: Vec<(usize, Option<i64>)> = (0..c)
        .map(|d| {
            let b: Vec<bool> = counts.iter().map(|r| r[d] > above).collect();
            // The first rise, as the reference's argmax of the forward difference; a
            // class recognised at the start only because every output ties (the
            // initial state) has dropped by the time it is learned, so its rise counts.
            let cross = (1..b.len())
                .find(|&t| b[t] && !b[t - 1])
                .or_else(|| b.iter().all(|&x| x).then_some(0));
            (d, cross.map(|t| epochs[t]))
        })
        .collect();
    v.sort_by_key(|&(d, e)| (e.is_none(), e.unwrap_or(0), d));
    v
}

/// The class of the nearest training sample (Euclidean, pixel space) of each memory.
pub fn nearest_class(frame: &[f64], k: usize, data: &Dataset) -> Vec<usize> {
    let d = data.d;
    (0..k)
        .map(|mu| {
            let m = &frame[mu * d..(mu + 1) * d];
            let mut best = (f64::INFINITY, 0usize);
            for p in 0..data.len() {
                let x = &data.x[p * d..(p + 1) * d];
                let s: f64 = m.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum();
                if s < best.0 {
                    best = (s, data.labels[p] as usize);
                }
            }
            best.1
        })
        .collect()
}

/// Transition matrices between clusters over consecutive frames: F[a][b] −= 1 and
/// F[b][a] += 1 for a move a → b (so F[i][j] > 0 is a net flow j → i), counted once per
/// memory, and once per distinct pair per frame as the reference's fancy indexing does.
pub fn transitions(clusters: &[Vec<usize>], c: usize) -> (Vec<Vec<i64>>, Vec<Vec<i64>>) {
    let mut per = vec![vec![0i64; c]; c];
    let mut uniq = vec![vec![0i64; c]; c];
    for w in clusters.windows(2) {
        let mut seen = std::collections::BTreeSet::new();
        for (&a, &b) in w[0].iter().zip(&w[1]) {
            if a != b {
                per[a][b] -= 1;
                per[b][a] += 1;
                seen.insert((a, b));
            }
        }
        for (a, b) in seen {
            uniq[a][b] -= 1;
            uniq[b][a] += 1;
        }
    }
    (per, uniq)
}

/// The top two principal axes of the samples (rows of `x`, P×D) and their mean.
pub fn pca2(x: &[f64], p: usize, d: usize) -> Result<(Vec<f64>, [Vec<f64>; 2])> {
    let mut mean = vec![0.0; d];
    for r in 0..p {
        for (m, v) in mean.iter_mut().zip(&x[r * d..(r + 1) * d]) {
            *m += v / p as f64;
        }
    }
    let centred = nalgebra::DMatrix::from_fn(p, d, |i, j| x[i * d + j] - mean[j]);
    let svd = centred.svd(false, true);
    let vt = svd.v_t.context("SVD without right singular vectors")?;
    // nalgebra does not sort singular values: take the two largest.
    let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
    order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
    let axis = |i: usize| -> Vec<f64> {
        let row: Vec<f64> = (0..d).map(|j| vt[(order[i], j)]).collect();
        // A sign convention, so the picture does not flip between runs: the largest
        // component is positive.
        let big = row
            .iter()
            .copied()
            .fold(0.0f64, |a, v| if v.abs() > a.abs() { v } else { a });
        if big < 0.0 {
            row.iter().map(|v| -v).collect()
        } else {
            row
        }
    };
    Ok((mean, [axis(0), axis(1)]))
}

fn project(v: &[f64], mean: &[f64], axes: &[Vec<f64>; 2]) -> (f64, f64) {
    let dot = |a: &[f64]| -> f64 {
        v.iter()
            .zip(mean)
            .zip(a)
            .map(|((x, m), w)| (x - m) * w)
            .sum()
    };
    (dot(&axes[0]), dot(&axes[1]))
}

/// Everything `ghn dynamics` computes for one trajectory.
pub struct Dynamics {
    /// Saved epochs.
    pub epochs: Vec<i64>,
    /// Recognised training samples per class, per frame.
    pub recognised: Vec<Vec<usize>>,
    /// The learning tree at the chosen threshold.
    pub tree: Tree,
    /// The class tree at the threshold and the ends of its window, and their consensus.
    pub class_tree: Consensus,
    /// Learning order: (class, epoch learned).
    pub order: Vec<(usize, Option<i64>)>,
    /// Nearest-sample class of each memory, per frame.
    pub clusters: Vec<Vec<usize>>,
    /// Per-memory and unique-pair transition matrices.
    pub transitions: (Vec<Vec<i64>>, Vec<Vec<i64>>),
    /// Memories per frame (F×K×D) and final labels (K×C).
    pub m: Vec<f64>,
    /// Labels of the last frame.
    pub last_l: Vec<f64>,
    /// K.
    pub k: usize,
}

/// Loads a trajectory and its run, and computes the dynamics.
pub fn compute(a: &DynamicsArgs) -> Result<(Dynamics, Dataset, PseudoInverse)> {
    if !(a.group_threshold.is_finite() && a.group_threshold > 0.0) {
        bail!(
            "--group-threshold must be finite and > 0, got {}",
            a.group_threshold
        );
    }
    if !(a.threshold_window.is_finite() && a.threshold_window >= 1.0) {
        bail!(
            "--threshold-window must be finite and ≥ 1, got {}",
            a.threshold_window
        );
    }
    let name = a.trajectory.display().to_string();
    let (run_path, info) = run_info(&a.trajectory, a.run.as_deref())?;
    let data = training_data(&info.config)
        .with_context(|| format!("{}: loading the run's training data", run_path.display()))?;
    if data.sha256() != info.data_sha256 {
        bail!(
            "{}: the training data loaded now differs from the run's",
            run_path.display()
        );
    }
    let (d, c) = (data.d, data.c);
    let mut z = npz::open(&a.trajectory)?;
    let m = npz::read_f64(&mut z, "M", &name)?;
    let l = npz::read_f64(&mut z, "L", &name)?;
    if m.ndim() != 3
        || l.ndim() != 3
        || m.shape()[2] != d
        || l.shape()[2] != c
        || m.shape()[..2] != l.shape()[..2]
    {
        bail!(
            "{name}: M {:?} and L {:?} are not a trajectory of memories of {d} pixels and {c} classes (F×K×D, F×K×C)",
            m.shape(),
            l.shape()
        );
    }
    let (f, k) = (m.shape()[0], m.shape()[1]);
    if f < 2 {
        bail!("{name}: {f} frame(s); the dynamics need at least two");
    }
    if let Some(bad) = m.iter().chain(l.iter()).find(|v| !v.is_finite()) {
        bail!("{name}: M or L holds a non-finite value ({bad})");
    }
    let epochs: ndarray::Array1<i64> = z
        .by_name("epochs")
        .with_context(|| format!("{name}: missing int64 array `epochs`"))?;
    if epochs.len() != f {
        bail!("{name}: {} epochs for {f} frames", epochs.len());
    }
    let epochs = epochs.to_vec();
    let params = info.params(d, &run_path)?;
    let ms = m.as_slice().context("M layout")?.to_vec();
    let ls = l.as_slice().context("L layout")?;
    let recognised: Vec<Vec<usize>> = (0..f)
        .map(|t| {
            evaluate(
                &params,
                &data,
                &data.x,
                &data.t,
                &ms[t * k * d..(t + 1) * k * d],
                &ls[t * k * c..(t + 1) * k * c],
                k,
            )
            .correct
        })
        .collect();
    let pinv = pseudo_inverse(&data.x, data.len(), d, 1e-10)?;
    let last_l = ls[(f - 1) * k * c..].to_vec();
    let tree = split_tree(
        &ms,
        &epochs,
        k,
        d,
        &last_l,
        c,
        a.group_threshold,
        Some((&pinv, &data.labels)),
    );
    let identity = identities(&last_l, k, c);
    let w = a.threshold_window.sqrt();
    let mut class_trees = vec![class_tree(&tree, &identity, c)];
    if w > 1.0 {
        for thr in [a.group_threshold / w, a.group_threshold * w] {
            let t = split_tree(&ms, &epochs, k, d, &last_l, c, thr, None);
            class_trees.push(class_tree(&t, &identity, c));
        }
    }
    let class_tree = consensus(class_trees);
    let order = learning_order(&recognised, &epochs, a.learned_above);
    let clusters: Vec<Vec<usize>> = (0..f)
        .map(|t| nearest_class(&ms[t * k * d..(t + 1) * k * d], k, &data))
        .collect();
    let transitions = transitions(&clusters, c);
    Ok((
        Dynamics {
            epochs,
            recognised,
            tree,
            class_tree,
            order,
            clusters,
            transitions,
            m: ms,
            last_l,
            k,
        },
        data,
        pinv,
    ))
}

/// Writes every output of `ghn dynamics` into `out`.
pub fn write(out: &Path, dy: &Dynamics, data: &Dataset, note: Option<&str>) -> Result<()> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("--out {}: cannot create directory", out.display()))?;
    let (c, d, k) = (data.c, data.d, dy.k);
    // Recognised per class over epochs: CSV and the stack plot of Fig 3d/h.
    let mut csv = String::from("epoch");
    for j in 0..c {
        let _ = write!(csv, ",recognised_{j}");
    }
    csv.push('\n');
    let mut cells = Vec::new();
    for (t, row) in dy.recognised.iter().enumerate() {
        let _ = write!(csv, "{}", dy.epochs[t]);
        for v in row {
            let _ = write!(csv, ",{v}");
        }
        csv.push('\n');
        let x0 = dy.epochs[t] as f64;
        let x1 = dy.epochs.get(t + 1).map_or(x0 + 1.0, |&e| e as f64);
        let mut y = 0.0;
        for (j, &v) in row.iter().enumerate() {
            let h = v as f64 / data.len() as f64;
            if h > 0.0 {
                cells.push(Cell {
                    x: (x0, x1),
                    y: (y, y + h),
                    color: TAB10[j % 10],
                });
            }
            y += h;
        }
    }
    write_atomic(&out.join("recognised.csv"), csv.as_bytes())?;
    let legend: Vec<Series> = (0..c)
        .map(|j| Series::new(&format!("{j}"), vec![], Mark::Points(4), TAB10[j % 10]))
        .collect();
    let stack = Panel {
        title: "training samples recognised, per class".into(),
        x_label: "epoch".into(),
        y_label: "fraction of the training set".into(),
        y_range: Some((0.0, 1.0)),
        x_range: Some((
            dy.epochs[0] as f64,
            *dy.epochs.last().expect("frames") as f64,
        )),
        series: legend,
        cells,
    };
    figure::write(&out.join("recognised"), &[stack], 1, (760, 420), note)?;

    // The tree: JSON, saddle images, and a drawing with epochs along x.
    write_atomic(
        &out.join("tree.json"),
        (serde_json::to_string_pretty(&dy.tree)? + "\n").as_bytes(),
    )?;
    let mut saddles = Vec::new();
    for s in &dy.tree.splits {
        let t = dy
            .epochs
            .iter()
            .position(|&e| e == s.last_together_epoch)
            .expect("saved epoch");
        saddles.extend(mean_memory(&dy.m[t * k * d..(t + 1) * k * d], &s.before, d));
    }
    let mut z = NpzOut::new();
    z.add_slice("saddles", &saddles, &[dy.tree.splits.len(), d])?;
    z.add_slice(
        "epochs",
        &dy.tree
            .splits
            .iter()
            .map(|s| s.last_together_epoch)
            .collect::<Vec<_>>(),
        &[dy.tree.splits.len()],
    )?;
    z.write(&out.join("saddles.npz"))?;
    if !saddles.is_empty() && crate::plot::square_side(d).is_some() {
        crate::plot::memories_png(&out.join("saddles.png"), &saddles, dy.tree.splits.len(), d)?;
    }
    figure::write(
        &out.join("tree"),
        &[tree_panel(&dy.tree, &dy.epochs, c)],
        1,
        (900, 560),
        note,
    )?;

    // The class tree: its consensus over the threshold window and each threshold's tree.
    write_atomic(
        &out.join("class_tree.json"),
        (serde_json::to_string_pretty(&dy.class_tree)? + "\n").as_bytes(),
    )?;
    figure::write(
        &out.join("class_tree"),
        &class_tree_panels(&dy.class_tree, &dy.epochs, c),
        2,
        (640, 460),
        note,
    )?;

    // Learning order.
    let mut o = String::from("rank,class,learned_epoch\n");
    for (r, (cl, e)) in dy.order.iter().enumerate() {
        let _ = writeln!(
            o,
            "{},{cl},{}",
            r + 1,
            e.map_or("never".to_string(), |e| e.to_string())
        );
    }
    write_atomic(&out.join("order.csv"), o.as_bytes())?;

    // Transition matrices.
    for (name, mat) in [
        ("transitions_per_memory.csv", &dy.transitions.0),
        ("transitions_unique.csv", &dy.transitions.1),
    ] {
        let mut s = String::from("to\\from");
        for j in 0..c {
            let _ = write!(s, ",{j}");
        }
        s.push('\n');
        for (i, row) in mat.iter().enumerate() {
            let _ = write!(s, "{i}");
            for v in row {
                let _ = write!(s, ",{v}");
            }
            s.push('\n');
        }
        write_atomic(&out.join(name), s.as_bytes())?;
    }
    let mut cl = String::from("epoch");
    for mu in 0..k {
        let _ = write!(cl, ",m{mu}");
    }
    cl.push('\n');
    for (t, row) in dy.clusters.iter().enumerate() {
        let _ = write!(cl, "{}", dy.epochs[t]);
        for v in row {
            let _ = write!(cl, ",{v}");
        }
        cl.push('\n');
    }
    write_atomic(&out.join("clusters.csv"), cl.as_bytes())?;

    // PCA view: samples by class, memory paths, final memories by identity.
    let (mean, axes) = pca2(&data.x, data.len(), d)?;
    let mut pcs = String::from("epoch,memory,pc1,pc2\n");
    let mut series = Vec::new();
    for j in 0..c {
        let pts: Vec<(f64, f64)> = (0..data.len())
            .filter(|&p| data.labels[p] as usize == j)
            .map(|p| project(&data.x[p * d..(p + 1) * d], &mean, &axes))
            .collect();
        series.push(Series::new(
            &format!("{j}"),
            pts,
            Mark::Points(2),
            TAB10[j % 10],
        ));
    }
    let f = dy.epochs.len();
    for mu in 0..k {
        let path: Vec<(f64, f64)> = (0..f)
            .map(|t| {
                let p = project(&dy.m[(t * k + mu) * d..(t * k + mu + 1) * d], &mean, &axes);
                let _ = writeln!(pcs, "{},{mu},{},{}", dy.epochs[t], p.0, p.1);
                p
            })
            .collect();
        series.push(Series::new("", path, Mark::Line, (120, 120, 120)));
    }
    for mu in 0..k {
        let id = (0..c).fold(0, |b, j| {
            if dy.last_l[mu * c + j] > dy.last_l[mu * c + b] {
                j
            } else {
                b
            }
        });
        let p = project(
            &dy.m[((f - 1) * k + mu) * d..((f - 1) * k + mu + 1) * d],
            &mean,
            &axes,
        );
        series.push(Series::new("", vec![p], Mark::Points(5), TAB10[id % 10]));
    }
    write_atomic(&out.join("pca.csv"), pcs.as_bytes())?;
    let panel = Panel {
        title: "memory paths (grey) among the samples, PCA of the samples".into(),
        x_label: "PC 1".into(),
        y_label: "PC 2".into(),
        series,
        ..Default::default()
    };
    figure::write(&out.join("pca"), &[panel], 1, (760, 620), note)?;
    Ok(())
}

/// Vertical positions for drawing a forest of `n` nodes: leaves at 1, 2, 3, … in
/// depth-first order from `roots`, each inner node at the mean of its children; also the
/// number of leaves.
fn tree_layout<'a>(
    n: usize,
    roots: impl IntoIterator<Item = usize>,
    children: impl Fn(usize) -> &'a Vec<usize>,
) -> (Vec<f64>, f64) {
    fn place<'a>(
        i: usize,
        children: &impl Fn(usize) -> &'a Vec<usize>,
        y: &mut [f64],
        next: &mut f64,
    ) -> f64 {
        let ch = children(i);
        let v = if ch.is_empty() {
            *next += 1.0;
            *next
        } else {
            let ys: Vec<f64> = ch.iter().map(|&x| place(x, children, y, next)).collect();
            ys.iter().sum::<f64>() / ys.len() as f64
        };
        y[i] = v;
        v
    }
    let mut y = vec![0.0; n];
    let mut next = 0.0;
    for r in roots {
        place(r, &children, &mut y, &mut next);
    }
    (y, next)
}

/// The tree drawn with epochs along x: each node a horizontal segment from its birth to
/// its split (or the last epoch), leaves spread along y, a vertical segment at each split.
fn tree_panel(tree: &Tree, epochs: &[i64], c: usize) -> Panel {
    let last = *epochs.last().expect("frames") as f64;
    let (y, next_leaf) = tree_layout(
        tree.nodes.len(),
        tree.nodes
            .iter()
            .filter(|n| n.parent.is_none())
            .map(|n| n.id),
        |id| &tree.nodes[id].children,
    );
    let mut by_color: Vec<Vec<(f64, f64)>> = vec![Vec::new(); c + 1];
    for n in &tree.nodes {
        let x1 = n.end_epoch.map_or(last, |e| e as f64);
        // A node with one class is drawn in its colour, a mixed one in black (grey is 7).
        let present: Vec<usize> = (0..c).filter(|&j| n.classes[j] > 0).collect();
        let col = if present.len() == 1 { present[0] } else { c };
        by_color[col].push((n.start_epoch as f64, y[n.id]));
        by_color[col].push((x1, y[n.id]));
        if let Some(e) = n.end_epoch {
            for &ch in &n.children {
                by_color[c].push((e as f64, y[n.id]));
                by_color[c].push((e as f64, y[ch]));
            }
        }
    }
    let mut series: Vec<Series> = by_color
        .into_iter()
        .enumerate()
        .filter(|(_, v)| !v.is_empty())
        .map(|(j, v)| {
            let (name, col) = if j < c {
                (format!("{j}"), TAB10[j % 10])
            } else {
                ("mixed".to_string(), (0, 0, 0))
            };
            Series::new(&name, v, Mark::Segments, col)
        })
        .collect();
    series.sort_by(|a, b| a.name.cmp(&b.name));
    Panel {
        title: format!("learning tree (groups closer than {} RMS)", tree.threshold),
        x_label: "epoch".into(),
        y_label: "memory groups".into(),
        x_range: Some((epochs[0] as f64, last)),
        y_range: Some((0.0, next_leaf + 1.0)),
        series,
        cells: vec![],
    }
}

/// One clade to draw: classes, children, split epoch, and the window's split epochs.
struct DrawClade {
    classes: Vec<usize>,
    children: Vec<usize>,
    split: Option<i64>,
    window: Option<(Option<i64>, Option<i64>)>,
}

/// The class trees: the one at the middle threshold, and the consensus over the window.
fn class_tree_panels(cons: &Consensus, epochs: &[i64], c: usize) -> [Panel; 2] {
    let mid = cons.thresholds.len() / 2;
    let tree = &cons.trees[mid];
    let at_mid: Vec<DrawClade> = tree
        .clades
        .iter()
        .map(|cl| DrawClade {
            classes: cl.classes.clone(),
            children: cl.children.clone(),
            split: cl.split_epoch,
            window: None,
        })
        .collect();
    let agreed: Vec<DrawClade> = cons
        .clades
        .iter()
        .map(|cl| DrawClade {
            classes: cl.classes.clone(),
            children: cl.children.clone(),
            split: cl.split_epochs[mid],
            window: Some((
                cl.split_epochs[0],
                *cl.split_epochs.last().expect("a threshold"),
            )),
        })
        .collect();
    let thr: Vec<String> = cons.thresholds.iter().map(|t| format!("{t:.3}")).collect();
    [
        class_tree_panel(
            &at_mid,
            format!("class tree at threshold {}", thr[mid]),
            epochs,
            c,
        ),
        class_tree_panel(
            &agreed,
            format!("clades found at every threshold ({})", thr.join(", ")),
            epochs,
            c,
        ),
    ]
}

/// A class tree with epochs along x: each clade a horizontal segment from its parent's
/// split to its own, a vertical segment joining its children there, and (consensus) a
/// light bar over the epochs at which the window's thresholds see that split. The root
/// is the last clade.
fn class_tree_panel(clades: &[DrawClade], title: String, epochs: &[i64], c: usize) -> Panel {
    let first = epochs[0] as f64;
    let last = *epochs.last().expect("frames") as f64;
    let at = |e: Option<i64>| e.map_or(last, |e| e as f64);
    let n = clades.len();
    let (y, next) = tree_layout(n, [n - 1], |i| &clades[i].children);
    let mut start = vec![first; n];
    for cl in clades {
        for &ch in &cl.children {
            start[ch] = at(cl.split);
        }
    }
    let mut window = Vec::new();
    let mut joins = Vec::new();
    let mut by_class: Vec<Vec<(f64, f64)>> = vec![Vec::new(); c];
    for (i, cl) in clades.iter().enumerate() {
        if cl.children.is_empty() {
            by_class[cl.classes[0]].extend([(start[i], y[i]), (last, y[i])]);
            continue;
        }
        let end = at(cl.split);
        joins.extend([(start[i], y[i]), (end, y[i])]);
        if let Some((lo, hi)) = cl.window {
            window.extend([(at(lo), y[i] + 0.25), (at(hi), y[i] + 0.25)]);
        }
        for &ch in &cl.children {
            joins.extend([(end, y[i]), (end, y[ch])]);
        }
    }
    let mut series = vec![Series::new("", joins, Mark::Segments, (0, 0, 0))];
    if !window.is_empty() {
        series.push(Series::new(
            "split epochs over the threshold window",
            window,
            Mark::Segments,
            // Lighter than class 7's grey.
            (210, 210, 210),
        ));
    }
    for (j, v) in by_class.into_iter().enumerate() {
        if !v.is_empty() {
            series.push(Series::new(
                &format!("{j}"),
                v,
                Mark::Segments,
                TAB10[j % 10],
            ));
        }
    }
    Panel {
        title,
        x_label: "epoch".into(),
        y_label: "classes of final memories".into(),
        x_range: Some((first, last)),
        y_range: Some((0.0, next + 1.0)),
        series,
        cells: vec![],
    }
}

/// Runs `ghn dynamics`.
pub fn run(a: &DynamicsArgs) -> Result<i32> {
    let (dy, data, _) = compute(a)?;
    write(&a.out, &dy, &data, None)?;
    let order: Vec<String> = dy
        .order
        .iter()
        .map(|(cl, e)| match e {
            Some(_) => cl.to_string(),
            None => format!("({cl})"),
        })
        .collect();
    let (all, kept) = dy.class_tree.internal_clades;
    println!(
        "{} frames, {} splits; learning order {} (in parentheses: never learned)\n\
         class tree {} ({kept} of {all} clades at every threshold {}); wrote {}",
        dy.epochs.len(),
        dy.tree.splits.len(),
        order.join(" "),
        dy.class_tree.newick,
        dy.class_tree
            .thresholds
            .iter()
            .map(|t| format!("{t:.4}"))
            .collect::<Vec<_>>()
            .join(", "),
        a.out.display()
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// K = 4 memories of D = 16 pixels that start together, split into {0, 1} and {2, 3},
    /// and later {0, 1} into {0} and {1}; each separation grows exponentially from 10⁻⁶
    /// (a factor 10^1.5 per saved frame), as when memories leave a saddle.
    fn synthetic() -> (Vec<f64>, Vec<i64>) {
        let (k, d) = (4, 16);
        let epochs: Vec<i64> = (0..=12).map(|i| 10 * i).collect();
        let grow = |e: i64, start: i64| -> f64 {
            if e < start {
                1e-7
            } else {
                (1e-6 * 10f64.powf((e - start) as f64 / 10.0 * 1.5)).min(0.8)
            }
        };
        let mut m = Vec::new();
        for &e in &epochs {
            for mu in 0..k {
                let a = if mu < 2 { 1.0 } else { -1.0 } * grow(e, 0);
                let b = if mu == 0 {
                    1.0
                } else if mu == 1 {
                    -1.0
                } else {
                    0.0
                } * grow(e, 30);
                for p in 0..d {
                    let base = 0.3 * ((p as f64) * 0.7).sin();
                    let dir1 = if p % 2 == 0 { 1.0 } else { -1.0 };
                    let dir2 = if p < d / 2 { 1.0 } else { -1.0 };
                    m.push(base + a * dir1 + b * dir2);
                }
            }
        }
        (m, epochs)
    }

    #[test]
    fn splits_of_a_synthetic_trajectory_are_found_at_any_threshold_within_a_factor_10() {
        let (m, epochs) = synthetic();
        let mut l = vec![-1.0; 4 * 3];
        l[0] = 1.0; // memory 0 → class 0
        l[3 + 1] = 1.0; // memory 1 → class 1
        l[6 + 2] = 1.0; // 2, 3 → class 2
        l[9 + 2] = 1.0;
        let want = vec![
            (vec![0, 1], vec![vec![0], vec![1]]),
            (vec![0, 1, 2, 3], vec![vec![0, 1], vec![2, 3]]),
        ];
        let mut first = None;
        for thr in [0.005, 0.0158, 0.05] {
            let t = split_tree(&m, &epochs, 4, 16, &l, 3, thr, None);
            assert_eq!(t.shape(), want, "threshold {thr}");
            assert_eq!(t.rejoin_frames, 0);
            let e: Vec<i64> = t.splits.iter().map(|s| s.epoch).collect();
            // The splits are seen in order, the first one before the second.
            assert!(e[0] < e[1], "{e:?}");
            first.get_or_insert(e);
            let root = &t.nodes[0];
            assert_eq!(root.members, vec![0, 1, 2, 3]);
            assert_eq!(root.classes, vec![1, 1, 2]);
            assert_eq!(t.splits[1].classes, vec![vec![1, 0, 0], vec![0, 1, 0]]);
        }
        // A larger threshold sees a split later (or at the same frame), never earlier.
        let lo = split_tree(&m, &epochs, 4, 16, &l, 3, 0.005, None);
        let hi = split_tree(&m, &epochs, 4, 16, &l, 3, 0.05, None);
        for (a, b) in lo.splits.iter().zip(&hi.splits) {
            assert!(a.epoch <= b.epoch);
        }
        // The class tree is ((0, 1), 2) at every threshold: its consensus keeps both clades.
        let id = identities(&l, 4, 3);
        let trees: Vec<_> = [0.005, 0.0158, 0.05]
            .iter()
            .map(|&thr| class_tree(&split_tree(&m, &epochs, 4, 16, &l, 3, thr, None), &id, 3))
            .collect();
        let c = consensus(trees);
        assert_eq!(c.internal_clades, (2, 2));
        let root = c.clades.last().unwrap();
        assert_eq!(root.classes, vec![0, 1, 2]);
        assert_eq!(c.clades[root.children[0]].classes, vec![0, 1]);
        assert!(c.newick.starts_with("((0,1)"), "{}", c.newick);
    }

    #[test]
    fn learning_order_ranks_never_learned_classes_last() {
        let epochs = vec![0, 10, 20, 30];
        // Class 0 is "recognised" at the tied initial state, drops, and rises at 30.
        let counts = vec![
            vec![20, 0, 0, 0, 9],
            vec![0, 5, 0, 0, 9],
            vec![3, 9, 0, 6, 9],
            vec![7, 9, 2, 6, 9],
        ];
        let o = learning_order(&counts, &epochs, 4);
        assert_eq!(
            o,
            vec![
                (4, Some(0)),
                (1, Some(10)),
                (3, Some(20)),
                (0, Some(30)),
                (2, None)
            ]
        );
    }

    #[test]
    fn transitions_count_per_memory_and_unique_pairs() {
        // Two memories move 1 → 4 together, one moves 4 → 7, in one frame step.
        let clusters = vec![vec![1, 1, 4, 2], vec![4, 4, 7, 2]];
        let (per, uniq) = transitions(&clusters, 10);
        assert_eq!(per[4][1], 2);
        assert_eq!(per[1][4], -2);
        assert_eq!(uniq[4][1], 1);
        assert_eq!(uniq[7][4], 1);
        assert_eq!(per[2][2], 0);
        for (i, (p, u)) in per.iter().zip(&uniq).enumerate() {
            for j in 0..10 {
                assert_eq!(p[j], -per[j][i]);
                assert_eq!(u[j], -uniq[j][i]);
            }
        }
    }

    #[test]
    fn groups_are_single_linkage_components() {
        // 0–1 close, 1–2 close, 0–2 not: one group by chaining; 3 alone.
        let d = 1;
        let m = [0.0, 0.04, 0.08, 1.0];
        assert_eq!(groups(&m, 4, d, 0.05), vec![0, 0, 0, 3]);
        assert_eq!(groups(&m, 4, d, 0.03), vec![0, 1, 2, 3]);
    }
}
