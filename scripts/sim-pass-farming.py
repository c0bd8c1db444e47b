#!/usr/bin/env python3
"""Reward farming with a service pass (issue 23; docs/economics.md).

An attacker runs one of N providers of a model and also locks a pass, then
sends q requests of self-traffic per epoch. The chain (not the client) draws
who serves each pass request: a roulette pick weighted by reputation
(docs/protocol.md §5), here equal for all N providers, so each request lands
on the attacker's provider with probability 1/N. At the epoch's end the
reward R is split by contribution, R_k = floor(C_k * R / sum C)
(agora_primitives::passes::reward_share).

For each N the script reports, per epoch:
  - the attacker's expected extra reward from q self-requests (exact
    expectation, and a Monte Carlo over the AVRF draw with the same formula);
  - its cost: the stake locked for the quota (carried for the epoch plus the
    cooldown, at the staking yield it forgoes), the transaction fee per
    request, and the compute for the 1/N of its requests its own provider runs;
  - whether it pays.

Two markets: a thin one (no honest pass traffic besides the attacker's: every
request's reward is large) and a busy one. Parameters are the runtime's
defaults (configs/params.rs) unless given:

  scripts/sim-pass-farming.py [--cap 0.001] [--issuance AGR] [--inflation 0.01] [--epoch-blocks 1200]
      [--honest-requests 10000] [--attacker-share 1/N] [--q 1,10,100,1000]
      [--fee 0.00135] [--stake-per-request 1] [--staking-yield 0.10]
      [--cooldown-blocks 28800] [--compute 0.001] [--trials 2000]
"""
import argparse
import random
from fractions import Fraction

BLOCKS_PER_YEAR = 28800 * 36525 // 100  # 3 s blocks, 365.25 days


def epoch_reward(issuance, inflation, epoch_blocks):
    # floor(floor(issuance * inflation) * epoch / year), in AGR (not planck) here
    return issuance * inflation * epoch_blocks / BLOCKS_PER_YEAR


def minted(R, cap, units):
    # agora_primitives::passes::capped_reward: at most `cap` per unit of work.
    return R if cap is None else min(R, cap * units)


def attacker_gain(R, cap, n, honest_total, attacker_honest, q):
    """Expected extra reward from q self-requests: its share of the reward with
    them minus without (each self-request lands on it with probability 1/n)."""
    before = minted(R, cap, honest_total) * attacker_honest / honest_total if honest_total else 0.0
    after = minted(R, cap, honest_total + q) * (attacker_honest + q / n) / (honest_total + q)
    return after - before


def monte_carlo(R, cap, n, honest_total, attacker_honest, q, trials, rng):
    before = minted(R, cap, honest_total) * attacker_honest / honest_total if honest_total else 0.0
    total = 0.0
    for _ in range(trials):
        mine = sum(1 for _ in range(q) if rng.randrange(n) == 0)
        total += minted(R, cap, honest_total + q) * (attacker_honest + mine) / (honest_total + q) - before
    return total / trials


def cost(q, fee, stake_per_request, staking_yield, epoch_blocks, cooldown_blocks, compute, n):
    stake = q * stake_per_request
    carried = stake * staking_yield * (epoch_blocks + cooldown_blocks) / BLOCKS_PER_YEAR
    return q * fee + carried + q * compute / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--issuance", type=float, default=1e9)
    ap.add_argument("--inflation", type=float, default=0.01)
    ap.add_argument("--epoch-blocks", type=int, default=1200)
    ap.add_argument("--honest-requests", type=int, default=10000)
    ap.add_argument("--q", default="1,10,100,1000")
    # Measured on the dev chain (docs/economics.md): submit_pass_job's fee.
    ap.add_argument("--fee", type=float, default=0.00135, help="AGR per pass-job transaction")
    ap.add_argument("--stake-per-request", type=float, default=1.0)
    ap.add_argument("--staking-yield", type=float, default=0.10)
    ap.add_argument("--cooldown-blocks", type=int, default=28800)
    ap.add_argument("--compute", type=float, default=0.001, help="AGR to run one request")
    ap.add_argument("--cap", type=float, default=0.001, help="PASS_REWARD_CAP, AGR per unit of work")
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    R = epoch_reward(a.issuance, a.inflation, a.epoch_blocks)
    qs = [int(x) for x in a.q.split(",")]
    print(f"R per epoch = {R:,.2f} AGR (issuance {a.issuance:,.0f} AGR, INFLATION {a.inflation:.2%}, "
          f"epoch {a.epoch_blocks} blocks); fee {a.fee} AGR/request, STAKE_PER_REQUEST {a.stake_per_request} AGR, "
          f"staking yield {a.staking_yield:.0%}, PASS_COOLDOWN {a.cooldown_blocks} blocks, compute {a.compute} AGR/request\n")
    markets = (("thin: no honest pass traffic", 0), (f"busy: {a.honest_requests:,} honest pass requests an epoch", a.honest_requests))
    for cap in (None, a.cap):
      for market, honest in markets:
        print(f"### {market}; {'no cap (the spec formula)' if cap is None else f'PASS_REWARD_CAP {cap} AGR'}\n")
        print("| N | q (self-requests) | expected gain (AGR) | Monte Carlo (AGR) | cost (AGR) | gain / cost | pays? |")
        print("|---:|---:|---:|---:|---:|---:|---|")
        for n in (2, 5, 20):
            # The attacker's provider does its fair share of honest work (1/N).
            mine = honest / n
            for q in qs:
                g = attacker_gain(R, cap, n, honest, mine, q)
                mc = monte_carlo(R, cap, n, honest, mine, q, a.trials, rng)
                c = cost(q, a.fee, a.stake_per_request, a.staking_yield, a.epoch_blocks, a.cooldown_blocks, a.compute, n)
                print(f"| {n} | {q:,} | {g:,.4f} | {mc:,.4f} | {c:,.4f} | {g / c:,.2f} | {'**yes**' if g > c else 'no'} |")
        print()
    # Where self-traffic stops paying in a busy market: gain is exactly 0 when
    # the attacker's honest share equals 1/N, and negative above it.
    n, honest = 5, a.honest_requests
    for share in (Fraction(1, 10), Fraction(1, 5), Fraction(3, 10)):
        g = attacker_gain(R, None, n, honest, float(share) * honest, 100)
        print(f"N = {n}, attacker's honest share {share}: 100 self-requests gain {g:,.4f} AGR")


if __name__ == "__main__":
    main()
