"""Time writing a night's recommendations as an Excel workbook, against writing the CSV.

    python benchmarks/bench_xlsx.py [--rows 200000] [--size medium] [--seed 1] [--repeat 1]
                                    [--against main] [--max-ratio 10] [--max-mb 2000]

The recommendations are a real plan: a simulated shop (``--size``) planned by ``bidopt run``
in-process with every built-in strategy and ``output.include_rejected``, so the frame has
the CSV writer's 21 columns, dtypes, empty cells, Chinese names and long reasons. Its rows
are repeated up to ``--rows`` (the keywords of each copy get a suffix, so that names stay
distinct as in a larger shop). The baseline measured in the same run is the CSV writer on
the same frame; ``--against REV`` also times the workbook writer of a git revision
(``src/bidopt/io/workbook.py`` as it was there, with the rest of this tree), so old and new
are compared in one run.

Every write runs in a fresh process that loads the frame first: its peak resident memory
(``ru_maxrss``) is its own, and ``+MB`` is the peak above the memory the loaded frame took.
With ``--repeat`` the writes run that many times, interleaved, and the fastest counts; the
CPU seconds (``time.process_time``) say the same on a machine busy with other work.
Exits non-zero if a write fails, or the workbook takes more than ``--max-ratio`` times the
CSV's CPU seconds, or more than ``--max-mb`` at peak.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

NIGHT = dt.date(2026, 11, 25)
ROOT = Path(__file__).resolve().parent.parent


def build_frame(rows: int, size: str, seed: int, folder: Path) -> pd.DataFrame:
    """A real night's recommendations, repeated up to ``rows`` rows."""
    from bidopt.config import parse_config
    from bidopt.loop import SourceOverrides, plan_night
    from bidopt.plugins import build_registry, get_plugin_manager
    from bidopt.simulate import simulate_shop, write_shop

    shop = simulate_shop(seed=seed, size=size, end_date=NIGHT - dt.timedelta(days=1))
    files = write_shop(shop, folder / "shop", chinese=True)
    registry = build_registry(get_plugin_manager(entry_points=False))
    config = parse_config({"shop": "bench-xlsx", "constraints": {"roi_floor": 2.0},
                           "output": {"include_rejected": True},
                           "strategies": {name: {} for name in registry.strategies}})
    sources = SourceOverrides([p for n, p in sorted(files.items()) if n.endswith("report")],
                              files["items"], files["candidates"])
    plan = plan_night(config, registry, date=NIGHT, sources=sources).recommendations
    copies = []
    for copy in range(-(-rows // len(plan))):
        part = plan.copy()
        if copy:
            keyword = part["keyword"]
            part["keyword"] = keyword.where(keyword.isna(), keyword.astype(object) + f" {copy}")
        copies.append(part)
    return pd.concat(copies, ignore_index=True).iloc[:rows]


def write_once(fmt: str, frame_file: Path, out: Path, module: Path | None) -> None:
    """In a fresh process: load the frame, write it once, print seconds and memory (JSON)."""
    frame = pd.read_pickle(frame_file)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if fmt == "csv":
        from bidopt.io.writer import write_recommendations_csv as write
    elif module is None:
        from bidopt.io.workbook import write_recommendations_xlsx as write
    else:
        spec = importlib.util.spec_from_file_location("workbook_under_test", module)
        workbook = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(workbook)
        write = workbook.write_recommendations_xlsx
    start, cpu = time.perf_counter(), time.process_time()
    write(frame, out)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak / 1024,
                      "added_mb": (peak - loaded) / 1024, "file_mb": out.stat().st_size / 2**20}))


