#!/usr/bin/env bash
# CPU a dev node spends at rest: starts `agora-node --dev` (the test build's
# by default, or the binary given), waits 30 s, then reads its CPU time from
# /proc over 60 s. Run it on an otherwise idle machine.
#
#   scripts/node-cpu.sh [path/to/agora-node]
set -euo pipefail
target=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
node=${1:-$target/debug/agora-node}
dir=$(mktemp -d)
AGORA_WASM_CACHE=${AGORA_WASM_CACHE:-$target/wasm-cache} "$node" --dev --base-path "$dir" \
  --rpc-port 0 --port 0 --no-prometheus --no-telemetry --no-mdns >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
sleep 30
a=$(ticks)
sleep 60
b=$(ticks)
hz=$(getconf CLK_TCK)
echo "$node: $(( (b - a) * 100 / hz )) centi-CPU-seconds in 60 s at rest ($(grep -o 'best: #[0-9]*' "$dir/log" | tail -1))"
