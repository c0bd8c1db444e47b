#!/usr/bin/env bash
# The runtime fuzzer for longer than the suite's 60 s (docs/reliability.md):
# seeded random call sequences to every Agora pallet, balances, staking and
# referenda, across real blocks from the development and local-testnet
# genesis, every invariant after every block (runtime/fuzz).
#
#   scripts/fuzz.sh                    # 30 min from seed 1000
#   SECS=600 SEED=5000 scripts/fuzz.sh
#
# Uses the test build (scripts/test.sh's features), so it rebuilds nothing
# the suite has built. A failure names its seed and block; rerun one with
# SECS=0 SEED=<seed> (SECS=0 runs one seed).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
source scripts/features.sh
SECS=${SECS:-1800}
SEED=${SEED:-1000}
# The whole test build, as scripts/test.sh makes it: building only the fuzz
# target would resolve features without the other crates' dev-dependencies and
# recompile the dependency tree under other hashes.
BIN=$(cargo test --locked --workspace --features "$TEST_FEATURES" --no-run --message-format=json |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "fuzz" and m.get("executable"):
        print(m["executable"])')
AGORA_FUZZ_SECS=$SECS AGORA_FUZZ_SEED=$SEED "$BIN" --exact random_calls_across_blocks_break_no_invariant --nocapture
