"""Messy account histories, as real 直通车 accounts export them: the CLI end to end on a
simulated shop's GBK reports, edited the way real accounts differ from a clean export."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bidopt.cli import cli
from bidopt.config import load_config
from bidopt.loop import plan_night
from bidopt.plugins import build_registry, get_plugin_manager
from conftest import NIGHT, write_config

METRIC_HEADERS = ["展现量", "点击量", "花费", "成交笔数", "成交金额", "总购物车数", "收藏宝贝数"]


def copy_of(files: dict[str, Path], folder: Path) -> dict[str, Path]:
    """``files`` copied into a new ``folder``, to edit."""
    folder.mkdir()
    return {name: Path(shutil.copy(path, folder / path.name)) for name, path in files.items()}


@pytest.fixture
def files(shop_files_chinese, tmp_path) -> dict[str, Path]:
    """A fresh copy of the simulated shop's Chinese (GBK) files, to edit."""
    return copy_of(shop_files_chinese, tmp_path / "shop")


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="gbk", dtype=str, keep_default_na=False)


def write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, encoding="gbk", index=False)


def numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column])


def run(config: Path, *args: str):
    return CliRunner().invoke(cli, [*args, "--config", str(config), "--date", NIGHT],
                              catch_exceptions=False)


def plan(config: Path):
    registry = build_registry(get_plugin_manager(entry_points=False))
    return plan_night(load_config(config), registry, date=dt.date.fromisoformat(NIGHT))


def planned(folder: Path, files: dict[str, Path]):
    """Config written for ``files`` in ``folder``, the run's result, and its plan (no date)."""
    config = write_config(folder, files)
    result = run(config, "run")
    assert result.exit_code == 0, result.output
    return config, result, recommendations(config).drop(columns="date")


def record_applied(config: Path, rows: list[dict]) -> None:
    """``bidopt applied`` on an uploaded plan of ``rows``, as a seller records one."""
    plan_file = config.parent / "uploaded.csv"
    pd.DataFrame(rows).to_csv(plan_file, index=False, encoding="utf-8-sig")
    recorded = CliRunner().invoke(cli, ["applied", "--config", str(config), str(plan_file)],
                                  catch_exceptions=False)
    assert recorded.exit_code == 0, recorded.output


def first_keyword_moved(report: pd.DataFrame, first_day) -> tuple:
    """The report's first keyword (both platforms) moved from its campaign to another one
    from ``first_day`` on: (item, keyword, old campaign, new campaign, its rows)."""
    first = report.iloc[0]
    item, keyword, old = first["推广单元"], first["关键词"], first["推广计划"]
    new = next(c for c in report["推广计划"].unique() if c != old)
    mine = (report["推广单元"] == item) & (report["关键词"] == keyword)
    report.loc[mine & (report["日期"] >= first_day), "推广计划"] = new
    return item, keyword, old, new, mine


def recommendations(config: Path) -> pd.DataFrame:
    return pd.read_csv(config.parent / f"recommendations-{NIGHT}.csv", encoding="utf-8-sig",
                       dtype={"hour": str})


def test_refunds_are_read_netted_with_a_warning(files, tmp_path):
    # 直通车 books a refund (退款) as negative orders and GMV on the day it is made: the
    # night must not stop on it, and the window's sums must net it
    path = files["keyword_report"]
    report = read(path)
    sold = report.index[numbers(report, "成交笔数") > 0][:2]
    report.loc[sold[0], ["成交笔数", "成交金额"]] = ["-1", "-120.50"]
    report.loc[sold[1], "成交金额"] = "-35.5"
    write(report, path)
    config = write_config(tmp_path, files)

    checked = run(config, "validate")
    assert checked.exit_code == 0, checked.output
    row = sold[0] + 2  # as a spreadsheet numbers it: the header is row 1
    assert (f"row {row}, column '成交金额': negative gmv -120.5: a refund" in checked.output)
    assert f"row {row}, column '成交笔数': negative orders -1: a refund" in checked.output
    result = run(config, "run")
    assert result.exit_code == 0, result.output

    used = plan(config).context.keywords.groupby("campaign")[["orders", "gmv"]].sum()
    expected = report.assign(orders=numbers(report, "成交笔数"), gmv=numbers(report, "成交金额")
                             ).groupby("推广计划")[["orders", "gmv"]].sum()
    pd.testing.assert_frame_equal(used, expected.rename_axis("campaign"), check_dtype=False)


