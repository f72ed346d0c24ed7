//! The firmware under QEMU against `ghn train` on the host (f64), for the Fig 6b protocol:
//! two memories on rows 21 and 81, K = 2, T = 700, n = 20, η = 0.001, symmetric
//! perturbation δ = 10⁻³ around (α, ℓ) = (0.4, 0.5), 1000 epochs.
//!
//! Needs `qemu-system-arm` and the `thumbv7em-none-eabihf` target; without them the test
//! fails with the command that installs them. The defmt output is decoded in-process with
//! `defmt-decoder` from the ELF's own table.

use clap::Parser;
use defmt_decoder::{DecodeError, Table};
use ghn_core::reduced::{Branch, Gram, Reduced, SearchOptions};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const QEMU_TIMEOUT: Duration = Duration::from_secs(300);

fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware")
}

/// Fails with the install command when a tool is missing.
fn require_tools() {
    let qemu = Command::new("qemu-system-arm").arg("--version").output();
    assert!(
        qemu.is_ok_and(|o| o.status.success()),
        "qemu-system-arm is missing: apt-get install -y --no-install-recommends qemu-system-arm"
    );
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .expect("rustup is needed to build the firmware");
    assert!(
        String::from_utf8_lossy(&targets.stdout).contains("thumbv7em-none-eabihf"),
        "the Cortex-M4F target is missing: rustup target add thumbv7em-none-eabihf"
    );
}

/// A cargo command inside `firmware/`, cleared of the outer build's settings (the
/// firmware has its own target and flags in firmware/.cargo/config.toml).
fn firmware_cargo(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO"));
    c.current_dir(firmware_dir()).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("CARGO_") && k != "CARGO_HOME" || k == "RUSTFLAGS" || k == "RUSTC" {
            c.env_remove(k);
        }
    }
    c
}

/// Builds with `args` and returns the path of the executable cargo reports for the target
/// `name` of kind `kind` (`bin` or `test`: `cargo test` also reports the binary it builds
/// for integration tests, in no fixed order).
fn build(args: &[&str], kind: &str, name: &str) -> PathBuf {
    let mut full = args.to_vec();
    full.push("--message-format=json-render-diagnostics");
    let out = firmware_cargo(&full)
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo for the firmware");
    assert!(
        out.status.success(),
        "firmware build failed: cargo {full:?}"
    );
    let target = format!("\"kind\":[\"{kind}\"],\"crate_types\":[\"bin\"],\"name\":\"{name}\"");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&target))
        .filter_map(|l| {
            let start = l.find("\"executable\":\"")? + 14;
            let end = start + l[start..].find('"')?;
            Some(PathBuf::from(&l[start..end]))
        })
        .next_back()
        .unwrap_or_else(|| panic!("cargo reported no executable for {kind} `{name}`"))
}

/// Runs an ELF under QEMU (as firmware/run-qemu.sh does) and returns its exit code and
/// its decoded log lines.
fn run_qemu(elf: &Path) -> (i32, Vec<String>) {
    let mut child = Command::new("qemu-system-arm")
        .args([
            "-cpu",
            "cortex-m4",
            "-machine",
            "mps2-an386",
            "-display",
            "none",
            "-monitor",
            "none",
            "-serial",
            "none",
            "-icount",
            "shift=0",
            "-semihosting-config",
            "enable=on,target=native",
            "-kernel",
        ])
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start qemu-system-arm");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout.read_to_end(&mut bytes).unwrap();
        bytes
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > QEMU_TIMEOUT {
            child.kill().unwrap();
            panic!("QEMU did not exit within {QEMU_TIMEOUT:?} (a hang?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let bytes = reader.join().unwrap();
    let elf_bytes = std::fs::read(elf).unwrap();
    let table = Table::parse(&elf_bytes)
        .expect("parse the defmt table")
        .expect("the ELF has a .defmt section");
    let mut decoder = table.new_stream_decoder();
    decoder.received(&bytes);
    let mut lines = Vec::new();
    loop {
        match decoder.decode() {
            Ok(frame) => lines.push(frame.display_message().to_string()),
            Err(DecodeError::UnexpectedEof) => break,
            Err(DecodeError::Malformed) => panic!("malformed defmt frame after {lines:?}"),
        }
    }
    (status.code().unwrap_or(-1), lines)
}

/// `key=value` pairs of a log line.
fn fields(line: &str) -> HashMap<&str, f64> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .filter_map(|(k, v)| Some((k, v.trim_end_matches([',', ';']).parse().ok()?)))
        .collect()
}

fn line<'a>(lines: &'a [String], prefix: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in the firmware's log: {lines:#?}"))
}

