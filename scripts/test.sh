#!/usr/bin/env bash
# Sets up the machine and runs every Agora test: the README's test command, and
# exactly what .ci/run runs.
#
#   1. scripts/setup.sh (idempotent)
#   2. scripts/fetch-models.sh (models for the worker tests; sha256-checked)
#   3. cargo nextest run --workspace, beside it a check that the
#      runtime-benchmarks build compiles, then the doc tests: unit tests, runtime
#      checks, node end-to-end tests
#      (dev node, chain specs, 4-validator local network), the worker's engine
#      tests on the real models and its end-to-end and fault tests (dev node +
#      agora-worker + agora client)
#   4. the Polkadot.js tests in tests/js against a real dev node
#   5. the browser dApp (web/) in headless chromium with Playwright, against a
#      real dev node, worker and verifier
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/features.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# Incremental artifacts only help edits in one checkout; every CI clone has a new
# path, so they would pile up (~20 GB) in the shared target dir without ever
# being reused.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
# Every node the tests start (dozens, 4-5 at once in the network tests) shares
# one wasmtime cache: the runtime is compiled by cranelift once per runtime
# version, not again at every node start (agora-node --wasm-cache).
export AGORA_WASM_CACHE=${AGORA_WASM_CACHE:-$CARGO_TARGET_DIR/wasm-cache}

step() { printf '\n==> %s\n' "$*"; }
t0=$SECONDS

step "setup"
bash scripts/setup.sh

step "models"
bash scripts/fetch-models.sh

step "build (every crate, test and binary, dev profile)"
# One build with the workspace's unified features: the node binary the tests
# start (Rust, worker and Polkadot.js) is the one this builds. A separate
# `cargo build -p agora-node` would unify features differently and compile much
# of the node's dependency tree twice. The features (scripts/features.sh) add the
# cheating switch the verification end-to-end test needs to this test build of
# the worker, and the TryRuntime API to its runtime (never to a release build:
# `cargo build --release -p agora-worker` / `-p agora-node`).
# --timings: cargo-timing.html in the target dir shows what the build waited on.
cargo test --locked --workspace --features "$TEST_FEATURES" --no-run --timings

step "tests: cargo nextest run --workspace, the runtime-benchmarks check beside it"
# Every test of every test binary (unit, runtime, node, worker end-to-end), each
# in its own process, three at once: the end-to-end tests mostly wait for
# blocks, so they overlap (.config/nextest.toml keeps the multi-node networks
# one at a time, and the model-heavy tests and the 4-validator equivocation
# race one at a time). nextest runs the binaries built above from their
# metadata, without calling cargo, so that cargo is free for the check.
NEXTEST="${AGORA_TOOLS:-$HOME/.cache/agora-tools}/bin/cargo-nextest"
META="$CARGO_TARGET_DIR/nextest-meta"
mkdir -p "$META"
"$NEXTEST" nextest list --locked --workspace --features "$TEST_FEATURES" \
  --list-type binaries-only --message-format json >"$META/binaries.json"
cargo metadata --locked --format-version 1 >"$META/cargo-metadata.json"
# The runtime with its benchmarks and every pallet's benchmarking.rs and
# helpers, natively (no wasm): what scripts/bench-weights.sh builds, checked. It
# shares nothing with the test build (~7 min cold, ~10 s warm), so it runs
# beside the tests, niced: it takes the cores while the tests wait for blocks.
# The node's benchmark CLI is left to bench-weights.sh (it pulls in polkadot's
# overseer crates).
check_t0=$SECONDS
SKIP_WASM_BUILD=1 nice -n 19 cargo check --locked -p agora-runtime --features runtime-benchmarks \
  >"$META/benchmarks-check.log" 2>&1 &
check_pid=$!
tests_rc=0
"$NEXTEST" nextest run --binaries-metadata "$META/binaries.json" \
  --cargo-metadata "$META/cargo-metadata.json" --no-fail-fast || tests_rc=$?
check_rc=0
wait "$check_pid" || check_rc=$?
step "runtime-benchmarks check: exit $check_rc after $(( SECONDS - check_t0 )) s"
tail -n 3 "$META/benchmarks-check.log"
[ "$check_rc" = 0 ] || { cat "$META/benchmarks-check.log"; exit "$check_rc"; }
[ "$tests_rc" = 0 ] || exit "$tests_rc"

step "doc tests"
cargo test --locked --workspace --features "$TEST_FEATURES" --doc

step "Polkadot.js tests"
(cd tests/js && AGORA_NODE="$CARGO_TARGET_DIR/debug/agora-node" npm test)

step "the dApp in a browser: Playwright (Debian's chromium) against a dev node and a worker"
# `npm test` type-checks and builds the production bundle, serves it with vite
# preview and drives it headless; the dev offers' worker port (8700) and
# Alice's verifier (8800) are fixed, so this runs after the Rust tests, never
# beside them.
(cd web && npm test)

step "all tests passed in $(( SECONDS - t0 )) s"
