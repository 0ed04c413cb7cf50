"""What a third-party plugin author runs into: the public API they are pointed at, and the
messages bidopt gives when their plugin is wrong."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import write_config

from bidopt.config import load_config
from bidopt.state import record_plan, state_path
from bidopt.testing import run_night


def _recorded_plan(folder, campaign: str, item: str, keyword: str):
    rows = pd.DataFrame([
        {"action": "set_hour_discount", "hour": 6, "proposed": 85},
        {"action": "set_hour_discount", "hour": 22, "proposed": 120},
        {"action": "set_crowd_premium", "item": item, "crowd": "女性", "proposed": 20},
        {"action": "exclude_region", "region": "新疆", "proposed": 0},
        {"action": "pause_keyword", "item": item, "keyword": keyword, "platform": "pc",
         "proposed": 0},
    ]).assign(date="2026-11-25", campaign=campaign)
    path = folder / "recs.csv"
    rows.reindex(columns=["date", "campaign", "item", "keyword", "crowd", "region", "platform",
                          "hour", "action", "proposed"]).to_csv(path, index=False)
    return path


def test_a_strategy_reads_the_settings_recorded_in_force(shop_files, tmp_path):
    """RunContext.in_force: what `bidopt applied` recorded, for any plugin to start from."""
    config = write_config(tmp_path, shop_files)
    first = pd.read_csv(shop_files["keyword_report"], nrows=1).iloc[0]
    campaign, item, keyword = first["campaign"], first["item"], first["keyword"]
    empty = run_night(config, strategies={}).context
    assert empty.in_force("hour_discount").empty
    assert list(empty.in_force("hour_discount").columns) == ["campaign", "hour", "value", "night"]

    record_plan(state_path(load_config(config)), _recorded_plan(tmp_path, campaign, item, keyword),
                "test-shop")
    seen = {}

    def propose(context, params):
        seen["hours"] = context.in_force("hour_discount")
        return pd.DataFrame()

    from bidopt import Strategy, hookimpl

    class Reader:
        @hookimpl
        def bidopt_register_strategies(self, register):
            register(Strategy(name="reads_state", propose=propose))

    result = run_night(config, plugins=[Reader], strategies={"reads_state": {}})
    assert not result.plugin_failures
    hours = seen["hours"].sort_values("hour").reset_index(drop=True)
    assert hours["hour"].tolist() == [6, 22] and hours["value"].tolist() == [85.0, 120.0]
    assert (hours["campaign"] == campaign).all() and (hours["night"] == "2026-11-25").all()
    ctx = result.context
    premiums = ctx.in_force("crowd_premium")
    assert premiums[["campaign", "item", "crowd", "value"]].values.tolist() == [
        [campaign, item, "女性", 20.0]]
    assert ctx.in_force("region")[["region", "value"]].values.tolist() == [["新疆", 0.0]]
    assert ctx.in_force("paused")[["item", "keyword", "platform"]].values.tolist() == [
        [item, keyword, "pc"]]
    with pytest.raises(ValueError, match="unknown kind 'hours'; known: hour_discount"):
        ctx.in_force("hours")
    # the guide's example of starting from what is in force works as written
    from types import SimpleNamespace

    from tests.test_tutorial import code_blocks

    snippet = next(code for lang, code in code_blocks()
                   if lang == "python" and "def current_discounts(context, params)" in code)
    namespace: dict = {}
    exec(snippet, namespace)
    found = namespace["current_discounts"](ctx, SimpleNamespace(current_discounts={campaign: {6: 90}}))
    assert found == {(campaign, 6): 90, (campaign, 22): 120.0}
