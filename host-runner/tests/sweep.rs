//! `ghn sweep`: the stable run order, resuming a killed sweep, shards, collect, bad
//! grids, and a real single-node SLURM cluster running the generated job-array script.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small grid: 6 runs of a few hundred epochs on the 200-digit set.
const GRID: &str = r#"
[base]
epochs = 300
memories = 12
checkpoint_every = 25

[grid]
n = [3, 20]
rescaled_temperature = "0.7:0.9:0.1"

[analysis]
threshold = 0.5
"#;

fn grid_file(dir: &Path) -> PathBuf {
    let p = dir.join("grid.toml");
    std::fs::write(&p, GRID).unwrap();
    p
}

/// Every file that must be equal between two sweeps of the same grid: the results table
/// and each run's final state, analysis, metrics and trajectory (run.json holds wall times).
fn results(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    m.insert(
        "results.csv".into(),
        std::fs::read(dir.join("results.csv")).expect("results.csv"),
    );
    for e in std::fs::read_dir(dir.join("runs")).unwrap() {
        let e = e.unwrap();
        for f in ["final.npz", "analysis.json", "metrics.csv"] {
            let name = format!("{}/{f}", e.file_name().to_string_lossy());
            m.insert(name, std::fs::read(e.path().join(f)).unwrap());
        }
    }
    m
}

fn sweep(dir: &Path, extra: &[&str]) {
    let o = dir.display().to_string();
    let mut args = vec!["sweep", "run", "--quiet", "--out", &o];
    args.extend_from_slice(extra);
    run_ok(&args);
}

#[test]
fn runs_are_named_in_stable_order_and_analysed() {
    let t = tempfile::tempdir().unwrap();
    let g = grid_file(t.path());
    let dir = t.path().join("sw");
    sweep(&dir, &["--grid", &g.display().to_string()]);
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("index,name,n,rescaled-temperature,final_cost"));
    assert_eq!(lines.len(), 7);
    // The last axis varies fastest; 0.7:0.9:0.1 gives three clean values.
    let points: Vec<(String, String)> = lines[1..]
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[2].to_string(), f[3].to_string())
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("3", "0.7"),
        ("3", "0.8"),
        ("3", "0.9"),
        ("20", "0.7"),
        ("20", "0.8"),
        ("20", "0.9"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(points, want);
    // Each run is `ghn train` with those settings: its run.json says so.
    let run0 = dir.join("runs/00003_n=20_rescaled-temperature=0.7");
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run0.join("run.json")).unwrap()).unwrap();
    assert_eq!(info["config"]["n"], 20.0);
    assert_eq!(info["config"]["rescaled_temperature"], 0.7);
    assert_eq!(info["config"]["memories"], 12);
    assert_eq!(info["epochs_done"], 300);
    // The table's analysis is the run's analysis.json, equal to `ghn analyze` on it.
    let an = t.path().join("an");
    run_ok(&[
        "analyze",
        "--state",
        &run0.join("final.npz").display().to_string(),
        "--threshold",
        "0.5",
        "--out",
        &an.display().to_string(),
    ]);
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(an.join("analysis.json")).unwrap()).unwrap();
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run0.join("analysis.json")).unwrap())
            .unwrap();
    assert_eq!(a["memories"], b["memories"]);
    assert_eq!(a["summary"], b["summary"]);
    assert!(!dir.join("partial").exists(), "partial/ left behind");
    // Re-running a finished sweep trains nothing and changes nothing.
    let before = results(&dir);
    let o = run_ok(&["sweep", "run", "--out", &dir.display().to_string()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("0 runs trained, 6 already done"));
    assert_eq!(before, results(&dir));
}

#[test]
fn axis_values_with_colons_of_their_own_stay_values() {
    // Fig 8's starts are `near-class:1` and `near-class:7`: a comma makes a list, so the
    // colons are not read as START:STOP:STEP; a colon range without commas still expands.
    let t = tempfile::tempdir().unwrap();
    let o = t.path().join("sw").display().to_string();
    let out = run_ok(&[
        "sweep",
        "list",
        "--out",
        &o,
        "--axis",
        "init=near-class:1,near-class:7",
        "--axis",
        "n=2:4:1",
    ]);
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "00000_init=near-class_1_n=2",
            "00001_init=near-class_1_n=3",
            "00002_init=near-class_1_n=4",
            "00003_init=near-class_7_n=2",
            "00004_init=near-class_7_n=3",
            "00005_init=near-class_7_n=4",
        ]
    );
}