def measure(fmt: str, frame_file: Path, out: Path, module: Path | None) -> dict:
    cmd = [sys.executable, __file__, "--write-of", fmt, str(frame_file), str(out)]
    if module is not None:
        cmd += ["--module", str(module)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{fmt} write failed:\n{proc.stdout}{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def old_module(revision: str, folder: Path) -> Path:
    """The workbook writer of a git revision, as a file of its own."""
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:src/bidopt/io/workbook.py"],
                          capture_output=True, text=True, check=True).stdout
    path = folder / "workbook_at_revision.py"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--size", default="medium", choices=["small", "medium", "large"],
                        help="The simulated shop whose plan is repeated (medium: ~20,000 rows).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1,
                        help="Write each format this many times (interleaved); the fastest counts.")
    parser.add_argument("--against", metavar="REV",
                        help="Also time the workbook writer of this git revision, e.g. main.")
    parser.add_argument("--max-ratio", type=float, default=10.0,
                        help="Fail when the workbook takes more than this many times the CSV's "
                             "CPU seconds.")
    parser.add_argument("--max-mb", type=float, default=2000.0,
                        help="Fail when writing the workbook peaks above this resident memory.")
    parser.add_argument("--write-of", nargs=3, metavar=("FORMAT", "FRAME", "OUT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--frame-to", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--module", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_of:
        fmt, frame_file, out = args.write_of
        write_once(fmt, Path(frame_file), Path(out), args.module)
        return 0
    if args.frame_to:
        frame = build_frame(args.rows, args.size, args.seed, args.frame_to.parent)
        frame.to_pickle(args.frame_to)
        print(f"{len(frame):,} rows x {frame.shape[1]} columns", end="")
        return 0

    folder = Path(tempfile.mkdtemp(prefix="bidopt-bench-xlsx-"))
    try:
        start = time.perf_counter()
        frame_file = folder / "recommendations.pkl"
        # planned in a process of its own: a child started by this one reports this one's
        # resident memory as its peak when that is higher (ru_maxrss survives exec)
        built = subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--size",
                                args.size, "--seed", str(args.seed), "--frame-to", str(frame_file)],
                               capture_output=True, text=True, check=True).stdout
        print(f"{built} from a {args.size} shop's plan in {time.perf_counter() - start:.1f}s")
        writers = {"csv (baseline)": ("csv", None)}
        if args.against:
            writers[f"xlsx at {args.against}"] = ("xlsx", old_module(args.against, folder))
        writers["xlsx"] = ("xlsx", None)
        results: dict[str, dict] = {}
        for _ in range(args.repeat):
            for label, (fmt, module) in writers.items():
                out = folder / f"recs.{fmt}"
                got = measure(fmt, frame_file, out, module)
                out.unlink()
                best = results.setdefault(label, got)
                if got["seconds"] < best["seconds"]:
                    results[label] = {**got, "peak_mb": max(got["peak_mb"], best["peak_mb"]),
                                      "added_mb": max(got["added_mb"], best["added_mb"])}
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"FAIL: {exc}")
        return 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    csv = results["csv (baseline)"]["seconds"]
    csv_cpu = results["csv (baseline)"]["cpu"]
    print(f"{'writer':<24} {'seconds':>8} {'rows/s':>9} {'x csv':>6} {'CPU s':>6} {'x csv':>6} "
          f"{'peak MB':>8} {'+MB':>6} {'file MB':>8}")
    for label, got in results.items():
        print(f"{label:<24} {got['seconds']:>8.1f} {args.rows / got['seconds']:>9,.0f} "
              f"{got['seconds'] / csv:>6.1f} {got['cpu']:>6.1f} {got['cpu'] / csv_cpu:>6.1f} "
              f"{got['peak_mb']:>8,.0f} {got['added_mb']:>6,.0f} {got['file_mb']:>8.1f}")
    if args.against:
        old = results[f"xlsx at {args.against}"]
        print(f"xlsx at {args.against} / xlsx now: {old['seconds'] / results['xlsx']['seconds']:.2f}x "
              f"the seconds, {old['cpu'] / results['xlsx']['cpu']:.2f}x the CPU seconds")
    ratio = results["xlsx"]["cpu"] / csv_cpu
    peak = results["xlsx"]["peak_mb"]
    ok = ratio <= args.max_ratio and peak <= args.max_mb
    print("PASS" if ok else f"FAIL: the workbook takes {ratio:.1f}x the CSV's CPU seconds "
                            f"(--max-ratio {args.max_ratio}) or {peak:,.0f} MB (--max-mb {args.max_mb})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