def test_names_spelled_two_ways_are_one(files, tmp_path):
    # a keyword that one item's export writes with a full-width space on its last days (the
    # same words bought by another item stay half-width), and a region report that writes
    # 广东省 and 内蒙古自治区 from one day on: one keyword per item and one region each, with
    # every day's numbers, as the latest day spells them
    path = files["keyword_report"]
    report = read(path)
    items = report.groupby("关键词")["推广单元"].unique()
    keyword = next(k for k, i in items.items() if " " in k and len(i) > 1)
    item, other = items[keyword][:2]
    days = sorted(report["日期"].unique())
    spelt = keyword.replace(" ", "\u3000")
    later = (report["关键词"] == keyword) & (report["推广单元"] == item) & (report["日期"] >= days[-4])
    report.loc[later, "关键词"] = spelt
    write(report, path)
    regions = read(files["region_report"])
    later = regions["日期"] >= days[-4]
    regions.loc[later, "地域"] = regions.loc[later, "地域"].replace(
        {"广东": "广东省", "内蒙古": "内蒙古自治区"})
    assert {"广东省", "广东"} <= set(regions["地域"])
    write(regions, files["region_report"])
    config = write_config(tmp_path, files)

    result = run(config, "run")
    assert result.exit_code == 0, result.output
    assert ("1 keyword name in the reports differs from another of one campaign and item only "
            f"in full-width or half-width characters or spaces: read as one, spelled as on the "
            f"latest report day ('{keyword}' as '{spelt}')") in result.output.replace("\n", " ")
    assert "2 region names in the reports differ" in result.output
    context = plan(config).context
    state = context.keywords.set_index(["item", "keyword", "platform"])
    assert (item, keyword, "mobile") not in state.index
    assert state.loc[(item, spelt, "mobile"), "days"] == len(days)
    assert state.loc[(other, keyword, "mobile"), "days"] == len(days)
    mine = report[(report["推广单元"] == item)
                  & report["关键词"].isin([keyword, spelt])]
    cost = state.loc[[(item, spelt, platform) for platform in ("mobile", "pc")], "cost"].sum()
    assert cost == pytest.approx(numbers(mine, "花费").sum())
    history = context.history["regions"]
    assert not history["region"].isin(["广东", "内蒙古"]).any()
    cost = history.groupby("region")["cost"].sum()
    raw = regions.assign(cost=numbers(regions, "花费"))
    assert cost["广东省"] == pytest.approx(raw.loc[raw["地域"].isin(["广东", "广东省"]), "cost"].sum())
    recs = recommendations(config)
    assert not ((recs["item"] == item) & (recs["keyword"] == keyword)).any()


def test_a_campaign_renamed_mid_window_is_one_campaign_under_its_new_name(files, tmp_path):
    # the account renamed a campaign five days ago: its keywords run on under the new name,
    # whose floor and budget the config sets; the old name is no campaign to plan any more
    days = sorted(read(files["keyword_report"])["日期"].unique())
    old = read(files["keyword_report"])["推广计划"].unique()[0]
    new = old + "-秋冬主推"
    raw = []
    for name in ("keyword_report", "crowd_report", "region_report", "hour_report"):
        report = read(files[name])
        report.loc[(report["推广计划"] == old) & (report["日期"] >= days[-5]), "推广计划"] = new
        write(report, files[name])
        raw.append(report)
    config = write_config(tmp_path, files, constraints={
        "roi_floor": 2.0, "campaigns": {new: {"roi_floor": 4.0, "daily_budget": 300}}})

    result = run(config, "run")
    assert result.exit_code == 0, result.output
    assert (f"read '{old}' as '{new}' (renamed on {days[-5]}?)") in result.output
    recs = recommendations(config)
    assert not recs["campaign"].eq(old).any() and recs["campaign"].eq(new).any()
    context = plan(config).context
    limits = context.campaigns.set_index("campaign")
    assert old not in limits.index
    assert limits.loc[new, ["roi_floor", "daily_budget"]].tolist() == [4.0, 300.0]
    assert limits.loc[new, "spend_days"] == len(days)
    keywords = raw[0].assign(cost=numbers(raw[0], "花费"), gmv=numbers(raw[0], "成交金额"))
    mine = keywords[keywords["推广计划"].isin([old, new])][["cost", "gmv"]].sum()
    used = context.keywords.groupby("campaign")[["cost", "gmv"]].sum().loc[new]
    assert used.to_numpy() == pytest.approx(mine.to_numpy())
    regions = context.history["regions"]
    assert set(regions["campaign"]) == set(limits.index)
    # the plan holds the new name's budget (90% of it, the budget margin)
    cost_after = recs[recs["campaign"] == new]["d_cost"].sum()
    before = float(result.output.split(new)[1].split()[2].replace(",", ""))
    assert before + cost_after <= 300 * 0.90 + 1


