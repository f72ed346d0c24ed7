//! `ghn reproduce fig1|fig2|fig9` end to end on shortened runs (`--epochs`): the files,
//! the figures' notes, and the tables against the runs they come from. The paper's claims
//! need the full protocols (tens of minutes); their numbers are in docs/RESULTS.md.

mod common;

use common::{csv, python_ok, run, run_ok};
use serde_json::Value;
use std::path::Path;

fn png(path: &Path) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
}

fn figures(dir: &Path, stems: &[&str], note: &str) {
    for stem in stems {
        png(&dir.join(format!("{stem}.png")));
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains(note),
            "{stem}.svg lacks `{note}`"
        );
    }
}

fn reproduce(fig: &str, dir: &Path, extra: &[&str]) {
    let o = dir.display().to_string();
    let mut args = vec!["reproduce", fig, "--out", &o, "--quiet"];
    args.extend_from_slice(extra);
    run_ok(&args);
}

#[test]
fn fig9_populations_are_the_runs_labels_above_0_98() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("fig9");
    reproduce(
        "fig9",
        &dir,
        &["--epochs", "400", "--temperatures", "650,880"],
    );
    figures(&dir, &["fig9"], "NOT THE PAPER");
    png(&dir.join("fig9_memories.png"));
    let m: Value = serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(m["epochs_override"], 400);
    let rows = csv(&dir.join("fig9.csv"));
    assert_eq!(rows.len(), 2);
    // Each population is the count of L[μ, d] > 0.98 in that run's final state, n = 25.
    let script = r#"
import numpy as np, sys, json
run = sys.argv[1]
L = np.load(run + "/final.npz")["L"]
cfg = json.load(open(run + "/run.json"))["config"]
assert cfg["n"] == 25 and cfg["memories"] == 100 and cfg["epochs"] == 400, cfg
print(",".join(str(int((L[:, d] > 0.98).sum())) for d in range(10)))
"#;
    let mut runs: Vec<_> = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    for (row, run_dir) in rows.iter().zip(&runs) {
        let out = python_ok(&["-c", script, &run_dir.display().to_string()]);
        let want = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(row[2..].join(","), want, "{}", run_dir.display());
    }
    // run.json's training time is the runs' own, summed.
    let trained = |runs: &[std::path::PathBuf]| -> f64 {
        runs.iter()
            .map(|r| {
                let v: Value =
                    serde_json::from_slice(&std::fs::read(r.join("run.json")).unwrap()).unwrap();
                v["wall_seconds"].as_f64().unwrap()
            })
            .sum()
    };
    let first = trained(&runs);
    assert!(first > 0.0);
    assert!((m["runs_training_s"].as_f64().unwrap() - first).abs() <= 1e-9 * first);
    // Started again, the finished runs are kept and the figure is redrawn identically;
    // one run retrained now, the training time still counts the run trained before.
    let before = std::fs::read(dir.join("fig9.csv")).unwrap();
    let kept_before = trained(&runs[1..]);
    std::fs::remove_dir_all(&runs[0]).unwrap();
    reproduce(
        "fig9",
        &dir,
        &["--epochs", "400", "--temperatures", "650,880"],
    );
    assert_eq!(before, std::fs::read(dir.join("fig9.csv")).unwrap());
    let m: Value = serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
    // The kept run was not trained again: its recorded time is the first invocation's.
    assert_eq!(trained(&runs[1..]), kept_before);
    let total = trained(&runs);
    assert!(total > kept_before);
    assert!((m["runs_training_s"].as_f64().unwrap() - total).abs() <= 1e-9 * total);
    // Other settings in the same folder are refused.
    let r = run(&[
        "reproduce",
        "fig9",
        "--out",
        &dir.display().to_string(),
        "--epochs",
        "401",
        "--temperatures",
        "650,880",
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("other settings"));
}

