//! `ghn data fetch`: get the four MNIST files from public mirrors (or a local directory),
//! verify the SHA-256 of their uncompressed content and store them atomically.

use crate::data::{maybe_gunzip, mnist_dir, sha256_hex, MNIST_FILES};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Public mirrors of the original MNIST distribution (each serves `NAME.gz`).
pub const MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist",
    "https://storage.googleapis.com/cvdf-datasets/mnist",
];

/// Options of `ghn data fetch`.
#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    /// Import the files from this directory (raw or .gz) instead of downloading them.
    #[arg(long, value_name = "DIR")]
    from: Option<PathBuf>,
    /// Where to store them (else $GHN_DATA_DIR, else the user data directory).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Base URL to download NAME.gz from, instead of the public mirrors (repeatable).
    #[arg(long, value_name = "URL")]
    mirror: Vec<String>,
    /// Download timeout per file, in seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

/// Fetches, verifies and stores the four files; files already present and valid are kept.
pub fn run(a: &FetchArgs) -> Result<()> {
    let dir = mnist_dir(a.data_dir.as_deref())?;
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("{}: cannot create directory", dir.display()))?;
    let mirrors: Vec<String> = if a.mirror.is_empty() {
        MIRRORS.iter().map(|s| s.to_string()).collect()
    } else {
        a.mirror.clone()
    };
    for (name, sha) in MNIST_FILES {
        let dest = dir.join(name);
        if dest.is_file()
            && std::fs::read(&dest)
                .map(|b| sha256_hex(&b) == sha)
                .unwrap_or(false)
        {
            println!("{name}: present and verified");
            continue;
        }
        let (bytes, origin) = match &a.from {
            Some(src) => (read_local(src, name)?, src.display().to_string()),
            None => download(&mirrors, name, Duration::from_secs(a.timeout))?,
        };
        let raw = maybe_gunzip(bytes, &format!("{name} from {origin}"))?;
        let got = sha256_hex(&raw);
        if got != sha {
            bail!("{name} from {origin}: SHA-256 {got} does not match the expected {sha} (corrupt or truncated download); nothing was stored");
        }
        crate::npz::write_atomic(&dest, &raw)?;
        println!("{name}: verified and stored in {}", dir.display());
    }
    Ok(())
}

fn read_local(src: &Path, name: &str) -> Result<Vec<u8>> {
    for cand in [src.join(name), src.join(format!("{name}.gz"))] {
        if cand.is_file() {
            return std::fs::read(&cand)
                .with_context(|| format!("{}: cannot read", cand.display()));
        }
    }
    bail!(
        "--from {}: neither {name} nor {name}.gz is there",
        src.display()
    )
}

fn download(mirrors: &[String], name: &str, timeout: Duration) -> Result<(Vec<u8>, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build()
        .into();
    let mut errors = Vec::new();
    for base in mirrors {
        let url = format!("{}/{name}.gz", base.trim_end_matches('/'));
        match agent.get(&url).call() {
            Ok(mut resp) => match resp.body_mut().with_config().limit(200 << 20).read_to_vec() {
                Ok(bytes) => return Ok((bytes, url)),
                Err(e) => errors.push(format!("{url}: {e}")),
            },
            Err(e) => errors.push(format!("{url}: {e}")),
        }
    }
    bail!(
        "cannot download {name}: {}. Offline? Copy the MNIST files to a directory and run `ghn data fetch --from DIR`",
        errors.join("; ")
    )
}
