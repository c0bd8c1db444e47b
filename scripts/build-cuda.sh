#!/usr/bin/env bash
# The worker with candle's CUDA backend, built on a machine without a GPU:
# nvcc and the CUDA libraries come from PyPI (scripts/cuda-env.sh).
#
#   scripts/build-cuda.sh            # release build: $CARGO_TARGET_DIR/release/agora-worker
#   CHECK=1 scripts/build-cuda.sh    # cargo check only (kernels compiled, nothing linked)
#   CUDA_COMPUTE_CAP=89 scripts/build-cuda.sh   # another GPU generation (default 90, Hopper)
#
# The binary needs the GPU driver's libcuda.so.1 and CUDA 13's cuBLAS, cuRAND,
# NVRTC and runtime where it runs (scripts/gpu-check.sh finds them). First
# build ~25 min on 2 cores (the kernels alone take several minutes); later ones
# reuse the target dir.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
source scripts/cuda-env.sh
if [ -n "${CHECK:-}" ]; then
  exec cargo check --locked -p agora-worker --features cuda
fi
cargo build --locked --release -p agora-worker --features cuda
echo "$CARGO_TARGET_DIR/release/agora-worker"
