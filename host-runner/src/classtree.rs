//! The class-level learning tree (the tree the paper draws in Figs 3e and 4): which classes
//! of final memories separate from which, and when, and which of its clades survive a
//! change of the grouping threshold.
//!
//! It is read off the memory-level tree ([`Tree`]): two memories separate at the first
//! saved frame at which they are no longer in one group. Classes are the memories' final
//! identities (argmax L at the last frame). Two sets of classes separate at the **median**
//! separation epoch of their memory pairs, and the tree is built by joining, again and
//! again, the two sets that separate last (median-linkage agglomerative clustering).
//! The median, not the first or last pair, because single memories stray: one memory
//! leaving its group early must not move a whole class.
//!
//! Separation epochs grow with the threshold (a larger threshold sees a split later); the
//! branching may change where two splits are close in time. [`consensus`] keeps the
//! clades found at every threshold of a window (default a factor 10: θ/√10, θ, θ·√10),
//! giving a tree that holds over the whole window, with a multifurcation wherever the
//! order of nearby splits depends on the threshold.

use crate::dynamics::Tree;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One clade of a class tree: a set of classes and the epoch at which it splits.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Clade {
    /// Its classes (ascending).
    pub classes: Vec<usize>,
    /// Memories whose final identity is one of them.
    pub memories: usize,
    /// Child clades (indices), ordered by their smallest class; empty for a leaf; more
    /// than two only for classes whose memories are still together at the last frame.
    pub children: Vec<usize>,
    /// Median separation epoch of memories of different children; None for a leaf, or
    /// when most such pairs are still together at the last frame.
    pub split_epoch: Option<i64>,
}

/// The class tree at one grouping threshold (binary but for sets never separated).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ClassTree {
    /// Grouping threshold of the memory-level tree it was read from.
    pub threshold: f64,
    /// Clades; leaves (one per class present) first, the root last.
    pub clades: Vec<Clade>,
    /// The tree in Newick form, internal nodes labelled with their split epoch.
    pub newick: String,
}

impl ClassTree {
    /// The internal clades' class sets (the root included).
    pub fn internal_sets(&self) -> BTreeSet<Vec<usize>> {
        self.clades
            .iter()
            .filter(|c| !c.children.is_empty())
            .map(|c| c.classes.clone())
            .collect()
    }
}

/// A clade of the consensus tree, with its split epoch at each threshold.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ConsensusClade {
    /// Its classes (ascending).
    pub classes: Vec<usize>,
    /// Memories whose final identity is one of them.
    pub memories: usize,
    /// Child clades (indices); more than two where the order of splits is unresolved.
    pub children: Vec<usize>,
    /// Its split epoch in each threshold's tree (same order as `thresholds`).
    pub split_epochs: Vec<Option<i64>>,
}

/// The clades common to the class trees of several thresholds.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Consensus {
    /// The thresholds, ascending.
    pub thresholds: Vec<f64>,
    /// Clades; the root last.
    pub clades: Vec<ConsensusClade>,
    /// The consensus in Newick form, internal nodes labelled with the split epochs at the
    /// lowest, middle and highest thresholds (`lo-mid-hi`).
    pub newick: String,
    /// Internal clades of a binary tree over these classes (classes − 1) and how many of
    /// them every threshold agrees on (the root always).
    pub internal_clades: (usize, usize),
    /// The tree at each threshold.
    pub trees: Vec<ClassTree>,
}

/// Each memory's final identity: argmax of its labels (the lowest class on a tie).
pub fn identities(last_l: &[f64], k: usize, c: usize) -> Vec<usize> {
    (0..k)
        .map(|mu| {
            (0..c).fold(0, |b, j| {
                if last_l[mu * c + j] > last_l[mu * c + b] {
                    j
                } else {
                    b
                }
            })
        })
        .collect()
}

/// Separation epoch of every memory pair (K×K, symmetric): the split epoch of their
/// deepest common node; `i64::MIN` if they start in different groups, `i64::MAX` if they
/// are together at the last frame.
pub fn separation_epochs(tree: &Tree, k: usize) -> Vec<i64> {
    // Each memory's chain of nodes from its root down; children always have larger ids.
    let mut chain: Vec<Vec<usize>> = vec![Vec::new(); k];
    for n in &tree.nodes {
        for &mu in &n.members {
            chain[mu].push(n.id);
        }
    }
    let mut s = vec![i64::MAX; k * k];
    for a in 0..k {
        for b in a + 1..k {
            let common = chain[a]
                .iter()
                .zip(&chain[b])
                .take_while(|(x, y)| x == y)
                .count();
            let v = if common == 0 {
                i64::MIN
            } else {
                tree.nodes[chain[a][common - 1]]
                    .end_epoch
                    .unwrap_or(i64::MAX)
            };
            s[a * k + b] = v;
            s[b * k + a] = v;
        }
    }
    s
}