#[test]
fn a_killed_sweep_resumes_to_the_same_results() {
    let t = tempfile::tempdir().unwrap();
    // Runs of a few seconds each, so that the sweep can be caught part-way.
    let g = t.path().join("grid.toml");
    std::fs::write(
        &g,
        "[base]\nepochs = 1000\nmemories = 100\ncheckpoint_every = 100\n[grid]\nn = [3, 30]\nseed = [0, 1]\n",
    )
    .unwrap();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    let gs = g.display().to_string();
    sweep(&a, &["--grid", &gs, "--jobs", "2"]);

    // Kill the other sweep (SIGKILL: no checkpoint on the way out) once some runs are done
    // and others are part-way.
    let mut child = ghn()
        .args([
            "sweep", "run", "--quiet", "--jobs", "1", "--grid", &gs, "--out",
        ])
        .arg(&b)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let done = std::fs::read_dir(b.join("runs"))
            .map(|d| d.count())
            .unwrap_or(0);
        let ckpt = std::fs::read_dir(b.join("partial"))
            .map(|d| {
                d.flatten()
                    .any(|e| e.path().join("checkpoint.npz").exists())
            })
            .unwrap_or(false);
        if done >= 1 && ckpt {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep finished before it could be killed; make the grid bigger"
        );
        assert!(start.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!b.join("results.csv").exists());
    let list = run_ok(&["sweep", "list", "--out", &b.display().to_string()]);
    let list = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(list.contains("\tpartial"), "{list}");
    assert!(list.contains("\tdone"), "{list}");
    // `collect` refuses an incomplete sweep.
    let r = run(&["sweep", "collect", "--out", &b.display().to_string()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("are not finished"));
    // Restarted (the grid comes from sweep.json), it finishes with identical results.
    sweep(&b, &[]);
    assert_eq!(results(&a), results(&b));
}

#[test]
fn shards_are_disjoint_and_cover_the_grid() {
    let t = tempfile::tempdir().unwrap();
    let g = grid_file(t.path()).display().to_string();
    let (whole, halves) = (t.path().join("whole"), t.path().join("halves"));
    sweep(&whole, &["--grid", &g]);
    sweep(&halves, &["--grid", &g, "--shard", "0/2"]);
    let first: Vec<String> = std::fs::read_dir(halves.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(first.len(), 3);
    assert!(
        !halves.join("results.csv").exists(),
        "half a grid is not a result"
    );
    // The second half, as a SLURM array task would see it.
    let o = halves.display().to_string();
    let out = ghn()
        .args(["sweep", "run", "--quiet", "--out", &o])
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "2")
        .env("SLURM_ARRAY_TASK_MIN", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: Vec<String> = std::fs::read_dir(halves.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(all.len(), 6);
    for f in &first {
        let idx: usize = f[..5].parse().unwrap();
        assert_eq!(idx % 2, 0, "shard 0/2 ran {f}");
    }
    run_ok(&["sweep", "collect", "--out", &o]);
    assert_eq!(results(&whole), results(&halves));
}

#[test]
fn bad_grids_are_named_and_write_nothing() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let o = out.display().to_string();
    let bad = |toml: &str, needle: &str| {
        let g = t.path().join("bad.toml");
        std::fs::write(&g, toml).unwrap();
        let r = run(&[
            "sweep",
            "run",
            "--out",
            &o,
            "--grid",
            &g.display().to_string(),
        ]);
        let err = String::from_utf8_lossy(&r.stderr).to_string();
        assert_eq!(r.status.code(), Some(2), "{toml}: {err}");
        assert!(err.contains(needle), "{toml}: `{needle}` not in {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!out.exists(), "{toml}: --out was created");
    };
    bad("[grid]\nn = [3, -1]\n", "--n");
    bad("[grid]\nn = [3]\nfoo = [1]\n", "foo");
    bad("[grid]\nn = [3\n", "not valid TOML");
    bad("[base]\nn = 3\n[grid]\nn = [3]\n", "given twice");
    bad("[grid]\nthreads = [1, 2]\n", "cannot be set per run");
    bad("[grid]\nn = \"5:1:1\"\n", "START ≤ STOP");
    bad("[grids]\nn = [3]\n", "unknown section");
    bad(
        "[base]\ntemperature = 500\n[grid]\nrescaled_temperature = [0.8]\n",
        "temperature",
    );
    // No grid at all.
    let r = run(&["sweep", "run", "--out", &o]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("no grid"));
    assert!(!out.exists());
    // A directory that holds another sweep.
    run_ok(&[
        "sweep",
        "run",
        "--quiet",
        "--out",
        &o,
        "--axis",
        "n=3",
        "--set",
        "epochs=2",
        "--set",
        "memories=2",
    ]);
    let r = run(&[
        "sweep",
        "run",
        "--out",
        &o,
        "--axis",
        "n=4",
        "--set",
        "epochs=2",
        "--set",
        "memories=2",
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("different sweep"));
}

// ---------------------------------------------------------------------------------------
// A real SLURM: slurmctld, slurmd and munged from Debian's packages, in a private directory.

/// A single-node SLURM cluster; every daemon it started is stopped on drop.
struct Cluster {
    dir: tempfile::TempDir,
    conf: PathBuf,
}

fn need(tool: &str) -> PathBuf {
    for d in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let p = Path::new(d).join(tool);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "`{tool}` is missing: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge (scripts/test.sh does)"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    fn start() -> Cluster {
        let (munged, mungekey) = (need("munged"), need("mungekey"));
        let (slurmctld, slurmd) = (need("slurmctld"), need("slurmd"));
        need("sbatch");
        let dir = tempfile::Builder::new()
            .prefix("ghn-slurm")
            .tempdir()
            .unwrap();
        let d = dir.path();
        for sub in ["state", "spool", "munge"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o711)).unwrap();
        std::fs::set_permissions(d.join("munge"), std::fs::Permissions::from_mode(0o711)).unwrap();
        let key = d.join("munge/munge.key");
        let st = Command::new(mungekey)
            .arg("-c")
            .arg("-k")
            .arg(&key)
            .status()
            .unwrap();
        assert!(st.success(), "mungekey failed");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let socket = d.join("munge/munge.socket.2");
        let st = Command::new(munged)
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--key-file={}", key.display()))
            .arg(format!(
                "--pid-file={}",
                d.join("munge/munged.pid").display()
            ))
            .arg(format!(
                "--log-file={}",
                d.join("munge/munged.log").display()
            ))
            .arg(format!(
                "--seed-file={}",
                d.join("munge/munged.seed").display()
            ))
            .arg("--origin=127.0.0.1")
            .arg("--force")
            .status()
            .unwrap();
        assert!(st.success(), "munged did not start");
        let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
            .unwrap()
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap();
        let cpus = std::thread::available_parallelism().unwrap().get();
        let host = String::from_utf8(Command::new("hostname").arg("-s").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
        let (p1, p2) = (free_port(), free_port());
        let conf = d.join("slurm.conf");
        let text = format!(
            "ClusterName=ghntest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={p1}
SlurmdPort={p2}
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
MinJobAge=600
SchedulerParameters=batch_sched_delay=0
NodeName=node1 NodeHostname={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem} State=UNKNOWN
PartitionName=debug Nodes=node1 Default=YES MaxTime=INFINITE State=UP
",
            sock = socket.display(),
            d = d.display(),
            mem = mem_kb / 1024 - 512,
        );
        std::fs::write(&conf, text).unwrap();
        let cluster = Cluster { dir, conf };
        let st = Command::new(slurmctld)
            .arg("-f")
            .arg(&cluster.conf)
            .status()
            .unwrap();
        assert!(
            st.success(),
            "slurmctld did not start:\n{}",
            cluster.log("slurmctld.log")
        );
        cluster.wait_for("scontrol", &["ping"], "UP");
        let st = Command::new(slurmd)
            .arg("-f")
            .arg(&cluster.conf)
            .args(["-N", "node1"])
            .status()
            .unwrap();
        assert!(
            st.success(),
            "slurmd did not start:\n{}",
            cluster.log("slurmd.log")
        );
        let t0 = Instant::now();
        loop {
            let s = cluster.client("sinfo", &["-h", "-n", "node1", "-o", "%t"]);
            if s.trim() == "idle" {
                break;
            }
            if s.contains("down") || s.contains("drain") {
                cluster.client("scontrol", &["update", "nodename=node1", "state=resume"]);
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "node1 never became idle (`{s}`):\n{}",
                cluster.log("slurmd.log")
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        cluster
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// A client command with SLURM_CONF set, bounded by `timeout` (clients hang when a
    /// daemon is gone).
    fn client(&self, cmd: &str, args: &[&str]) -> String {
        let out = Command::new("timeout")
            .arg("20")
            .arg(cmd)
            .args(args)
            .env("SLURM_CONF", &self.conf)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
    }

    fn wait_for(&self, cmd: &str, args: &[&str], needle: &str) {
        let t0 = Instant::now();
        loop {
            if self.client(cmd, args).contains(needle) {
                return;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "`{cmd} {args:?}` never said {needle}:\n{}",
                self.log("slurmctld.log")
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Signals the daemon whose pid file is `name` if it is still that program.
    fn stop(&self, pidfile: &str, exe: &str, signal: &str) {
        let Ok(pid) = std::fs::read_to_string(self.dir.path().join(pidfile)) else {
            return;
        };
        let pid = pid.trim();
        let is_it = std::fs::read_link(format!("/proc/{pid}/exe"))
            .map(|p| p.to_string_lossy().contains(exe))
            .unwrap_or(false);
        if is_it {
            let _ = Command::new("kill").args([signal, pid]).status();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.client("scancel", &["--user=root"]);
        let daemons = [
            ("slurmd.pid", "slurmd"),
            ("slurmctld.pid", "slurmctld"),
            ("munge/munged.pid", "munged"),
        ];
        for (p, e) in daemons {
            self.stop(p, e, "-TERM");
        }
        std::thread::sleep(Duration::from_secs(2));
        for (p, e) in daemons {
            self.stop(p, e, "-KILL");
        }
        // Any step daemon left by this cluster's jobs.
        let _ = Command::new("pkill")
            .args([
                "-KILL",
                "-f",
                &format!("slurmstepd.*{}", self.dir.path().display()),
            ])
            .status();
    }
}

#[test]
fn the_generated_script_runs_on_a_real_slurm_cluster() {
    let t = tempfile::tempdir().unwrap();
    let g = grid_file(t.path()).display().to_string();
    let (local, remote) = (t.path().join("local"), t.path().join("slurm"));
    sweep(&local, &["--grid", &g]);

    let cluster = Cluster::start();
    let script = run_ok(&[
        "sweep",
        "slurm",
        "--grid",
        &g,
        "--out",
        &remote.display().to_string(),
        "--tasks",
        "3",
        "--time",
        "00:10:00",
    ]);
    let script_path = t.path().join("sweep.sbatch");
    std::fs::write(&script_path, &script.stdout).unwrap();
    let text = String::from_utf8_lossy(&script.stdout).to_string();
    assert!(text.contains("#SBATCH --array=0-2"), "{text}");
    let id = cluster.client(
        "sbatch",
        &["--parsable", &script_path.display().to_string()],
    );
    let id = id.trim().split(';').next().unwrap().to_string();
    assert!(
        id.chars().all(|c| c.is_ascii_digit()) && !id.is_empty(),
        "sbatch said: {id}"
    );
    // Wait until every array task has left the queue's active states.
    let t0 = Instant::now();
    loop {
        let q = cluster.client("squeue", &["-h", "-j", &id, "-t", "all", "-o", "%i %T"]);
        let states: Vec<&str> = q
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .collect();
        let active = states
            .iter()
            .any(|s| ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING"].contains(s));
        if !states.is_empty() && !active {
            assert!(
                states.iter().all(|s| *s == "COMPLETED"),
                "array tasks ended as {states:?}; logs:\n{}",
                std::fs::read_dir(remote.join("slurm"))
                    .map(|d| d
                        .flatten()
                        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join("\n"))
                    .unwrap_or_default()
            );
            assert_eq!(states.len(), 3, "{q}");
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "the array job did not finish: {q}\n{}",
            cluster.log("slurmctld.log")
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(cluster);
    run_ok(&["sweep", "collect", "--out", &remote.display().to_string()]);
    assert_eq!(results(&local), results(&remote));
    // Three array tasks ran: each wrote its log.
    let logs = std::fs::read_dir(remote.join("slurm")).unwrap().count();
    assert_eq!(logs, 3);
}
