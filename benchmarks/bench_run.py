"""Time `bidopt run` end to end on a simulated shop; print rows/second and peak memory.

    python benchmarks/bench_run.py [--size large] [--days 14] [--keep DIR] [--strategies all]
                                   [--stages]

The baseline measured in the same run is a plain `pandas.read_csv` of the same files, so
the ratio says how much the whole nightly job costs over merely reading the exports.
Exits non-zero if the run fails or breaks the budget given by --max-seconds / --max-mb.
With --stages, the night is planned once more in a process that prints each stage's seconds
and peak resident memory (sampled every 5 ms): where the time and memory go.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import yaml

from bidopt.plugins import build_registry, get_plugin_manager
from bidopt.simulate import simulate_shop, write_shop

# Runs the command in its own watcher process, so each measurement's peak memory is its own
# (RUSAGE_CHILDREN of this process would keep the largest child seen so far).
WATCH = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
         "sys.exit(rc)")


def child(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run a command; wall seconds and its peak resident memory in MB."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WATCH, *cmd], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_kb = int(proc.stderr.strip().splitlines()[-1]) if proc.stderr.strip() else 0
    return seconds, peak_kb / 1024, proc


def stages(config: Path, out: Path) -> None:
    """Plan the night in this process; print each progress stage's seconds and peak MB."""
    from bidopt.config import load_config
    from bidopt.loop import plan_night, write_recommendations

    page = os.sysconf("SC_PAGE_SIZE")

    def resident() -> float:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * page / 2**20

    now = {"stage": "start", "since": time.perf_counter(), "peak": resident()}
    rows: list[tuple[str, float, float]] = []

    def sample() -> None:
        while True:
            now["peak"] = max(now["peak"], resident())
            time.sleep(0.005)

    def mark(message: str) -> None:
        stamp = time.perf_counter()
        rows.append((now["stage"], stamp - now["since"], max(now["peak"], resident())))
        now.update(stage=message, since=stamp, peak=resident())

    threading.Thread(target=sample, daemon=True).start()
    loaded = load_config(config)
    registry = build_registry(get_plugin_manager())
    result = plan_night(loaded, registry, date=dt.date(2026, 11, 25), progress=mark)
    mark("writing")
    write_recommendations(result, registry, result.context.config, out)
    mark("end")
    print(f"{'stage':<52} {'seconds':>8} {'peak MB':>8}")
    for stage, seconds, peak in rows[1:]:
        print(f"{stage[:52]:<52} {seconds:>8.1f} {peak:>8,.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="Write the shop here and keep it.")
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--max-mb", type=float, default=8000.0)
    parser.add_argument("--strategies", default="default", choices=["default", "all"],
                        help="default: the config's default strategies; all: every built-in one.")
    parser.add_argument("--stages", action="store_true",
                        help="Also print each stage's seconds and peak memory (Linux).")
    parser.add_argument("--stages-of", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages_of:
        stages(args.stages_of, args.stages_of.with_name("recs-stages.csv"))
        return 0
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return measure(args, args.keep)
    folder = Path(tempfile.mkdtemp(prefix="bidopt-bench-"))
    try:  # a large shop is 320 MB of CSV: not left behind in the temporary folder
        return measure(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(args: argparse.Namespace, folder: Path) -> int:
    start = time.perf_counter()
    shop = simulate_shop(seed=args.seed, days=args.days, size=args.size, end_date=dt.date(2026, 11, 24))
    files = write_shop(shop, folder)
    print(f"simulated {args.size} shop in {time.perf_counter() - start:.1f}s -> {folder}")
    reports = [str(p) for name, p in sorted(files.items()) if name.endswith("report")]
    config = folder / "bench.yaml"
    data = {
        "shop": f"bench-{args.size}", "constraints": {"roi_floor": 2.0},
        "sources": {"reports": reports, "items": str(files["items"]),
                    "candidates": str(files["candidates"])},
    }
    if args.strategies == "all":
        registry = build_registry(get_plugin_manager(entry_points=False))
        data["strategies"] = {name: {} for name in registry.strategies}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    n_rows = sum(len(pd.read_csv(p, usecols=[0])) for p in files.values())

    read_code = ("import sys, pandas as pd; [pd.read_csv(p) for p in sys.argv[1:]]")
    base_s, base_mb, proc = child([sys.executable, "-c", read_code, *map(str, files.values())])
    if proc.returncode:
        print(proc.stderr)
        return 1
    bidopt = str(Path(sys.executable).with_name("bidopt"))
    run_s, run_mb, proc = child([bidopt, "run", "--config", str(config), "--date", "2026-11-25",
                                 "--out", str(folder / "recs.csv")])
    if proc.returncode:
        print(proc.stdout, proc.stderr)
        return 1
    n_keywords = shop.keyword_report[["campaign", "item", "keyword", "platform"]].drop_duplicates().shape[0]
    print(f"{'step':<28} {'seconds':>8} {'rows/s':>10} {'peak MB':>8}")
    print(f"{'pandas read_csv (baseline)':<28} {base_s:>8.1f} {n_rows / base_s:>10,.0f} {base_mb:>8,.0f}")
    print(f"{'bidopt run':<28} {run_s:>8.1f} {n_rows / run_s:>10,.0f} {run_mb:>8,.0f}")
    print(f"rows {n_rows:,}; keyword x platform {n_keywords:,}; run / read ratio {run_s / base_s:.1f}x")
    print(f"peak memory / read_csv peak {run_mb / base_mb:.2f}x")
    if args.stages:  # in a process of its own: this one holds the simulated shop
        subprocess.run([sys.executable, __file__, "--stages-of", str(config)], check=True)
    ok = run_s <= args.max_seconds and run_mb <= args.max_mb
    print("PASS" if ok else f"FAIL: over --max-seconds {args.max_seconds} or --max-mb {args.max_mb}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
