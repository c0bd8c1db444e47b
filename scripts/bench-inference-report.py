#!/usr/bin/env python3
"""Prints the ratios of scripts/bench-inference.sh's results and draws the chart.

    bench-inference-report.py RESULTS.json PROFILE CHART.svg

RESULTS.json is a list, one entry per thread count, of
{"threads", "agora": <agora-worker bench>, "stock": <same, --backend candle-stock>,
 "peers": <scripts/bench-inference.py>}. The chart is a plain SVG (no plotting
library needed): one group of bars per metric and thread count, values
normalised to the best peer configuration of each row (= 1.0) so that tokens/s
and sentences/s share an axis; each row's label names that configuration.
"""
import json, sys

results, profile, chart = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]


def llama(key):
    return lambda p: [(f"llama.cpp {c['name']}", c[key]) for c in p["llama_cpp"]["configs"]]


def minilm(batch):
    def peers(p):
        out = [(f"ONNX Runtime {c['name']}", c["sentences_per_s"][batch]) for c in p["onnxruntime"]["configs"]]
        out.append(("sentence-transformers", p["sentence_transformers"]["sentences_per_s"][batch]))
        return out
    return peers


# (metric, Agora's number, the peers' (name, number) list, goal: Agora / best peer)
METRICS = [
    ("SmolLM2 prompt (tok/s)", lambda e: e["prompt_tokens_per_s"], llama("prompt_tokens_per_s"), 1.5),
    ("SmolLM2 decode (tok/s)", lambda e: e["decode_tokens_per_s"], llama("decode_tokens_per_s"), 1.2),
    ("MiniLM batch 1 (sent/s)", lambda e: e["embed_sentences_per_s"]["batch_1"], minilm("batch_1"), 1.0),
    ("MiniLM batch 32 (sent/s)", lambda e: e["embed_sentences_per_s"]["batch_32"], minilm("batch_32"), 1.0),
]

def agora_best(r, name, eng):
    """Agora's number on its best file for the generation rows (the shipped
    Q4_1 or a requantized one, `agora_formats`), and that file's format."""
    best = (eng(r["agora"]), "Q4_1")
    if name.startswith("SmolLM2"):
        for fmt, e in r.get("agora_formats", {}).items():
            if eng(e) > best[0]:
                best = (eng(e), fmt)
    return best


rows = []
for r in results:
    for name, eng, peers, goal in METRICS:
        (a, fmt), s = agora_best(r, name, eng), eng(r["stock"])
        ps = sorted(peers(r["peers"]), key=lambda x: -x[1])
        rows.append({"threads": r["threads"], "metric": name, "agora": a, "agora_format": fmt, "stock": s,
                     "peer": ps[0][1], "peer_name": ps[0][0], "peers": ps, "goal": goal})

first = results[0]
pv = first["peers"]
print(f"engines: Agora = {first['agora']['engine']}, stock = {first['stock']['engine']}, "
      f"llama.cpp {pv['llama_cpp']['version']}, ONNX Runtime {pv['onnxruntime']['version']}, "
      f"sentence-transformers {pv['sentence_transformers']['version']} "
      f"(torch {pv['sentence_transformers']['torch']}); {profile} build")
print(f"prompt: {first['agora']['prompt_tokens']} tokens (llama.cpp: {pv['llama_cpp']['prompt_tokens']}); "
      f"decode: {first['agora']['decode_tokens']} tokens; Agora's generation on its best file of the shipped "
      f"Q4_1 and {', '.join(first.get('agora_formats', {})) or 'no other'} (agora-worker requantize)")
for r in results:
    for fmt, e in [("Q4_1", r["agora"])] + list(r.get("agora_formats", {}).items()):
        print(f"Agora {fmt:7} {r['threads']}T: prompt {e['prompt_tokens_per_s']:.1f} tok/s, decode {e['decode_tokens_per_s']:.1f} tok/s")
for r in results:
    for c in r["peers"]["onnxruntime"]["configs"]:
        print(f"ONNX Runtime {c['name']:10} {r['threads']}T MiniLM worst cosine to sentence-transformers: "
              f"{c['min_cosine_to_sentence_transformers']:.4f} ({c['worst_sentence']!r})")
    for c in r["peers"]["llama_cpp"]["configs"]:
        print(f"llama.cpp {c['name']:22} {r['threads']}T answer starts: {c['answer_start']!r}")
print(f"{'threads':>7}  {'metric':26} {'peer configuration':34} {'peer':>9} {'Agora':>9}  {'Agora/peer':>10}")
for row in rows:
    for pname, pval in row["peers"]:
        best = " (best)" if pname == row["peer_name"] else ""
        print(f"{row['threads']:>7}  {row['metric']:26} {pname + best:34} {pval:9.1f} {row['agora']:9.1f}  "
              f"{row['agora'] / pval:9.2f}x")
