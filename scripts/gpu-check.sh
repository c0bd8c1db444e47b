#!/usr/bin/env bash
# One command on a GPU machine (issues 20 and 25; docs/benchmarks.md "GPU",
# docs/verification.md "Across hardware"):
#   1. the machine: GPU, driver, and its copy bandwidth (a PyTorch probe);
#   2. `agora-worker bench` on the GPU (candle's CUDA backend: SmolLM2 prefill
#      and decode tokens/s, and teacher-forced verification's cost);
#   3. the peer on the same GPU: PyTorch fp16 (transformers) on the same
#      weights, eager and with a static cache + torch.compile (scripts/bench-gpu-peer.py);
#   4. honest outputs across hardware: generations made on the GPU judged by the
#      CPU verifier, and the CPU engine's judged by the verifier on the GPU
#      (`agora-worker adversarial --cross-device`; false positives counted);
#      the GPU's claims are written out so another machine can judge them again.
#
#   scripts/gpu-check.sh                      # on a machine with an NVIDIA GPU
#
# Inputs (the GPU machine may have no Rust, no network and no project build):
#   WORKER   the agora-worker built with `scripts/build-cuda.sh` (default:
#            $CARGO_TARGET_DIR/release/agora-worker);
#   AGORA_MODELS  the model folder (fetch-models.sh's layout; only SmolLM2 is used);
#   PYTHON   a python3 with torch (CUDA), transformers, accelerate and gguf;
#   OUT      where results go (default target/gpu-check): bench.json, peer.json,
#            cross-device.md, gpu-claims.json, machine.txt.
# Each step has its own time limit; a failed step is reported and the rest run.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
WORKER=${WORKER:-$CARGO_TARGET_DIR/release/agora-worker}
PYTHON=${PYTHON:-python3}
OUT=${OUT:-target/gpu-check}
MAX_TOKENS=${MAX_TOKENS:-32}
SEEDS=${SEEDS:-1,2}
PROMPTS=${PROMPTS:-scripts/verify-prompts.txt}
mkdir -p "$OUT"
GGUF="${AGORA_MODELS:-$HOME/.cache/agora-models}/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -x "$WORKER" ] || { echo "[gpu-check] no worker at $WORKER (scripts/build-cuda.sh)" >&2; exit 1; }
[ -s "$GGUF" ] || { echo "[gpu-check] no model at $GGUF (scripts/fetch-models.sh)" >&2; exit 1; }

# The CUDA libraries the worker links (cuBLAS, cuRAND, NVRTC, the runtime) by
# soname, wherever the machine's Python packages or CUDA install keep them.
for lib in libcuda.so.1 libcublas.so.13 libcurand.so.10 libnvrtc.so.13 libcudart.so.13; do
  if ! ldconfig -p 2>/dev/null | grep -q "$lib"; then
    d=$(find /opt /usr /usr/local -name "$lib" -not -path '*/stubs/*' 2>/dev/null | head -1)
    [ -n "$d" ] && export LD_LIBRARY_PATH="$(dirname "$d")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
done
if ldd "$WORKER" | grep -q "not found"; then
  echo "[gpu-check] missing libraries:" >&2
  ldd "$WORKER" | grep "not found" >&2
  exit 1
fi

step() { # step NAME SECONDS COMMAND... : runs it, reports its status and time
  local name=$1 secs=$2 t0 rc
  shift 2
  t0=$(date +%s)
  echo "[gpu-check] $name" >&2
  timeout "$secs" "$@"
  rc=$?
  echo "[gpu-check] $name: rc=$rc in $(($(date +%s) - t0)) s" >&2
  return 0
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
} >"$OUT/machine.txt" 2>&1
step "copy bandwidth" 30 "$PYTHON" - >>"$OUT/machine.txt" <<'PY'
import torch, time
x = torch.empty(2 << 30, dtype=torch.uint8, device="cuda")  # 2 GiB
y = torch.empty_like(x)
for _ in range(3):
    y.copy_(x)
torch.cuda.synchronize()
s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
s.record()
for _ in range(10):
    y.copy_(x)
e.record()
torch.cuda.synchronize()
secs = s.elapsed_time(e) / 1000 / 10
print(f"copy_gbps: {2 * x.numel() / secs / 1e9:.0f} (bytes read + written, device to device)")
PY
cat "$OUT/machine.txt" >&2

# Each limit is generous for an H200 and the sum stays under 10 minutes.
step "agora-worker bench (GPU)" 100 "$WORKER" bench --only generation --runs 5 --decode-tokens 128 >"$OUT/bench.json"
step "cross-device verification" 270 "$WORKER" adversarial --cross-device --prompts "$PROMPTS" \
  --max-tokens "$MAX_TOKENS" --seeds "$SEEDS" --dump-claims "$OUT/gpu-claims.json" --markdown "$OUT/cross-device.md"
step "PyTorch fp16 peer (GPU)" 180 "$PYTHON" scripts/bench-gpu-peer.py --gguf "$GGUF" --runs 5 --decode-tokens 128 >"$OUT/peer.json"
for f in bench.json peer.json; do
  echo "== $f" >&2
  cat "$OUT/$f" >&2
done
exit 0
