#!/usr/bin/env python3
"""Prints the weight of one full job cycle (submit_job + submit_receipt + finalize),
and of one voucher in a channels.claim_batch, each as a ratio of one
balances.transfer_keep_alive, from one `benchmark pallet` run's JSON files
(scripts/bench-weights.sh writes them).

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

    channels = Path(out) / "pallet_channels.json"
    if channels.exists():
        claim = load(channels)["claim_batch"]
        lo, n_lo = weight(claim, min)
        hi, n_hi = weight(claim, max)
        per = (hi - lo) / (n_hi[0] - n_lo[0])
        print(f"channels.claim_batch: {lo / 1e6:.1f} us at n={n_lo[0]}, {hi / 1e6:.1f} us at n={n_hi[0]}"
              f" ({hi / 1e12:.3f} s of the block's 2 s)")
        print(f"one claim in a batch: {per / 1e6:.1f} us = {per / t_w:.2f} x transfer_keep_alive")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/bench")
