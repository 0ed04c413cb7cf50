"""read_raw_table on real files in every format and encoding users export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from bidopt.cli import cli
from bidopt.errors import DataError
from bidopt.io import normalise_table, read_raw_table
from conftest import NIGHT, write_config

ZTC_HEADER = "日期,推广计划,推广单元,关键词,投放平台,出价,展现量,点击量,花费,成交笔数,成交金额"
ZTC_ROWS = [
    "2024-01-01,计划A,宝贝1,连衣裙 夏季,无线,1.20,100,5,3.50,1,99.00",
    "2024-01-01,计划A,宝贝1,连衣裙 夏季,计算机,0.05,10,0,0,0,0",
]


def write_text(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_with_ztc_headers(tmp_path: Path, encoding: str) -> None:
    path = write_text(tmp_path / "kw.csv", "\n".join([ZTC_HEADER, *ZTC_ROWS]) + "\n", encoding)
    raw = read_raw_table(path)
    assert list(raw.columns) == ZTC_HEADER.split(",")
    assert raw.loc[0, "关键词"] == "连衣裙 夏季"
    assert raw.loc[1, "投放平台"] == "计算机"
    assert all(raw[c].map(type).eq(str).all() for c in raw.columns)
    frame, problems = normalise_table(raw, "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert frame["platform"].tolist() == ["mobile", "pc"]
    assert frame["keyword"].tolist() == ["连衣裙 夏季"] * 2


def test_gbk_with_rare_characters_beyond_sample(tmp_path: Path) -> None:
    rows = [f"2024-01-0{1 + i % 9},计划A,宝贝{i},镕铖{i},无线,1,10,1,1,0,0" for i in range(300)]
    path = write_text(tmp_path / "kw.csv", "\n".join([ZTC_HEADER, *rows]) + "\n", "gb18030")
    raw = read_raw_table(path)
    assert len(raw) == 300
    assert raw.loc[299, "关键词"] == "镕铖299"


def test_utf16_tab_separated_google_ads_editor(tmp_path: Path) -> None:
    text = (
        "Campaign\tAd Group\tKeyword\tCriterion Type\tMax CPC\tStatus\n"
        "Shoes\tRunning\trunning shoes\tExact\t1.25\tEnabled\n"
        "Shoes\tRunning\ttrail shoes\tPhrase\t0.80\tPaused\n"
    )
    path = write_text(tmp_path / "editor.csv", text, "utf-16")
    raw = read_raw_table(path)
    assert list(raw.columns) == [
        "Campaign",
        "Ad Group",
        "Keyword",
        "Criterion Type",
        "Max CPC",
        "Status",
    ]
    assert raw["Max CPC"].tolist() == ["1.25", "0.80"]


def test_semicolon_csv_and_title_lines_above_header(tmp_path: Path) -> None:
    text = (
        "Keyword report\n"
        "January 1, 2024 - January 31, 2024\n"
        "Day;Campaign;Ad group;Keyword;Impr.;Clicks;Cost;Conversions;Conv. value\n"
        "2024-01-01;C1;G1;shoes;1,000;10;5.00;1;20.00\n"
    )
    path = write_text(tmp_path / "google.csv", text, "utf-8")
    raw = read_raw_table(path)
    assert raw.attrs["header_row"] == 3
    assert raw.loc[0, "Impr."] == "1,000"
    frame, problems = normalise_table(raw, "report", str(path))
    assert frame.loc[0, "impressions"] == 1000.0
    assert not [p for p in problems if p.severity == "error"]


def test_xlsx_with_date_cells_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["日期", "推广计划", "推广单元", "展现量", "点击量", "花费", "宝贝ID"])
    sheet.append([dt.datetime(2024, 3, 5), "计划A", "单元1", 120, 7, 3.25, 612345678901])
    sheet.append([None, None, None, None, None, None, None])
    sheet.append(["2024/03/06", "计划A", "单元1", 80, 4, 2.0, 612345678901])
    book.save(path)
    raw = read_raw_table(path)
    assert raw.loc[0, "日期"] == "2024-03-05"
    assert raw.loc[0, "展现量"] == "120"
    assert raw.loc[0, "宝贝ID"] == "612345678901"
    frame, problems = normalise_table(raw, "report", str(path))
    assert len(frame) == 2  # the blank row between blocks is dropped
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-05", "2024-03-06"]
    assert frame["item"].tolist() == ["单元1", "单元1"]  # 推广单元 outranks 宝贝ID
    ignored = [p for p in problems if p.column == "宝贝ID"]
    assert ignored and ignored[0].severity == "warning"


def test_parquet_numbers_and_dates_become_strings(tmp_path: Path) -> None:
    path = tmp_path / "report.parquet"
    pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "campaign": ["C", "C"],
            "keyword": ["a", None],
            "impressions": [10.0, float("nan")],
            "clicks": [1, 2],
            "cost": [0.5, 1.25],
        }
    ).to_parquet(path)
    raw = read_raw_table(path)
    assert raw["date"].tolist() == ["2024-01-01", "2024-01-02"]
    assert raw["impressions"].tolist() == ["10", ""]
    assert raw["keyword"].tolist() == ["a", ""]
    assert raw["cost"].tolist() == ["0.5", "1.25"]


def test_missing_empty_and_unreadable_files_raise_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_raw_table(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError, match="empty") as info:
        read_raw_table(tmp_path / "empty.csv")
    assert info.value.problems[0].file == str(tmp_path / "empty.csv")
    (tmp_path / "blank.csv").write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    with pytest.raises(DataError, match="empty"):
        read_raw_table(tmp_path / "blank.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="cannot read"):
        read_raw_table(tmp_path / "broken.xlsx")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 garbage")
    with pytest.raises(DataError, match="cannot read"):
        read_raw_table(tmp_path / "broken.parquet")


def test_header_only_file_reads_and_normalise_reports_no_rows(tmp_path: Path) -> None:
    path = write_text(tmp_path / "h.csv", ZTC_HEADER + "\n", "utf-8")
    raw = read_raw_table(path)
    assert len(raw) == 0 and len(raw.columns) == 11
    frame, problems = normalise_table(raw, "report", str(path))
    assert frame.empty
    assert any("no data rows" in p.message and p.severity == "warning" for p in problems)


def test_ragged_csv_is_a_data_error_naming_the_line(tmp_path: Path) -> None:
    text = "date,campaign,keyword,impressions,clicks,cost\n2024-01-01,C,k,1,0,0\n2024-01-01,C,k,1,0,0,9,9\n"
    path = write_text(tmp_path / "ragged.csv", text, "utf-8")
    with pytest.raises(DataError, match="malformed CSV") as info:
        read_raw_table(path)
    assert "line 3" in str(info.value)


def test_short_rows_and_tsv_suffix(tmp_path: Path) -> None:
    text = "date\tcampaign\tkeyword\timpressions\tclicks\tcost\n2024-01-01\tC\tk\t5\n"
    path = write_text(tmp_path / "short.tsv", text, "utf-8")
    raw = read_raw_table(path)
    assert raw.iloc[0].tolist() == ["2024-01-01", "C", "k", "5", "", ""]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_file_cut_off_in_its_last_row_is_refused(tmp_path: Path, encoding: str) -> None:
    """An export whose download stopped mid-row: the short last row would read as zeros (and
    the rest of the day be missing) without a word; it is an error naming the row."""
    text = (f"{ZTC_HEADER}\n2024-01-01,计划A,宝贝1,连衣裙,无线,1.2,100,5,6.0,1,99\n"
            "2024-01-01,计划A,宝贝1,连衣")
    path = write_text(tmp_path / "cut.csv", text, encoding)
    with pytest.raises(DataError, match="cut off") as info:
        read_raw_table(path)
    assert info.value.problems[0].row == 3
    # the same short row ended by a line end is an export's own choice, read as written
    path = write_text(tmp_path / "short.csv", text + "\n", encoding)
    assert len(read_raw_table(path)) == 2


def test_an_excel_lock_file_matched_by_a_pattern_is_named_as_such(tmp_path: Path) -> None:
    """While kw.xlsx is open in Excel, Excel keeps ~$kw.xlsx beside it, and exports/*.xlsx
    matches it: the message says what it is, not 'export the report again'."""
    path = tmp_path / "~$kw.xlsx"
    path.write_bytes(b"\x0bAdministrator" + b"\x00" * 40 + b" " * 110)
    with pytest.raises(DataError) as info:
        read_raw_table(path)
    message = str(info.value.problems[0])
    assert "lock file Excel keeps while kw.xlsx is open" in message
    assert "export the report again" not in message


def test_a_xls_export_that_is_tab_separated_gbk_text_is_read(tmp_path: Path) -> None:
    """Ad platforms name tab-separated text '.xls'; Excel opens it, so users expect it to work."""
    text = "\n".join(line.replace(",", "\t") for line in [ZTC_HEADER, *ZTC_ROWS]) + "\n"
    raw = read_raw_table(write_text(tmp_path / "kw.xls", text, "gbk"))
    assert list(raw.columns[:4]) == ["日期", "推广计划", "推广单元", "关键词"]
    assert raw.iloc[0]["花费"] == "3.50"


@pytest.mark.parametrize(("content", "says"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "a binary Excel 97-2003 .xls file"),
    ("<table><tr><th>日期</th></tr></table>".encode("utf-16"), "an HTML table saved as .xls"),
])
def test_a_xls_that_is_not_text_is_named_with_what_to_do(tmp_path: Path, content, says) -> None:
    path = tmp_path / "kw.xls"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_raw_table(path)
    (problem,) = info.value.problems
    assert problem.message == says and "save it as .xlsx or .csv" in problem.expected


def test_xlsx_report_on_a_later_sheet_behind_a_notes_sheet(tmp_path: Path) -> None:
    path = tmp_path / "kw.xlsx"
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["本报表由直通车导出"])
    data = book.create_sheet("关键词报表")
    for line in [ZTC_HEADER, *ZTC_ROWS]:
        data.append(line.split(","))
    book.save(path)
    raw = read_raw_table(path)
    assert list(raw.columns[:3]) == ["日期", "推广计划", "推广单元"] and len(raw) == 2


@pytest.mark.parametrize(("text", "column", "values"), [
    ("item,price\n羽绒服,399\n毛衣,129", "item", ["羽绒服", "毛衣"]),  # was read as cp949
    ("date,campaign,keyword,clicks\n2024-01-01,C,连衣裙 夏季,1\n2024-01-01,C,女装,2\n"
     "2024-01-02,C,连衣裙 夏季,3\n", "keyword", ["连衣裙 夏季", "女装", "连衣裙 夏季"]),  # cp932
])
def test_small_gbk_files_are_not_taken_for_korean_or_japanese(tmp_path: Path, text, column,
                                                                values) -> None:
    raw = read_raw_table(write_text(tmp_path / "small.csv", text, "gbk"))
    assert raw[column].tolist() == values
    assert raw.attrs["encoding"] == "gb18030"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(tmp_path: Path, encoding: str) -> None:
    """Some exporters write UTF-16 with no BOM; the NUL bytes of ASCII characters tell."""
    text = "\n".join(line.replace(",", "\t") for line in [ZTC_HEADER, *ZTC_ROWS]) + "\n"
    raw = read_raw_table(write_text(tmp_path / "kw.csv", text, encoding))
    assert list(raw.columns) == ZTC_HEADER.split(",")
    assert raw["关键词"].tolist() == ["连衣裙 夏季"] * 2
    assert raw["花费"].tolist() == ["3.50", "0"]


def test_parquet_saved_with_an_index_keeps_the_index_columns(tmp_path: Path) -> None:
    path = tmp_path / "report.parquet"
    frame = pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                          "campaign": ["C", "D"], "keyword": ["a", "b"],
                          "impressions": [10, 20], "clicks": [1, 2], "cost": [0.5, 1.0]})
    frame.set_index(["date", "campaign"]).to_parquet(path)
    raw = read_raw_table(path)
    assert list(raw.columns) == list(frame.columns)
    assert raw["date"].tolist() == ["2024-01-01", "2024-01-02"]
    assert raw["campaign"].tolist() == ["C", "D"]
    frame.iloc[[1]].to_parquet(path)  # an unnamed index (row 1 of 2) is not a column
    assert list(read_raw_table(path).columns) == list(frame.columns)


def test_a_file_whose_suffix_lies_is_named_with_the_rename_that_fixes_it(tmp_path: Path) -> None:
    csv_text = (ZTC_HEADER + "\n" + ZTC_ROWS[0] + "\n").encode("gbk")
    book = openpyxl.Workbook()
    book.active.append(ZTC_HEADER.split(","))
    book.save(tmp_path / "real.xlsx")
    workbook = (tmp_path / "real.xlsx").read_bytes()
    pd.DataFrame({"日期": ["2024-01-01"]}).to_parquet(tmp_path / "real.parquet")
    parquet = (tmp_path / "real.parquet").read_bytes()
    cases = [
        ("kw.xlsx", csv_text, "it is not an Excel workbook but CSV text; rename it to .csv"),
        ("kw.csv", workbook, "it is not CSV text but an Excel workbook (a zip file); rename it "
                             "to .xlsx"),
        ("kw.xls", workbook, "it is not an old .xls file but an Excel workbook (a zip file); "
                             "rename it to .xlsx"),
        ("kw.csv", parquet, "it is not CSV text but a Parquet file; rename it to .parquet"),
        ("kw.parquet", csv_text, "it is not a Parquet file but CSV text; rename it to .csv"),
        ("kw.parquet", workbook, "but an Excel workbook (a zip file); rename it to .xlsx"),
        ("kw.xlsx", parquet, "rename it to .parquet"),
    ]
    for name, content, says in cases:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(DataError) as info:
            read_raw_table(path)
        (problem,) = info.value.problems
        assert problem.file == str(path) and says in problem.message, (name, problem.message)


def _rows_with_blanks() -> list[list[str]]:
    """Header, 4 rows, a blank line, 5 rows, a bad clicks cell on line 12, 2 blank lines."""
    header = ["date", "campaign", "keyword", "impressions", "clicks", "cost", "orders", "gmv"]
    rows = [["2024-01-01", "C", f"k{i}", "10", "1", "0.5", "0", "0"] for i in range(10)]
    rows[-1][4] = "lots"
    return [header, *rows[:4], [""] * 8, *rows[4:], [""] * 8, [""] * 8]


@pytest.mark.parametrize("form", ["csv", "csv below a title line", "xlsx"])
def test_problems_name_the_row_users_see_after_blank_lines(tmp_path: Path, form: str) -> None:
    lines = _rows_with_blanks()
    if form == "xlsx":
        path = tmp_path / "kw.xlsx"
        book = openpyxl.Workbook()
        for line in lines:
            book.active.append([c or None for c in line])
        book.save(path)
        bad_row = 12
    else:
        title = ["Keyword report"] if form != "csv" else []
        path = write_text(tmp_path / "kw.csv",
                          "\n".join(title + [",".join(c) if any(c) else "" for c in lines]) + "\n",
                          "utf-8")
        bad_row = 12 + len(title)
    raw = read_raw_table(path)
    frame, problems = normalise_table(raw, "report", str(path))
    assert len(frame) == 10  # blank lines are still not data
    assert [(p.row, p.column) for p in problems] == [(bad_row, "clicks")], problems


def test_xlsx_merged_cells_take_their_top_left_value(tmp_path: Path) -> None:
    """ZTC merges 推广单元 down each item's block; every row belongs to that item."""
    path = tmp_path / "kw.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["日期", "推广计划", "推广单元", "关键词", "展现量", "点击量", "花费", "成交笔数",
                  "成交金额"])
    for item, keywords in [("宝贝1", ["a", "b", "c"]), ("宝贝2", ["d", "e"])]:
        for keyword in keywords:
            sheet.append(["2024-01-01", "计划A", item, keyword, 10, 1, 0.5, 0, 0])
    sheet.append(["合计", None, None, None, 50, 5, 2.5, 0, 0])
    for ref in ["C2:C4", "C5:C6", "B2:B6", "A7:D7"]:  # the total's label spans four columns
        sheet.merge_cells(ref)
    book.save(path)
    raw = read_raw_table(path)
    assert raw["推广单元"].tolist() == ["宝贝1"] * 3 + ["宝贝2"] * 2 + ["合计"]
    assert raw["推广计划"].tolist() == ["计划A"] * 5 + ["合计"]
    frame, problems = normalise_table(raw, "report", str(path))
    assert frame["item"].tolist() == ["宝贝1"] * 3 + ["宝贝2"] * 2
    assert frame["campaign"].tolist() == ["计划A"] * 5
    assert not [p for p in problems if p.severity == "error"]


def test_xlsx_with_one_sheet_per_day_reads_every_day(tmp_path: Path) -> None:
    """Sheets with the report's header are read in tab order; notes and other reports not."""
    path = tmp_path / "kw.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本报表由直通车导出"])
    for day in ["2026-11-22", "2026-11-23", "2026-11-24"]:
        sheet = book.create_sheet(day)
        if day == "2026-11-23":
            sheet.append(["关键词报表 " + day])  # a title line above the header on one sheet
        sheet.append(ZTC_HEADER.split(","))
        for line in ZTC_ROWS:
            sheet.append([day, *line.split(",")[1:]])
    campaigns = book.create_sheet("计划汇总")  # another report: not the keyword rows
    campaigns.append(["日期", "推广计划", "展现量", "点击量", "花费"])
    campaigns.append(["2026-11-22", "计划A", 330, 15, 10.5])
    book.save(path)
    raw = read_raw_table(path)
    assert list(raw.columns) == ZTC_HEADER.split(",")
    assert raw["日期"].tolist() == [d for d in ["2026-11-22", "2026-11-23", "2026-11-24"]
                                    for _ in ZTC_ROWS]
    frame, problems = normalise_table(raw, "report", str(path))
    assert len(frame) == 6 and not [p for p in problems if p.severity == "error"]


def test_problems_on_a_later_sheet_name_that_sheet_s_row(tmp_path: Path) -> None:
    path = tmp_path / "kw.xlsx"
    book = openpyxl.Workbook()
    for i, day in enumerate(["2026-11-23", "2026-11-24"]):
        sheet = book.active if i == 0 else book.create_sheet(day)
        sheet.title = day
        if i == 1:
            sheet.append(["关键词报表 " + day])  # a title line on this sheet only
        sheet.append(ZTC_HEADER.split(","))
        for line in ZTC_ROWS:
            sheet.append([day, *line.split(",")[1:]])
    book["2026-11-24"]["H4"] = "lots"  # clicks of the second data row, on line 4
    book.save(path)
    _, problems = normalise_table(read_raw_table(path), "report", str(path))
    (problem,) = [p for p in problems if p.severity == "error"]
    assert (problem.sheet, problem.row, problem.column) == ("2026-11-24", 4, "点击量")
    assert f"{path}, sheet '2026-11-24', row 4, column '点击量'" in str(problem)


def test_a_re_download_wins_over_its_original_and_lock_files_are_skipped(shop, tmp_path):
    """'kw (1).csv' is the later download of 'kw.csv': where they overlap its days count
    (name order put it first); Excel's '~$' lock file beside an open workbook is no report."""
    from bidopt.config import parse_config
    from bidopt.loop import SourceOverrides, load_inputs, resolve_sources
    from bidopt.plugins import build_registry, get_plugin_manager

    report = shop.keyword_report
    exports = tmp_path / "exports"
    exports.mkdir()
    report.assign(gmv=report["gmv"] * 3).to_csv(exports / "kw.csv", index=False)
    report.to_csv(exports / "kw (1).csv", index=False)
    (exports / "~$kw.xlsx").write_bytes(b"\x00lock")
    sources = resolve_sources(parse_config({"constraints": {"roi_floor": 2.0}}),
                              SourceOverrides([exports / "*"], None, None))
    inputs = load_inputs(build_registry(get_plugin_manager(entry_points=False)), sources,
                         lambda _: None)
    assert inputs.history["keywords"]["gmv"].sum() == pytest.approx(report["gmv"].sum())
    assert [Path(f).name for f in inputs.files] == ["kw.csv", "kw (1).csv"]


def test_a_header_only_export_among_others_does_not_stop_the_night(shop_files, tmp_path):
    """A day without activity exports a header alone; it is named, and the other days plan."""
    exports = tmp_path / "exports"
    exports.mkdir()
    text = shop_files["keyword_report"].read_text(encoding="utf-8")
    (exports / "kw_1.csv").write_text(text, encoding="utf-8")
    (exports / "kw_2.csv").write_text(text.splitlines()[0] + "\n", encoding="utf-8")
    config = tmp_path / "shop.yaml"
    config.write_text(f"constraints: {{roi_floor: 2}}\nsources: {{reports: ['{exports}/kw_*.csv']}}\n",
                      encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "kw_2.csv: the file has no data rows" in result.output
    (exports / "kw_1.csv").write_text(text.splitlines()[0] + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--config", str(config)])
    assert result.exit_code == 3 and "no keyword rows in the reports" in result.output


ENGLISH_HEADER = "date,campaign,item,keyword,platform,bid,impressions,clicks,cost,orders,gmv"
ENGLISH_ROWS = [
    "2026-11-20,Campaign A,Item 1,red shoes,mobile,1.20,100,5,3.50,1,99.00",
    "2026-11-20,Campaign A,Item 1,red shoes,pc,0.05,10,0,0,0,0",
]


def test_a_delimiter_at_the_end_of_every_row_does_not_shift_the_columns(tmp_path: Path):
    path = tmp_path / "kw.csv"
    path.write_text("\n".join([ENGLISH_HEADER, *(row + "," for row in ENGLISH_ROWS)]) + "\n", encoding="utf-8")
    raw = read_raw_table(path)
    assert list(raw.columns) == ENGLISH_HEADER.split(",")
    assert raw["date"].tolist() == ["2026-11-20"] * 2
    assert raw["campaign"].tolist() == ["Campaign A"] * 2
    frame, problems = normalise_table(raw, "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    assert frame["cost"].tolist() == [3.5, 0.0]
    assert frame["platform"].tolist() == ["mobile", "pc"]


def test_a_value_holding_the_delimiter_unquoted_names_its_row(tmp_path: Path):
    path = tmp_path / "gads.csv"
    path.write_text(
        "Search keyword report\n"
        "Day,Campaign,Ad group,Search keyword,Impr.,Clicks,Cost,Conversions,Conv. value\n"
        "Nov 20, 2026,Brand,Shoes,running shoes,650,4,3.53,0.2,11.39\n"
        "Nov 21, 2026,Brand,Shoes,running shoes,610,3,2.53,0,0\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as caught:
        read_raw_table(path)
    problem = caught.value.problems[0]
    assert problem.row == 3
    assert "more values than the header" in problem.message
    assert "quote" in problem.expected


def test_a_header_only_keyword_report_alone_is_named(tmp_path):
    report = tmp_path / "kw.csv"
    report.write_text("date,campaign,item,keyword,platform,bid,impressions,clicks,cost,"
                      "orders,gmv\n", encoding="utf-8")
    config = write_config(tmp_path, None, sources={"reports": ["kw.csv"]})
    result = CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", NIGHT])
    assert result.exit_code == 3, result.output
    assert "no keyword rows in the reports" in result.output
    assert f"{report}: a header and no data rows" in result.output


def test_a_report_given_twice_is_read_once(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    report = str(shop_files["keyword_report"])
    pattern = str(shop_files["keyword_report"].parent / "*_report.csv")
    runner = CliRunner()
    once = runner.invoke(cli, ["validate", "--config", str(config), "--date", NIGHT,
                               "--reports", pattern])
    twice = runner.invoke(cli, ["validate", "--config", str(config), "--date", NIGHT,
                                "--reports", pattern, "--reports", report])
    assert once.exit_code == twice.exit_code == 0, twice.output
    assert "are also in" not in twice.output
    summary = [line for line in twice.output.splitlines() if line.startswith("ok:")]
    assert summary == [line for line in once.output.splitlines() if line.startswith("ok:")]


def test_summary_rows_skipped_on_several_sheets_name_their_sheets(tmp_path: Path) -> None:
    path = tmp_path / "kw.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本报表由直通车导出"])
    for platform in ["无线", "计算机"]:
        sheet = book.create_sheet(platform)
        sheet.append(["关键词报表"])
        sheet.append(ZTC_HEADER.split(","))
        sheet.append(["2026-11-23", "计划A", "宝贝1", "连衣裙", platform, 1.2, 100, 5, 3.5, 1, 99])
        sheet.append(["合计", "", "", "", "", "", 100, 5, 3.5, 1, 99])
    book.save(path)
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert len(frame) == 2 and frame["cost"].sum() == 7.0
    (warning,) = [p for p in problems if "summary rows" in p.message]
    assert "4 on sheet '无线'" in warning.message
    assert "4 on sheet '计算机'" in warning.message


def test_sheets_holding_another_report_are_named_as_not_read(tmp_path: Path) -> None:
    path = tmp_path / "reports.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "关键词"
    book.active.append(ZTC_HEADER.split(","))
    book.active.append(["2026-11-23", "计划A", "宝贝1", "连衣裙", "无线", 1.2, 100, 5, 3.5, 1, 99])
    crowd = book.create_sheet("人群")
    crowd.append(["日期", "推广计划", "推广单元", "人群", "展现量", "点击量", "花费", "成交笔数",
                  "成交金额"])
    crowd.append(["2026-11-23", "计划A", "宝贝1", "女性25-34岁", 50, 2, 1.5, 0, 0])
    notes = book.create_sheet("说明")
    notes.append(["本报表由直通车导出"])
    book.save(path)
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert len(frame) == 1
    (warning,) = [p for p in problems if "not read" in p.message]
    assert warning.severity == "warning"
    assert "'人群'" in warning.message and "说明" not in warning.message
