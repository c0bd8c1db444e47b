#!/usr/bin/env bash
# The paid API under load (docs/benchmarks.md, "Paid serving"): starts a dev
# node and Bob's worker, then `agora-worker bench-channels` measures, in one run
# on this machine:
#   1. the voucher path alone: signature check + durable acceptance in a fresh
#      voucher book (redb, group commit), one at a time and 64 at once;
#   2. MiniLM alone (batch 1, batch 64), with nothing else running, before
#      and again after the load (the ratio is against their mean: this
#      machine's speed drifts over minutes);
#   3. 64 clients (4 channels x 16 lanes) paying embeddings end to end for SECS.
# It prints the JSON and the ratios against the goals (>= 1,000 vouchers/s;
# voucher cost < 5% of a batch-1 inference; end to end >= 0.9x the engine's
# batched throughput). The binaries are the test build's (dev profile, the hot
# crates at opt-level 3); run it on an otherwise idle machine.
#
#   scripts/bench-channels.sh            SECS=20
#   ENCODING=float scripts/bench-channels.sh     the clients ask for JSON
#                                        numbers (default base64, what the
#                                        official openai client asks for)
#   EMBED_BATCH=32 scripts/bench-channels.sh     the worker's `--embed-batch`
#                                        (most texts in one forward pass)
#   WORKER_SPIN=1000 scripts/bench-channels.sh   the worker's engine threads spin
#                                        this many times (candle's default
#                                        25,000) before parking between kernels
#   WORKER_THREADS=1 scripts/bench-channels.sh   the worker's engine on 1 thread
#                                        (the other core left to HTTP, vouchers
#                                        and receipts); the engine-alone rows
#                                        still use every core
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/features.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
SECS=${SECS:-20}
cargo test --locked --workspace --features "$TEST_FEATURES" --no-run >/dev/null
BIN=$CARGO_TARGET_DIR/debug
RPC=${AGORA_RPC_PORT:-9955}
API=${AGORA_API_PORT:-8755}
work=$(mktemp -d)
cleanup() { kill "${WORKER:-}" "${NODE:-}" 2>/dev/null || true; wait 2>/dev/null || true; cp "$work/worker.log" target/bench/channels-worker.log 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$BIN/agora-node" --dev --tmp --rpc-port "$RPC" --port 0 --no-prometheus >"$work/node.log" 2>&1 &
NODE=$!
for _ in $(seq 120); do
  "$BIN/agora" --url "ws://127.0.0.1:$RPC" model list >/dev/null 2>&1 && break
  sleep 1
done
WORKER_ENV=(env)
[ -n "${WORKER_THREADS:-}" ] && WORKER_ENV+=(RAYON_NUM_THREADS="$WORKER_THREADS" CANDLE_NUM_THREADS="$WORKER_THREADS")
[ -n "${WORKER_SPIN:-}" ] && WORKER_ENV+=(CANDLE_BARRIER_POOL_SPIN_LIMIT="$WORKER_SPIN")
"${WORKER_ENV[@]}" "$BIN/agora-worker" serve --url "ws://127.0.0.1:$RPC" --suri //Bob --no-progress \
  --data-dir "$work/worker" --listen "127.0.0.1:$API" --endpoint "http://127.0.0.1:$API" \
  --claim-every-secs 30 ${EMBED_BATCH:+--embed-batch "$EMBED_BATCH"} >"$work/worker.log" 2>&1 &
WORKER=$!
for _ in $(seq 240); do grep -q serving "$work/worker.log" && break; sleep 1; done
grep -q serving "$work/worker.log" || { tail -20 "$work/worker.log"; exit 1; }
echo "commit $(git rev-parse --short HEAD), $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); worker engine threads: ${WORKER_THREADS:-all cores}; spin: ${WORKER_SPIN:-default}; embed batch: ${EMBED_BATCH:-default}; vectors: ${ENCODING:-base64}"
mkdir -p target/bench
"$BIN/agora-worker" bench-channels --url "ws://127.0.0.1:$RPC" --worker "http://127.0.0.1:$API" --secs "$SECS" \
  --encoding "${ENCODING:-base64}" \
  >target/bench/channels.json
python3 scripts/bench-channels-report.py <target/bench/channels.json
