#!/usr/bin/env bash
# The main job: set up, build, and run an Agora dev chain that produces (BABE) and
# finalizes (GRANDPA) blocks, showing its progress.
#
#   scripts/demo.sh          run until Ctrl-C
#   scripts/demo.sh --exit   stop cleanly once block 5 is finalized
#
# RPC on ws://127.0.0.1:${AGORA_RPC_PORT:-9944} (Polkadot.js Apps: choose "Development"
# or https://polkadot.js.org/apps/?rpc=ws://127.0.0.1:9944), Prometheus on :9615.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
PORT=${AGORA_RPC_PORT:-9944}
EXIT=0; [ "${1:-}" = "--exit" ] && EXIT=1

bash scripts/setup.sh
echo "[demo] building agora-node (the first build takes ~30 min on 2 cores)"
cargo build --locked -p agora-node
NODE="$CARGO_TARGET_DIR/debug/agora-node"

LOG=$(mktemp -t agora-demo-node.XXXX.log)
"$NODE" --dev --tmp --rpc-port "$PORT" --no-telemetry >"$LOG" 2>&1 &
PID=$!
cleanup() {
  if kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID"; wait "$PID" 2>/dev/null || true
    echo "[demo] node stopped"
  fi
}
trap cleanup EXIT INT TERM
echo "[demo] agora-node --dev started (pid $PID, log $LOG)"

rpc() { # prints the response, or nothing while the node is still starting
  curl -s -m 5 -H 'Content-Type: application/json' \
    -d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$1\",\"params\":${2:-[]}}" "http://127.0.0.1:$PORT" || true
}
num() { sed -n 's/.*"number":"\(0x[0-9a-f]*\)".*/\1/p'; }

last=""
while true; do
  kill -0 "$PID" 2>/dev/null || { echo "[demo] node exited; last log lines:"; tail -20 "$LOG"; exit 1; }
  best=$(rpc chain_getHeader | num)
  fin_hash=$(rpc chain_getFinalizedHead | sed -n 's/.*"result":"\(0x[0-9a-f]*\)".*/\1/p')
  fin=""; [ -n "$fin_hash" ] && fin=$(rpc chain_getHeader "[\"$fin_hash\"]" | num)
  if [ -n "$best" ] && [ -n "$fin" ]; then
    line="best #$((best)), finalized #$((fin))"
    [ "$line" != "$last" ] && { echo "[demo] $line"; last=$line; }
    if [ $EXIT = 1 ] && [ $((fin)) -ge 5 ]; then
      echo "[demo] the dev chain produces and finalizes blocks"
      exit 0
    fi
  fi
  sleep 1
done
