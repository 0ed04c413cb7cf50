"""The recommendations CSV as a reviewer checks it: every row's expected effect (d_clicks,
d_cost, d_gmv) against keeping the current value, adding up to what the run's summary
prints per campaign. End to end through the CLI, on a simulated shop and the bundled
sample (whose crowd, region and hour rows are slices of the keywords' traffic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from bidopt.cli import cli
from conftest import NIGHT, write_config

SAMPLE = Path(__file__).resolve().parents[1] / "configs" / "sample.yaml"


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def read_recs(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"hour": str})


def campaign_table(output: str) -> pd.DataFrame:
    """The per-campaign table the run prints, as numbers."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("campaign "))
    rows = []
    for line in lines[start + 1:]:
        parts = line.split()
        if not parts or parts[0] == "TOTAL":
            break
        rows.append(parts[:7])
    table = pd.DataFrame(rows, columns=["campaign", "kw", "actions", "cost_before",
                                        "cost_after", "gmv_before", "gmv_after"])
    for column in table.columns[1:]:
        table[column] = pd.to_numeric(table[column].str.replace(",", ""))
    return table.set_index("campaign")


def check_effects_add_up(output: str, recs: pd.DataFrame) -> None:
    table = campaign_table(output)
    assert len(table) > 0
    changes = recs[recs["action"] != "keep"]
    assert changes[["d_clicks", "d_cost", "d_gmv"]].notna().all().all()
    for campaign, row in table.iterrows():
        mine = changes[changes["campaign"] == campaign]
        assert len(mine) == row["actions"]
        # the CSV rounds each row to cents, the summary each total
        tolerance = 0.005 * (len(mine) + 2) + 1e-6
        assert mine["d_cost"].sum() == pytest.approx(
            row["cost_after"] - row["cost_before"], abs=tolerance), campaign
        assert mine["d_gmv"].sum() == pytest.approx(
            row["gmv_after"] - row["gmv_before"], abs=tolerance), campaign


def test_effects_add_up_to_the_summary_on_a_simulated_shop(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    out = tmp_path / "recs.csv"
    result = run_cli("run", "--config", str(config), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    recs = read_recs(out)
    # after the forecast, before the ranges (appended later, so earlier columns kept
    # their places)
    assert list(recs.columns[-9:-6]) == ["d_clicks", "d_cost", "d_gmv"]
    check_effects_add_up(result.output, recs)
    # a pause gives up what the keyword spends and sells today; a cut saves spend
    pauses = recs[recs["action"] == "pause_keyword"]
    assert (pauses["d_cost"] <= 0).all() and (pauses["exp_cost"] == 0).all()
    adds = recs[recs["action"] == "add_keyword"]
    assert np.allclose(adds["d_cost"], adds["exp_cost"], atol=0.011)
    cuts = recs[(recs["action"] == "set_bid") & (recs["change_pct"] < 0)]
    assert len(cuts) and (cuts["d_cost"] <= 0.005).all()


def test_effects_add_up_to_the_summary_on_the_sample_shop_with_every_action(tmp_path):
    """The bundled ZTC sample under a profit objective takes crowd premiums, a region and
    hour discounts too: their rows' changes count with the keywords' in the summary."""
    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    data["objective"] = {"target": "profit"}
    config = tmp_path / "sample.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "recs.csv"
    result = run_cli("run", "--config", str(config), "--out", str(out))
    assert result.exit_code == 0, result.output
    recs = read_recs(out)
    slices = recs[recs["action"].isin(["set_crowd_premium", "exclude_region",
                                       "set_hour_discount"])]
    assert set(slices["action"]) >= {"set_crowd_premium", "exclude_region"}
    # a region switched off gives up its whole spend and GMV
    regions = recs[recs["action"] == "exclude_region"]
    assert (regions["d_cost"] < 0).all() and (regions["exp_cost"] == 0).all()
    check_effects_add_up(result.output, recs)


def test_a_crowd_premium_s_d_cost_is_its_added_spend_as_the_plan_counts_it(tmp_path):
    """A premium on an item whose bids may rise tonight counts its added spend at those
    bids raised by the nightly limit (bid x (1 + premium) compounds): the row's d_cost is
    that cautious count, named in its reason, not the plain forecast at today's bids
    (README: the d_* column; on simulated shops it ran 1.05x the truth's change on an
    ordinary night, 2.28x on the burst night, the plain forecast below it)."""
    out = tmp_path / "recs.csv"
    result = run_cli("run", "--config", str(SAMPLE), "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    crowds = read_recs(out)
    crowds = crowds[crowds["action"] == "set_crowd_premium"]
    counted = crowds["reason"].str.extract(r"counted at ([\d.]+) \(not ([\d.]+)\)").astype(float)
    named = counted[0].notna()
    assert named.sum() >= 3
    # the cautious count, scaled down (never up) to the traffic the plan's bids buy
    assert (crowds.loc[named, "d_cost"] <= counted.loc[named, 0] + 0.011).all()
    assert (crowds.loc[named, "d_cost"] > counted.loc[named, 1] + 0.011).any()