def test_what_applied_recorded_under_a_campaigns_old_name_follows_the_rename(files, tmp_path):
    # a region switched off and a keyword paused under the old name, recorded by `bidopt
    # applied` before the account renamed the campaign: both stay in force under the new one
    report = read(files["keyword_report"])
    days = sorted(report["日期"].unique())
    old = report["推广计划"].unique()[0]
    new = old + "-秋冬主推"
    mine = report[report["推广计划"] == old].iloc[0]
    for name in REPORTS:
        edited = read(files[name])
        edited.loc[(edited["推广计划"] == old) & (edited["日期"] >= days[-5]), "推广计划"] = new
        write(edited, files[name])
    config = write_config(tmp_path, files, strategies={"region_exclusion": {}})
    base = {"date": days[-7], "campaign": old, "item": "all", "keyword": "", "crowd": "",
            "platform": "", "hour": "", "current": 1, "proposed": 0}
    record_applied(config, [
        {**base, "action": "exclude_region", "region": "西藏"},
        {**base, "action": "pause_keyword", "item": mine["推广单元"], "keyword": mine["关键词"],
         "platform": "mobile", "region": "", "current": 0.8},
    ])

    context = plan(config).context
    regions = context.in_force("region")
    assert regions[["campaign", "region", "value"]].values.tolist() == [[new, "西藏", 0]]
    assert context.config.strategies["region_exclusion"]["currently_excluded"] == {new: ["西藏"]}
    paused = context.in_force("paused")
    assert paused[["campaign", "item", "keyword"]].values.tolist() == [
        [new, mine["推广单元"], mine["关键词"]]]


def test_a_pause_recorded_before_a_keyword_moved_campaign_stays_in_force_there(files, tmp_path):
    # `bidopt applied` recorded a keyword's pause under its campaign; the account then moved
    # the paused keyword (same item) to another campaign, and its export writes it with
    # zeros every day, at the old place and then the new: it stays paused under the new one
    report = read(files["keyword_report"])
    days = sorted(report["日期"].unique())
    item, keyword, old, new, mine = first_keyword_moved(report, days[-3])
    mobile = mine & (report["投放平台"] == "无线")
    report.loc[mobile & (report["日期"] >= days[-5]), METRIC_HEADERS] = "0"
    write(report, files["keyword_report"])
    config = write_config(tmp_path, files)
    record_applied(config, [{"date": days[-5], "campaign": old, "item": item,
                             "keyword": keyword, "crowd": "", "region": "",
                             "platform": "mobile", "hour": "", "action": "pause_keyword",
                             "current": 0.8, "proposed": 0}])

    result = run(config, "run")
    assert result.exit_code == 0, result.output
    assert f"from campaign '{old}' to '{new}' on {days[-3]}" in result.output
    assert "1 keyword recorded as paused (state file) has shown nothing since" in result.output
    context = plan(config).context
    paused = context.in_force("paused")
    assert paused[["campaign", "item", "keyword", "platform"]].values.tolist() == [
        [new, item, keyword, "mobile"]]
    state = context.keywords
    here = (state["item"] == item) & (state["keyword"] == keyword)
    assert state.loc[here, ["campaign", "platform"]].values.tolist() == [[new, "pc"]]
    recs = recommendations(config)
    assert not ((recs["item"] == item) & (recs["keyword"] == keyword)
                & (recs["platform"] == "mobile")).any()


def test_a_change_recorded_before_a_keyword_moved_campaign_is_tracked_there(files, tmp_path):
    # a bid change recorded for the night before the keyword moved: the track record finds
    # that night's report row, which is read under the new campaign
    report = read(files["keyword_report"])
    days = sorted(report["日期"].unique())
    item, keyword, old, new, mine = first_keyword_moved(report, days[-5])
    write(report, files["keyword_report"])
    that_day = report[mine & (report["投放平台"] == "无线") & (report["日期"] == days[-6])]
    bid = float(that_day["出价"].iloc[0])
    config = write_config(tmp_path, files)
    record_applied(config, [{"date": days[-6], "campaign": old, "item": item,
                             "keyword": keyword, "crowd": "", "region": "",
                             "platform": "mobile", "hour": "", "action": "set_bid",
                             "current": round(bid * 0.9, 2), "proposed": bid,
                             "exp_clicks": 1.0, "exp_cost": 1.0, "exp_gmv": 2.0}])

    track = plan(config).track_record.set_index(["night", "kind"])
    row = track.loc[(days[-6], "raised")]
    assert (row["rows"], row["matched"], row["in_force"], row["no_row"]) == (1, 1, 1, 0)
    assert float(row["cost"]) == pytest.approx(float(that_day["花费"].iloc[0]))