#[test]
fn fig2_table_is_the_sweep_summary_per_temperature_and_n() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("fig2");
    reproduce(
        "fig2",
        &dir,
        &["--quick", "--epochs", "150", "--temperatures", "650"],
    );
    figures(&dir, &["fig2a"], "NOT THE PAPER");
    png(&dir.join("fig2_memories.png"));
    let rows = csv(&dir.join("fig2a.csv"));
    let ns: Vec<f64> = rows.iter().map(|r| r[2].parse().unwrap()).collect();
    let want: Vec<f64> = (2..=60).step_by(6).map(|n| n as f64).collect();
    assert_eq!(ns, want, "quick grid: n = 2, 8, …, 56");
    let results = csv(&dir.join("results.csv"));
    for (r, s) in rows.iter().zip(&results) {
        // results.csv: index,name,n,temperature,final_cost,final_accuracy,mean_max_alpha,std,count
        assert_eq!(r[2], s[2]);
        assert_eq!(r[3], s[6], "mean max |α|");
        assert_eq!(r[5], s[8], "reconstruction count");
        let count: f64 = r[5].parse().unwrap();
        assert!((1.0..=199.0).contains(&count));
    }
}

#[test]
fn fig1_picks_memories_of_fours_and_writes_their_alpha_profiles() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("fig1");
    reproduce("fig1", &dir, &["--epochs", "300"]);
    figures(&dir, &["fig1_alpha", "fig1_labels"], "NOT THE PAPER");
    png(&dir.join("fig1_memories.png"));
    let alpha = csv(&dir.join("fig1_alpha.csv"));
    // 9 (n, T) cells × 200 samples, each class block a permutation of that class's α.
    assert_eq!(alpha.len(), 9 * 200);
    let mems = csv(&dir.join("fig1_memories.csv"));
    for m in &mems {
        let thr: f64 = m[3].parse().unwrap();
        let l4: f64 = m[4 + 4].parse().unwrap();
        assert!(l4 >= thr - 1e-12, "picked memory has L4 {l4} below {thr}");
    }
    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(summary["summary"]["picked"].as_array().unwrap().len(), 9);
}

#[test]
fn sweep_options_are_refused_for_other_figures() {
    let t = tempfile::tempdir().unwrap();
    let r = run(&[
        "reproduce",
        "fig6",
        "--out",
        &t.path().join("x").display().to_string(),
        "--epochs",
        "5",
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("fig1–fig5, fig8, fig9 and s17 only"));
}

#[test]
fn fig3_writes_the_dynamics_of_both_runs() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("fig3");
    reproduce("fig3", &dir, &["--epochs", "300"]);
    for sub in ["dynamics_n3_T670", "dynamics_n30_T670"] {
        let d = dir.join(sub);
        figures(
            &d,
            &["recognised", "tree", "class_tree", "pca"],
            "NOT THE PAPER",
        );
        png(&d.join("memories_at_epochs.png"));
        assert_eq!(csv(&d.join("order.csv")).len(), 10);
    }
    let m: Value = serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
    for key in ["n=3", "n=30"] {
        let s = &m["summary"][key];
        assert!(s["order"].as_array().unwrap().len() == 10, "{s}");
        let ct = &s["class_tree"];
        assert_eq!(ct["at_thresholds"].as_array().unwrap().len(), 3, "{s}");
        assert!(ct["consensus"].as_str().unwrap().ends_with(';'), "{s}");
        assert!(
            ct["clades_at_every_threshold"].as_u64().unwrap()
                <= ct["clades_of_a_binary_tree"].as_u64().unwrap(),
            "{s}"
        );
    }
    // n = 3 at T_r 0.85 learns the 1s first (PROTOCOLS §8 item 5: "only 1s until ~190").
    assert_eq!(m["summary"]["n=3"]["ones_first"], true);
}

