#!/usr/bin/env python3
"""The peers of `agora-worker bench`, on the same model weights and thread count,
each in the configuration a skilled user would pick, and every configuration
reported (the report ranks Agora against the best one):

- llama.cpp (llama-cpp-python) on SmolLM2-135M-Instruct: the shipped Q4_1 file,
  and Q4_0 and IQ4_NL files made from it by llama.cpp's own quantizer
  (`llama_model_quantize`; both are repacked at load for this CPU's fast GEMM),
  each with flash attention off and on: prompt processing and greedy decode
  tokens/s on the same chat-templated prompt;
- ONNX Runtime on all-MiniLM-L6-v2 exported to ONNX from the same safetensors
  (mean pooling and normalisation in the graph), as exported and fused by ORT's
  transformer optimizer, each in fp32 and int8 (dynamic, per-channel weights),
  graph optimisation ALL: sentences/s at batch 1 and 32, and each model's
  worst cosine to sentence-transformers on a set of varied sentences;
- sentence-transformers (PyTorch, CPU) on the same MiniLM, as before.

The derived model files are cached in --cache (made once). Prints one JSON
object. Run by scripts/bench-inference.sh.
"""
import argparse, ctypes, json, os, statistics, sys, time

PROMPT = ("Explain, in a few paragraphs, how a blockchain reaches agreement on the order of transactions, "
          "why validators are paid, and what happens when one of them misbehaves. Use simple words.")
SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."
# The int8 model's accuracy set: sentences of different lengths and topics.
COSINE_SET = [
    SENTENCE,
    "A validator that signs two blocks in one slot loses part of its stake.",
    "Payment channels let a client pay thousands of requests with one deposit.",
    "What is the capital of France?",
    "The mitochondria is the powerhouse of the cell, producing most of its chemical energy.",
    "I would like to book a table for two at seven tonight, preferably by the window.",
    "Quantized weights trade a little accuracy for a large cut in memory traffic.",
    "Rain is expected in the north by Thursday, with snow on higher ground.",
    "He scored twice in the second half and the crowd rose to its feet.",
    "def add(a, b): return a + b",
    "Ok.",
    "The court ruled that the contract was void because one party had been misled about the price.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "Bitte schicken Sie mir die Rechnung bis Freitag.",
    "A short sentence.",
    "Large language models predict the next token from the ones before it, one step at a time.",
]

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, required=True)
ap.add_argument("--gguf", required=True, help="the shipped Q4_1 GGUF")
ap.add_argument("--minilm", required=True, help="a sentence-transformers model directory")
ap.add_argument("--cache", required=True, help="where the derived GGUF and ONNX files are kept")
ap.add_argument("--decode-tokens", type=int, default=128)
ap.add_argument("--runs", type=int, default=3)
a = ap.parse_args()
os.makedirs(a.cache, exist_ok=True)


def log(msg):
    print(f"[peers] {msg}", file=sys.stderr, flush=True)


import numpy as np
import llama_cpp
from llama_cpp import Llama


# --- memory bandwidth (the roofline for decode) ---------------------------------
def memory_read_gb_per_s():
    """Read bandwidth with `threads` threads, each taking the maximum of its
    share of a 1 GiB byte array (a SIMD reduction that waits on memory, not on
    arithmetic; numpy releases the GIL in it); best of 5."""
    import threading
    x = np.ones(1 << 30, dtype=np.uint8)
    parts = np.array_split(x, a.threads)
    best = 0.0
    for _ in range(5):
        ts = [threading.Thread(target=np.max, args=(p,)) for p in parts]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        best = max(best, x.nbytes / (time.perf_counter() - t0) / 1e9)
    return best


bandwidth = memory_read_gb_per_s()
log(f"memory read: {bandwidth:.1f} GB/s with {a.threads} thread(s)")


# --- llama.cpp ---------------------------------------------------------------
def quantize(ftype_name):
    """A GGUF in `ftype_name` made from the shipped file by llama.cpp's quantizer."""
    out = os.path.join(a.cache, f"SmolLM2-135M-Instruct.{ftype_name}.gguf")
    if os.path.exists(out):
        return out
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{ftype_name}")
    params.allow_requantize = True
    params.nthread = a.threads
    tmp = out + ".tmp"
    rc = llama_cpp.llama_model_quantize(a.gguf.encode(), tmp.encode(), ctypes.byref(params))
    if rc != 0:
        raise SystemExit(f"llama_model_quantize to {ftype_name} failed: {rc}")
    os.replace(tmp, out)
    log(f"made {out} ({os.path.getsize(out) / 1e6:.1f} MB)")
    return out


def last_logits(llm):
    # llama-cpp-python 0.3.36 leaves `Llama.scores` zero without logits_all
    # (greedy on it decoded token 0 over and over); read the context's last row.
    p = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(p, shape=(llm.n_vocab(),))


def bench_llama(path, flash_attn):
    llm = Llama(model_path=path, n_threads=a.threads, n_threads_batch=a.threads, n_ctx=1024,
                n_batch=512, flash_attn=flash_attn, verbose=False)
    text = (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{PROMPT}<|im_end|>\n"
            "<|im_start|>assistant\n")
    ids = llm.tokenize(text.encode(), add_bos=False, special=True)
    pp, tg, first = [], [], []
    for run in range(a.runs + 1):  # the first run warms up
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids)
        t1 = time.perf_counter()
        tok = int(np.argmax(last_logits(llm)))
        toks = [tok]
        for _ in range(a.decode_tokens - 1):
            llm.eval([tok])
            tok = int(np.argmax(last_logits(llm)))
            toks.append(tok)
        t2 = time.perf_counter()
        if run > 0:
            pp.append(len(ids) / (t1 - t0))
            tg.append((a.decode_tokens - 1) / (t2 - t1))
        first = toks
    # The greedy answer's start, so a broken loop (one token over and over) shows.
    sample = llm.detokenize(first[:12]).decode(errors="replace")
    del llm
    return len(ids), statistics.median(pp), statistics.median(tg), sample