def test_an_items_keyword_moved_to_another_campaign_is_planned_there_only(files, tmp_path):
    path = files["keyword_report"]
    report = read(path)
    days = sorted(report["日期"].unique())
    item, keyword, old_campaign, new_campaign, moved = first_keyword_moved(report, days[-5])
    write(report, path)
    config = write_config(tmp_path, files)

    result = run(config, "run")
    assert result.exit_code == 0, result.output
    assert (f"'{keyword}' (mobile) of item '{item}' from campaign '{old_campaign}' to "
            f"'{new_campaign}' on {days[-5]}" in result.output.replace("(pc)", "(mobile)"))
    recs = recommendations(config)
    assert not ((recs["campaign"] == old_campaign) & (recs["keyword"] == keyword)
                & (recs["item"] == item)).any()
    state = plan(config).context.keywords
    mine = state[(state["keyword"] == keyword) & (state["item"] == item)]
    assert set(mine["campaign"]) == {new_campaign} and (mine["days"] == len(days)).all()
    assert mine["cost"].sum() == pytest.approx(numbers(report[moved], "花费").sum())


def test_a_keyword_moved_to_another_item_starts_there_as_a_new_keyword(files, tmp_path):
    # another item's clicks buy another product: the old item's orders are not carried over
    path = files["keyword_report"]
    report = read(path)
    days = sorted(report["日期"].unique())
    first = report.iloc[0]
    old_item, keyword = first["推广单元"], first["关键词"]
    new_item = next(i for i in report["推广单元"].unique()
                    if i != old_item and not ((report["推广单元"] == i)
                                              & (report["关键词"] == keyword)).any())
    moved = (report["推广单元"] == old_item) & (report["关键词"] == keyword)
    report.loc[moved & (report["日期"] >= days[-5]), "推广单元"] = new_item
    write(report, path)
    config = write_config(tmp_path, files)

    result = run(config, "run")
    assert result.exit_code == 0, result.output
    assert "(moved)" not in result.output
    state = plan(config).context.keywords
    at_new = state[(state["keyword"] == keyword) & (state["item"] == new_item)]
    assert len(at_new) and (at_new["days"] <= 5).all()
    later = moved & (report["日期"] >= days[-5])
    assert at_new["cost"].sum() == pytest.approx(numbers(report[later], "花费").sum())


REPORTS = ("keyword_report", "crowd_report", "region_report", "hour_report")


def test_a_campaign_paused_for_days_plans_alike_with_zero_rows_or_none(files, tmp_path):
    # a campaign paused for 5 days mid-window: one export leaves those days out, another
    # writes every keyword with zeros; both are the same account and get the same plan
    days = sorted(read(files["keyword_report"])["日期"].unique())
    paused = days[4:9]
    campaign = read(files["keyword_report"])["推广计划"].unique()[0]
    plans = {}
    for how in ("zeros", "no rows"):
        folder = tmp_path / how.replace(" ", "_")
        edited = copy_of(files, folder)
        for name in REPORTS:
            report = read(edited[name])
            off = (report["推广计划"] == campaign) & report["日期"].isin(paused)
            if how == "zeros":
                report.loc[off, [c for c in METRIC_HEADERS if c in report]] = "0"
            else:
                report = report[~off]
            write(report, edited[name])
        config, result, plans[how] = planned(folder, edited)
        if how == "zeros":
            assert (f"'{campaign}' 5 days ({paused[0]} .. {paused[-1]})"
                    in result.output.replace("\n", " "))
            state = plan(config).context.keywords
            assert state[state["campaign"] == campaign]["days"].max() == len(days) - 5
    pd.testing.assert_frame_equal(plans["zeros"], plans["no rows"])