/// The class tree of a memory-level tree, with `identity` the final class of each memory.
pub fn class_tree(tree: &Tree, identity: &[usize], c: usize) -> ClassTree {
    let k = identity.len();
    let sep = separation_epochs(tree, k);
    // Separation epochs of each class pair's memory pairs.
    let mut pair: Vec<Vec<i64>> = vec![Vec::new(); c * c];
    for a in 0..k {
        for b in a + 1..k {
            let (i, j) = (identity[a], identity[b]);
            if i != j {
                pair[i.min(j) * c + i.max(j)].push(sep[a * k + b]);
            }
        }
    }
    let count = |set: &[usize]| identity.iter().filter(|i| set.contains(i)).count();
    let mut clades: Vec<Clade> = (0..c)
        .filter(|&j| identity.contains(&j))
        .map(|j| Clade {
            classes: vec![j],
            memories: count(&[j]),
            children: vec![],
            split_epoch: None,
        })
        .collect();
    let mut open: Vec<usize> = (0..clades.len()).collect();
    while open.len() > 1 {
        // The two open clades that separate last (lower median of their pairs).
        let mut best: Option<(i64, usize, usize)> = None;
        for x in 0..open.len() {
            for y in x + 1..open.len() {
                let mut v: Vec<i64> = Vec::new();
                for &i in &clades[open[x]].classes {
                    for &j in &clades[open[y]].classes {
                        v.extend(&pair[i.min(j) * c + i.max(j)]);
                    }
                }
                v.sort_unstable();
                let med = v[(v.len() - 1) / 2];
                if best.is_none_or(|b| med > b.0) {
                    best = Some((med, x, y));
                }
            }
        }
        let (med, x, y) = best.expect("two open clades");
        let (a, b) = (open[x], open[y]);
        let mut classes = [clades[a].classes.clone(), clades[b].classes.clone()].concat();
        classes.sort_unstable();
        let split_epoch = (med != i64::MAX).then_some(med.max(first_epoch(tree)));
        // Sets still together at the end have no order among them: one node for them all.
        let mut children: Vec<usize> = [a, b]
            .iter()
            .flat_map(|&ch| {
                let x = &clades[ch];
                if split_epoch.is_none() && !x.children.is_empty() && x.split_epoch.is_none() {
                    x.children.clone()
                } else {
                    vec![ch]
                }
            })
            .collect();
        children.sort_by_key(|&ch| clades[ch].classes[0]);
        clades.push(Clade {
            memories: clades[a].memories + clades[b].memories,
            classes,
            children,
            split_epoch,
        });
        open.remove(y);
        open.remove(x);
        open.push(clades.len() - 1);
    }
    // Drop nodes spliced into a "never" node, keeping the order (the root last).
    let mut reachable = vec![false; clades.len()];
    let mut stack = vec![clades.len() - 1];
    while let Some(i) = stack.pop() {
        reachable[i] = true;
        stack.extend(&clades[i].children);
    }
    let mut new_id = vec![usize::MAX; clades.len()];
    let mut kept = Vec::new();
    for (i, cl) in clades.into_iter().enumerate() {
        if reachable[i] {
            new_id[i] = kept.len();
            kept.push(cl);
        }
    }
    for cl in &mut kept {
        for ch in &mut cl.children {
            *ch = new_id[*ch];
        }
    }
    let clades = kept;
    let root = clades.len() - 1;
    let newick = format!(
        "{};",
        newick(root, &|i| &clades[i].children, &|i| {
            if clades[i].children.is_empty() {
                clades[i].classes[0].to_string()
            } else {
                epoch_label(clades[i].split_epoch)
            }
        })
    );
    ClassTree {
        threshold: tree.threshold,
        clades,
        newick,
    }
}

/// The first saved epoch (memories apart from the start separate there).
fn first_epoch(tree: &Tree) -> i64 {
    tree.nodes.first().map_or(0, |n| n.start_epoch)
}

fn epoch_label(e: Option<i64>) -> String {
    e.map_or("never".to_string(), |e| e.to_string())
}

