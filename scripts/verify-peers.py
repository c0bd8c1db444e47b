#!/usr/bin/env python3
"""Honest outputs of the peer engines, for `agora-worker adversarial --peers`.

Reads the prompts `agora-worker adversarial --dump-prompts` wrote (each input,
its max_tokens and its chat-templated prompt ids) and writes one JSON object:

- `llama_cpp`: llama.cpp (llama-cpp-python) greedy on the very same GGUF, fed
  the same prompt ids, stopping at EOS or max_tokens: the token ids it emitted
  (what a llama.cpp-based provider would commit);
- `sentence_transformers`: all-MiniLM-L6-v2 through sentence-transformers
  (PyTorch), normalised, for each input.

Run by scripts/verify-adversarial.sh.
"""
import argparse, json, os

ap = argparse.ArgumentParser()
ap.add_argument("--prompts", required=True)
ap.add_argument("--gguf", required=True)
ap.add_argument("--minilm", required=True, help="a sentence-transformers model directory")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--eos", type=int, default=2, help="SmolLM2's <|im_end|>")
a = ap.parse_args()

import numpy as np
import llama_cpp
from llama_cpp import Llama


def last_logits(llm):
    # llama-cpp-python 0.3.36 leaves `Llama.scores` zero without logits_all;
    # the context's own last row is the real one.
    p = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(p, shape=(llm.n_vocab(),))


prompts = json.load(open(a.prompts))
llm = Llama(model_path=a.gguf, n_threads=a.threads, n_threads_batch=a.threads, n_ctx=1024, n_batch=512,
            flash_attn=True, verbose=False)
out = {"llama_cpp": [], "sentence_transformers": []}
for p in prompts:
    llm.reset()
    llm.eval(p["prompt_ids"])
    tokens = []
    while len(tokens) < p["max_tokens"]:
        tok = int(np.argmax(last_logits(llm)))
        if tok == a.eos:
            break
        tokens.append(tok)
        llm.eval([tok])
    out["llama_cpp"].append({"input": p["input"], "tokens": tokens})

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
from sentence_transformers import SentenceTransformer

torch.set_num_threads(a.threads)
st = SentenceTransformer(a.minilm, device="cpu")
vecs = st.encode([p["input"] for p in prompts], normalize_embeddings=True)
for p, v in zip(prompts, vecs):
    out["sentence_transformers"].append({"input": p["input"], "vector": [float(x) for x in v]})
print(json.dumps(out))
