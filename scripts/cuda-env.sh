# Source this: a CUDA 13.0 toolchain from PyPI, enough to compile candle's
# `cuda` feature on a machine without a GPU or a system CUDA install
# (scripts/build-cuda.sh; docs/development.md, "CUDA").
#
#   source scripts/cuda-env.sh     # then: cargo build --release -p agora-worker --features cuda
#
# - nvcc, the CUDA runtime, cuBLAS, cuRAND and NVRTC come from NVIDIA's wheels
#   in a venv ($AGORA_CUDA_VENV, default ~/.cache/agora-tools/cuda-venv, ~1.2 GB);
# - cudarc links these libraries by their unversioned names, so a link folder
#   ($AGORA_CUDA_ROOT, default ~/.cache/agora-tools/cuda-root) holds those names
#   and a stub libcuda.so.1 that exports the driver API symbols cudarc declares
#   (the real libcuda comes with the GPU's driver and is loaded at run time);
# - the kernels are built for CUDA_COMPUTE_CAP (default 90: Hopper, H100/H200).
# Idempotent: a second source reuses everything.
_agora_cuda_setup() {
  local venv=${AGORA_CUDA_VENV:-$HOME/.cache/agora-tools/cuda-venv}
  local root=${AGORA_CUDA_ROOT:-$HOME/.cache/agora-tools/cuda-root}
  if [ ! -x "$venv/bin/pip" ]; then
    python3 -m venv "$venv" || return 1
  fi
  local pins="nvidia-cuda-nvcc==13.0.88 nvidia-cuda-runtime==13.0.96 nvidia-cuda-crt==13.0.88 \
nvidia-nvvm==13.0.88 nvidia-cuda-cccl==13.0.85 nvidia-cublas==13.0.2.14 nvidia-curand==10.4.5.25 \
nvidia-cuda-nvrtc==13.0.88"
  if [ "$(cat "$venv/.agora-pins" 2>/dev/null)" != "$pins" ]; then
    echo "[cuda] installing the CUDA 13.0 wheels into $venv" >&2
    # shellcheck disable=SC2086
    "$venv/bin/pip" install -q $pins >&2 || return 1
    echo "$pins" >"$venv/.agora-pins"
  fi
  local cu
  cu=$("$venv/bin/python" -c 'import nvidia, os; print(os.path.join(nvidia.__path__[0], "cu13"))') || return 1
  mkdir -p "$root/lib"
  ln -sfn "$cu/bin" "$root/bin"
  ln -sfn "$cu/include" "$root/include"
  ln -sfn "$cu/nvvm" "$root/nvvm"
  local f
  for f in "$cu"/lib/*.so.*; do
    ln -sf "$f" "$root/lib/$(basename "$f")"
  done
  for f in cudart cublas cublasLt curand nvrtc; do
    ln -sf "$(ls "$cu"/lib/lib$f.so.[0-9]* | head -1)" "$root/lib/lib$f.so"
  done
  if [ ! -s "$root/lib/libcuda.so" ]; then
    local sys
    sys=$(ls "$HOME"/.cargo/registry/src/*/cudarc-0.19.*/src/driver/sys/mod.rs | head -1)
    [ -n "$sys" ] || { echo "[cuda] cudarc's sources are not fetched (cargo fetch)" >&2; return 1; }
    grep -o 'fn cu[A-Za-z0-9_]*(' "$sys" | sed 's/^fn \(.*\)($/void \1(void) {}/' | sort -u >"$root/libcuda-stub.c"
    cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$root/lib/libcuda.so" "$root/libcuda-stub.c" || return 1
  fi
  export CUDA_ROOT="$root" CUDA_HOME="$root" CUDA_PATH="$root"
  export PATH="$root/bin:$PATH"
  export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}
  export LIBRARY_PATH="$root/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
}
_agora_cuda_setup