/// Newick text of the subtree at `id`.
fn newick<'a>(
    id: usize,
    children: &dyn Fn(usize) -> &'a Vec<usize>,
    label: &dyn Fn(usize) -> String,
) -> String {
    let ch = children(id);
    if ch.is_empty() {
        label(id)
    } else {
        let inner: Vec<String> = ch.iter().map(|&x| newick(x, children, label)).collect();
        format!("({}){}", inner.join(","), label(id))
    }
}

/// The clades present in every tree (all over the same classes), as one tree; each clade
/// keeps its split epoch at every threshold. `trees` must be non-empty.
pub fn consensus(mut trees: Vec<ClassTree>) -> Consensus {
    trees.sort_by(|a, b| a.threshold.total_cmp(&b.threshold));
    let first = &trees[0];
    let others: Vec<BTreeSet<Vec<usize>>> = trees[1..].iter().map(|t| t.internal_sets()).collect();
    let mut kept: Vec<Vec<usize>> = first
        .internal_sets()
        .into_iter()
        .filter(|s| others.iter().all(|o| o.contains(s)))
        .collect();
    let leaves: Vec<Vec<usize>> = first
        .clades
        .iter()
        .filter(|c| c.children.is_empty())
        .map(|c| c.classes.clone())
        .collect();
    let internal_clades = (leaves.len().saturating_sub(1), kept.len());
    // Leaves first, then internal clades from the smallest up: the root comes last.
    kept.sort_by_key(|s| (s.len(), s.clone()));
    let sets: Vec<Vec<usize>> = leaves.into_iter().chain(kept).collect();
    fn find<'a>(t: &'a ClassTree, s: &[usize]) -> &'a Clade {
        t.clades
            .iter()
            .find(|c| c.classes == s)
            .expect("a consensus clade is in every tree")
    }
    let mut clades: Vec<ConsensusClade> = sets
        .iter()
        .map(|s| ConsensusClade {
            classes: s.clone(),
            memories: find(first, s).memories,
            children: vec![],
            split_epochs: trees.iter().map(|t| find(t, s).split_epoch).collect(),
        })
        .collect();
    // Parent: the smallest kept clade strictly containing it (they nest, being clades of
    // one tree).
    for i in 0..sets.len() {
        let parent = (0..sets.len())
            .filter(|&j| {
                sets[j].len() > sets[i].len() && sets[i].iter().all(|x| sets[j].contains(x))
            })
            .min_by_key(|&j| sets[j].len());
        if let Some(p) = parent {
            clades[p].children.push(i);
        }
    }
    for i in 0..clades.len() {
        let mut ch = std::mem::take(&mut clades[i].children);
        ch.sort_by_key(|&x| clades[x].classes[0]);
        clades[i].children = ch;
    }
    let root = clades.len() - 1;
    let newick = format!(
        "{};",
        newick(root, &|i| &clades[i].children, &|i| {
            let c = &clades[i];
            if c.children.is_empty() {
                c.classes[0].to_string()
            } else {
                let e = &c.split_epochs;
                let mut picks = vec![e[0], e[e.len() / 2], e[e.len() - 1]];
                picks.dedup();
                picks
                    .into_iter()
                    .map(epoch_label)
                    .collect::<Vec<_>>()
                    .join("-")
            }
        })
    );
    Consensus {
        thresholds: trees.iter().map(|t| t.threshold).collect(),
        clades,
        newick,
        internal_clades,
        trees,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::{Node, Tree};

    /// A memory-level tree from (members, parent, end epoch) triples; ids in order.
    fn tree(thr: f64, nodes: &[(&[usize], Option<usize>, Option<i64>)]) -> Tree {
        let mut v: Vec<Node> = nodes
            .iter()
            .enumerate()
            .map(|(id, (m, p, e))| Node {
                id,
                parent: *p,
                members: m.to_vec(),
                start_epoch: 0,
                end_epoch: *e,
                children: vec![],
                classes: vec![],
            })
            .collect();
        for id in 0..v.len() {
            if let Some(p) = v[id].parent {
                v[p].children.push(id);
            }
        }
        Tree {
            threshold: thr,
            nodes: v,
            splits: vec![],
            rejoin_frames: 0,
        }
    }

    #[test]
    fn separation_epochs_are_the_deepest_common_split() {
        // {0,1,2,3} splits at 10 into {0,1} and {2,3}; {0,1} splits at 30.
        let t = tree(
            0.05,
            &[
                (&[0, 1, 2, 3], None, Some(10)),
                (&[0, 1], Some(0), Some(30)),
                (&[2, 3], Some(0), None),
                (&[0], Some(1), None),
                (&[1], Some(1), None),
            ],
        );
        let s = separation_epochs(&t, 4);
        assert_eq!(s[1], 30);
        assert_eq!(s[2], 10);
        assert_eq!(s[3], 10);
        assert_eq!(s[2 * 4 + 3], i64::MAX);
        assert_eq!(s[4 + 2], s[2 * 4 + 1]);
    }

    #[test]
    fn one_stray_memory_does_not_move_its_class() {
        // Classes: memories 0–3 are 1s, 4–7 are 7s, 8–11 are 4s. The 7s and 4s stay
        // together until 50; the 1s leave them at 20 — except memory 4 (a 7), which
        // strays from the 7s with the 1s and leaves those at 40.
        let t = tree(
            0.05,
            &[
                (&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], None, Some(20)),
                (&[0, 1, 2, 3, 4], Some(0), Some(40)),
                (&[5, 6, 7, 8, 9, 10, 11], Some(0), Some(50)),
                (&[0, 1, 2, 3], Some(1), None),
                (&[4], Some(1), None),
                (&[5, 6, 7], Some(2), None),
                (&[8, 9, 10, 11], Some(2), None),
            ],
        );
        let id = [1, 1, 1, 1, 7, 7, 7, 7, 4, 4, 4, 4];
        let ct = class_tree(&t, &id, 10);
        assert_eq!(ct.newick, "(1,(4,7)50)20;");
        let root = ct.clades.last().unwrap();
        assert_eq!(root.classes, vec![1, 4, 7]);
        assert_eq!(root.memories, 12);
    }

    #[test]
    fn classes_never_separated_share_one_node() {
        // {0..5} never splits: classes 0, 1 and 2 are one unordered node.
        let t = tree(0.05, &[(&[0, 1, 2, 3, 4, 5], None, None)]);
        let ct = class_tree(&t, &[0, 0, 1, 1, 2, 2], 3);
        assert_eq!(ct.newick, "(0,1,2)never;");
        assert_eq!(ct.clades.last().unwrap().children.len(), 3);
        // The node spliced away is gone: three leaves and the root.
        assert_eq!(ct.clades.len(), 4);
    }

    #[test]
    fn the_consensus_keeps_the_clades_of_every_threshold() {
        let id = [0, 0, 1, 1, 2, 2, 3, 3];
        // Threshold 1: ((0,1)30,(2,3)40)10.
        let a = tree(
            0.01,
            &[
                (&[0, 1, 2, 3, 4, 5, 6, 7], None, Some(10)),
                (&[0, 1, 2, 3], Some(0), Some(30)),
                (&[4, 5, 6, 7], Some(0), Some(40)),
                (&[0, 1], Some(1), None),
                (&[2, 3], Some(1), None),
                (&[4, 5], Some(2), None),
                (&[6, 7], Some(2), None),
            ],
        );
        // Threshold 2: 3 leaves first, then (0,1) from 2: (((0,1)60,2)50,3)20.
        let b = tree(
            0.1,
            &[
                (&[0, 1, 2, 3, 4, 5, 6, 7], None, Some(20)),
                (&[0, 1, 2, 3, 4, 5], Some(0), Some(50)),
                (&[6, 7], Some(0), None),
                (&[0, 1, 2, 3], Some(1), Some(60)),
                (&[4, 5], Some(1), None),
                (&[0, 1], Some(3), None),
                (&[2, 3], Some(3), None),
            ],
        );
        let ta = class_tree(&a, &id, 4);
        let tb = class_tree(&b, &id, 4);
        assert_eq!(ta.newick, "((0,1)30,(2,3)40)10;");
        assert_eq!(tb.newick, "(((0,1)60,2)50,3)20;");
        let c = consensus(vec![tb, ta]);
        assert_eq!(c.thresholds, vec![0.01, 0.1]);
        // (0,1) is in both; (2,3) and (0,1,2) are not: the root has three children.
        assert_eq!(c.newick, "((0,1)30-60,2,3)10-20;");
        assert_eq!(c.internal_clades, (3, 2));
        let root = c.clades.last().unwrap();
        assert_eq!(root.children.len(), 3);
        assert_eq!(root.split_epochs, vec![Some(10), Some(20)]);
        // The consensus of a tree with itself is the tree.
        let same = consensus(vec![class_tree(&a, &id, 4), class_tree(&a, &id, 4)]);
        assert_eq!(same.internal_clades, (3, 3));
        assert_eq!(same.newick, "((0,1)30,(2,3)40)10;");
    }
}