#[test]
fn s17_ranks_every_class_in_every_run() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("s17");
    let mnist = common::shared_mnist().display().to_string();
    reproduce(
        "s17",
        &dir,
        &["--quick", "--epochs", "200", "--data-dir", &mnist],
    );
    figures(&dir, &["s17"], "NOT THE PAPER");
    let orders = csv(&dir.join("s17_orders.csv"));
    assert_eq!(orders.len(), 20, "quick: 20 seeds");
    for o in &orders {
        let mut classes: Vec<u32> = o[1..]
            .iter()
            .map(|c| c.trim_end_matches('*').parse().unwrap())
            .collect();
        classes.sort();
        assert_eq!(classes, (0..10).collect::<Vec<u32>>());
        // Never-learned classes (starred) come after every learned one.
        let first_star = o[1..].iter().position(|c| c.ends_with('*')).unwrap_or(10);
        assert!(
            o[1..][first_star..].iter().all(|c| c.ends_with('*')),
            "{o:?}"
        );
    }
    // Mean ranks are the averages of the per-run ranks.
    let stats = csv(&dir.join("s17.csv"));
    for s in &stats {
        let c = &s[0];
        let ranks: Vec<f64> = orders
            .iter()
            .map(|o| {
                (o[1..]
                    .iter()
                    .position(|x| x.trim_end_matches('*') == c)
                    .unwrap()
                    + 1) as f64
            })
            .collect();
        let mean = ranks.iter().sum::<f64>() / ranks.len() as f64;
        assert!((mean - s[1].parse::<f64>().unwrap()).abs() < 1e-12);
    }
    // Each run trained on its own seeded sample of MNIST: the data hashes differ.
    let hashes: std::collections::BTreeSet<String> = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .map(|e| {
            let j: Value =
                serde_json::from_slice(&std::fs::read(e.unwrap().path().join("run.json")).unwrap())
                    .unwrap();
            j["data_sha256"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(hashes.len(), 20);
}

#[test]
fn fig5_alpha_paths_are_on_the_60_samples_of_1_4_7() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("fig5");
    reproduce("fig5", &dir, &["--epochs", "200"]);
    figures(&dir, &["fig5_alpha"], "NOT THE PAPER");
    // The runs train on the 60 samples of 1, 4 and 7.
    for e in std::fs::read_dir(dir.join("runs")).unwrap() {
        let j: Value =
            serde_json::from_slice(&std::fs::read(e.unwrap().path().join("run.json")).unwrap())
                .unwrap();
        assert_eq!(j["samples"], 60);
        assert_eq!(j["config"]["digits"], serde_json::json!([1, 4, 7]));
    }
    // 21 frames × 100 memories; ᾱ of every class sums the memory's α, and the memories
    // start near zero (Gaussian initialisation), so the first frame's ᾱ are tiny.
    let a = csv(&dir.join("fig5_alpha_n30.csv"));
    assert_eq!(a.len(), 21 * 100);
    for r in a.iter().take(100) {
        for v in &r[2..] {
            assert!(v.parse::<f64>().unwrap().abs() < 0.05, "{r:?}");
        }
    }
    // Memory samples at the paper's panel epochs that exist in 200 epochs: epoch 200.
    let m: Value = serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
    for (key, sub) in [("n=3", "dynamics_n3_T800"), ("n=30", "dynamics_n30_T800")] {
        assert_eq!(
            m["summary"][key]["memories_at_epochs"],
            serde_json::json!([200]),
            "{m}"
        );
        png(&dir.join(sub).join("memories_at_epochs.png"));
    }
}

#[test]
fn fig8_proportions_come_from_the_runs_populations() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("fig8");
    reproduce("fig8", &dir, &["--quick", "--epochs", "200"]);
    figures(&dir, &["fig8"], "NOT THE PAPER");
    let rows = csv(&dir.join("fig8.csv"));
    // Quick: T = 800, two starts, n = 2, 6, …, 58.
    assert_eq!(rows.len(), 2 * 15);
    let results = csv(&dir.join("results.csv"));
    // results.csv: index,name,temperature,init,n,seed,cost,acc,maxα,std,count,pop0..9,…
    let mut bracketed = 0;
    for r in &rows {
        let (init, n) = (&r[2], &r[3]);
        let mine: Vec<&Vec<String>> = results
            .iter()
            .filter(|x| x[3] == format!("near-class:{init}") && &x[4] == n)
            .collect();
        assert_eq!(mine.len(), 2, "two seeds");
        let mean = |c: usize| {
            mine.iter()
                .map(|x| x[11 + c].parse::<f64>().unwrap())
                .sum::<f64>()
                / 2.0
        };
        assert_eq!(r[4].parse::<f64>().unwrap(), mean(1));
        assert_eq!(r[5].parse::<f64>().unwrap(), mean(7));
        // The seeds' own proportions bracket the pooled one.
        let own: Vec<f64> = mine
            .iter()
            .map(|x| {
                let (o, s) = (x[12].parse::<f64>().unwrap(), x[18].parse::<f64>().unwrap());
                o / (o + s)
            })
            .collect();
        let (lo, hi) = (r[7].parse::<f64>().unwrap(), r[8].parse::<f64>().unwrap());
        if own.iter().all(|p| p.is_finite()) {
            assert_eq!(lo, own.iter().cloned().fold(f64::INFINITY, f64::min));
            assert_eq!(hi, own.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
            let pooled = r[6].parse::<f64>().unwrap();
            assert!(lo <= pooled && pooled <= hi, "{r:?}");
            bracketed += 1;
        }
    }
    assert!(
        bracketed >= 10,
        "only {bracketed} points have 1s or 7s in every seed"
    );
    // Every memory starts as 0.8 × the mean of the chosen digit: after a few epochs the
    // start's class dominates the L ≥ 0.9 memories at n = 2.
    let first = &rows[0];
    assert_eq!(first[2], "1");
    assert_eq!(first[6].parse::<f64>().unwrap(), 1.0, "{first:?}");
    assert_eq!(csv(&dir.join("fig8_saddle_T800_start7.csv")).len(), 15);
    // The saddle images of the paper's left panel: n ≈ 58, 30, 5 (58, 30, 6 on the quick
    // grid), one column per start.
    png(&dir.join("fig8_saddles_T800.png"));
    let m: Value = serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
    let shown = &m["summary"]["saddle_images"]["fig8_saddles_T800.png"];
    assert_eq!(shown["rows_n"], serde_json::json!([58.0, 30.0, 6.0]), "{m}");
}

#[test]
fn fig8_fresh_samples_give_each_seed_its_own_mnist_sample() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("fig8");
    let mnist = common::shared_mnist().display().to_string();
    reproduce(
        "fig8",
        &dir,
        &[
            "--quick",
            "--epochs",
            "20",
            "--fresh-samples",
            "--data-dir",
            &mnist,
        ],
    );
    figures(&dir, &["fig8"], "fresh samples");
    let m: Value = serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
    assert!(
        m["summary"]["training_set"]
            .as_str()
            .unwrap()
            .contains("fresh MNIST sample"),
        "{m}"
    );
    // 60 MNIST digits per run; the two seeds train on different sets, and every run of a
    // seed (both starts, every n) on the same one.
    let mut by_seed =
        std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    let mut fixed = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(dir.join("runs")).unwrap() {
        let j: Value =
            serde_json::from_slice(&std::fs::read(e.unwrap().path().join("run.json")).unwrap())
                .unwrap();
        assert_eq!(j["samples"], 60);
        assert_eq!(j["config"]["per_class"], 20);
        assert_eq!(j["config"]["data"]["kind"], "mnist");
        let seed = j["config"]["seed"].to_string();
        let sha = j["data_sha256"].as_str().unwrap().to_string();
        fixed.insert(sha.clone());
        by_seed.entry(seed).or_default().insert(sha);
    }
    assert_eq!(by_seed.len(), 2);
    assert!(by_seed.values().all(|s| s.len() == 1), "{by_seed:?}");
    assert_eq!(fixed.len(), 2, "the seeds' samples differ");
    // The option belongs to Fig 8 alone.
    let r = run(&[
        "reproduce",
        "fig1",
        "--out",
        &t.path().join("f1").display().to_string(),
        "--fresh-samples",
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--fresh-samples applies to fig8 only"));
    assert!(
        !t.path().join("f1").exists(),
        "a refused command creates nothing"
    );
}

#[test]
fn fig4_trains_400_memories_on_1000_mnist_digits() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("fig4");
    let mnist = common::shared_mnist().display().to_string();
    reproduce("fig4", &dir, &["--epochs", "50", "--data-dir", &mnist]);
    for e in std::fs::read_dir(dir.join("runs")).unwrap() {
        let j: Value =
            serde_json::from_slice(&std::fs::read(e.unwrap().path().join("run.json")).unwrap())
                .unwrap();
        assert_eq!(j["samples"], 1000);
        assert_eq!(j["config"]["memories"], 400);
    }
    for sub in ["dynamics_n3_T670", "dynamics_n30_T670"] {
        figures(&dir.join(sub), &["tree", "recognised"], "NOT THE PAPER");
        // Frames at 0, 25, 50.
        assert_eq!(csv(&dir.join(sub).join("recognised.csv")).len(), 3);
    }
}
