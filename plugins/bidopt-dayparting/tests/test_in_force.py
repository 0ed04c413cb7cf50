"""The hour discounts in force: after `bidopt applied`, the next night starts from them."""

from __future__ import annotations

import pandas as pd
from bidopt.cli import cli
from bidopt.testing import NIGHT, run_night, simulated_shop
from click.testing import CliRunner

import bidopt_dayparting.plugin as dayparting
from bidopt_dayparting.hours import shrunk_rates


def test_the_next_night_starts_from_the_discounts_recorded_in_force(tmp_path):
    simulated_shop(tmp_path / "shop", seed=3, size="medium")
    config = tmp_path / "shop.yaml"
    config.write_text("shop: acme\nsources: {reports: ['shop/*_report.csv'], items: shop/items.csv}\n"
                      "constraints: {roi_floor: 2.0}\nstrategies: {dayparting: {}}\n",
                      encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(cli, ["run", "--config", str(config), "--date", NIGHT.isoformat(),
                                "--out", str(tmp_path / "night1.csv"), "--quiet"])
    assert first.exit_code == 0, first.output
    night1 = pd.read_csv(tmp_path / "night1.csv", encoding="utf-8-sig")
    set_ = night1[night1["action"] == "set_hour_discount"]
    assert len(set_) > 0 and (set_["current"] == 100).all()
    applied = runner.invoke(cli, ["applied", "--config", str(config), str(tmp_path / "night1.csv")])
    assert applied.exit_code == 0, applied.output
    assert f"{len(set_)} hour discounts" in applied.output

    second = run_night(config, plugins=[dayparting])
    assert not second.plugin_failures
    assert any(f"hour discounts in force: {len(set_)} campaign-hours from the state file" in w
               for w in second.context.warnings)
    asked = second.decision.proposals
    asked = asked[asked["strategy"] == "dayparting"]
    in_force = {(c, int(h)): p for c, h, p in
                zip(set_["campaign"], set_["hour"], set_["proposed"], strict=True)}
    current = {(c, int(h)): v for c, h, v in
               zip(asked["campaign"], asked["hour"], asked["current"], strict=True)}
    again = set(current) & set(in_force)
    assert again, "the second night proposes nothing for the hours the first one set"
    for key in again:  # each starts from the first night's discount, not from 100
        assert current[key] == in_force[key], key
    for key in set(current) - set(in_force):  # hours never set are still at 100
        assert current[key] == 100, key
    # a step from the recorded discount, never back to it nor past the nightly change
    moved = asked.set_index(["campaign", "hour"])
    assert (moved["proposed"] != moved["current"]).all()
    assert ((moved["proposed"] - moved["current"]).abs() <= 30 + 1e-9).all()

    # the config's own discounts win over the state file's, campaign-hour by campaign-hour
    table = shrunk_rates(second.context.history["hours"])
    campaign, hour = next(iter(sorted(again)))
    params = dayparting.DaypartingParams(current_discounts={campaign: {hour: 120}})
    chosen, _ = dayparting.current_discounts(second.context, params, table)
    chosen = pd.Series(chosen, index=pd.MultiIndex.from_frame(table[["campaign", "hour"]]))
    assert chosen[(campaign, hour)] == 120
    for key, value in in_force.items():  # every other campaign-hour: the state file's
        if key != (campaign, hour):
            assert chosen[key] == value, key