print()
print(f"{'threads':>7}  {'metric':26} {'stock':>9} {'Agora':>9} {'best peer':>9}  {'Agora/best':>10} {'goal':>6} "
      f"{'Agora/stock':>11}  best peer")
unmet = []
for row in rows:
    rp, rs = row["agora"] / row["peer"], row["agora"] / row["stock"]
    flag = "" if rp >= row["goal"] else "  below goal"
    if rp < row["goal"]:
        unmet.append(f"{row['metric']} at {row['threads']} thread(s): {rp:.2f}x (goal {row['goal']}x)")
    on = f" (Agora on {row['agora_format']})" if row["metric"].startswith("SmolLM2") else ""
    print(f"{row['threads']:>7}  {row['metric']:26} {row['stock']:9.1f} {row['agora']:9.1f} {row['peer']:9.1f}  "
          f"{rp:9.2f}x {row['goal']:5.1f}x {rs:10.2f}x  {row['peer_name']}{on}{flag}")
for r in results:
    i8 = r.get("agora_int8")
    if i8:
        for b in ("batch_1", "batch_32"):
            v = i8["embed_sentences_per_s"][b]
            best = max(x for _, x in minilm(b)(r["peers"]))
            print(f"{r['threads']:>7}  MiniLM {b.replace('_', ' ')}, Agora int8 (opt-in, AGORA_KERNELS=int8): "
                  f"{v:.1f} sent/s = {v / best:.2f}x the best peer, {v / r['agora']['embed_sentences_per_s'][b]:.2f}x Agora's default")
print("goals (prompt >= 1.5x, decode >= 1.2x, MiniLM >= 1.0x the best peer): "
      + ("met everywhere" if not unmet else "not met for " + "; ".join(unmet)))
for r in results:
    bw = r["peers"].get("memory_read_gb_per_s")
    gb = next(c["file_bytes"] for c in r["peers"]["llama_cpp"]["configs"] if c["format"] == "Q4_1")
    if bw and gb:
        eff = gb * r["agora"]["decode_tokens_per_s"] / 1e9
        print(f"roofline, {r['threads']} thread(s): Agora's decode streams the Q4_1 file's {gb / 1e6:.1f} MB per token = "
              f"{eff:.1f} GB/s; this machine reads {bw:.1f} GB/s (probe) -> {100 * eff / bw:.0f} % of it")

# The chart: grouped horizontal bars, normalised to the peer.
W, bar, gap, left, top = 860, 12, 14, 330, 40
groups = len(rows)
H = top + groups * (3 * bar + gap) + 50
vmax = max(max(r["agora"], r["stock"], r["peer"]) / r["peer"] for r in rows)
scale = (W - left - 90) / vmax
colors = {"stock": "#9e9e9e", "agora": "#2e7d32", "peer": "#1565c0"}
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W/2}" y="18" text-anchor="middle" font-size="13">Inference speed relative to the peer '
       f'(best peer configuration = 1.0), this machine, {profile} build</text>']
y = top
for r in rows:
    svg.append(f'<text x="{left - 8}" y="{y + bar + 2}" text-anchor="end">{r["metric"]}, {r["threads"]}T</text>')
    svg.append(f'<text x="{left - 8}" y="{y + 2 * bar + 4}" text-anchor="end" fill="#1565c0">vs {r["peer_name"]}</text>')
    for i, k in enumerate(["stock", "agora", "peer"]):
        v = r[k] / r["peer"]
        w = max(1.0, v * scale)
        svg.append(f'<rect x="{left}" y="{y + i * bar}" width="{w:.1f}" height="{bar - 2}" fill="{colors[k]}"/>')
        svg.append(f'<text x="{left + w + 4:.1f}" y="{y + i * bar + bar - 3}">{r[k]:.1f} ({v:.2f}x)</text>')
    y += 3 * bar + gap
x1 = left + scale
svg.append(f'<line x1="{x1:.1f}" y1="{top - 6}" x2="{x1:.1f}" y2="{y}" stroke="#1565c0" stroke-dasharray="4,3"/>')
for i, (k, label) in enumerate([("stock", "candle 0.11 stock"), ("agora", "Agora's engine"), ("peer", "best peer (llama.cpp / ONNX Runtime / PyTorch)")]):
    lx = 20 + i * 200
    svg.append(f'<rect x="{lx}" y="{y + 14}" width="12" height="10" fill="{colors[k]}"/><text x="{lx + 16}" y="{y + 23}">{label}</text>')
svg.append("</svg>")
with open(chart, "w") as f:
    f.write("\n".join(svg) + "\n")
print(f"chart: {chart}")
