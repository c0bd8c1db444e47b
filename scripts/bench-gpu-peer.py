#!/usr/bin/env python3
"""The GPU peer of `agora-worker bench` (scripts/gpu-check.sh): PyTorch fp16 on
the same GPU, on the same weights and the same chat-templated prompt.

SmolLM2-135M-Instruct is loaded by transformers from the very GGUF file the
worker serves (transformers dequantizes it; needs the `gguf` package) and cast
to float16. Two configurations, as a skilled user would run them:

- `eager`: the model's forward with a dynamic KV cache, greedy argmax on the
  GPU, no synchronisation inside the decode loop;
- `static+compile`: `generate()` with a static cache, which transformers
  compiles with torch.compile (CUDA graphs); decode tokens/s is measured as
  (N - 1) / (t(N tokens) - t(1 token)).

MiniLM (when --minilm is given): sentence-transformers in float16, batch 1 and 32.
Prints one JSON object. Prefill and decode are the median of --runs runs after
a warm-up; the decode length ignores EOS, as the worker's bench does.
"""
import argparse, json, os, statistics, time

PROMPT = ("Explain, in a few paragraphs, how a blockchain reaches agreement on the order of transactions, "
          "why validators are paid, and what happens when one of them misbehaves. Use simple words.")
SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."

ap = argparse.ArgumentParser()
ap.add_argument("--gguf", required=True)
ap.add_argument("--minilm", help="a sentence-transformers model directory (optional)")
ap.add_argument("--decode-tokens", type=int, default=128)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--device", default="cuda")
ap.add_argument("--no-compile", action="store_true", help="skip the static+compile configuration")
a = ap.parse_args()

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

dev = torch.device(a.device)
dtype = torch.float16 if dev.type == "cuda" else torch.float32


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


folder, name = os.path.split(os.path.abspath(a.gguf))
tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=dtype).to(dev).eval()
ids = tok.apply_chat_template([{"role": "user", "content": PROMPT}], add_generation_prompt=True,
                              return_tensors="pt", return_dict=True)["input_ids"].to(dev)
n = a.decode_tokens
result = {"torch": torch.__version__, "transformers": transformers.__version__, "dtype": str(dtype),
          "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
          "prompt_tokens": int(ids.shape[1]), "decode_tokens": n}

# Eager: prefill, then one token at a time with the dynamic cache.
pp, tg = [], []
with torch.inference_mode():
    for run in range(a.runs + 1):  # the first run warms up
        sync()
        t0 = time.perf_counter()
        out = model(input_ids=ids, use_cache=True)
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        sync()
        t1 = time.perf_counter()
        past = out.past_key_values
        for _ in range(n - 1):
            out = model(input_ids=nxt, past_key_values=past, use_cache=True)
            past = out.past_key_values
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        sync()
        t2 = time.perf_counter()
        if run > 0:
            pp.append(ids.shape[1] / (t1 - t0))
            tg.append((n - 1) / (t2 - t1))
result["eager"] = {"prompt_tokens_per_s": statistics.median(pp), "decode_tokens_per_s": statistics.median(tg)}

if not a.no_compile:
    try:
        def gen(k):
            sync()
            t0 = time.perf_counter()
            model.generate(ids, max_new_tokens=k, min_new_tokens=k, do_sample=False,
                           cache_implementation="static", pad_token_id=tok.eos_token_id)
            sync()
            return time.perf_counter() - t0

        t_compile = time.perf_counter()
        with torch.inference_mode():
            gen(n)
            gen(n)  # compiled and captured by now
            t_compile = time.perf_counter() - t_compile
            one, full = [], []
            for _ in range(a.runs):
                one.append(gen(1))
                full.append(gen(n))
        t1, tn = statistics.median(one), statistics.median(full)
        result["static+compile"] = {"prompt_tokens_per_s": ids.shape[1] / t1,
                                    "decode_tokens_per_s": (n - 1) / max(tn - t1, 1e-9),
                                    "warmup_secs": t_compile}
    except Exception as e:  # report, don't hide: the row says why it is missing
        result["static+compile"] = {"error": f"{type(e).__name__}: {e}"[:300]}

if a.minilm:
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(a.minilm, device=a.device)
    if dev.type == "cuda":
        st = st.half()
    st.encode([SENTENCE])
    emb = {}
    for batch in (1, 32):
        rounds = 32 if batch == 1 else 8
        rates = []
        for _ in range(a.runs):
            sync()
            t0 = time.perf_counter()
            for _ in range(rounds):
                st.encode([SENTENCE] * batch, batch_size=batch, normalize_embeddings=True)
            sync()
            rates.append(batch * rounds / (time.perf_counter() - t0))
        emb[f"batch_{batch}"] = statistics.median(rates)
    result["minilm_sentences_per_s"] = emb

print(json.dumps(result))
