#!/usr/bin/env bash
# Sets up the machine and runs every Agora test: the README's test command, and
# exactly what .ci/run runs.
#
#   1. scripts/setup.sh (idempotent)
#   2. scripts/fetch-models.sh (models for the worker tests; sha256-checked)
#   3. cargo test --workspace: unit tests, runtime checks, node end-to-end tests
#      (dev node, chain specs, 4-validator local network), the worker's engine
#      tests on the real models and its end-to-end and fault tests (dev node +
#      agora-worker + agora client)
#   4. the Polkadot.js tests in tests/js against a real dev node
#   (and, between 2 and 3, a check that the runtime-benchmarks build compiles)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/features.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# Incremental artifacts only help edits in one checkout; every CI clone has a new
# path, so they would pile up (~20 GB) in the shared target dir without ever
# being reused.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

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
cargo test --locked --workspace --features "$TEST_FEATURES" --no-run

step "runtime-benchmarks compiles (what scripts/bench-weights.sh builds)"
# The runtime with its benchmarks and every pallet's benchmarking.rs and
# helpers, natively (no wasm): a check, so it shares nothing with the test
# build and costs ~1 min warm. The node's benchmark CLI is left to
# bench-weights.sh (it pulls in polkadot's overseer crates).
SKIP_WASM_BUILD=1 cargo check --locked -p agora-runtime --features runtime-benchmarks

step "cargo test --workspace"
# The node tests start real nodes; run test binaries one at a time so the
# 4-validator network does not compete with the dev-node test for 2 cores.
cargo test --locked --workspace --features "$TEST_FEATURES" --no-fail-fast -- --test-threads=1

step "Polkadot.js tests"
(cd tests/js && AGORA_NODE="$CARGO_TARGET_DIR/debug/agora-node" npm test)

step "all tests passed in $(( SECONDS - t0 )) s"
