#!/usr/bin/env bash
# Regenerates the checked-in chain specs from the runtime's genesis presets:
#   chain-specs/dev.json    (preset `development`: Alice alone, sudo Alice)
#   chain-specs/local.json  (preset `local_testnet`: Alice, Bob, Charlie, Dave; no sudo)
#   chain-specs/testnet.json (preset `testnet`: four validators with their own keys,
#                            realistic periods; no sudo)
# Run it after any runtime change; the node test `checked_in_specs_match_the_presets`
# fails when the presets and the files disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/features.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
# The node: AGORA_NODE, or the test build's (scripts/test.sh's features; a plain
# `cargo build -p agora-node` would unify features differently and rebuild much
# of the tree). The test build's runtime carries the TryRuntime API (the test
# suite's try_state checks), so for a public launch regenerate the specs with a
# release node: AGORA_NODE=target/release/agora-node scripts/gen-chain-specs.sh
if [ -n "${AGORA_NODE:-}" ]; then
  NODE=$AGORA_NODE
else
  cargo test --locked --workspace --features "$TEST_FEATURES" --no-run >/dev/null
  NODE="$CARGO_TARGET_DIR/debug/agora-node"
fi
"$NODE" export-chain-spec --chain dev >chain-specs/dev.json
"$NODE" export-chain-spec --chain local >chain-specs/local.json
"$NODE" export-chain-spec --chain testnet >chain-specs/testnet.json
echo "regenerated chain-specs/dev.json, local.json and testnet.json"
