"""``benchmarks/bench_plan.py``'s count of the floors that hold: which campaigns bind in
bidopt's plan, the margin they were planned with, and which break on truth."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bidopt.simulate import simulate_shop, write_shop

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_plan  # noqa: E402


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    shop = simulate_shop(seed=2, days=14, size="small",
                         end_date=bench_plan.NIGHT - dt.timedelta(days=1))
    files = write_shop(shop, tmp_path_factory.mktemp("plan"))
    return bench_plan.run_case("small-2", shop.market, files, 2.5, "default")


def test_floors_held_reads_the_plan_and_the_truth(case):
    held = bench_plan.floors_held(case)
    lim = bench_plan.limits(case)
    planned = case.run.decision.campaigns.set_index("campaign")
    assert list(held.index) == list(lim.index)
    # broken: the plan's true ROI more than 0.5% under the floor the oracle can hold
    true_roi = case.truth["bidopt"]["roi"].reindex(lim.index)
    expected = (true_roi < 2.5 * 0.995) & lim["attainable"]
    pd.testing.assert_series_equal(held["broken"], expected, check_names=False)
    np.testing.assert_array_equal(held["binds"], planned["floor_binds"].reindex(lim.index))
    # every floor is planned at least roi_margin_pct above the floor
    margin = case.run.context.config.optimiser.roi_margin_pct / 100
    assert (held["margin"] >= margin - 1e-9).all()
    assert held["binds"].any()


def test_floors_held_line_counts_binding_floors_apart():
    frame = pd.DataFrame({"binds": [True, True, False, True],
                          "margin": [0.10, 0.20, 0.05, 0.30],
                          "broken": [True, False, True, False]})
    line = bench_plan.floors_held_line(frame, 0.9)
    assert "3 of 4 campaigns planned at their floor" in line
    assert "median +20%" in line
    assert "1 of them broken on truth (33.3%)" in line
    assert "probability 0.9" in line
    assert line.endswith("broken elsewhere: 1")


def test_population_verdict_judges_the_sums(capsys):
    """Two shops where every floor holds pass; a shop whose one binding floor of three breaks
    on truth fails, since 1 in 3 is more than the 10% its floors were planned to allow."""
    assert bench_plan.main(["--seeds", "0", "1", "--no-medium", "--floors", "2.0",
                            "--verdict", "population"]) == 0
    out = capsys.readouterr().out
    assert "PASS: over all shops bidopt earns more than every baseline" in out
    assert bench_plan.main(["--seeds", "26", "--no-medium", "--floors", "2.0",
                            "--verdict", "population"]) == 1
    out = capsys.readouterr().out
    assert "small-26 floor 2.0: bidopt breaks 1 campaign" in out.split("per shop")[1]
    assert "floor 2.0: 33.3% of the floors that bind in bidopt's plan break on truth (> 10.0%)" in out


def test_shops_run_in_worker_processes_print_the_same(capsys):
    """--jobs 2 runs the shops in two processes; the tables come back in the same order with
    the same numbers (only the run's total time differs)."""
    argv = ["--seeds", "0", "1", "--no-medium", "--floors", "2.0"]

    def body(out: str) -> list[str]:
        return [line for line in out.splitlines() if not line.startswith("total ")]

    assert bench_plan.main(argv) == 0
    alone = body(capsys.readouterr().out)
    assert bench_plan.main([*argv, "--jobs", "2"]) == 0
    assert body(capsys.readouterr().out) == alone
    assert any(line.startswith("== small-0, ROI floor 2.0") for line in alone)
