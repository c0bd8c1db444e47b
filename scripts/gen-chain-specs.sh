#!/usr/bin/env bash
# Regenerates the checked-in chain specs from the runtime's genesis presets:
#   chain-specs/dev.json    (preset `development`: Alice alone, sudo Alice)
#   chain-specs/local.json  (preset `local_testnet`: Alice, Bob, Charlie, Dave; no sudo)
# Run it after any runtime change; the node test `checked_in_specs_match_the_presets`
# fails when the presets and the files disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
# The node of the test build (scripts/test.sh's features; a plain `cargo build -p
# agora-node` would unify features differently and rebuild much of the tree).
cargo test --locked --workspace --features agora-worker/test-cheat --no-run >/dev/null
NODE="$CARGO_TARGET_DIR/debug/agora-node"
"$NODE" export-chain-spec --chain dev >chain-specs/dev.json
"$NODE" export-chain-spec --chain local >chain-specs/local.json
echo "regenerated chain-specs/dev.json and chain-specs/local.json"
