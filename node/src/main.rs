//! The margincall node.
#![warn(missing_docs)]
// sc-cli's and sc-service's error types are large by design; every command returns them.
#![allow(clippy::result_large_err)]

mod benchmarking;
mod chain_spec;
mod cli;
mod command;
mod lending_rpc;
mod metrics;
mod rpc;
mod same_block;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
