#!/usr/bin/env bash
# Generates the Agora pallets' weights.rs with `agora-node benchmark pallet` on
# a release build with --features runtime-benchmarks (~50 min cold on 2 cores;
# its own target/release, so it does not disturb the test build), and measures
# pallet_balances in the same run for docs/benchmarks.md's ratio. Run it on an
# otherwise idle machine.
#
#   scripts/bench-weights.sh            steps 50, repeat 20 (what is committed)
#   STEPS=10 REPEAT=5 scripts/bench-weights.sh   a quicker run
#   PALLETS="jobs" scripts/bench-weights.sh       only these pallets (the
#                                                 others' weights.rs stay)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
STEPS=${STEPS:-50}
REPEAT=${REPEAT:-20}
cargo build --locked --release -p agora-node --features runtime-benchmarks
NODE="$CARGO_TARGET_DIR/release/agora-node"
OUT=${BENCH_OUT:-target/bench}
mkdir -p "$OUT"
for p in ${PALLETS:-slashing models jobs verification reputation channels passes}; do
  "$NODE" benchmark pallet --runtime-log=error --chain dev --wasm-execution compiled \
    --pallet "pallet_$p" --extrinsic '*' --steps "$STEPS" --repeat "$REPEAT" \
    --template scripts/weight-template.hbs --output "pallets/$p/src/weights.rs" \
    --json-file "$OUT/pallet_$p.json"
done
# The peer for the job-cycle ratio: a balance transfer, measured in the same run.
"$NODE" benchmark pallet --runtime-log=error --chain dev --wasm-execution compiled \
  --pallet pallet_balances --extrinsic transfer_keep_alive --steps "$STEPS" --repeat "$REPEAT" \
  --json-file "$OUT/pallet_balances.json" >/dev/null
python3 scripts/job-cycle-ratio.py "$OUT"