/// Reduced coordinates (α, δα, ℓ, δℓ) of every host frame.
struct HostRun {
    epochs: Vec<i64>,
    state: Vec<[f64; 4]>,
    per_memory: Vec<[(f64, f64); 2]>,
}

fn host_run(dir: &Path) -> HostRun {
    let out = dir.join("host");
    let args = [
        "ghn",
        "train",
        "--rows",
        "21,81",
        "--memories",
        "2",
        "--n",
        "20",
        "--temperature",
        "700",
        "--rate",
        "0.001",
        "--epochs",
        "1000",
        "--init",
        "pair:0.4,0.5,0.001",
        "--save-every",
        "1",
        "--quiet",
        "--out",
    ];
    let cli =
        host_runner::cli::Cli::parse_from(args.iter().copied().chain([out.to_str().unwrap()]));
    assert_eq!(host_runner::cli::dispatch(cli).unwrap(), 0);
    let data = host_runner::data::paper200().unwrap();
    let d = data.d;
    let (a, b) = (&data.x[21 * d..22 * d], &data.x[81 * d..82 * d]);
    let (da, _db) = (data.labels[21] as usize, data.labels[81] as usize);
    let g = Gram::of(a, b);
    let det = g.aa * g.bb - g.ab * g.ab;
    let mut npz = host_runner::npz::open(&out.join("trajectory.npz")).unwrap();
    let m = host_runner::npz::read_f64(&mut npz, "M", "trajectory").unwrap();
    let l = host_runner::npz::read_f64(&mut npz, "L", "trajectory").unwrap();
    let ep: ndarray::Array1<i64> = npz.by_name("epochs").unwrap();
    let frames = m.shape()[0];
    let (m, l) = (m.as_slice().unwrap(), l.as_slice().unwrap());
    let mut run = HostRun {
        epochs: ep.to_vec(),
        state: Vec::new(),
        per_memory: Vec::new(),
    };
    for f in 0..frames {
        let mut pm = [(0.0, 0.0); 2];
        for (mu, p) in pm.iter_mut().enumerate() {
            let row = &m[(f * 2 + mu) * d..(f * 2 + mu + 1) * d];
            let ma: f64 = row.iter().zip(a).map(|(x, y)| x * y).sum();
            let mb: f64 = row.iter().zip(b).map(|(x, y)| x * y).sum();
            *p = ((g.bb * ma - g.ab * mb) / det, l[(f * 2 + mu) * 10 + da]);
        }
        run.state.push([
            (pm[0].0 + pm[1].0) / 2.0,
            (pm[0].0 - pm[1].0) / 2.0,
            (pm[0].1 + pm[1].1) / 2.0,
            (pm[0].1 - pm[1].1) / 2.0,
        ]);
        run.per_memory.push(pm);
    }
    run
}

impl HostRun {
    fn at(&self, epoch: i64) -> usize {
        self.epochs
            .iter()
            .position(|&e| e == epoch)
            .unwrap_or_else(|| panic!("no host frame at epoch {epoch}"))
    }
}

