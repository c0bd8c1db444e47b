#!/usr/bin/env bash
# Finalized throughput of one node (docs/benchmarks.md, "Throughput"): starts a
# release dev node and runs `agora-load` (cli/src/bin/agora-load/) against it,
# which in one run, from the same funded client accounts, drives
#   1. balances.transfer_keep_alive between the clients (the peer), then
#   2. whole job cycles: clients order jobs from PROVIDERS offers (Bob's and
#      those of load providers it bonds and opens on Bob's terms), a scripted
#      provider with their worker keys (no model) signs a receipt for each as
#      soon as it sees it in a block (orders go ORDER_BATCH a call: 1 is
#      jobs.submit_job each, more is jobs.submit_jobs), relayers post them in batches
#      (jobs.submit_receipts, RECEIPT_BATCH a call), and the chain settles each
#      after its dispute window,
# closed-loop (every client keeps WINDOW transactions in flight; orders stop at
# the offers' capacity), and counts Transfer / JobFinalized events in
# finalized blocks by their timestamps. Prints the JSON report, the ratio, and
# why the node ended each block it authored.
#
#   scripts/bench-throughput.sh                      SECS=90 CLIENTS=64 WINDOW=64 PROVIDERS=8 RECEIPT_BATCH=64 ORDER_BATCH=1
#   PHASES=jobs SECS=120 scripts/bench-throughput.sh one phase only
#   AUDIT_RATE=50000 scripts/bench-throughput.sh     receipts drawn for audits at
#                          5 % (a public chain's default; the dev chain's is 0),
#                          set by Alice's sudo key first; drawn jobs wait for
#                          a committee no verifier serves and are not counted
#   NODE_BIN=/tmp/old/agora-node scripts/bench-throughput.sh   another build's
#                          node (a baseline: its runtime's calls must match),
#                          driven by this build's load generator
#
# Builds `cargo build --release -p agora-node -p agora-cli` first (~50 min cold
# on 2 cores, its own target/release; no test features). Run it on an
# otherwise idle machine: the node and the load generator share the cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
SECS=${SECS:-90}
CLIENTS=${CLIENTS:-64}
WINDOW=${WINDOW:-64}
PHASES=${PHASES:-transfers,jobs}
PROVIDERS=${PROVIDERS:-8}
RECEIPT_BATCH=${RECEIPT_BATCH:-64}
ORDER_BATCH=${ORDER_BATCH:-1}
AUDIT_RATE=${AUDIT_RATE:-}
RPC=${AGORA_RPC_PORT:-9966}
cargo build --locked --release -p agora-node -p agora-cli
BIN=$CARGO_TARGET_DIR/release
work=$(mktemp -d)
mkdir -p target/bench
cleanup() { kill "${NODE:-}" 2>/dev/null || true; wait 2>/dev/null || true; cp "$work/node.log" target/bench/throughput-node.log 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
NODE_BIN=${NODE_BIN:-$BIN/agora-node}
"$NODE_BIN" --dev --base-path "$work/node" --rpc-port "$RPC" --port 0 --no-prometheus \
  --rpc-max-connections 1000 >"$work/node.log" 2>&1 &
NODE=$!
for _ in $(seq 60); do
  "$BIN/agora" --url "ws://127.0.0.1:$RPC" model list >/dev/null 2>&1 && break
  sleep 1
done
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo +changes), $(nproc) CPUs:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); release node --dev (3 s blocks)${NODE_BIN:+ from $NODE_BIN}; $CLIENTS clients x $WINDOW in flight; $SECS s per phase; $PROVIDERS providers, receipts $RECEIPT_BATCH a call, orders $ORDER_BATCH a call${AUDIT_RATE:+; AUDIT_RATE $AUDIT_RATE ppm}"
"$BIN/agora-load" --url "ws://127.0.0.1:$RPC" --clients "$CLIENTS" --window "$WINDOW" --seconds "$SECS" \
  --phases "$PHASES" --providers "$PROVIDERS" --receipt-batch "$RECEIPT_BATCH" --order-batch "$ORDER_BATCH" ${AUDIT_RATE:+--audit-rate "$AUDIT_RATE"} --json target/bench/throughput.json >/dev/null
python3 - target/bench/throughput.json "$work/node.log" <<'EOF'
import json, re, sys, collections
r = json.load(open(sys.argv[1]))
print(json.dumps(r, indent=2))
t, j = r.get("transfers"), r.get("job_cycles")
if t:
    print(f"finalized transfer_keep_alive/s: {t['per_second']:.1f} ({t['in_window']} in {t['window_secs']:.1f} s, at most {t['max_per_block']} a block)")
if j:
    print(f"finalized job cycles/s:          {j['per_second']:.1f} ({j['in_window']} in {j['window_secs']:.1f} s, at most {j['max_per_block']} a block); goal >= 1000")
    print(f"  of which while orders went in:  {j['under_load_per_second']:.1f} ({j['under_load']} in {j['under_load_secs']:.1f} s)")
    if r.get("audit_rate"):
        print(f"  receipts drawn for an audit:    {j['audits_started']} (AUDIT_RATE {r['audit_rate']} ppm; not finalized in the run)")
if t and j and j["per_second"] > 0:
    print(f"transfers per job cycle: {t['per_second'] / j['per_second']:.1f}")
ends = collections.Counter(m.group(1) for m in re.finditer(r"Prepared block for proposing .* end: (\w+)", open(sys.argv[2]).read()))
print("why the node ended its blocks:", dict(ends))
EOF
