"""``benchmarks/bench_nights.py``: the last night's comparison of the oracle's bids with
bidopt's (``--detail``) counts what the loop itself judged."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pytest

from bidopt.simulate import simulate_shop

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_nights  # noqa: E402


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    shop = simulate_shop(seed=2, size="small",
                         end_date=bench_nights.FIRST_NIGHT - dt.timedelta(days=1))
    # three nights at floor 2.0: the oracle has raised page-edge keywords above 2x by then
    return bench_nights.run_case("small-2", shop, 2.0, 3, 2, None, tmp_path_factory.mktemp("n"),
                                 detail=True)


def test_the_truth_of_both_plans_is_what_the_loop_judged(case):
    seen = case.oracle_seen
    assert len(seen) == len(case.loops["bidopt"].in_force)
    for name, method in (("ours", "bidopt"), ("oracle", "oracle")):
        judged = case.loops[method].nights[-1]
        assert seen[f"true_cost_{name}"].sum() == pytest.approx(judged["cost"].sum(), rel=1e-9)
        assert seen[f"true_gmv_{name}"].sum() == pytest.approx(judged["gmv"].sum(), rel=1e-9)
    # bidopt's forecast of its own bids is close to the truth; every keyword is in one band
    assert seen["fc_cost_ours"].sum() == pytest.approx(seen["true_cost_ours"].sum(), rel=0.2)
    ours, oracle = case.loops["bidopt"].in_force, case.loops["oracle"].in_force
    ratio = (np.where(oracle["paused"], 0.0, oracle["bid"])
             / np.where(ours["paused"], np.nan, ours["bid"]))
    band = seen["oracle_bid"].to_numpy()
    assert set(band) <= {"bidopt paused", *bench_nights.ORACLE_LABELS}
    assert (ratio[band == ">2x"] > 2).all() and (ratio[band == "<0.8x"] <= 0.8).all()
    assert (seen.loc[band == "oracle paused", "true_cost_oracle"] == 0).all()
    assert (seen.loc[band == "bidopt paused", "true_cost_ours"] == 0).all()


def test_detail_prints_the_last_night(case, capsys):
    bench_nights.print_oracle_seen([case])
    out = capsys.readouterr().out
    seen = case.oracle_seen
    assert "the last night" in out
    truth = [line for line in out.splitlines() if line.strip().startswith("truth")][0]
    assert f"GMV {seen['true_gmv_oracle'].sum():,.0f}" in truth
    raised = seen[seen["edge"] & (seen["oracle_bid"] == ">2x")]
    edge = [line for line in out.splitlines() if "edge keywords the oracle raised" in line]
    assert len(raised) and len(edge) == 1
    assert f"{raised['true_clicks_oracle'].sum():,.0f} true" in edge[0]


def test_shops_run_in_worker_processes_print_the_same(capsys):
    """--jobs 2 runs the shops' loops in two processes; the tables come back the same."""
    argv = ["--seeds", "0", "1", "--nights", "1", "--floors", "2.0"]
    code = bench_nights.main(argv)
    alone = capsys.readouterr().out
    assert bench_nights.main([*argv, "--jobs", "2"]) == code
    assert capsys.readouterr().out == alone
    assert "== floor 2.0: 2 shops, 1 nights" in alone
