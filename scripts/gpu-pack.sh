#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has no Rust, no
# network and receives at most 64 MiB per call (the session's device tool): the
# CUDA worker (scripts/build-cuda.sh), the SmolLM2 GGUF and the `gguf` wheel,
# in two parts under .gpu/ (ignored by git through .git/info/exclude).
#
#   scripts/gpu-pack.sh          # then the two device calls it prints
#
# The repository's three chain specs (~30 MB) travel with every call, so the
# script moves them to $ASIDE (default /tmp/agora-specs-aside) for the calls;
# `scripts/gpu-pack.sh restore` puts them back (git status shows them deleted
# until then).
set -euo pipefail
cd "$(dirname "$0")/.."
ASIDE=${ASIDE:-/tmp/agora-specs-aside}
if [ "${1:-}" = restore ]; then
  mv "$ASIDE"/*.json chain-specs/
  git status --short chain-specs
  exit 0
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}
WORKER="$CARGO_TARGET_DIR/release/agora-worker"
GGUF="${AGORA_MODELS:-$HOME/.cache/agora-models}/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
ldd "$WORKER" 2>/dev/null | grep -q libcuda || { echo "[gpu-pack] $WORKER is not a CUDA build: run scripts/build-cuda.sh" >&2; exit 1; }
mkdir -p .git/info
for p in /.gpu/ /.whl/; do grep -qx "$p" .git/info/exclude 2>/dev/null || echo "$p" >>.git/info/exclude; done
rm -rf .gpu .whl
mkdir -p .gpu/a .gpu/b .whl
split -b 62000000 -d "$GGUF" .gpu/gguf.part
mv .gpu/gguf.part00 .gpu/a/ && mv .gpu/gguf.part01 .gpu/b/
strip -o .gpu/worker "$WORKER"
xz -T2 -6 -c .gpu/worker >.gpu/b/agora-worker.xz && rm .gpu/worker
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 -d .whl gguf==0.17.1
mkdir -p "$ASIDE"
mv chain-specs/*.json "$ASIDE"/
du -sh .gpu/a .gpu/b .whl >&2
cat <<'EOF'
Device call 1 (carry [".gpu/a"], timeout 90):
  mkdir -p /root/g && cp .gpu/a/gguf.part00 /root/g/ && nvidia-smi -L
Device call 2 at once (carry [".gpu/b", ".whl"], timeout 600; the machine stays warm 30 s):
  mkdir -p /root/g/m/smollm2-135m-instruct && cat /root/g/gguf.part00 .gpu/b/gguf.part01 > /root/g/m/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf && python3 -c "import lzma,shutil;shutil.copyfileobj(lzma.open('.gpu/b/agora-worker.xz'),open('/root/g/agora-worker','wb'))" && chmod +x /root/g/agora-worker && python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl; PYTHONPATH=/tmp/site AGORA_MODELS=/root/g/m WORKER=/root/g/agora-worker AGORA_GPU_NAME=H200 PYTHONUNBUFFERED=1 bash scripts/gpu-check.sh 2>&1 | tee $OUT/log.txt
Afterwards: scripts/gpu-pack.sh restore; judge the GPU's claims here too:
  agora-worker adversarial --prompts scripts/verify-prompts.txt --judge-claims <files_at>/gpu-claims.json
EOF
