"""normalise_table: header aliases per file kind, number formats, every validation problem."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bidopt.errors import Problem
from bidopt.io import normalise_table, read_raw_table, split_report_grains
from bidopt.io.normalise import MAX_LISTED_ROWS
from bidopt.schema import ALL, CANDIDATE_COLUMNS, ITEM_COLUMNS, REPORT_COLUMNS

ZTC_HEADER = "日期,推广计划,推广单元,关键词,投放平台,出价,展现量,点击量,花费,成交笔数,成交金额"
ZTC_ROWS = ["2026-11-23,计划A,宝贝1,连衣裙,无线,1.2,100,5,3.5,1,99",
            "2026-11-23,Total 计划,宝贝1,连衣裙,无线,0.9,80,4,2.5,0,0"]
ZTC_ID_HEADER = ZTC_HEADER.replace("推广单元", "宝贝ID")  # items named by their 宝贝ID


def csv_file(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def load(tmp_path: Path, text: str, kind: str = "report") -> tuple[pd.DataFrame, list[Problem]]:
    path = csv_file(tmp_path, text)
    return normalise_table(read_raw_table(path), kind, str(path))


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def test_report_frame_has_every_canonical_column_with_types(tmp_path: Path) -> None:
    frame, problems = load(
        tmp_path,
        "date,campaign,keyword,impressions,clicks,cost,orders,gmv\n2024-01-01,C,shoes,100,3,1.5,0,0\n",
    )
    assert problems == []
    assert list(frame.columns) == list(REPORT_COLUMNS)
    assert str(frame["date"].dtype).startswith("datetime64")
    for name in ("item", "crowd", "region", "platform", "hour"):
        assert frame.loc[0, name] == ALL
    for name in ("impressions", "clicks", "cost", "orders", "gmv", "carts", "favorites"):
        assert frame[name].dtype == np.float64
    assert np.isnan(frame.loc[0, "bid"]) and np.isnan(frame.loc[0, "quality_score"])
    assert frame.loc[0, "carts"] == 0.0


def test_amazon_headers_with_trailing_spaces(tmp_path: Path) -> None:
    text = (
        "Date,Campaign Name,Ad Group Name,Targeting,Match Type,Customer Search Term,Impressions,"
        'Clicks,Spend,"7 Day Total Sales ","7 Day Total Orders (#)",Cost Per Click (CPC)\n'
        '2024-01-01,SP-1,AG-1,yoga mat,EXACT,yoga mat,"1,200",30,$15.30,"$1,099.50",3,$0.51\n'
    )
    frame, problems = load(tmp_path, text)
    assert problems == []
    row = frame.iloc[0]
    assert (row["campaign"], row["item"], row["keyword"]) == ("SP-1", "AG-1", "[yoga mat]")
    assert row["impressions"] == 1200 and row["cost"] == pytest.approx(15.30)
    assert row["gmv"] == pytest.approx(1099.5) and row["orders"] == 3


@pytest.mark.parametrize(("header", "period"), [("Week", "week"), ("Month", "month"),
                                                ("月", "month")])
def test_a_report_by_week_or_month_says_to_export_it_by_day(tmp_path: Path, header,
                                                             period) -> None:
    """Google Ads segments a report by Week or Month when asked to; 'required column date
    is missing' alone left the user looking for a column that was there under another
    period."""
    text = (f"{header},Campaign,Ad group,Keyword,Impr.,Clicks,Cost,Conversions,Conv. value\n"
            "2026-11-16,C,AG,yoga mat,100,3,1.50,1,20\n")
    _, problems = load(tmp_path, text)
    [missing] = [p for p in problems if p.column == "date"]
    assert f"(the report is by {period}, not by day)" in missing.message
    assert "export the report by day" in missing.expected


def test_the_standard_amazon_columns_bidopt_does_not_use_raise_no_warning(tmp_path: Path) -> None:
    text = ("Date,Campaign Name,Ad Group Name,Targeting,Impressions,Clicks,Click-Thru Rate (CTR),"
            "Spend,7 Day Total Sales,7 Day Total Orders (#),7 Day Total Units (#),"
            "7 Day Conversion Rate,7 Day Advertised SKU Units (#),7 Day Other SKU Units (#),"
            "7 Day Advertised SKU Sales,7 Day Other SKU Sales,Currency code\n"
            '"Nov 20, 2026",SP,AG,yoga mat,100,3,3%,1.50,20,1,1,33%,1,0,20,0,USD\n')
    _, problems = load(tmp_path, text)
    assert problems == []


def test_amazon_dates_as_the_console_writes_them(tmp_path: Path) -> None:
    text = (
        "Date,Campaign Name,Ad Group Name,Targeting,Impressions,Clicks,Spend,"
        '"7 Day Total Sales ","7 Day Total Orders (#)"\n'
        '"Nov 20, 2026",SP-1,AG-1,yoga mat,100,3,$1.50,$30.00,1\n'
        '"Dec 3, 2026",SP-1,AG-1,yoga mat,100,3,$1.50,$0.00,0\n'
    )
    frame, problems = load(tmp_path, text)
    assert problems == []
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-11-20", "2026-12-03"]


def test_google_ads_headers_and_platform_values(tmp_path: Path) -> None:
    text = (
        "Day,Campaign,Ad group,Keyword,Device,Max. CPC,Impr.,Clicks,Cost,Conversions,Conv. value,"
        "CTR,Avg. CPC\n"
        "2024-01-01,C,G,shoes,Mobile phones,1.00,100,5,2.50,1,40,5.00%,0.50\n"
        "2024-01-01,C,G,shoes,Computers,1.00,50,1,0.40,0,0,2.00%,0.40\n"
    )
    frame, problems = load(tmp_path, text)
    # CTR and Avg. CPC are derived in a report: silently accepted; the one warning is that
    # a Google Ads keyword has one max CPC for both devices
    assert [(p.severity, p.column) for p in problems] == [("warning", "Device")]
    assert frame["platform"].tolist() == ["mobile", "pc"]
    assert frame["bid"].tolist() == [1.0, 1.0]


def test_number_formats(tmp_path: Path) -> None:
    text = (
        "date,campaign,keyword,impressions,clicks,cost,gmv,orders,bid\n"
        '2024-01-01,C,a,"1,234",12,¥3.50,"CNY 1,000.25",-,"1,2"\n'
        "2024-01-02,C,a,,0,￥0,€5,0,$0.05\n"
        "2024-01-03,C,a,10,1,£2,0,0,\n"
    )
    frame, problems = load(tmp_path, text)
    assert errors(problems) == []
    assert frame["impressions"].tolist() == [1234.0, 0.0, 10.0]
    assert frame["cost"].tolist() == [3.5, 0.0, 2.0]
    assert frame["gmv"].tolist() == [1000.25, 5.0, 0.0]
    assert frame["orders"].tolist() == [0.0, 0.0, 0.0]
    assert frame["bid"].iloc[1] == 0.05 and np.isnan(frame["bid"].iloc[2])


def test_percent_and_unit_headers(tmp_path: Path) -> None:
    text = "关键词,展现指数,点击率(%),点击转化率,市场均价\n连衣裙,1000,3.5,12.5%,￥1.20\n"
    frame, problems = load(tmp_path, text, kind="candidates")
    assert problems == []
    assert list(frame.columns) == list(CANDIDATE_COLUMNS)
    row = frame.iloc[0]
    assert row["market_ctr"] == pytest.approx(0.035)
    assert row["market_cvr"] == pytest.approx(0.125)
    assert row["market_cpc"] == pytest.approx(1.2)
    assert row["item"] == ALL
    fen, problems = load(
        tmp_path, "日期,推广计划,关键词,展现量,点击量,花费(分),成交笔数,成交金额\n2024-01-01,A,k,10,1,350,0,0\n"
    )
    assert problems == [] and fen.loc[0, "cost"] == pytest.approx(3.5)


def test_same_header_means_different_things_per_kind(tmp_path: Path) -> None:
    report, problems = load(
        tmp_path,
        "日期,推广计划,关键词,展现量,点击量,花费,成交笔数,成交金额,点击率,点击转化率\n"
        "2024-01-01,A,k,10,1,1,0,0,10%,0%\n",
    )
    assert problems == []
    assert "market_ctr" not in report.columns
    cands, problems = load(tmp_path, "keyword,search_volume,CTR\nk,100,2%\n", kind="candidates")
    assert problems == [] and cands.loc[0, "market_ctr"] == pytest.approx(0.02)


def test_dimension_all_values_and_dates(tmp_path: Path) -> None:
    text = (
        "date,campaign,item,crowd,region,hour,impressions,clicks,cost,orders,gmv\n"
        "2024/01/05,C,全部,all,,全部,1,0,0,0,0\n"
        "20240106,C,i,女性,北京,07,1,0,0,0,0\n"
        "2024-01-07,C,i,女性,北京,23,1,0,0,0,0\n"
    )
    frame, problems = load(tmp_path, text)
    assert problems == []
    assert frame["item"].tolist() == [ALL, "i", "i"]
    assert frame["crowd"].tolist() == [ALL, "女性", "女性"]
    assert frame["region"].tolist() == [ALL, "北京", "北京"]
    assert frame["hour"].tolist() == [ALL, "7", "23"]
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-05",
        "2024-01-06",
        "2024-01-07",
    ]


def find(problems: list[Problem], row: int | None, column: str | None) -> Problem:
    matches = [p for p in problems if p.row == row and p.column == column]
    assert matches, f"no problem at row {row}, column {column}: {problems}"
    return matches[0]


def test_every_report_problem_with_row_and_column(tmp_path: Path) -> None:
    text = (
        "日期,推广计划,关键词,投放平台,小时,出价,展现量,点击量,花费,成交笔数,成交金额,质量分,备注\n"
        "2024-01-01,A,k1,无线,1,1.0,100,5,3,1,10,5,x\n"  # row 2: fine
        "2024-13-01,A,k2,无线,1,1.0,100,5,3,1,10,5,x\n"  # row 3: bad date
        "2024-01-01,A,k3,平板,1,1.0,100,5,3,1,10,5,x\n"  # row 4: bad platform
        "2024-01-01,A,k4,无线,24,1.0,100,5,3,1,10,5,x\n"  # row 5: hour 24
        "2024-01-01,A,k5,无线,1,1.0,100,5,3,1,10,11,x\n"  # row 6: quality score 11
        "2024-01-01,A,k6,无线,1,-1,100,5,3,1,10,5,x\n"  # row 7: negative bid
        "2024-01-01,A,k7,无线,1,1.0,100,5,abc,1,10,5,x\n"  # row 8: cost not a number
        "2024-01-01,A,k8,无线,1,1.0,100,-5,3,1,10,5,x\n"  # row 9: negative clicks
        "2024-01-01,A,k9,无线,1,1.0,10,50,3,60,10,5,x\n"  # row 10: clicks > impressions
        "2024-01-01,A,k1,无线,1,1.0,100,5,3,1,10,5,x\n"  # row 11: duplicate of row 2
        "2024-01-01,A,k10,无线,1,1.0,100,5,3,1,-10,5,x\n"  # row 12: negative gmv (a refund)
    )
    frame, problems = load(tmp_path, text)
    assert len(frame) == 11
    assert find(problems, None, "备注").severity == "warning"
    assert "2024-13-01" in find(problems, 3, "日期").message
    assert "平板" in find(problems, 4, "投放平台").message
    assert "24" in find(problems, 5, "小时").message
    assert "11" in find(problems, 6, "质量分").message
    assert "negative bid" in find(problems, 7, "出价").message
    assert "'abc'" in find(problems, 8, "花费").message
    assert "negative clicks" in find(problems, 9, "点击量").message
    assert "exceed impressions" in find(problems, 10, "点击量").message
    assert "row 2" in find(problems, 11, None).message
    refund = find(problems, 12, "成交金额")  # 直通车 books a refund as negative GMV
    assert "negative gmv" in refund.message and refund.severity == "warning"
    # orders > clicks is allowed (row 10 has 60 orders on 50 clicks)
    assert not [p for p in problems if p.column == "成交笔数"]
    assert len(errors(problems)) == 9


def test_missing_required_columns_and_no_split(tmp_path: Path) -> None:
    frame, problems = load(tmp_path, "date,campaign,clicks\n2024-01-01,C,1\n")
    messages = {p.column: p.message for p in errors(problems)}
    assert "impressions" in messages and "cost" in messages
    assert any("not split" in p.message for p in errors(problems))
    assert list(frame.columns) == list(REPORT_COLUMNS)


def test_empty_campaign_is_an_error(tmp_path: Path) -> None:
    _, problems = load(
        tmp_path, "date,campaign,keyword,impressions,clicks,cost\n2024-01-01,,k,1,0,0\n"
    )
    assert find(problems, 2, "campaign").message == "empty campaign"


def test_problem_list_is_capped_per_column(tmp_path: Path) -> None:
    rows = "".join(f"2024-01-01,C,k{i},1,0,bad\n" for i in range(50))
    _, problems = load(tmp_path, "date,campaign,keyword,impressions,clicks,cost\n" + rows)
    cost = [p for p in problems if p.column == "cost"]
    assert len(cost) == MAX_LISTED_ROWS + 1
    assert [p.row for p in cost[:3]] == [2, 3, 4]
    assert "30 more rows" in cost[-1].message


def test_summary_footer_rows_are_skipped(tmp_path: Path) -> None:
    text = (
        "Campaign,Day,Keyword,Impr.,Clicks,Cost,Conversions,Conv. value\nC,2024-01-01,k,10,1,1,0,0\n"
        "Total: Account,,,10,1,1,0,0\n"
    )
    frame, problems = load(tmp_path, text)
    assert len(frame) == 1
    assert [p.severity for p in problems] == ["warning"]


def test_note_lines_after_the_data_are_skipped_and_empty_keys_named(tmp_path: Path) -> None:
    """ZTC ends some exports with '数据更新时间：...' in the first cell only: a footer, not a
    data row. A data row missing its campaign is still an error that says what is missing."""
    text = (
        "日期,推广计划,关键词,展现量,点击量,花费,成交笔数,成交金额\n"
        "2024-01-01,A,k,10,1,1,0,0\n"
        "2024-01-02,,k,10,1,1,0,0\n"
        "\n"
        "数据更新时间：2024-01-03 08:00,,,,,,,\n"
    )
    frame, problems = load(tmp_path, text)
    assert len(frame) == 2
    (warning,) = [p for p in problems if p.severity == "warning"]
    assert "(rows 5)" in warning.message  # the note on line 5; the blank line 4 is not listed
    (error,) = errors(problems)
    assert error.row == 3 and error.message == "empty campaign"
    assert error.expected == "a campaign on every row"


def test_items_file(tmp_path: Path) -> None:
    text = (
        "宝贝ID,价格,成本,30天销量,层级\n"
        "i1,99,40,120,A\n"
        "i2,0,10,5,B\n"  # row 3: price 0
        "i1,89,40,,A\n"  # row 4: duplicate item
        "i3,,10,1,C\n"  # row 5: missing price
    )
    frame, problems = load(tmp_path, text, kind="items")
    assert list(frame.columns) == list(ITEM_COLUMNS)
    assert frame["sales_30d"].tolist() == [120.0, 5.0, 0.0, 1.0]
    assert frame["campaign"].tolist() == ["", "", "", ""]
    assert "not positive" in find(problems, 3, "价格").message
    assert "row 2" in find(problems, 4, None).message
    assert "missing price" in find(problems, 5, "价格").message
    assert len(errors(problems)) == 3


def test_candidates_negative_volume(tmp_path: Path) -> None:
    frame, problems = load(
        tmp_path, "关键词,宝贝ID,展现指数\n连衣裙,i1,100\n长尾词,,-3\n", kind="candidates"
    )
    assert frame["item"].tolist() == ["i1", ALL]
    assert "negative search_volume" in find(problems, 3, "展现指数").message


def test_candidates_with_sycm_market_headers(tmp_path: Path) -> None:
    frame, problems = load(tmp_path, "关键词,搜索人气,竞争度,点击率,支付转化率,直通车参考价\n"
                                     "连衣裙,1200,35,3.5%,2.1%,1.80\n", kind="candidates")
    assert errors(problems) == []
    row = frame.iloc[0]
    assert (row["search_volume"], row["competition"], row["market_cpc"]) == (1200, 35, 1.8)
    assert row["market_cvr"] == pytest.approx(0.021)


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        normalise_table(pd.DataFrame({"a": ["1"]}), "bogus", "x")


def test_three_million_rows_normalise_quickly() -> None:
    """Whole-column parsing: 3M rows in seconds. Kept at 300k here to keep the suite fast."""
    n = 300_000
    keyword = np.char.add("k", (np.arange(n) // 2).astype(str))
    raw = pd.DataFrame(
        {
            "日期": "2024-01-01",
            "推广计划": "A",
            "关键词": keyword,
            "投放平台": np.where(np.arange(n) % 2 == 0, "无线", "计算机"),
            "展现量": (np.arange(n) % 1000).astype(str),
            "点击量": (np.arange(n) % 10).astype(str),
            "花费": np.char.add("1,", np.char.zfill((np.arange(n) % 997).astype(str), 3)),
            "成交笔数": "0",
            "成交金额": "0",
        }
    ).astype(str)
    raw.iloc[5, 5] = "oops"
    start = time.perf_counter()
    frame, problems = normalise_table(raw, "report", "big.csv")
    elapsed = time.perf_counter() - start
    assert len(frame) == n
    assert frame["cost"].iloc[3] == 1003.0
    assert [p.row for p in errors(problems)] == [7]
    assert elapsed < 10


def test_match_types_keep_same_words_apart(tmp_path: Path) -> None:
    text = (
        "Day,Campaign,Ad group,Keyword,Match type,Impr.,Clicks,Cost,Conversions,Conv. value\n"
        "2024-01-01,C,G,shoes,Exact match,10,1,1,0,0\n"
        "2024-01-01,C,G,shoes,Phrase match,10,1,1,0,0\n"
        "2024-01-01,C,G,shoes,Broad match,10,1,1,0,0\n"
    )
    frame, problems = load(tmp_path, text)
    assert problems == []
    assert frame["keyword"].tolist() == ["[shoes]", '"shoes"', "shoes"]


def test_search_terms_are_not_duplicates_and_sum_per_keyword(tmp_path: Path) -> None:
    text = (
        "Date,Campaign Name,Ad Group Name,Targeting,Customer Search Term,Impressions,Clicks,Spend,"
        "7 Day Total Orders (#),7 Day Total Sales\n"
        "2024-01-01,SP,AG,yoga mat,yoga mat thick,100,3,1.5,0,0\n"
        "2024-01-01,SP,AG,yoga mat,yoga mat blue,50,1,0.5,0,0\n"
        "2024-01-01,SP,AG,yoga mat,yoga mat blue,50,1,0.5,0,0\n"
    )
    frame, problems = load(tmp_path, text)
    assert [(p.row, "row 3" in p.message) for p in errors(problems)] == [(4, True)]
    grains = split_report_grains([frame.iloc[:2]])
    assert grains["keywords"]["impressions"].tolist() == [150.0]


def test_trailing_notes_are_counted_across_scan_blocks() -> None:
    from bidopt.io.normalise import NOTE_SCAN_ROWS, _trailing_notes

    notes = NOTE_SCAN_ROWS + 6
    cells = pd.DataFrame({0: ["2024-01-01"] * 100 + ["note"] * notes,
                          1: ["1"] * 100 + [" "] * notes})
    assert _trailing_notes(cells) == notes
    assert _trailing_notes(cells.iloc[:100]) == 0


def test_market_rates_above_100_percent_are_named(tmp_path: Path) -> None:
    """A 生意参谋 sheet that writes 点击率 1.82 (percent without its sign) would read as 182%."""
    _, problems = load(tmp_path, "关键词,展现指数,点击率,点击转化率\n连衣裙,1000,1.82,0.05\n",
                       kind="candidates")
    (problem,) = errors(problems)
    assert problem.column == "点击率" and "above 100%" in problem.message and problem.row == 2


def test_cost_without_clicks_is_a_warning_with_its_rows(tmp_path: Path) -> None:
    text = ("日期,推广计划,关键词,展现量,点击量,花费,成交笔数,成交金额\n"
            "2024-01-01,A,k,10,0,3.5,0,0\n2024-01-01,A,j,10,1,0.5,0,0\n")
    _, problems = load(tmp_path, text)
    assert [(p.row, p.column, p.severity) for p in problems] == [(2, "花费", "warning")]


def test_gmv_without_orders_is_a_warning_with_its_rows(tmp_path: Path) -> None:
    text = ("日期,推广计划,关键词,展现量,点击量,花费,成交笔数,成交金额\n"
            "2024-01-01,A,k,10,1,0.5,0,88\n2024-01-01,A,j,10,1,0.5,1,66\n")
    _, problems = load(tmp_path, text)
    assert [(p.row, p.column, p.severity) for p in problems] == [(2, "成交金额", "warning")]
    assert "GMV 88 on a row without orders" in problems[0].message


def test_google_phone_and_tablet_rows_are_one_mobile_row_not_duplicates(tmp_path: Path) -> None:
    text = ("Day,Campaign,Ad group,Keyword,Match type,Device,Max. CPC,Impr.,Clicks,Cost,"
            "Conversions,Conv. value\n"
            "2026-11-20,Search,AG1,running shoes,Exact match,Mobile phones,1.00,100,10,8.00,1,50\n"
            "2026-11-20,Search,AG1,running shoes,Exact match,Tablets with full browsers,1.00,20,"
            "2,1.60,0,0\n"
            "2026-11-20,Search,AG1,running shoes,Exact match,Computers,1.00,50,5,4.00,1,50\n")
    frame, problems = load(tmp_path, text)
    assert errors(problems) == []
    kw = split_report_grains([frame])["keywords"].set_index("platform")
    assert kw.loc["mobile", "clicks"] == 12 and kw.loc["mobile", "cost"] == pytest.approx(9.6)
    assert kw.loc["pc", "clicks"] == 5


def test_a_row_spanning_several_days_is_an_error(tmp_path: Path) -> None:
    """Amazon's summary export: one row per target over 14 days, read as one day, would count
    its spend fourteen times over."""
    text = ("Start Date,End Date,Campaign Name,Ad Group Name,Targeting,Impressions,Clicks,Spend,"
            "7 Day Total Orders (#),7 Day Total Sales\n"
            '"Nov 20, 2026","Dec 03, 2026",SP,AG,yoga mat,1000,30,15.00,2,60.00\n')
    _, problems = load(tmp_path, text)
    (problem,) = errors(problems)
    assert "2026-11-20 .. 2026-12-03, not one day" in problem.message and problem.row == 2


def test_each_bad_price_is_named_once(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("item,price\nfoo,abc\nbar,\nbaz,-\nqux,0\nok,9.9\n", encoding="utf-8")
    _, problems = normalise_table(read_raw_table(path), "items", str(path))
    found = [(p.row, p.message) for p in problems if p.severity == "error"]
    assert found == [(2, "'abc' is not a number"), (3, "missing price"), (4, "missing price"),
                     (5, "price 0 is not positive")]


def test_ids_in_scientific_notation_are_named_before_the_duplicates_they_make(tmp_path: Path):
    path = tmp_path / "kw.csv"
    rows = ["2026-11-23,计划A,6.23457E+11,连衣裙,无线,1.2,100,5,3.5,1,99",
            "2026-11-23,计划A,6.23457E+11,连衣裙,无线,0.9,80,4,2.5,0,0",
            "2026-11-23,计划A,623456789999,连衣裙,无线,0.9,80,4,2.5,0,0"]
    path.write_text("\n".join([ZTC_ID_HEADER, *rows]) + "\n", encoding="utf-8")
    _, problems = normalise_table(read_raw_table(path), "report", str(path))
    named = [p for p in problems if "scientific notation" in p.message]
    assert [(p.row, p.column, p.severity) for p in named] == [(2, "宝贝ID", "error"),
                                                              (3, "宝贝ID", "error")]
    assert "'6.23457E+11'" in named[0].message


def test_plain_ids_and_names_are_not_taken_for_scientific_notation(tmp_path: Path):
    path = tmp_path / "kw.csv"
    rows = ["2026-11-23,1E+10 计划,623456789012,连衣裙,无线,1.2,100,5,3.5,1,99",
            "2026-11-23,计划A,T恤-0001,2.5E+10,无线,1.2,100,5,3.5,1,99"]
    path.write_text("\n".join([ZTC_ID_HEADER, *rows]) + "\n", encoding="utf-8")
    _, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []


def test_a_total_row_under_the_header_with_no_date_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "kw.csv"
    total = ",合计,,,,,180,9,6.0,1,99"
    path.write_text("\n".join([ZTC_HEADER, total, *ZTC_ROWS]) + "\n", encoding="gbk")
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert "summary rows skipped (rows 2)" in [p.message for p in problems]
    # a campaign whose name starts like a total label, on a dated row, is data
    assert frame["campaign"].tolist() == ["计划A", "Total 计划"]
    assert frame["cost"].sum() == 6.0


PERIODS = ["2026-11-01~2026-11-14", "2026-11-01 至 2026-11-14", "2026-11-01 - 2026-11-14",
           "2026/11/01-2026/11/14", "2026-11-01 ～ 2026-11-14"]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
@pytest.mark.parametrize("period", PERIODS)
def test_a_total_row_dated_with_the_report_period_is_skipped(
        tmp_path: Path, period: str, encoding: str) -> None:
    """直通车 ends some exports with 合计 and the report's period as its 日期; read as data
    (2026-11-01 至 ... as 2026-11-01) it would count the period's spend twice."""
    path = tmp_path / "kw.csv"
    total = f"{period},合计,,,,,180,9,6.0,1,99"
    path.write_text("\n".join([ZTC_HEADER, *ZTC_ROWS, total]) + "\n", encoding=encoding)
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert "summary rows skipped (rows 4)" in [p.message for p in problems]
    assert len(frame) == 2 and frame["cost"].sum() == 6.0


