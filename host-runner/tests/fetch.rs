//! `ghn data fetch` against a local HTTP server on loopback: a good mirror, a corrupt and a
//! truncated download, mirror fallback, no network, and import from a local directory.

mod common;
use common::*;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

/// Serves `files` (URL path → body) on 127.0.0.1 until the test process ends; returns the
/// base URL. Unknown paths get 404.
fn serve(files: HashMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let files = Arc::new(files);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut s) = stream else { continue };
            let files = files.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]);
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                match files.get(&path) {
                    Some(body) => {
                        let _ = write!(
                            s,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = s.write_all(body);
                    }
                    None => {
                        let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    }
                }
            });
        }
    });
    format!("http://{addr}/mnist")
}

const NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

fn mirror_files(edit: impl Fn(&str, Vec<u8>) -> Vec<u8>) -> HashMap<String, Vec<u8>> {
    let src = shared_mnist();
    NAMES
        .iter()
        .map(|n| {
            let gz = std::fs::read(src.join(format!("{n}.gz"))).unwrap();
            (format!("/mnist/{n}.gz"), edit(n, gz))
        })
        .collect()
}

fn fetch(dest: &Path, extra: &[&str]) -> std::process::Output {
    let d = dest.display().to_string();
    let mut args = vec!["data", "fetch", "--data-dir", &d, "--timeout", "30"];
    args.extend_from_slice(extra);
    run(&args)
}

fn stored(dest: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dest)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn downloads_verify_and_store_then_train_on_them() {
    let url = serve(mirror_files(|_, b| b));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("mnist");
    let o = fetch(&dest, &["--mirror", &url]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stored(&dest), {
        let mut v: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    });
    // Stored uncompressed, byte-identical to the gunzipped originals.
    let raw = std::fs::read(dest.join("t10k-labels-idx1-ubyte")).unwrap();
    assert_eq!(raw.len(), 10008);
    // A second fetch finds them present and downloads nothing (the mirror is gone now).
    let o = fetch(&dest, &["--mirror", "http://127.0.0.1:1/none"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("present and verified"));
    // And training reads them.
    let out = dir.path().join("run").display().to_string();
    run_ok(&[
        "train",
        "--data",
        "mnist",
        "--data-dir",
        &dest.display().to_string(),
        "--per-class",
        "5",
        "--memories",
        "2",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        &out,
    ]);
}

#[test]
fn corrupt_download_is_rejected_and_nothing_is_stored() {
    let url = serve(mirror_files(|_, mut b| {
        let i = b.len() / 2;
        b[i] ^= 0x55;
        b
    }));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("mnist");
    let o = fetch(&dest, &["--mirror", &url]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("train-images-idx3-ubyte"), "{err}");
    assert!(err.contains("corrupt") || err.contains("SHA-256"), "{err}");
    assert!(stored(&dest).is_empty(), "stored {:?}", stored(&dest));
}

#[test]
fn truncated_download_is_rejected() {
    let url = serve(mirror_files(|_, b| b[..b.len() * 2 / 3].to_vec()));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("mnist");
    let o = fetch(&dest, &["--mirror", &url]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("train-images-idx3-ubyte") && err.contains("truncated"),
        "{err}"
    );
    assert!(stored(&dest).is_empty());
}

#[test]
fn falls_back_to_the_next_mirror() {
    let good = serve(mirror_files(|_, b| b));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("mnist");
    let o = fetch(
        &dest,
        &["--mirror", "http://127.0.0.1:1/closed", "--mirror", &good],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stored(&dest).len(), 4);
}

#[test]
fn offline_fails_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("mnist");
    let o = fetch(&dest, &["--mirror", "http://127.0.0.1:1/closed"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("cannot download train-images-idx3-ubyte") && err.contains("--from DIR"),
        "{err}"
    );
    assert!(stored(&dest).is_empty());
}

#[test]
fn imports_local_copies() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("mnist");
    let o = fetch(&dest, &["--from", &shared_mnist().display().to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stored(&dest).len(), 4);
    let bad = tempfile::tempdir().unwrap();
    let o = fetch(
        &dir.path().join("other"),
        &["--from", &bad.path().display().to_string()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--from"), "{}", stderr(&o));
}