configs = []
files = {"Q4_1": a.gguf, "Q4_0": quantize("Q4_0"), "IQ4_NL": quantize("IQ4_NL")}
prompt_tokens = None
for fmt, path in files.items():
    for fa in (False, True):
        name = f"{fmt}{' + flash-attn' if fa else ''}"
        log(f"llama.cpp {name}")
        n, pp, tg, sample = bench_llama(path, fa)
        prompt_tokens = n
        configs.append({"name": name, "format": fmt, "flash_attn": fa, "file_bytes": os.path.getsize(path),
                        "prompt_tokens_per_s": pp, "decode_tokens_per_s": tg, "answer_start": sample})

# --- MiniLM: ONNX Runtime ------------------------------------------------------
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
from sentence_transformers import SentenceTransformer
import onnxruntime as ort

torch.set_num_threads(a.threads)
st = SentenceTransformer(a.minilm, device="cpu")
tokenizer = st.tokenizer


class Pooled(torch.nn.Module):
    """BERT, then sentence-transformers' mean pooling and L2 normalisation."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask, token_type_ids):
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                        token_type_ids=token_type_ids).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(out.dtype)
        emb = (out * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(emb, p=2.0, dim=-1)


def export_onnx():
    """MiniLM as ONNX: exported (`raw`), fused by ORT's transformer optimizer
    (`fused`), and each quantized to int8 (dynamic, per-channel weights)."""
    raw = os.path.join(a.cache, "minilm.onnx")
    fused = os.path.join(a.cache, "minilm.opt.onnx")
    if not os.path.exists(raw):
        enc = tokenizer([SENTENCE, "Ok."], padding=True, return_tensors="pt")
        args = (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        names = ["input_ids", "attention_mask", "token_type_ids"]
        axes = {n: {0: "batch", 1: "seq"} for n in names}
        axes["embedding"] = {0: "batch"}
        bert = st[0].auto_model
        # The eager attention exports as the MatMul/Softmax pattern ORT's
        # optimizer fuses into its Attention kernel (SDPA's export is not fused).
        bert.set_attn_implementation("eager")
        model = Pooled(bert).eval()
        with torch.no_grad():
            torch.onnx.export(model, args, raw + ".tmp", input_names=names, output_names=["embedding"],
                              dynamic_axes=axes, opset_version=17, dynamo=False)
        os.replace(raw + ".tmp", raw)
        log(f"exported {raw}")
    if not os.path.exists(fused):
        from onnxruntime.transformers import optimizer
        cfg = st[0].auto_model.config
        opt = optimizer.optimize_model(raw, model_type="bert", num_heads=cfg.num_attention_heads,
                                       hidden_size=cfg.hidden_size, opt_level=1)
        opt.save_model_to_file(fused + ".tmp")
        os.replace(fused + ".tmp", fused)
        log(f"fused {fused}: {opt.get_fused_operator_statistics()}")
    out = {"fp32 fused": fused, "fp32": raw}
    for name, src in (("int8 fused", fused), ("int8", raw)):
        dst = src.replace(".onnx", ".int8.onnx")
        if not os.path.exists(dst):
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic
            quantize_dynamic(src, dst + ".tmp", per_channel=True, weight_type=QuantType.QInt8,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
            os.replace(dst + ".tmp", dst)
            log(f"quantized {dst}")
        out[name] = dst
    return out


def ort_session(path):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_embed(sess, sentences):
    enc = tokenizer(sentences, padding=True, truncation=True, max_length=256, return_tensors="np")
    feed = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
    return sess.run(None, feed)[0]


def rate(embed):
    embed([SENTENCE])
    out = {}
    for batch in (1, 32):
        rounds = 32 if batch == 1 else 4
        rates = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            for _ in range(rounds):
                embed([SENTENCE] * batch)
            rates.append(batch * rounds / (time.perf_counter() - t0))
        out[f"batch_{batch}"] = statistics.median(rates)
    return out


onnx_files = export_onnx()
reference = st.encode(COSINE_SET, normalize_embeddings=True, convert_to_numpy=True)
onnx = {"version": ort.__version__, "configs": []}
for kind, path in onnx_files.items():
    log(f"ONNX Runtime {kind}")
    sess = ort_session(path)
    got = ort_embed(sess, COSINE_SET)
    cos = (got * reference).sum(axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(reference, axis=1))
    onnx["configs"].append({"name": kind, "sentences_per_s": rate(lambda s: ort_embed(sess, s)),
                            "min_cosine_to_sentence_transformers": float(cos.min()),
                            "worst_sentence": COSINE_SET[int(cos.argmin())]})

# --- MiniLM: sentence-transformers ---------------------------------------------
log("sentence-transformers")
st_rates = rate(lambda s: st.encode(s, batch_size=len(s), normalize_embeddings=True))

import sentence_transformers
print(json.dumps({
    "threads": a.threads,
    "memory_read_gb_per_s": bandwidth,
    "llama_cpp": {"version": llama_cpp.__version__, "prompt_tokens": prompt_tokens, "configs": configs},
    "onnxruntime": onnx,
    "sentence_transformers": {"version": sentence_transformers.__version__, "torch": torch.__version__,
                              "sentences_per_s": st_rates},
}))