@pytest.mark.parametrize("footer", [
    "2026-11-01~2026-11-14,,,总计,,,180,9,6.0,1,99",           # the label under 关键词
    "2026-11-01 至 2026-11-14,汇总: 全部计划,,,,,180,9,6.0,1,99",
])
def test_a_period_row_with_a_total_label_in_any_cell_is_skipped(tmp_path: Path,
                                                                footer: str) -> None:
    path = tmp_path / "kw.csv"
    path.write_text("\n".join([ZTC_HEADER, *ZTC_ROWS, footer]) + "\n", encoding="gbk")
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert "summary rows skipped (rows 4)" in [p.message for p in problems]
    assert len(frame) == 2


@pytest.mark.parametrize(("header", "data", "total"), [
    ("Campaign,Day,Keyword,Impr.,Clicks,Cost,Conversions,Conv. value",
     "Shoes,2026-11-01,running shoes,100,5,4.50,1,80",
     "Total: Account,2026-11-01 - 2026-11-14,,100,5,4.50,1,80"),
    ("Date,Campaign Name,Targeting,Impressions,Clicks,Spend,7 Day Total Orders (#),"
     "7 Day Total Sales",
     "11/13/2026,Shoes,running shoes,100,5,4.50,1,80",
     "11/01/2026 - 11/14/2026,Total,,100,5,4.50,1,80"),
    ("Date,Campaign Name,Targeting,Impressions,Clicks,Spend,7 Day Total Orders (#),"
     "7 Day Total Sales",
     "Nov 1 2026,Shoes,running shoes,100,5,4.50,1,80",
     '"Nov 1, 2026 - Nov 14, 2026",Total,,100,5,4.50,1,80'),
])
def test_an_english_total_with_a_period_is_skipped(tmp_path: Path, header: str, data: str,
                                                   total: str) -> None:
    path = tmp_path / "report.csv"
    path.write_text("\n".join([header, data, total]) + "\n", encoding="utf-8")
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert "summary rows skipped (rows 3)" in [p.message for p in problems]
    assert len(frame) == 1 and frame["cost"].sum() == 4.5


@pytest.mark.parametrize("period", PERIODS)
def test_a_period_on_a_row_without_a_total_label_is_an_error(tmp_path: Path,
                                                              period: str) -> None:
    path = tmp_path / "kw.csv"
    row = f"{period},计划A,宝贝2,半身裙,无线,1.0,60,3,2.0,0,0"
    path.write_text("\n".join([ZTC_HEADER, *ZTC_ROWS, row]) + "\n", encoding="gbk")
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    (error,) = [p for p in problems if p.severity == "error"]
    assert (error.file, error.row, error.column) == (str(path), 4, "日期")
    assert error.message == f"'{period}' is a period, not one day"
    assert not any("summary rows" in p.message for p in problems)
