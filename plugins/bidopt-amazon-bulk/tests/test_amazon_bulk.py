"""The Amazon bulk sheet writer: end to end through bidopt, and the mapping by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

import bidopt_amazon_bulk.plugin as amazon_bulk
from bidopt_amazon_bulk.bulk import BULK_COLUMNS, SHEET_NAME, read_ids, to_bulk_rows


def recs(*rows: dict) -> pd.DataFrame:
    base = {"campaign": "Shoes", "item": "Runners", "keyword": "running shoes",
            "platform": "mobile", "action": "set_bid", "current": 1.0, "proposed": 1.2}
    return pd.DataFrame([{**base, **row} for row in rows])


def test_a_night_is_written_as_a_bulk_csv(bidopt_run, tmp_path):
    out = tmp_path / "bulk.csv"
    with (pytest.warns(amazon_bulk.SkippedActions, match="pc; Amazon has no device bids"),
          pytest.warns(amazon_bulk.MissingIds)):
        result = bidopt_run(amazon_bulk, out=out, output={"format": "amazon_bulk_csv"})
    assert result.output == out
    sheet = pd.read_csv(out, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert tuple(sheet.columns) == BULK_COLUMNS
    assert set(sheet["Product"]) == {"Sponsored Products"}
    assert set(sheet["Entity"]) == {"Keyword"}
    mobile_bids = result.recommendations.query("action == 'set_bid' and platform == 'mobile'")
    updates = sheet[(sheet["Operation"] == "Update") & (sheet["State"] == "enabled")]
    assert len(updates) >= len(mobile_bids) > 0
    merged = mobile_bids.merge(updates, left_on=["campaign", "item", "keyword"],
                               right_on=["Campaign Name", "Ad Group Name", "Keyword Text"])
    assert len(merged) == len(mobile_bids)
    assert (merged["Bid"] == merged["proposed"].map(lambda b: f"{b:.2f}")).all()


def test_xlsx_has_amazons_sheet_name_and_numeric_bids(bidopt_run, tmp_path):
    out = tmp_path / "bulk.xlsx"
    with pytest.warns(amazon_bulk.SkippedActions), pytest.warns(amazon_bulk.MissingIds):
        bidopt_run(amazon_bulk, out=out, output={"format": "amazon_bulk_xlsx"})
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == [SHEET_NAME]
    rows = list(book[SHEET_NAME].iter_rows(values_only=True))
    assert rows[0] == BULK_COLUMNS and len(rows) > 1
    bid = BULK_COLUMNS.index("Bid")
    enabled = [r for r in rows[1:] if r[BULK_COLUMNS.index("State")] == "enabled"]
    assert enabled and all(isinstance(r[bid], int | float) and r[bid] > 0 for r in enabled)


def test_each_action_maps_to_its_operation_and_unsupported_ones_are_counted():
    sheet = to_bulk_rows(recs(
        {},
        {"platform": "pc", "proposed": 0.05},
        {"keyword": "trail shoes", "action": "pause_keyword", "proposed": 0.0},
        {"keyword": "barefoot shoes", "action": "add_keyword", "current": None, "proposed": 0.8},
        {"keyword": "", "action": "set_hour_discount", "hour": 21, "proposed": 120},
        {"keyword": "", "action": "exclude_region", "region": "西藏", "proposed": 0},
    ))
    rows = sheet.rows.set_index("Keyword Text")
    assert rows.loc["running shoes", ["Operation", "State", "Bid"]].tolist() == ["Update", "enabled", "1.20"]
    assert rows.loc["trail shoes", ["Operation", "State", "Bid"]].tolist() == ["Update", "paused", ""]
    assert rows.loc["barefoot shoes", ["Operation", "State", "Bid", "Match Type"]].tolist() == [
        "Create", "enabled", "0.80", "exact"]
    assert len(sheet.rows) == 3
    assert sheet.skipped == {"set_hour_discount": 1, "exclude_region": 1,
                             "set_bid (pc; Amazon has no device bids)": 1}


def test_ids_come_from_a_downloaded_bulk_file(tmp_path):
    download = pd.DataFrame({
        "Product": "Sponsored Products", "Entity": ["Campaign", "Keyword", "Keyword"],
        "Campaign ID": ["111", "111", "111"], "Ad Group ID": ["", "222", "222"],
        "Keyword ID": ["", "333", "444"], "Campaign Name": ["", "", ""],
        "Campaign Name (Informational only)": ["Shoes"] * 3,
        "Ad Group Name (Informational only)": ["", "Runners", "Runners"],
        "Keyword Text": ["", "running shoes", "trail shoes"], "Match Type": ["", "Exact", "phrase"],
    })
    path = tmp_path / "download.csv"
    download.to_csv(path, index=False)
    sheet = to_bulk_rows(recs({}, {"keyword": "unknown words"}), read_ids(path))
    row = sheet.rows.iloc[0]
    assert (row["Campaign ID"], row["Ad Group ID"], row["Keyword ID"], row["Match Type"]) == (
        "111", "222", "333", "exact")
    assert len(sheet.rows) == 1
    assert sheet.skipped == {"set_bid (no Keyword ID in the bulk file)": 1}


def test_without_unsupported_actions_nothing_is_warned(tmp_path, recwarn):
    frame = recs({})
    handled = amazon_bulk.bidopt_write_output(frame, tmp_path / "x.csv", "amazon_bulk_csv", {})
    assert handled == list(frame.index)  # every row is in the sheet
    assert not [w for w in recwarn if issubclass(w.category, amazon_bulk.SkippedActions)]
    assert amazon_bulk.bidopt_write_output(recs({}), tmp_path / "y.csv", "csv", {}) is None


def test_new_keywords_take_the_ids_of_their_existing_campaign_and_ad_group(tmp_path):
    download = pd.DataFrame({
        "Product": "Sponsored Products", "Entity": ["Keyword", "Keyword"],
        "Campaign ID": ["111", "555"], "Ad Group ID": ["222", "666"], "Keyword ID": ["333", "777"],
        "Campaign Name": ["Shoes", "Bags"], "Ad Group Name": ["Runners", "Totes"],
        "Keyword Text": ["running shoes", "tote bag"], "Match Type": ["exact", "exact"],
    })
    path = tmp_path / "download.csv"
    download.to_csv(path, index=False)
    sheet = to_bulk_rows(recs(
        {"keyword": "barefoot shoes", "action": "add_keyword", "current": None, "proposed": 0.8},
        {"campaign": "Bags", "item": "Totes", "keyword": "canvas tote", "action": "add_keyword",
         "current": None, "proposed": 0.5},
        {"campaign": "New", "item": "Fresh", "keyword": "new words", "action": "add_keyword",
         "current": None, "proposed": 0.5},
    ), read_ids(path))
    rows = sheet.rows.set_index("Keyword Text")
    columns = ["Operation", "Campaign ID", "Ad Group ID", "Keyword ID"]
    assert rows.loc["barefoot shoes", columns].tolist() == ["Create", "111", "222", ""]
    assert rows.loc["canvas tote", columns].tolist() == ["Create", "555", "666", ""]
    # not in the account: names, for a campaign created in the same upload
    assert rows.loc["new words", columns].tolist() == ["Create", "New", "Fresh", ""]
    assert not sheet.skipped


def test_the_console_command_reports_skipped_rows_as_one_plain_warning(tmp_path):
    """Run as a user does (the installed ``bidopt`` command): the writer's warning reads
    'warning: ...' on stderr, not a source location inside pluggy."""
    import subprocess
    import sys

    bidopt = [sys.executable, "-c", "from bidopt.cli import main; main()"]
    subprocess.run([*bidopt, "simulate", "--out", str(tmp_path / "shop"), "--seed", "2",
                    "--days", "7", "--end-date", "2026-11-24"], check=True, capture_output=True)
    shop = tmp_path / "shop"
    config = tmp_path / "shop.yaml"
    config.write_text(
        "constraints: {roi_floor: 2.0}\n"
        "sources: {reports: [shop/keyword_report.csv, shop/crowd_report.csv], "
        "items: shop/items.csv}\n"
        "strategies: {roi_rule: {}, crowd_premium: {}}\n"
        "output: {format: amazon_bulk_csv}\n", encoding="utf-8")
    done = subprocess.run([*bidopt, "run", "--config", str(config), "--date", "2026-11-25",
                           "--out", str(tmp_path / "bulk.csv"), "-q"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "bulk.csv").exists() and shop.exists()
    warning = [line for line in done.stderr.splitlines() if "amazon_bulk_csv" in line]
    assert warning and warning[0].startswith("warning: amazon_bulk_csv: "), done.stderr
    assert "_execution.py" not in done.stderr and "hook_impl" not in done.stderr


def download_file(tmp_path, rows: list[dict]):
    """A bulk file as downloaded from the account: Keyword rows of campaign Shoes, ad group
    Runners unless a row says otherwise."""
    base = {"Product": "Sponsored Products", "Entity": "Keyword", "Campaign ID": "111",
            "Ad Group ID": "222", "Campaign Name": "Shoes", "Ad Group Name": "Runners"}
    path = tmp_path / "download.csv"
    pd.DataFrame([{**base, **row} for row in rows]).to_csv(path, index=False)
    return read_ids(path)


def test_a_skipped_recommendation_is_counted_once_not_once_per_match_type(tmp_path):
    ids = download_file(tmp_path, [
        {"Keyword ID": "333", "Keyword Text": "running shoes", "Match Type": "exact"},
        {"Keyword ID": "334", "Keyword Text": "running shoes", "Match Type": "phrase"},
    ])
    sheet = to_bulk_rows(recs({}, {"action": "pause_keyword", "proposed": 0.0}), ids)
    assert sheet.rows.empty
    assert sheet.skipped == {"set_bid (several match types in the bulk file)": 1,
                             "pause_keyword (several match types in the bulk file)": 1}


def test_bidopts_match_type_notation_gives_keyword_text_and_match_type():
    sheet = to_bulk_rows(recs(
        {"keyword": "[running shoes]"},
        {"keyword": '"trail shoes"'},
        {"keyword": "barefoot shoes"},
        {"keyword": "[canvas tote]", "action": "add_keyword", "current": None, "proposed": 0.5},
    ), default_match_type="broad")
    assert sheet.rows[["Keyword Text", "Match Type"]].values.tolist() == [
        ["running shoes", "exact"], ["trail shoes", "phrase"], ["barefoot shoes", "broad"],
        ["canvas tote", "exact"]]
    plain = to_bulk_rows(recs({"keyword": "barefoot shoes"}))
    assert plain.rows["Match Type"].tolist() == ["exact"]  # the default for plain words


def test_keywords_find_their_ids_by_text_and_match_type(tmp_path):
    ids = download_file(tmp_path, [
        {"Keyword ID": "333", "Keyword Text": "running shoes", "Match Type": "Exact"},
        {"Keyword ID": "334", "Keyword Text": "running shoes", "Match Type": "Phrase"},
        {"Keyword ID": "335", "Keyword Text": "running shoes", "Match Type": "Broad"},
        {"Keyword ID": "336", "Keyword Text": "trail shoes", "Match Type": "phrase"},
    ])
    sheet = to_bulk_rows(recs(
        {"keyword": "[running shoes]", "proposed": 1.1},
        {"keyword": '"running shoes"', "proposed": 1.2},
        {"keyword": "running shoes", "proposed": 1.3},
        {"keyword": "trail shoes", "proposed": 1.4},     # plain: the one match type there is
        {"keyword": "[trail shoes]", "proposed": 1.5},   # not in the file in exact match
    ), ids)
    assert sheet.rows[["Keyword ID", "Keyword Text", "Match Type", "Bid"]].values.tolist() == [
        ["333", "running shoes", "exact", "1.10"], ["334", "running shoes", "phrase", "1.20"],
        ["335", "running shoes", "broad", "1.30"], ["336", "trail shoes", "phrase", "1.40"]]
    assert sheet.skipped == {"set_bid (no Keyword ID in the bulk file)": 1}


def test_bidopts_change_is_applied_to_the_real_bid_of_the_ids_file(tmp_path):
    ids = download_file(tmp_path, [
        {"Keyword ID": "331", "Keyword Text": "cut", "Match Type": "exact", "Bid": "0.50"},
        {"Keyword ID": "332", "Keyword Text": "raise", "Match Type": "exact", "Bid": "0,50"},
        {"Keyword ID": "333", "Keyword Text": "floor", "Match Type": "exact", "Bid": "0.03"},
        {"Keyword ID": "334", "Keyword Text": "no bid", "Match Type": "exact", "Bid": ""},
        {"Keyword ID": "335", "Keyword Text": "tiny", "Match Type": "exact", "Bid": "1.00"},
    ])
    sheet = to_bulk_rows(recs(
        # a guessed current of 1.20 cut to 1.00 (-16.7%): the real 0.50 is cut, not raised
        {"keyword": "cut", "current": 1.2, "proposed": 1.0},
        {"keyword": "raise", "current": 1.0, "proposed": 1.2},
        {"keyword": "floor", "current": 1.0, "proposed": 0.3},   # 0.009: Amazon's minimum
        {"keyword": "no bid", "current": 1.0, "proposed": 0.8},  # no real bid: as proposed
        {"keyword": "tiny", "current": 1.0, "proposed": 1.004},  # rounds to the real bid
    ), ids)
    assert sheet.rows[["Keyword Text", "Bid"]].values.tolist() == [
        ["cut", "0.42"], ["raise", "0.60"], ["floor", "0.02"], ["no bid", "0.80"]]
    assert sheet.skipped == {"set_bid (rounds to the real bid: no change)": 1}


def test_rows_that_change_nothing_are_not_written(tmp_path):
    """Rejected proposals (output.include_rejected) carry proposed = current."""
    sheet = to_bulk_rows(recs(
        {"current": 1.0, "proposed": 1.0},
        {"keyword": "trail shoes", "action": "pause_keyword", "current": 0.7, "proposed": 0.7},
        {"keyword": "barefoot shoes", "action": "add_keyword", "current": 0.0, "proposed": 0.0},
        {"keyword": "road shoes", "current": 1.0, "proposed": 1.1},
    ))
    assert sheet.rows["Keyword Text"].tolist() == ["road shoes"]
    assert sheet.skipped == {"set_bid (proposed = current: no change)": 1,
                             "pause_keyword (proposed = current: no change)": 1,
                             "add_keyword (proposed = current: no change)": 1}


def test_auto_and_product_targets_are_not_written_as_keywords():
    sheet = to_bulk_rows(recs(
        {},
        {"keyword": "close-match"}, {"keyword": "Loose-Match"}, {"keyword": "substitutes"},
        {"keyword": "complements", "action": "pause_keyword", "proposed": 0.0},
        {"keyword": 'asin="B07XYZ1234"'}, {"keyword": 'asin-expanded="B07XYZ1234"'},
        {"keyword": 'category="Running Shoes" price<50'},
        {"keyword": 'asin="B07XYZ9999"', "action": "add_keyword", "current": None},
        {"keyword": "brand new shoes"},   # a keyword, although it starts with a predicate name
    ))
    assert sheet.rows["Keyword Text"].tolist() == ["running shoes", "brand new shoes"]
    assert sheet.skipped == {"set_bid (product or auto target: not a keyword)": 6,
                             "pause_keyword (product or auto target: not a keyword)": 1,
                             "add_keyword (product or auto target: not a keyword)": 1}


def test_update_rows_without_ids_are_warned_about_once(tmp_path, monkeypatch):
    monkeypatch.delenv(amazon_bulk.IDS_ENV, raising=False)
    rows = recs({}, {"keyword": "trail shoes"},
                {"keyword": "road shoes", "action": "pause_keyword", "proposed": 0.0})
    with pytest.warns(amazon_bulk.MissingIds, match="amazon_ids") as caught:
        amazon_bulk.bidopt_write_output(rows, tmp_path / "x.csv", "amazon_bulk_csv", {})
    missing = [w for w in caught if issubclass(w.category, amazon_bulk.MissingIds)]
    assert len(missing) == 1 and "3 Update row(s)" in str(missing[0].message)
    assert amazon_bulk.IDS_ENV in str(missing[0].message)


def test_no_missing_ids_warning_with_the_ids_file_or_for_new_keywords(tmp_path, monkeypatch,
                                                                      recwarn):
    monkeypatch.delenv(amazon_bulk.IDS_ENV, raising=False)
    path = tmp_path / "download.csv"
    pd.DataFrame({"Product": ["Sponsored Products"], "Entity": ["Keyword"],
                  "Campaign ID": ["111"], "Ad Group ID": ["222"], "Keyword ID": ["333"],
                  "Campaign Name": ["Shoes"], "Ad Group Name": ["Runners"],
                  "Keyword Text": ["running shoes"], "Match Type": ["exact"]}).to_csv(path)
    amazon_bulk.bidopt_write_output(recs({}), tmp_path / "x.csv", "amazon_bulk_csv",
                                    {"amazon_ids": str(path)})
    new = recs({"keyword": "barefoot shoes", "action": "add_keyword", "current": None})
    amazon_bulk.bidopt_write_output(new, tmp_path / "y.csv", "amazon_bulk_csv", {})
    assert not [w for w in recwarn if issubclass(w.category, amazon_bulk.MissingIds)]


def test_xlsx_names_that_look_like_formulas_stay_text(tmp_path):
    from bidopt_amazon_bulk.bulk import write_xlsx

    out = tmp_path / "bulk.xlsx"
    sheet = to_bulk_rows(recs({"campaign": "=Shoes", "keyword": '=HYPERLINK("http://x","y")'},
                              {"item": "+Runners", "keyword": "@shoes"}))
    write_xlsx(sheet, out)
    ws = load_workbook(out)[SHEET_NAME]
    header = [c.value for c in ws[1]]
    rows = list(ws.iter_rows(min_row=2))
    cell = {name: rows[0][header.index(name)] for name in ("Campaign Name", "Keyword Text")}
    assert cell["Campaign Name"].value == "=Shoes"
    assert cell["Keyword Text"].value == '=HYPERLINK("http://x","y")'
    assert all(c.data_type != "f" for row in rows for c in row)


def test_an_ids_file_missing_or_not_a_bulk_file_is_named_as_the_ids_file(tmp_path):
    from bidopt.errors import OutputError

    missing = tmp_path / "downloads" / "bulk.xlsx"
    with pytest.raises(OutputError, match=r"Amazon IDs file .*bulk\.xlsx does not exist"):
        amazon_bulk.bidopt_write_output(recs({}), tmp_path / "x.csv", "amazon_bulk_csv",
                                        {"amazon_ids": str(missing)})
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("Entity,Campaign Name\nKeyword,Shoes\n", encoding="utf-8")
    with pytest.raises(OutputError, match="not a Sponsored Products bulk file: it has no "
                                          "column 'Campaign ID'"):
        amazon_bulk.bidopt_write_output(recs({}), tmp_path / "x.csv", "amazon_bulk_csv",
                                        {"amazon_ids": str(wrong)})


def test_a_bulk_csv_saved_by_excel_in_windows_1252_is_read(tmp_path):
    """Excel's 'CSV (Comma delimited)' on a Western Windows: the writer failed with a
    UTF-8 decode error."""
    path = tmp_path / "download.csv"
    pd.DataFrame({
        "Product": "Sponsored Products", "Entity": ["Keyword"], "Campaign ID": ["111"],
        "Ad Group ID": ["222"], "Keyword ID": ["333"], "Campaign Name": ["Schuhe"],
        "Ad Group Name": ["Größe 42"], "Keyword Text": ["laufschuhe größe 42"],
        "Match Type": ["exact"], "Bid": ["0.75"],
    }).to_csv(path, index=False, encoding="cp1252")
    ids = read_ids(path)
    assert ids.loc[0, ["item", "keyword", "keyword_id"]].tolist() == [
        "Größe 42", "laufschuhe größe 42", "333"]


def test_ids_rounded_by_excel_are_refused(tmp_path):
    """Saved as CSV by Excel, 300000000000395 becomes 3.00E+14: an upload with it would
    name no keyword."""
    path = tmp_path / "download.csv"
    pd.DataFrame({
        "Product": "Sponsored Products", "Entity": ["Campaign", "Keyword"],
        "Campaign ID": ["1.00E+14", "1.00E+14"], "Ad Group ID": ["", "2.00E+14"],
        "Keyword ID": ["", "3.00E+14"], "Campaign Name": ["Shoes", "Shoes"],
        "Ad Group Name": ["", "Runners"], "Keyword Text": ["", "running shoes"],
        "Match Type": ["", "exact"],
    }).to_csv(path, index=False)
    with pytest.raises(ValueError, match="scientific notation"):
        read_ids(path)
