#!/usr/bin/env python3
"""Prints the ratios of scripts/bench-inference.sh's results and draws the chart.

    bench-inference-report.py RESULTS.json PROFILE CHART.svg

RESULTS.json is a list, one entry per thread count, of
{"threads", "agora": <agora-worker bench>, "stock": <same, --backend candle-stock>,
 "peers": <scripts/bench-inference.py>}. The chart is a plain SVG (no plotting
library needed): one group of bars per metric and thread count, values
normalised to the peer (peer = 1.0) so that tokens/s and sentences/s share an axis.
"""
import json, sys

results, profile, chart = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]

METRICS = [
    ("SmolLM2 Q4_1 prompt (tok/s)", lambda e: e["prompt_tokens_per_s"], lambda p: p["llama_cpp"]["prompt_tokens_per_s"], "llama.cpp"),
    ("SmolLM2 Q4_1 decode (tok/s)", lambda e: e["decode_tokens_per_s"], lambda p: p["llama_cpp"]["decode_tokens_per_s"], "llama.cpp"),
    ("MiniLM batch 1 (sent/s)", lambda e: e["embed_sentences_per_s"]["batch_1"], lambda p: p["sentence_transformers"]["sentences_per_s"]["batch_1"], "sentence-transformers"),
    ("MiniLM batch 32 (sent/s)", lambda e: e["embed_sentences_per_s"]["batch_32"], lambda p: p["sentence_transformers"]["sentences_per_s"]["batch_32"], "sentence-transformers"),
]

rows = []
for r in results:
    for name, eng, peer, peer_name in METRICS:
        a, s, p = eng(r["agora"]), eng(r["stock"]), peer(r["peers"])
        rows.append({"threads": r["threads"], "metric": name, "agora": a, "stock": s, "peer": p, "peer_name": peer_name})

first = results[0]
pv = first["peers"]
print(f"engines: Agora = {first['agora']['engine']}, stock = {first['stock']['engine']}, "
      f"llama.cpp {pv['llama_cpp']['version']}, sentence-transformers {pv['sentence_transformers']['version']} "
      f"(torch {pv['sentence_transformers']['torch']}); {profile} build")
print(f"prompt: {first['agora']['prompt_tokens']} tokens (llama.cpp: {pv['llama_cpp']['prompt_tokens']}); "
      f"decode: {first['agora']['decode_tokens']} tokens")
print(f"{'threads':>7}  {'':30} {'stock':>9} {'Agora':>9} {'peer':>9}  {'Agora/peer':>10} {'Agora/stock':>11}")
unmet = []
for row in rows:
    rp, rs = row["agora"] / row["peer"], row["agora"] / row["stock"]
    flag = "" if rp >= 1.0 else "  < 1.0"
    if rp < 1.0:
        unmet.append(f"{row['metric']} at {row['threads']} thread(s): {rp:.2f}x")
    print(f"{row['threads']:>7}  {row['metric']:30} {row['stock']:9.1f} {row['agora']:9.1f} {row['peer']:9.1f}  "
          f"{rp:9.2f}x {rs:10.2f}x{flag}")
print("goal (Agora >= 1.0x the peer): " + ("met everywhere" if not unmet else "not met for " + "; ".join(unmet)))

# The chart: grouped horizontal bars, normalised to the peer.
W, bar, gap, left, top = 760, 12, 14, 250, 40
groups = len(rows)
H = top + groups * (3 * bar + gap) + 50
vmax = max(max(r["agora"], r["stock"], r["peer"]) / r["peer"] for r in rows)
scale = (W - left - 90) / vmax
colors = {"stock": "#9e9e9e", "agora": "#2e7d32", "peer": "#1565c0"}
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W/2}" y="18" text-anchor="middle" font-size="13">Inference speed relative to the peer '
       f'(llama.cpp / sentence-transformers = 1.0), this machine, {profile} build</text>']
y = top
for r in rows:
    svg.append(f'<text x="{left - 8}" y="{y + 1.5 * bar + 4}" text-anchor="end">{r["metric"]}, {r["threads"]}T</text>')
    for i, k in enumerate(["stock", "agora", "peer"]):
        v = r[k] / r["peer"]
        w = max(1.0, v * scale)
        svg.append(f'<rect x="{left}" y="{y + i * bar}" width="{w:.1f}" height="{bar - 2}" fill="{colors[k]}"/>')
        svg.append(f'<text x="{left + w + 4:.1f}" y="{y + i * bar + bar - 3}">{r[k]:.1f} ({v:.2f}x)</text>')
    y += 3 * bar + gap
x1 = left + scale
svg.append(f'<line x1="{x1:.1f}" y1="{top - 6}" x2="{x1:.1f}" y2="{y}" stroke="#1565c0" stroke-dasharray="4,3"/>')
for i, (k, label) in enumerate([("stock", "candle 0.11 stock"), ("agora", "Agora's engine"), ("peer", "peer (llama.cpp / sentence-transformers)")]):
    lx = 20 + i * 200
    svg.append(f'<rect x="{lx}" y="{y + 14}" width="12" height="10" fill="{colors[k]}"/><text x="{lx + 16}" y="{y + 23}">{label}</text>')
svg.append("</svg>")
with open(chart, "w") as f:
    f.write("\n".join(svg) + "\n")
print(f"chart: {chart}")
