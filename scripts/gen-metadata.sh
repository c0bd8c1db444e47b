#!/usr/bin/env bash
# Regenerates client/artifacts/metadata.scale (metadata V16) from a dev
# node running the current runtime. The worker's and client's subxt types are
# generated from this file; the worker's end-to-end test fails when it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/features.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
# The node from the test build (scripts/test.sh's features): the worker crate may
# not compile until this file is regenerated, so its failure is not fatal here;
# --keep-going still builds (and links) the node, so its runtime is current.
cargo build --locked --workspace --features "$TEST_FEATURES" --tests --keep-going >/dev/null 2>&1 ||
  [ -x "$CARGO_TARGET_DIR/debug/agora-node" ] || cargo build --locked -p agora-node
PORT=${PORT:-9977}
"$CARGO_TARGET_DIR/debug/agora-node" --dev --tmp --rpc-port "$PORT" --port 0 --no-prometheus >/tmp/gen-metadata-node.log 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  curl -sf -H 'Content-Type: application/json' -d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' "http://127.0.0.1:$PORT" >/dev/null && break
  sleep 1
done
curl -s -H 'Content-Type: application/json' \
  -d '{"id":1,"jsonrpc":"2.0","method":"state_call","params":["Metadata_metadata_at_version","0x10000000"]}' \
  "http://127.0.0.1:$PORT" | python3 -c '
import json, sys
b = bytes.fromhex(json.load(sys.stdin)["result"][2:])
assert b[0] == 1, "the runtime has no V16 metadata"
b = b[1:]
mode = b[0] & 3
width = {0: 1, 1: 2, 2: 4}[mode]
n = int.from_bytes(b[:width], "little") >> 2
open("client/artifacts/metadata.scale", "wb").write(b[width:width + n])
print(f"client/artifacts/metadata.scale: {n} bytes")
'