def _scaled(report: pd.DataFrame, rows, share: float) -> pd.DataFrame:
    """``report`` with the metrics of ``rows`` cut to ``share`` (whole counts stay whole)."""
    report = report.copy()
    for column in METRIC_HEADERS:
        if column in report:
            values = numbers(report.loc[rows], column) * share
            whole = column not in ("花费", "成交金额")
            report.loc[rows, column] = (values.round(0).astype(int).astype(str) if whole
                                        else values.round(2).astype(str))
    return report


def test_a_last_day_exported_before_it_ended_is_left_out(files, tmp_path):
    # the newest day exported at noon: 40% of a usual day's impressions, and a keyword added
    # that morning with one lucky order on its first clicks; the plan must not rest on it
    days = sorted(read(files["keyword_report"])["日期"].unique())
    plans = {}
    for how in ("partial", "without it"):
        folder = tmp_path / how.replace(" ", "_")
        edited = copy_of(files, folder)
        for name in REPORTS:
            report = read(edited[name])
            last = report["日期"] == days[-1]
            if how == "partial":
                report = _scaled(report, last, 0.4)
                if name == "keyword_report":
                    lucky = report[last].iloc[[0]].assign(
                        关键词="新加的词 爆款", 出价="3.00", 展现量="40", 点击量="3", 花费="6.00",
                        成交笔数="1", 成交金额="300.00")
                    report = pd.concat([report, lucky], ignore_index=True)
            else:
                report = report[~last]
            write(report, edited[name])
        config, result, plans[how] = planned(folder, edited)
        if how == "partial":
            share = re.search(rf"the last report day {days[-1]} holds (\d+)% of the shop's "
                              "usual day's impressions", result.output)
            assert share and 30 <= int(share[1]) <= 45, result.output
            assert "exported before the day ended? It is left out" in result.output
            checked = run(config, "validate")  # says so before the run, too
            assert checked.exit_code == 0, checked.output
            assert (f"warning: the last report day {days[-1]} holds {share[1]}% of the shop's "
                    "usual day's impressions") in checked.output
            state = plan(config).context.keywords
            assert not state["keyword"].eq("新加的词 爆款").any()
            assert state["last_date"].max() == pd.Timestamp(days[-2])
    assert not plans["partial"]["keyword"].eq("新加的词 爆款").any()
    pd.testing.assert_frame_equal(plans["partial"], plans["without it"])


def test_bids_outside_the_bounds_and_blank_bids_are_named(files, tmp_path):
    # a bid above the platform's maximum (an export with a shifted column, a bid in cents),
    # one below its minimum, and a mobile bid left blank on every day
    path = files["keyword_report"]
    report = read(path)
    mobile = report[report["投放平台"] == "无线"]
    item = mobile["推广单元"].iloc[0]
    campaign = mobile["推广计划"].iloc[0]
    high, low, blank = mobile[mobile["推广单元"] == item]["关键词"].unique()[:3]
    for keyword, bid in ((high, "120"), (low, "0.02"), (blank, "")):
        report.loc[(report["推广单元"] == item) & (report["关键词"] == keyword)
                   & (report["投放平台"] == "无线"), "出价"] = bid
    write(report, path)
    config = write_config(tmp_path, files)

    result = run(config, "run")
    assert result.exit_code == 0, result.output
    text = result.output.replace("\n", " ")
    assert "2 keywords bid outside the config's bid bounds today ('" in text
    assert f"'{campaign}' / '{item}' / '{high}' (mobile) 120 above 100" in text
    assert f"'{campaign}' / '{item}' / '{low}' (mobile) 0.02 below 0.05" in text
    mine = report[(report["推广单元"] == item) & (report["关键词"] == blank)
                  & (report["投放平台"] == "无线")]
    assert (f"1 keyword has no bid in the reports ('{campaign}' / '{item}' / '{blank}' "
            "(mobile)); its current bid is taken as 1.2 x its cost per click") in text
    recs = recommendations(config).set_index(["item", "keyword", "platform"])
    state = plan(config).context.keywords.set_index(["item", "keyword", "platform"])
    cpc = numbers(mine, "花费").sum() / numbers(mine, "点击量").sum()
    assert state.loc[(item, blank, "mobile"), "bid"] == pytest.approx(round(cpc * 1.2, 2))
    assert state.loc[(item, high, "mobile"), "bid"] == 120
    if (item, high, "mobile") in recs.index:  # a bid the platform cannot hold is not kept
        assert recs.loc[(item, high, "mobile"), "proposed"] <= 100