#[test]
fn firmware_matches_the_host_and_the_reduced_theory() {
    require_tools();
    let elf = build(&["build", "--release"], "bin", "ghn-firmware");
    let (code, lines) = run_qemu(&elf);
    assert_eq!(code, 0, "firmware exit code; log: {lines:#?}");
    assert!(
        lines.iter().any(|l| l.starts_with("done: split at epoch")),
        "the run must end with its split: {lines:#?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let host = host_run(dir.path());

    // Every report before the split follows the host's f64 run within 1e-3.
    let split = fields(line(&lines, "split:"))["epoch"] as i64;
    let mut reports = 0;
    for l in lines.iter().filter(|l| l.starts_with("epoch=")) {
        let f = fields(l);
        let e = f["epoch"] as i64;
        if e >= split {
            continue;
        }
        let h = host.state[host.at(e)];
        assert!(
            (f["alpha"] - h[0]).abs() < 1e-3 && (f["ell"] - h[2]).abs() < 1e-3,
            "epoch {e}: firmware {l} vs host {h:?}"
        );
        reports += 1;
    }
    assert!(reports >= 20, "only {reports} reports before the split");

    // The pre-split state (the pair's slowest point, at the saddle) within 1e-3.
    let pre = fields(line(&lines, "pre-split:"));
    let h = host.state[host.at(pre["epoch"] as i64)];
    assert!(
        (pre["alpha"] - h[0]).abs() < 1e-3 && (pre["ell"] - h[2]).abs() < 1e-3,
        "pre-split: firmware {pre:?} vs host {h:?}"
    );

    // The split epoch within 5 %: the host's first epoch with |δα| > 0.01.
    let host_split = host
        .state
        .iter()
        .zip(&host.epochs)
        .find(|(s, _)| s[1].abs() > 0.01)
        .map(|(_, &e)| e)
        .expect("the host run splits");
    assert!(
        ((split - host_split) as f64).abs() <= 0.05 * host_split as f64,
        "split at epoch {split} on the device, {host_split} on the host"
    );

    // Final states within 1e-2, memory by memory.
    let last = host.per_memory.last().unwrap();
    for l in lines.iter().filter(|l| l.starts_with("final:")) {
        let f = fields(l);
        let (a, e) = last[f["memory"] as usize];
        assert!(
            (f["alpha"] - a).abs() < 1e-2 && (f["ell"] - e).abs() < 1e-2,
            "final: firmware {l} vs host ({a}, {e})"
        );
    }
    assert_eq!(lines.iter().filter(|l| l.starts_with("final:")).count(), 2);

    // The predicted fixed point is the host's reduced solve, and the saddle is near it.
    let p = fields(line(&lines, "predicted:"));
    let data = host_runner::data::paper200().unwrap();
    let d = data.d;
    let g = Gram::of(&data.x[21 * d..22 * d], &data.x[81 * d..82 * d]);
    let fps = Reduced::new(g, 20.0, 700.0, 2, Branch::Plus)
        .unwrap()
        .fixed_points(&SearchOptions::default(), &[]);
    assert!(
        fps.iter().any(|f| f.stable
            && (f.alpha - p["alpha"]).abs() < 1e-6
            && (f.ell - p["ell"]).abs() < 1e-6),
        "device prediction {p:?} vs host {fps:?}"
    );
    assert!(
        p["distance"] < 0.01,
        "pre-split state far from the saddle: {p:?}"
    );

    // The pin was held on from the split.
    assert_eq!(fields(line(&lines, "board:"))["led0"], 1.0);
}

/// The on-target unit tests (defmt-test) of the f32 kernels pass on the emulated M4F.
#[test]
fn on_target_kernel_tests_pass() {
    require_tools();
    let elf = build(
        &["test", "--release", "--test", "kernels", "--no-run"],
        "test",
        "kernels",
    );
    let (code, lines) = run_qemu(&elf);
    let ran = lines.iter().filter(|l| l.contains(" running `")).count();
    let passed = lines.iter().any(|l| l.contains("all tests passed"));
    println!(
        "on-target kernel tests: {ran} ran, {} passed",
        if passed { ran } else { 0 }
    );
    assert_eq!(code, 0, "on-target tests failed: {lines:#?}");
    assert!(passed && ran == 4, "expected 4 passing tests: {lines:#?}");
}
