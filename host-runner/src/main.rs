//! `ghn`: train generalized Hopfield networks on MNIST exactly as the paper's reference
//! implementation does, evaluate them, fetch data and benchmark the kernels.
//!
//! The CLI layer only parses and validates; `main` turns every error into one line on
//! stderr and exit code 2, with nothing written to `--out`.

use clap::Parser;
use host_runner::cli;

fn main() {
    let args = cli::Cli::parse();
    let code = match cli::dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ghn: error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}
