"""Time and memory of bidopt.optimise.solve on realistic random instances.

    python benchmarks/bench_optimise.py [--sizes 10000 100000 1000000] [--shop] [--objective clicks]

Each size runs in a fresh subprocess so that its peak memory (ru_maxrss, which includes the
instance itself: ~1 GB of float64 arrays at 1M x 40) is its own.  Exits non-zero when the
largest size misses a target: under 10 s, under 3 GB peak, feasible.  It also runs
solve_exact (HiGHS) on a 2,000-entity instance of the same kind under a time limit, as the
yardstick for time and objective (HiGHS's own gap is printed: at the limit its plan is
not proven optimal).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

LEVELS = 40
CAMPAIGNS = 50
TARGET_SECONDS = 10.0
TARGET_MB = 3072.0
TARGET_SIZE = 1_000_000
EXACT_SIZE = 2_000
EXACT_SECONDS = 60.0


def instance(n: int, seed: int = 0, objective: str = "clicks", shop: bool = False) -> dict:
    """A nightly problem: concave click response over 40 bid levels, ~50 campaigns.

    Filled chunk by chunk into preallocated arrays so that generating 1M rows costs no more
    memory than the arrays themselves.
    """
    rng = np.random.default_rng(seed)
    values = np.empty((n, LEVELS))
    costs = np.empty((n, LEVELS))
    gmv = np.empty((n, LEVELS))
    valid = np.empty((n, LEVELS), dtype=bool)
    group = np.minimum(rng.zipf(1.3, n) - 1, CAMPAIGNS - 1)  # a few big campaigns, a long tail
    group = rng.permutation(CAMPAIGNS)[group]
    baseline = np.empty(n, dtype=np.intp)
    ratios = np.exp(np.linspace(np.log(0.25), np.log(4.0), LEVELS))
    step = 50_000
    for s in range(0, n, step):
        e = min(s + step, n)
        m = e - s
        bid0 = rng.lognormal(0.0, 0.6, m)[:, None]
        bids = bid0 * ratios[None, :]
        volume = rng.lognormal(2.5, 1.2, m)[:, None]
        saturation = bid0 * rng.uniform(0.5, 3.0, (m, 1))
        clicks = volume * (1.0 - np.exp(-bids / saturation))
        clicks *= rng.uniform(0.97, 1.03, (m, LEVELS))
        cpc = bids * rng.uniform(0.6, 0.9, (m, 1))
        costs[s:e] = clicks * cpc
        per_click = rng.lognormal(0.8, 0.7, (m, 1))
        gmv[s:e] = clicks * per_click * rng.uniform(0.95, 1.05, (m, LEVELS))
        if objective == "clicks":
            values[s:e] = clicks
        elif objective == "gmv":
            values[s:e] = gmv[s:e]
        else:
            values[s:e] = 0.3 * gmv[s:e] - costs[s:e]
        base = np.full(m, LEVELS // 2) + rng.integers(-4, 5, m)
        baseline[s:e] = base
        reach = np.where(rng.random(m) < 0.3, LEVELS, rng.integers(6, 15, m))  # nightly change cap
        level = np.arange(LEVELS)[None, :]
        valid[s:e] = np.abs(level - base[:, None]) <= reach[:, None]
    rows = np.arange(n)
    base_cost = np.bincount(group, costs[rows, baseline], CAMPAIGNS)
    base_gmv = np.bincount(group, gmv[rows, baseline], CAMPAIGNS)
    roi = np.where(base_cost > 0, base_gmv / np.maximum(base_cost, 1e-9), 0.0)
    floor = roi * rng.uniform(0.8, 1.3, CAMPAIGNS)
    floor[rng.random(CAMPAIGNS) < 0.1] = 0.0
    budget = np.where(rng.random(CAMPAIGNS) < 0.6, base_cost * rng.uniform(0.7, 1.4, CAMPAIGNS), np.inf)
    shop_budget = float(0.9 * base_cost.sum()) if shop else None
    return dict(values=values, costs=costs, gmv=gmv, valid=valid, group=group, roi_floor=floor,
                budget=budget, shop_budget=shop_budget, baseline=baseline)


def child(n: int, objective: str, shop: bool, exact: bool) -> dict:
    from bidopt.optimise import solve, solve_exact

    data = instance(n, objective=objective, shop=shop)
    t0 = time.perf_counter()
    sol = solve(**data)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = dict(entities=n, seconds=seconds, peak_mb=peak_mb, objective=sol.objective,
               gap=sol.gap, feasible=sol.feasible, passes=sol.iterations)
    if exact:
        t0 = time.perf_counter()
        ref = solve_exact(**data, time_limit=EXACT_SECONDS)
        row["exact_seconds"] = time.perf_counter() - t0
        row["exact_objective"] = ref.objective
        row["exact_feasible"] = ref.feasible
        row["exact_gap"] = ref.gap
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--objective", choices=["clicks", "gmv", "profit"], default="clicks")
    parser.add_argument("--shop", action="store_true", help="add a binding shop-wide budget")
    parser.add_argument("--no-exact", action="store_true", help="skip the HiGHS yardstick")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        exact = args.child == EXACT_SIZE and not args.no_exact
        print(json.dumps(child(args.child, args.objective, args.shop, exact)))
        return 0
    print(f"objective={args.objective} shop_budget={'on' if args.shop else 'off'} "
          f"levels={LEVELS} campaigns={CAMPAIGNS}")
    print(f"{'entities':>10} {'seconds':>8} {'peak MB':>8} {'objective':>14} {'gap':>10} "
          f"{'feasible':>8} {'passes':>6}")
    failed = []
    sizes = list(args.sizes) if args.no_exact else [EXACT_SIZE] + list(args.sizes)
    for n in sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--objective", args.objective]
        cmd += ["--shop"] if args.shop else []
        cmd += ["--no-exact"] if args.no_exact else []
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{n:>10} FAILED\n{done.stderr[-2000:]}")
            failed.append(f"{n}: crashed")
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{n:>10} {row['seconds']:>8.2f} {row['peak_mb']:>8.0f} {row['objective']:>14.6g} "
              f"{row['gap']:>10.2e} {str(row['feasible']):>8} {row['passes']:>6}")
        if "exact_seconds" in row and not row["exact_feasible"]:
            print(f"{'':>10} solve_exact: no feasible plan within the {EXACT_SECONDS:.0f} s limit "
                  f"({row['exact_seconds']:.0f} s)")
        elif "exact_seconds" in row:
            ratio = row["exact_seconds"] / max(row["seconds"], 1e-9)
            shortfall = (row["exact_objective"] - row["objective"]) / max(abs(row["exact_objective"]), 1e-12)
            print(f"{'':>10} solve_exact (HiGHS): {row['exact_seconds']:.1f} s = {ratio:.0f}x "
                  f"solve's time, objective {row['exact_objective']:.6g} (its own gap "
                  f"{row['exact_gap']:.1e}, {EXACT_SECONDS:.0f} s limit); solve is "
                  f"{shortfall:.2e} below it")
        if not row["feasible"]:
            failed.append(f"{n}: infeasible plan")
        if n >= TARGET_SIZE and row["seconds"] > TARGET_SECONDS:
            failed.append(f"{n}: {row['seconds']:.1f} s > {TARGET_SECONDS} s")
        if n >= TARGET_SIZE and row["peak_mb"] > TARGET_MB:
            failed.append(f"{n}: {row['peak_mb']:.0f} MB > {TARGET_MB} MB")
    if failed:
        print("TARGETS MISSED: " + "; ".join(failed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
