# Sourced by the project's scripts: one target directory outside the clone, shared by the dev
# node, the tests, the benchmarks and CI, so none of them rebuilds what another built.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/margincall/target}"
export PATH="$HOME/.cargo/bin:$PATH"
# The node binary every script runs (debug profile: see README, "Build profile"); NODE_BIN
# overrides it (a copy kept aside while cargo rebuilds).
NODE_BIN="${NODE_BIN:-$CARGO_TARGET_DIR/debug/margincall-node}"
export NODE_BIN
