#!/usr/bin/env bash
# Installs, idempotently, everything a fresh machine needs to build and test Agora.
# Safe to re-run: each step checks before it installs.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

# 1. System packages (clang for the wasm/C deps, protoc for libp2p).
need_apt=()
for pkg in clang libclang-dev protobuf-compiler pkg-config libssl-dev curl unzip; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt: installing ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
else
  log "apt: all packages present"
fi

# 2. Rust targets and components for the wasm runtime.
if ! command -v rustup >/dev/null; then
  echo "rustup not found: install Rust from https://rustup.rs first" >&2; exit 1
fi
installed_targets=$(rustup target list --installed)
for t in wasm32-unknown-unknown wasm32v1-none; do
  grep -qx "$t" <<<"$installed_targets" || { log "rustup: adding target $t"; rustup target add "$t"; }
done
rustup component list --installed | grep -q '^rust-src' || { log "rustup: adding rust-src"; rustup component add rust-src; }

# 3. Node.js packages for the Polkadot.js end-to-end tests (versions pinned by
#    tests/js/package-lock.json).
if ! command -v npm >/dev/null; then
  log "apt: installing nodejs and npm"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d tests/js/node_modules/@polkadot/api ] || [ tests/js/package-lock.json -nt tests/js/node_modules/.package-lock.json ]; then
  log "npm: installing tests/js packages"
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
else
  log "npm: tests/js packages present"
fi
log "done"
