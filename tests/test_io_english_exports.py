"""Google Ads and Amazon exports as their UIs write them today (English headers)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bidopt.errors import Problem
from bidopt.io import normalise_table, read_raw_table


def load(tmp_path: Path, text: str, kind: str = "report", encoding: str = "utf-8"
         ) -> tuple[pd.DataFrame, list[Problem]]:
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode(encoding))
    return normalise_table(read_raw_table(path), kind, str(path))


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def test_google_search_keyword_layout_reads_match_type_and_max_cpc(tmp_path: Path) -> None:
    """The Search keyword report of the current Google Ads UI: one ad group may hold the
    same words in three match types, each with its own max CPC ("Keyword max CPC")."""
    text = (
        "Search keyword report\n"
        '"December 1, 2026 - December 3, 2026"\n'
        "Search keyword,Search keyword status,Search keyword match type,Campaign,Ad group,"
        "Currency code,Keyword max CPC,Day,Clicks,Impr.,Cost,Conversions,Conv. value\n"
        "running shoes,Enabled,Broad match,Shoes,Running,USD,1.20,2026-12-01,5,100,4.50,1.00,80.00\n"
        "running shoes,Enabled,Exact match,Shoes,Running,USD,1.50,2026-12-01,4,50,5.00,1.00,75.00\n"
        "running shoes,Enabled,Phrase match,Shoes,Running,USD,1.30,2026-12-01,1,20,0.90,0.00,0.00\n"
    )
    frame, problems = load(tmp_path, text)
    assert problems == []
    assert list(frame["keyword"]) == ["running shoes", "[running shoes]", '"running shoes"']
    assert list(frame["bid"]) == pytest.approx([1.20, 1.50, 1.30])


def test_google_search_terms_report_match_type_is_not_the_keywords(tmp_path: Path) -> None:
    """In Google's search terms report "Match type" says how each search term matched the
    keyword: one broad keyword must stay one keyword, its search terms summed."""
    text = (
        "Search terms report\n"
        '"December 1, 2026 - December 3, 2026"\n'
        "Search term,Match type,Added/Excluded,Campaign,Ad group,Keyword,Day,Currency code,"
        "Impr.,Clicks,Cost,Conversions,Conv. value\n"
        "red roses delivery,Phrase match (close variant),None,Flowers,Roses,red roses,"
        "2026-12-01,USD,100,5,4.50,1.00,80.00\n"
        "red roses,Exact match (close variant),None,Flowers,Roses,red roses,"
        "2026-12-01,USD,50,4,5.00,1.00,75.00\n"
        "roses red,Broad match,None,Flowers,Roses,red roses,2026-12-01,USD,20,1,0.90,0.00,0.00\n"
        "Total: Search terms,--,--,--,--,--,--,--,170,10,10.40,2.00,155.00\n"
    )
    frame, problems = load(tmp_path, text)
    assert errors(problems) == []
    assert set(frame["keyword"]) == {"red roses"}
    assert frame["clicks"].sum() == 10 and frame["cost"].sum() == pytest.approx(10.40)


def test_amazon_search_term_report_keeps_the_keywords_match_type(tmp_path: Path) -> None:
    text = (
        "Date,Campaign Name,Ad Group Name,Targeting,Match Type,Customer Search Term,Impressions,"
        "Clicks,Spend,7 Day Total Sales ,7 Day Total Orders (#)\n"
        '"Dec 01, 2026",SP,Mats,yoga mat,EXACT,yoga mat,100,5,4.50,80.00,1\n'
        '"Dec 01, 2026",SP,Mats,yoga mat,PHRASE,yoga mat thick,100,5,4.50,80.00,1\n'
    )
    frame, problems = load(tmp_path, text)
    assert errors(problems) == []
    assert list(frame["keyword"]) == ["[yoga mat]", '"yoga mat"']


AMAZON_TARGETING_REPORT = (
    "Date,Portfolio name,Currency,Campaign Name,Ad Group Name,Targeting,Match Type,"
    "Impressions,Top-of-search Impression Share,Clicks,Click-Thru Rate (CTR),"
    "Cost Per Click (CPC),Spend,Total Advertising Cost of Sales (ACOS) ,"
    "Total Return on Advertising Spend (ROAS),7 Day Total Sales ,7 Day Total Orders (#),"
    "7 Day Total Units (#),7 Day Conversion Rate,7 Day Advertised SKU Units (#),"
    "7 Day Other SKU Units (#),7 Day Advertised SKU Sales ,7 Day Other SKU Sales \n"
    '"Nov 19, 2026",Not grouped,USD,SP - Jackets,Jacket 13,wool coat,EXACT,672,1.11%,29,'
    '4.32%,$5.10,$147.97,56.98%,1.76,$259.70,1,1,3.45%,1,0,$259.70,$0.00\n'
)
# Sponsored Products reports of vendor accounts count sales over 14 days.
AMAZON_VENDOR_REPORT = (
    "Date,Campaign Name,Ad Group Name,Targeting,Match Type,Impressions,Clicks,Spend,"
    "14 Day Total Sales ,14 Day Total Orders (#),14 Day Total Units (#),"
    "14 Day Conversion Rate\n"
    '"Dec 01, 2026",SP - Shoes,Running,running shoes,EXACT,100,5,$4.50,"$1,080.00",2,3,40.00%\n'
)


@pytest.mark.parametrize(("text", "cost", "gmv", "orders"), [
    (AMAZON_TARGETING_REPORT, 147.97, 259.70, 1), (AMAZON_VENDOR_REPORT, 4.50, 1080.0, 2)])
def test_amazon_reports_read_without_a_warning(tmp_path: Path, text: str, cost: float,
                                               gmv: float, orders: int) -> None:
    """The targeting report as downloaded, and a vendor's: every column is one bidopt reads or
    knows it need not (Top-of-search Impression Share was named as ignored, a warning on
    every night's run)."""
    frame, problems = load(tmp_path, text)
    assert problems == []
    assert frame.loc[0, "cost"] == pytest.approx(cost)
    assert frame.loc[0, "gmv"] == pytest.approx(gmv) and frame.loc[0, "orders"] == orders


def test_google_device_tablets_are_mobile(tmp_path: Path) -> None:
    """The Device segment of Google Ads writes Mobile phones, Tablets, Computers, TV screens
    and Other: phones and tablets are mobile, the rest bid like computers."""
    text = (
        "Day,Campaign,Ad group,Keyword,Device,Impr.,Clicks,Cost,Conversions,Conv. value\n"
        "2026-12-01,Shoes,Running,running shoes,Mobile phones,100,5,4.50,1.00,80.00\n"
        "2026-12-01,Shoes,Running,running shoes,Tablets,20,1,0.90,0.00,0.00\n"
        "2026-12-01,Shoes,Running,running shoes,Computers,30,2,2.10,0.50,40.00\n"
        "2026-12-01,Shoes,Running,running shoes,TV screens,4,1,0.30,0.00,0.00\n"
        "2026-12-01,Shoes,Running,running shoes,Other,2,0,0.00,0.00,0.00\n"
    )
    frame, problems = load(tmp_path, text)
    assert errors(problems) == []
    assert list(frame["platform"]) == ["mobile", "mobile", "pc", "pc", "pc"]


def test_keyword_planner_export_takes_the_indexed_competition(tmp_path: Path) -> None:
    """Google Keyword Planner: UTF-16 tab-separated with two title lines; "Competition" is
    Low/Medium/High and "Competition (indexed value)" the number."""
    lines = [
        "Keyword Stats 2026-12-04 at 10_21_33",
        "December 1, 2025 - November 30, 2026",
        "Keyword\tCurrency\tAvg. monthly searches\tCompetition\tCompetition (indexed value)\t"
        "Top of page bid (low range)\tTop of page bid (high range)",
        "women wool coat\tUSD\t12100\tHigh\t87\t0.61\t2.43",
        "petite trench coat\tUSD\t880\tLow\t12\t\t",
    ]
    frame, problems = load(tmp_path, "\r\n".join(lines) + "\r\n", "candidates", "utf-16")
    # the low range is known, not ignored with a warning; of the two Competition columns,
    # the warning names the one read
    assert [(p.column, p.message) for p in problems] == [
        ("Competition", "column ignored: 'Competition (indexed value)' gives competition")]
    assert list(frame["competition"]) == [87, 12]
    assert frame.loc[0, "market_cpc"] == pytest.approx(2.43)


def test_keyword_planner_export_with_every_column_warns_only_of_the_competition_read(
        tmp_path: Path) -> None:
    """Keyword Planner's full export: trend, monthly searches, impression shares and its
    account flags are known columns, not an 'ignored' warning every night."""
    months = [f"Searches: {m} 2026" for m in ("Sep", "Oct", "Nov")]
    header = ["Keyword", "Currency", "Segmentation", "Avg. monthly searches",
              "Three month change", "YoY change", "Competition", "Competition (indexed value)",
              "Top of page bid (low range)", "Top of page bid (high range)",
              "Ad impression share", "Organic impression share", "Organic average position",
              "In account?", "In plan?", *months]
    row = ["women wool coat", "USD", "", "12100", "0%", "22%", "High", "87", "0.61", "2.43",
           "", "", "", "", "", "9900", "12100", "14800"]
    frame, problems = load(tmp_path, "\t".join(header) + "\r\n" + "\t".join(row) + "\r\n",
                           "candidates", "utf-16")
    assert [(p.column, p.message) for p in problems] == [
        ("Competition", "column ignored: 'Competition (indexed value)' gives competition")]
    assert frame.loc[0, "competition"] == 87


@pytest.mark.parametrize(("text", "value"), [
    ("CA$4.50", 4.5), ("MX$1,080.00", 1080.0), ("AU$12.00", 12.0), ("S$4.50", 4.5),
    ("₹1,080.00", 1080.0), ("R$1.080,00", 1080.0), ("4,50 kr", 4.5), ("1 080,00 kr", 1080.0),
    ("4,50 zł", 4.5), ("AED 4.50", 4.5), ("SEK 12,50", 12.5),
])
def test_amazon_marketplace_currency_marks(tmp_path: Path, text: str, value: float) -> None:
    """Spend and sales as Amazon's marketplaces (CA, MX, AU, SG, IN, BR, SE, PL, AE) write
    them once a report is opened and saved in a spreadsheet."""
    report = (
        "Date,Campaign Name,Ad Group Name,Targeting,Match Type,Impressions,Clicks,Spend,"
        "7 Day Total Sales ,7 Day Total Orders (#)\n"
        f'"Dec 01, 2026",SP,Mats,yoga mat,EXACT,100,5,"{text}","{text}",1\n'
    )
    frame, problems = load(tmp_path, report)
    assert problems == []
    assert frame.loc[0, "cost"] == pytest.approx(value)
    assert frame.loc[0, "gmv"] == pytest.approx(value)


def test_words_are_still_not_numbers(tmp_path: Path) -> None:
    from bidopt.io.parsing import parse_numbers

    _, _, bad = parse_numbers(pd.Series(["n/a", "abc", "4.50 apples", "try"]))
    assert bad.all()


def test_rows_with_unreadable_dates_are_not_called_duplicates(tmp_path: Path) -> None:
    """12/01/2026 and 12/02/2026 do not tell month-first from day-first: each row gets its
    date error, and no 'duplicate row' error for two different days."""
    text = (
        "Start Date,End Date,Campaign Name,Ad Group Name,Targeting,Match Type,Impressions,"
        "Clicks,Spend,7 Day Total Sales ,7 Day Total Orders (#)\n"
        "12/01/2026,12/01/2026,SP,Running,running shoes,EXACT,100,5,4.50,80.00,1\n"
        "12/02/2026,12/02/2026,SP,Running,running shoes,EXACT,100,5,4.50,80.00,1\n"
    )
    _, problems = load(tmp_path, text)
    found = errors(problems)
    assert [p.row for p in found] == [2, 3]
    assert all("could be month/day or day/month" in p.message for p in found)



def test_keyword_planner_monthly_searches_are_read_per_day(tmp_path: Path) -> None:
    """search_volume is per day (long_tail's head_volume 1500, tail_volume 200, and its
    reasons say 'searches N/day'); Keyword Planner gives searches per month."""
    frame, problems = load(tmp_path, "Keyword,Avg. monthly searches\nwomen wool coat,12100\n"
                           "petite trench coat,880\n", "candidates")
    assert problems == []
    assert list(frame["search_volume"]) == pytest.approx([12100 * 12 / 365, 880 * 12 / 365])
    daily, _ = load(tmp_path, "keyword,search_volume\nwomen wool coat,400\n", "candidates")
    assert daily.loc[0, "search_volume"] == 400


def test_google_report_split_by_device_is_warned(tmp_path: Path) -> None:
    """A Google Ads keyword has one max CPC: planned per device, its pc row would get its own
    bid (pc_floor: 'hold PC at the floor') that Google Ads cannot take."""
    text = (
        "Day,Campaign,Ad group,Keyword,Device,Impr.,Clicks,Cost,Conversions,Conv. value\n"
        "2026-12-01,Shoes,Running,running shoes,Mobile phones,100,5,4.50,1.00,80.00\n"
        "2026-12-01,Shoes,Running,running shoes,Computers,30,2,2.10,0.50,40.00\n"
    )
    _, problems = load(tmp_path, text)
    assert errors(problems) == []
    (warning,) = problems
    assert warning.column == "Device" and "one max CPC" in warning.message
    ztc = "date,campaign,item,keyword,platform,impressions,clicks,cost,orders,gmv\n" \
          "2026-12-01,C,I,k,无线,100,5,4.5,1,80\n2026-12-01,C,I,k,计算机,30,2,2.1,0,0\n"
    assert load(tmp_path, ztc)[1] == []
    phones_only = text.rsplit("2026-12-01", 1)[0]
    assert load(tmp_path, phones_only)[1] == []


def test_windows_1252_csv_is_not_read_as_chinese(tmp_path: Path) -> None:
    """Excel's 'CSV (Comma delimited)' on a Western Windows writes Windows-1252. GB18030
    decodes 'größe' without error (as 'gr鲞e'), so such a report was read as Chinese."""
    text = (
        "Date,Campaign Name,Ad Group Name,Targeting,Match Type,Impressions,Clicks,Spend,"
        "7 Day Total Sales ,7 Day Total Orders (#)\n"
        '"Dec 01, 2026",SP - Schuhe,Laufschuhe,laufschuhe größe 42,EXACT,100,5,4.50,80.00,1\n'
        '"Dec 01, 2026",SP - Schuhe,Laufschuhe,crème brûlée set,EXACT,100,5,4.50,80.00,1\n'
        '"Dec 01, 2026",SP - Schuhe,Straßenschuhe,straßenschuhe herren,EXACT,100,5,4.50,'
        "80.00,1\n"
        '"Dec 01, 2026",SP - Schuhe,Größe 42,süße schuhe,EXACT,100,5,4.50,80.00,1\n'
    )
    frame, problems = load(tmp_path, text, encoding="cp1252")
    assert problems == []
    assert list(frame["keyword"]) == ["[laufschuhe größe 42]", "[crème brûlée set]",
                                      "[straßenschuhe herren]", "[süße schuhe]"]
    assert frame.loc[2, "item"] == "Straßenschuhe"


@pytest.mark.parametrize("text", [
    "item,price\n女,399\n男,129\n羽绒服 加厚,599\n",
    "date,campaign,keyword,clicks\n2024-01-01,C,鞋 1,1\n2024-01-01,C,包,2\n",
    "item,price\nNike运动鞋 男,399\nT恤-日常,59\niPhone手机壳,29\n",
])
def test_short_gbk_words_are_still_gbk(tmp_path: Path, text: str) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(text.encode("gbk"))
    raw = read_raw_table(path)
    assert raw.attrs["encoding"] == "gb18030"
    assert raw.iloc[0, 0] in ("女", "2024-01-01", "Nike运动鞋 男")
