#!/usr/bin/env python3
"""The peers of `agora-worker bench`, on the same model files and thread count.

- llama.cpp (llama-cpp-python) on SmolLM2-135M-Instruct.Q4_1.gguf: prompt
  processing and greedy decode tokens/s, on the same chat-templated prompt;
- sentence-transformers (PyTorch, CPU) on all-MiniLM-L6-v2: sentences/s at batch
  1 and batch 32.

Prints one JSON object. Run by scripts/bench-inference.sh.
"""
import argparse, json, os, statistics, time

PROMPT = ("Explain, in a few paragraphs, how a blockchain reaches agreement on the order of transactions, "
          "why validators are paid, and what happens when one of them misbehaves. Use simple words.")
SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, required=True)
ap.add_argument("--gguf", required=True)
ap.add_argument("--minilm", required=True, help="a sentence-transformers model directory")
ap.add_argument("--decode-tokens", type=int, default=128)
ap.add_argument("--runs", type=int, default=3)
a = ap.parse_args()

import numpy as np
import llama_cpp
from llama_cpp import Llama


def last_logits(llm):
    # llama-cpp-python 0.3.36 leaves `Llama.scores` zero without logits_all
    # (greedy on it decoded token 0 over and over); read the context's last row.
    p = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(p, shape=(llm.n_vocab(),))


llm = Llama(model_path=a.gguf, n_threads=a.threads, n_threads_batch=a.threads, n_ctx=1024,
            n_batch=512, verbose=False)
text = (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{PROMPT}<|im_end|>\n"
        "<|im_start|>assistant\n")
ids = llm.tokenize(text.encode(), add_bos=False, special=True)
pp, tg = [], []
for run in range(a.runs + 1):  # the first run warms up
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(ids)
    t1 = time.perf_counter()
    tok = int(np.argmax(last_logits(llm)))
    for _ in range(a.decode_tokens - 1):
        llm.eval([tok])
        tok = int(np.argmax(last_logits(llm)))
    t2 = time.perf_counter()
    if run > 0:
        pp.append(len(ids) / (t1 - t0))
        tg.append((a.decode_tokens - 1) / (t2 - t1))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
from sentence_transformers import SentenceTransformer

torch.set_num_threads(a.threads)
st = SentenceTransformer(a.minilm, device="cpu")
st.encode([SENTENCE])
emb = {}
for batch in (1, 32):
    rounds = 32 if batch == 1 else 4
    rates = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        for _ in range(rounds):
            st.encode([SENTENCE] * batch, batch_size=batch, normalize_embeddings=True)
        rates.append(batch * rounds / (time.perf_counter() - t0))
    emb[f"batch_{batch}"] = statistics.median(rates)

import llama_cpp, sentence_transformers
print(json.dumps({
    "threads": a.threads,
    "llama_cpp": {"version": llama_cpp.__version__, "prompt_tokens": len(ids),
                   "prompt_tokens_per_s": statistics.median(pp),
                   "decode_tokens_per_s": statistics.median(tg)},
    "sentence_transformers": {"version": sentence_transformers.__version__, "torch": torch.__version__,
                              "sentences_per_s": emb},
}))