def test_a_missing_day_is_named(files, tmp_path):
    path = files["keyword_report"]
    report = read(path)
    days = sorted(report["日期"].unique())
    write(report[report["日期"] != days[6]], path)
    config = write_config(tmp_path, files)
    result = run(config, "run")
    assert result.exit_code == 0, result.output
    assert (f"the reports hold 13 of the 14 days the config looks back (history.days): the "
            "forecasts rest on fewer days, and a keyword's response to its bid on fewer bid "
            f"changes; missing between them: {days[6]} (not exported, or a file not matched "
            "by sources.reports?)") in result.output.replace("\n", " ")


def test_campaigns_stopped_on_the_last_days_are_named_and_the_day_kept(files, tmp_path):
    # two of the shop's three campaigns paused two days ago: the last day holds a third of
    # the shop's usual impressions, but it is a whole day of the campaign still running
    report = read(files["keyword_report"])
    days = sorted(report["日期"].unique())
    campaigns = sorted(report["推广计划"].unique())
    stopped, running = campaigns[:2], campaigns[2]
    for name in REPORTS:
        report = read(files[name])
        write(report[~(report["推广计划"].isin(stopped) & (report["日期"] >= days[-2]))],
              files[name])
    config = write_config(tmp_path, files)
    result = run(config, "run")
    assert result.exit_code == 0, result.output
    text = result.output.replace("\n", " ")
    assert (f"no impression on the last report day {days[-1]} for '{stopped[0]}' (last on "
            f"{days[-3]}), '{stopped[1]}' (last on {days[-3]}): paused or stopped? The plan "
            "forecasts them from their earlier days as if they ran tonight") in text
    assert "exported before the day ended" not in text
    checked = run(config, "validate")
    assert (f"warning: no impression on the last report day {days[-1]} for '{stopped[0]}'"
            in checked.output)
    assert "a partial export, or a campaign stopped" not in text  # named above instead
    state = plan(config).context.keywords
    assert state.loc[state["campaign"] == running, "last_date"].max() == pd.Timestamp(days[-1])


def test_a_long_tail_keyword_of_two_items_with_a_row_now_and_then_is_no_move(files, tmp_path):
    # the same words bought by two items, each showing on a few days only (a keyword without
    # impressions has no row): one item's last row comes before the other's first, which is
    # no move, and both stay planned where they are
    path = files["keyword_report"]
    report = read(path)
    days = sorted(report["日期"].unique())
    items = report.groupby("关键词")["推广单元"].unique()
    keyword = next(k for k, i in items.items() if len(i) > 1)
    first, second = items[keyword][:2]
    word = report["关键词"] == keyword
    keep = ~word | ((report["推广单元"] == first) & report["日期"].isin([days[1], days[3]])) | (
        (report["推广单元"] == second) & report["日期"].isin([days[5], days[7]]))
    write(report[keep], path)
    config = write_config(tmp_path, files)
    result = run(config, "run")
    assert result.exit_code == 0, result.output
    assert "(moved)" not in result.output
    state = plan(config).context.keywords
    mine = state[state["keyword"] == keyword]
    assert set(mine["item"]) == {first, second}
    assert (mine["days"] == 2).all()


def test_a_small_campaigns_days_without_a_search_are_kept(files, tmp_path):
    # a campaign of one long-tail keyword, shown on a few days: its zero days are evidence of
    # how little it sells, not days it was paused
    path = files["keyword_report"]
    report = read(path)
    days = sorted(report["日期"].unique())
    tiny = report[report["推广计划"] == report["推广计划"].iloc[0]].iloc[:1]
    rows = pd.concat([tiny.assign(日期=day, 推广计划="小计划-长尾", 展现量="30" if i % 3 == 0
                                  else "0", 点击量="1" if i % 3 == 0 else "0",
                                  花费="0.80" if i % 3 == 0 else "0", 成交笔数="0", 成交金额="0")
                      for i, day in enumerate(days)])
    write(pd.concat([report, rows], ignore_index=True), path)
    config = write_config(tmp_path, files)
    result = run(config, "run")
    assert result.exit_code == 0, result.output
    assert (len(days) - 1) % 3  # nor named as stopped for its quiet last day
    notes = [line for line in result.output.splitlines()
             if "left out of its history" in line or "no impression on the last" in line]
    assert not any("小计划-长尾" in line for line in notes)
    state = plan(config).context.keywords
    assert state.loc[state["campaign"] == "小计划-长尾", "days"].tolist() == [len(days)]
