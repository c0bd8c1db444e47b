#!/usr/bin/env python3
"""Formats `agora-worker bench-channels` JSON (stdin) as docs/benchmarks.md's table."""
import json
import sys

r = json.load(sys.stdin)
v1, v64, e, x = r["vouchers_serial"], r["vouchers_64"], r["engine"], r["end_to_end"]
print(json.dumps(r, indent=1))
print()
print("| measure | value | goal |")
print("| --- | --- | --- |")
print(f"| vouchers checked + durably persisted, 64 at once | {v64['per_sec']:,.0f}/s ({v64['amortized_us']:.0f} us each) | >= 1,000/s |")
print(f"| the same, one at a time | {v1['per_sec']:,.0f}/s (latency {v1['latency_p50_us']:.0f} us, of it the signature check {v1['verify_us']:.0f} us) | |")
a = r.get("engine_after", e)
batched = (e["batched_per_sec"] + a["batched_per_sec"]) / 2
print(f"| MiniLM alone, batch 1 / batch {e['batch']}, before the load | {e['batch1_per_sec']:,.0f} / {e['batched_per_sec']:,.0f} sentences/s | |")
print(f"| the same after the load | {a['batch1_per_sec']:,.0f} / {a['batched_per_sec']:,.0f} sentences/s | |")
print(f"| voucher cost (64 at once) / a batch-1 inference | {v64['amortized_us'] / e['batch1_us']:.1%} | < 5% |")
print(f"| paid embeddings end to end, {x['clients']} clients, {x.get('encoding', 'float')} vectors | {x['per_sec']:,.0f}/s (p50 {x['p50_ms']:.1f} ms, p99 {x['p99_ms']:.1f} ms; {x['refused']} refused{' (' + ', '.join(f'{n} {k}' for k, n in x.get('refused_by', {}).items()) + ')' if x['refused'] else ''}) | |")
print(f"| end to end / the engine batched (mean of before and after, {batched:,.0f}/s) | {x['per_sec'] / batched:.2f}x | >= 0.9x |")
