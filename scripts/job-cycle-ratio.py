#!/usr/bin/env python3
"""Prints the weight of one full job cycle, each step and the whole as a ratio of
one balances.transfer_keep_alive, from one `benchmark pallet` run's JSON files
(scripts/bench-weights.sh writes them): one call each (submit_job +
submit_receipt + finalize), and as the market runs at load (submit_job, one
receipt's share of a full submit_receipts batch, one payout's share of
on_initialize), and the same with one order's share of a submit_jobs batch;
and one voucher in a channels.claim_batch.

Weight = median extrinsic time + database reads x 8 us + writes x 50 us
(ParityDB's weights), as the runtime charges it."""
import json
import statistics
import sys
from pathlib import Path

READ_PS, WRITE_PS = 8_000_000, 50_000_000


def load(path):
    return {b["benchmark"]: b for b in json.loads(Path(path).read_text())}


def weight(bench, pick):
    """ref_time in ps at the component values chosen by `pick` (min or max)."""
    times = bench["time_results"]
    key = lambda r: tuple(v for _, v in r["components"])
    target = pick(key(r) for r in times) if times[0]["components"] else ()
    at = [r for r in times if key(r) == target]
    t_ns = statistics.median(r["extrinsic_time"] for r in at)
    db = [r for r in bench["db_results"] if key(r) == target] or bench["db_results"]
    # As the runtime charges: distinct keys read and written (repeats hit the cache).
    reads, writes = db[0]["reads"], db[0]["writes"]
    return t_ns * 1000 + reads * READ_PS + writes * WRITE_PS, target


def slope(bench, k):
    """Weight per unit of component k: between its lowest and highest value
    on the line where it varies (the benchmark holds the others fixed there)."""
    times = bench["time_results"]
    comps = lambda r: [v for _, v in r["components"]]
    others = lambda r: tuple(v for i, v in enumerate(comps(r)) if i != k)
    lines = {}
    for r in times:
        lines.setdefault(others(r), set()).add(comps(r)[k])
    fixed = max(lines, key=lambda o: len(lines[o]))
    line = [r for r in times if others(r) == fixed]
    lo = min(line, key=lambda r: comps(r)[k])
    hi = max(line, key=lambda r: comps(r)[k])
    def w(r):
        c = comps(r)
        t = statistics.median(x["extrinsic_time"] for x in line if comps(x) == c)
        db = [d for d in bench["db_results"] if [v for _, v in d["components"]] == c] or bench["db_results"]
        return t * 1000 + db[0]["reads"] * READ_PS + db[0]["writes"] * WRITE_PS
    return (w(hi) - w(lo)) / (comps(hi)[k] - comps(lo)[k])


def main(out):
    transfer = load(Path(out) / "pallet_balances.json")["transfer_keep_alive"]
    t_w, _ = weight(transfer, min)
    print(f"transfer_keep_alive: {t_w / 1e6:.1f} us")
    jobs = load(Path(out) / "pallet_jobs.json") if (Path(out) / "pallet_jobs.json").exists() else {}
    for label, pick in (("1 candidate", min), ("worst case: the most offers read and the longest input", max)):
        if not jobs:
            break
        total = 0
        for name in ("submit_job", "submit_receipt", "finalize"):
            w, at = weight(jobs[name], pick)
            total += w
            print(f"  {name}{at if at else ''}: {w / 1e6:.1f} us")
        print(f"job cycle, {label}: {total / 1e6:.1f} us = {total / t_w:.2f} x transfer_keep_alive")
    if jobs and "submit_receipts" in jobs:
        order, _ = weight(jobs["submit_job"], min)
        receipt = slope(jobs["submit_receipts"], 0)
        payout = slope(jobs["on_initialize"], 0)
        total = order + receipt + payout
        print(f"  submit_job (1 candidate): {order / 1e6:.1f} us = {order / t_w:.2f} x")
        print(f"  one receipt in a submit_receipts batch: {receipt / 1e6:.1f} us = {receipt / t_w:.2f} x")
        print(f"  one payout in on_initialize: {payout / 1e6:.1f} us = {payout / t_w:.2f} x")
        print(f"job cycle at load (order, batched receipt, hook payout): {total / 1e6:.1f} us"
              f" = {total / t_w:.2f} x transfer_keep_alive")
        if "submit_jobs" in jobs and "weigh_offers" in jobs:
            per_order = slope(jobs["submit_jobs"], 0)
            one, _ = weight(jobs["submit_jobs"], min)
            weigh_lo, c_lo = weight(jobs["weigh_offers"], min)
            weigh_hi, c_hi = weight(jobs["weigh_offers"], max)
            total = per_order + receipt + payout
            print(f"  submit_jobs(1): {one / 1e6:.1f} us; one more order in the batch: {per_order / 1e6:.1f} us"
                  f" = {per_order / t_w:.2f} x (one offer weighed)")
            print(f"  weighing the window per order: {weigh_lo / 1e6:.1f} us at c={c_lo[0]},"
                  f" {weigh_hi / 1e6:.1f} us at c={c_hi[0]}")
            print(f"job cycle at load with batched orders (batched order, batched receipt, hook payout):"
                  f" {total / 1e6:.1f} us = {total / t_w:.2f} x transfer_keep_alive")

    channels = Path(out) / "pallet_channels.json"
    if channels.exists():
        claim = load(channels)["claim_batch"]
        lo, n_lo = weight(claim, min)
        hi, n_hi = weight(claim, max)
        per = (hi - lo) / (n_hi[0] - n_lo[0])
        print(f"channels.claim_batch: {lo / 1e6:.1f} us at n={n_lo[0]}, {hi / 1e6:.1f} us at n={n_hi[0]}"
              f" ({hi / 1e12:.3f} s of the block's 2 s)")
        print(f"one claim in a batch: {per / 1e6:.1f} us = {per / t_w:.2f} x transfer_keep_alive")
        runs = load(channels)
        if "withdraw" in runs:
            wlo, wn_lo = weight(runs["withdraw"], min)
            whi, wn_hi = weight(runs["withdraw"], max)
            wper = (whi - wlo) / (wn_hi[0] - wn_lo[0])
            print(f"channels.withdraw: {wlo / 1e6:.1f} us at n={wn_lo[0]}, {whi / 1e6:.1f} us at n={wn_hi[0]};"
                  f" one channel's payout in a batch: {wper / 1e6:.1f} us = {wper / t_w:.2f} x")
        if "reclaim" in runs:
            rec, _ = weight(runs["reclaim"], min)
            print(f"channels.reclaim (pays the recipient, releases the rest): {rec / 1e6:.1f} us = {rec / t_w:.2f} x")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/bench")
