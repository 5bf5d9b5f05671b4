# Sourced by the project's scripts: one target directory outside the clone, shared by the dev
# node, the tests, the benchmarks and CI, so none of them rebuilds what another built.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/margincall/target}"
export PATH="$HOME/.cargo/bin:$PATH"
# The node binary every script runs (debug profile: see README, "Build profile"); NODE_BIN
# overrides it (a copy kept aside while cargo rebuilds).
NODE_BIN="${NODE_BIN:-$CARGO_TARGET_DIR/debug/margincall-node}"
export NODE_BIN
# How the node instantiates the runtime, for every node the scripts start. wasmtime's default,
# `pooling-copy-on-write`, writes each runtime image into a memfd and seals it; the kernel may
# refuse the seal (EBUSY while a written page is still pinned, e.g. in another core's LRU batch,
# or always with shmem transparent huge pages on older kernels), and the node then cannot run
# the runtime at all: CI failed so on `benchmark pallet --list` (session 32). `pooling` keeps
# the instance pool and copies the image instead, with no memfd.
# (The node's run command and its `benchmark pallet` name the flag differently.)
NODE_WASM=(--wasmtime-instantiation-strategy pooling)
BENCH_WASM=(--wasm-instantiation-strategy pooling)
# The one executor the flag does not reach, the genesis builder's (sc-chain-spec's, with
# wasmtime's default), still seals a memfd when a process builds a genesis from a chain spec's
# preset: at start, before anything is done. So a command that failed on that alone is run
# again (at most three times in all); any other failure is returned as it is.
MEMFD_REFUSED="cannot add seals to the memfd"
retry_memfd() {
  local err rc=0 try
  err=$(mktemp)
  for try in 1 2 3; do
    rc=0
    "$@" 2>"$err" || rc=$?
    cat "$err" >&2
    if ((rc == 0)) || ! grep -q "$MEMFD_REFUSED" "$err"; then break; fi
    echo "retry_memfd: the kernel refused to seal a runtime image's memfd (try $try of 3)" >&2
  done
  rm -f "$err"
  return $rc
}
