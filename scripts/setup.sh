#!/usr/bin/env bash
# Installs what a fresh machine of this kind lacks to build and run margincall, idempotently.
#
# - Debian packages: protobuf-compiler (litep2p), clang + libclang-dev (C code; libclang was
#   for RocksDB's bindgen, no longer built: kept until a fresh machine shows it unneeded),
#   Node.js/npm for the @polkadot/api end-to-end client.
# - A WASM toolchain for substrate-wasm-builder. rustup here has only the host target and
#   cannot download others, so we use Debian's rustc-web (which ships the std *source*),
#   compile core/alloc/compiler_builtins for `wasm32v1-none` once with bitcode (the runtime is
#   built with LTO), install them into that sysroot and link it as the rustup toolchain `web`.
#   `.cargo/config.toml` then sets WASM_BUILD_TOOLCHAIN=web and
#   WASM_BUILD_RUSTFLAGS="-C link-arg=--allow-undefined" (Rust >= 1.96 no longer passes it to
#   the wasm linker, and sp-io's host functions are imports).
# The host build stays on rustup's stable toolchain; RUSTC_BOOTSTRAP is used only for the
# one-off std build in a throw-away directory, never exported for the project.
set -euo pipefail

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

pkgs=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22 protobuf-compiler clang libclang-dev curl)
if ! dpkg -s "${pkgs[@]}" >/dev/null 2>&1; then
  echo "setup: installing ${pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

rustc_id=$(/usr/bin/rustc -vV | sha256sum | cut -c1-16)
libdir=$(/usr/bin/rustc --print sysroot)/lib/rustlib/wasm32v1-none/lib
if [[ ! -f "$libdir/.built-by-$rustc_id" ]]; then
  echo "setup: building core/alloc for wasm32v1-none (once)"
  work=$(mktemp -d)
  mkdir -p "$work/src"
  printf '[package]\nname = "wasm-std"\nversion = "0.0.0"\nedition = "2021"\n' >"$work/Cargo.toml"
  echo '#![no_std]' >"$work/src/lib.rs"
  (cd "$work" && env -u CARGO_TARGET_DIR PATH=/usr/bin:$PATH RUSTC_BOOTSTRAP=1 \
    RUSTFLAGS="-C embed-bitcode=yes" \
    cargo build --quiet --release --target wasm32v1-none -Zbuild-std=core,alloc)
  $SUDO rm -rf "$libdir" && $SUDO mkdir -p "$libdir"
  $SUDO cp "$work"/target/wasm32v1-none/release/deps/lib{core,alloc,compiler_builtins}-*.rlib "$libdir/"
  $SUDO touch "$libdir/.built-by-$rustc_id"
  rm -rf "$work"
  # Runtime artefacts built against an older std are stale now.
  rm -rf "${CARGO_TARGET_DIR:-$HOME/.cache/margincall/target}"/*/wbuild
fi
rustup toolchain list | grep -q '^web' || rustup toolchain link web /usr

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
echo "setup: ready ($(rustup run web rustc --version), target wasm32v1-none; node $(node --version))"
