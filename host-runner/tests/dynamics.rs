//! `ghn dynamics` on a real trajectory: recognised counts equal the run's own metrics, the
//! tree partitions the memories at every split, the order follows the counts, bad input.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

fn rows(p: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn dynamics_of_a_fig3_like_run() {
    let t = tempfile::tempdir().unwrap();
    let run_dir = t.path().join("run");
    let o = run_dir.display().to_string();
    // n = 30, T_r 0.85, K = 100: the first splits happen before epoch 1300.
    run_ok(&[
        "train",
        "--quiet",
        "--out",
        &o,
        "--epochs",
        "1300",
        "--save-every",
        "10",
        "--log-every",
        "10",
        "--save-precision",
        "f32",
    ]);
    let out = t.path().join("dyn");
    run_ok(&[
        "dynamics",
        "--trajectory",
        &run_dir.join("trajectory.npz").display().to_string(),
        "--out",
        &out.display().to_string(),
    ]);
    for f in ["recognised", "tree", "class_tree", "pca"] {
        for ext in ["png", "svg"] {
            assert!(out.join(format!("{f}.{ext}")).is_file(), "{f}.{ext}");
        }
    }
    // The counts per frame are the run's metrics (same epochs, same guard), up to the
    // f32 rounding of the saved frames, which moves no prediction here.
    let rec = rows(&out.join("recognised.csv"));
    let met = rows(&run_dir.join("metrics.csv"));
    assert_eq!(rec.len(), 131);
    for (r, m) in rec.iter().zip(&met) {
        assert_eq!(r[0], m[0], "epoch");
        assert_eq!(r[1..], m[3..], "epoch {}", r[0]);
    }
    // The tree: every split partitions its group; the leaves partition all memories.
    let tree: Value =
        serde_json::from_slice(&std::fs::read(out.join("tree.json")).unwrap()).unwrap();
    let splits = tree["splits"].as_array().unwrap();
    assert!(!splits.is_empty(), "no split by epoch 1300 at n = 30");
    for s in splits {
        let mut before: Vec<u64> = s["before"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let mut after: Vec<u64> = s["after"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
            .collect();
        before.sort();
        after.sort();
        assert_eq!(before, after);
        assert!(s["after"].as_array().unwrap().len() >= 2);
        assert_eq!(s["saddle_alpha_bar"].as_array().unwrap().len(), 10);
        assert!(s["epoch"].as_i64().unwrap() > s["last_together_epoch"].as_i64().unwrap());
    }
    let nodes = tree["nodes"].as_array().unwrap();
    let mut leaves: Vec<u64> = nodes
        .iter()
        .filter(|n| n["children"].as_array().unwrap().is_empty())
        .flat_map(|n| {
            n["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
        })
        .collect();
    leaves.sort();
    assert_eq!(leaves, (0..100).collect::<Vec<u64>>());
    // Memories start together (the Gaussian initialisation is 10⁻⁵ wide): one root.
    assert_eq!(nodes.iter().filter(|n| n["parent"].is_null()).count(), 1);
    // The class tree at 0.05/√10, 0.05 and 0.05·√10: its leaves are the final identities;
    // the consensus keeps exactly the clades every threshold's tree has.
    let ct: Value =
        serde_json::from_slice(&std::fs::read(out.join("class_tree.json")).unwrap()).unwrap();
    let trees = ct["trees"].as_array().unwrap();
    assert_eq!(trees.len(), 3);
    let sets = |clades: &Value, internal: bool| -> Vec<Vec<u64>> {
        let mut v: Vec<Vec<u64>> = clades
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["children"].as_array().unwrap().is_empty() != internal)
            .map(|c| {
                c["classes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap())
                    .collect()
            })
            .collect();
        v.sort();
        v
    };
    let leaves = sets(&ct["clades"], false);
    assert!(leaves.len() >= 3, "{leaves:?}");
    for t in trees {
        assert_eq!(sets(&t["clades"], false), leaves);
    }
    let kept = sets(&ct["clades"], true);
    let common: Vec<Vec<u64>> = sets(&trees[0]["clades"], true)
        .into_iter()
        .filter(|s| trees.iter().all(|t| sets(&t["clades"], true).contains(s)))
        .collect();
    assert_eq!(kept, common);
    // The paper's first event at n = 30: the 1s leave the other memories first — the
    // root of the class tree at 0.05 splits {1} from the rest.
    let mid = &trees[1]["clades"].as_array().unwrap();
    let root = mid.last().unwrap();
    let first: Vec<&Value> = root["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &mid[i.as_u64().unwrap() as usize]["classes"])
        .collect();
    assert!(
        first
            .iter()
            .any(|c| c.as_array().unwrap() == &[Value::from(1)]),
        "{}",
        trees[1]["newick"]
    );
    // The paper's first event at n = 30: the 1s are learned first.
    let order = rows(&out.join("order.csv"));
    assert_eq!(order[0][1], "1", "{order:?}");
    // Transition matrices are antisymmetric.
    for f in ["transitions_per_memory.csv", "transitions_unique.csv"] {
        let m: Vec<Vec<i64>> = rows(&out.join(f))
            .iter()
            .map(|r| r[1..].iter().map(|v| v.parse().unwrap()).collect())
            .collect();
        for (i, row) in m.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                assert_eq!(*v, -m[j][i], "{f}");
            }
        }
    }
    // Bad input: a state is not a trajectory; nothing is written.
    let bad = t.path().join("bad");
    let r = run(&[
        "dynamics",
        "--trajectory",
        &run_dir.join("final.npz").display().to_string(),
        "--out",
        &bad.display().to_string(),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("not a trajectory"));
    assert!(!bad.exists());
    // Impossible parameters are named; nothing is written.
    let traj = run_dir.join("trajectory.npz").display().to_string();
    for (opt, v) in [
        ("--group-threshold", "0"),
        ("--group-threshold", "NaN"),
        ("--threshold-window", "0.5"),
        ("--threshold-window", "inf"),
    ] {
        let r = run(&[
            "dynamics",
            "--trajectory",
            &traj,
            opt,
            v,
            "--out",
            &bad.display().to_string(),
        ]);
        assert_eq!(r.status.code(), Some(2), "{opt} {v}");
        assert!(
            String::from_utf8_lossy(&r.stderr).contains(opt),
            "{opt} {v}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(!bad.exists());
    }
}
