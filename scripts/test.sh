#!/usr/bin/env bash
# Sets up the machine and runs every Agora test: the README's test command, and
# exactly what .ci/run runs.
#
#   1. scripts/setup.sh (idempotent)
#   2. scripts/fetch-models.sh (models for the worker tests; sha256-checked)
#   3. cargo nextest run --workspace: unit tests, runtime checks, node
#      end-to-end tests (dev node, chain specs, 4-validator local network), the
#      worker's engine tests on the real models and its end-to-end and fault
#      tests (dev node + agora-worker + agora client); beside it a check that
#      the runtime-benchmarks build compiles, then the doc tests
#   4. the browser dApp (web/) in headless chromium with Playwright, against a
#      real dev node, worker and verifier; beside it the Polkadot.js tests in
#      tests/js against real dev nodes
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
# Beside the tests, niced (they take the cores while the tests wait for
# blocks), one after the other in one background job, as cargo's lock on the
# target dir would serialise them anyway:
# 1. the runtime with its benchmarks and every pallet's benchmarking.rs and
#    helpers, natively: what scripts/bench-weights.sh builds, checked. Its
#    feature set shares little with the test build. `agora-runtime` has no
#    build script (the wasm is `agora-runtime-wasm`'s), so the check compiles
#    no wasm builder: with one it rebuilt binaryen's C++ (differently unified
#    build dependencies) and ran on for ~4 min after the tests. The node's
#    benchmark CLI is left to bench-weights.sh (it pulls in polkadot's
#    overseer crates).
# 2. the doc tests: rustdoc compiles each example against the libraries the
#    build step made.
side_t0=$SECONDS
(
  nice -n 19 cargo check --locked -p agora-runtime --features runtime-benchmarks \
    >"$META/benchmarks-check.log" 2>&1 || exit 10
  nice -n 19 cargo test --locked --workspace --features "$TEST_FEATURES" --doc \
    >"$META/doc-tests.log" 2>&1 || exit 11
) &
side_pid=$!
tests_rc=0
"$NEXTEST" nextest run --binaries-metadata "$META/binaries.json" \
  --cargo-metadata "$META/cargo-metadata.json" --no-fail-fast || tests_rc=$?
side_rc=0
wait "$side_pid" || side_rc=$?
step "runtime-benchmarks check and doc tests: exit $side_rc after $(( SECONDS - side_t0 )) s"
tail -n 2 "$META/benchmarks-check.log"
[ "$side_rc" = 10 ] && { cat "$META/benchmarks-check.log"; exit 1; }
echo "doc tests: $(grep -cE '^test .* ok$' "$META/doc-tests.log" || true) passed"
[ "$side_rc" = 0 ] || { cat "$META/doc-tests.log"; exit 1; }
[ "$tests_rc" = 0 ] || exit "$tests_rc"

step "the dApp in a browser (Playwright, Debian's chromium), the Polkadot.js tests beside it"
# `npm test` in web/ type-checks and builds the production bundle, serves it
# with vite preview and drives it headless against a dev node, a worker and a
# verifier; the dev offers' worker port (8700) and Alice's verifier (8800) are
# fixed, so this runs after the Rust tests, never beside them. The Polkadot.js
# tests (tests/js) start their own dev nodes on free ports, so they run beside
# it; their output follows the dApp's.
js_t0=$SECONDS
(cd tests/js && AGORA_NODE="$CARGO_TARGET_DIR/debug/agora-node" npm test) \
  >"$META/js-tests.log" 2>&1 &
js_pid=$!
web_rc=0
(cd web && npm test) || web_rc=$?
js_rc=0
wait "$js_pid" || js_rc=$?
step "Polkadot.js tests: exit $js_rc after $(( SECONDS - js_t0 )) s"
if [ "$js_rc" = 0 ]; then grep -E "^# (tests|pass|fail|duration_ms)" "$META/js-tests.log"
else cat "$META/js-tests.log"; fi
[ "$web_rc" = 0 ] || exit "$web_rc"
[ "$js_rc" = 0 ] || exit "$js_rc"

step "all tests passed in $(( SECONDS - t0 )) s"
