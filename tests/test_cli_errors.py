"""Every bad input gets a clear message naming file, row and column, a non-zero exit, and
no output written (the last good file is never replaced)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from bidopt.cli import cli
from bidopt.errors import ExitCode
from conftest import NIGHT, write_config

LAST_GOOD = "last good recommendations\n"


@pytest.fixture
def workspace(shop, tmp_path):
    """A small keyword report (rows 2.. as Excel numbers them) and a config using it."""
    report = shop.keyword_report.head(40).copy()
    report["date"] = report["date"].dt.strftime("%Y-%m-%d")
    out = tmp_path / "recs.csv"
    out.write_text(LAST_GOOD, encoding="utf-8")
    return tmp_path, report, out


def write_report(folder: Path, frame: pd.DataFrame, name: str = "keywords.csv") -> Path:
    path = folder / name
    frame.to_csv(path, index=False)
    return path


def write_yaml(folder: Path, data: dict | str) -> Path:
    path = folder / "shop.yaml"
    text = data if isinstance(data, str) else yaml.safe_dump(data)
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_on(folder: Path, report: Path, out: Path, config: dict | str | None = None):
    config_path = write_yaml(folder, config or {"constraints": {"roi_floor": 2.0}})
    return invoke("run", "--config", str(config_path), "--reports", str(report),
                  "--date", NIGHT, "--out", str(out))


def assert_failed(result, out: Path, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)
    assert out.read_text(encoding="utf-8") == LAST_GOOD
    assert not list(out.parent.glob("*.tmp*")), "no temporary file may be left behind"


def test_missing_file(workspace):
    folder, _, out = workspace
    result = run_on(folder, folder / "nope.csv", out)
    assert_failed(result, out, ExitCode.BAD_INPUT, "nope.csv", "not found")


@pytest.mark.parametrize("column", ["clicks", "orders", "gmv"])
def test_missing_required_column(workspace, column):
    # without orders or GMV no ROI can be measured: read as zeros they paused every keyword
    folder, report, out = workspace
    path = write_report(folder, report.drop(columns=column))
    assert_failed(run_on(folder, path, out), out, ExitCode.BAD_INPUT, "keywords.csv",
                  f"required column '{column}' is missing")


def test_unknown_column_is_ignored_with_a_warning(workspace):
    folder, report, out = workspace
    path = write_report(folder, report.assign(mystery="x"))
    result = run_on(folder, path, out)
    assert result.exit_code == 0, result.output
    assert "mystery" in result.output
    assert out.read_text(encoding="utf-8-sig") != LAST_GOOD


def test_non_numeric_metric(workspace):
    folder, report, out = workspace
    report["cost"] = report["cost"].astype(object)
    report.loc[report.index[4], "cost"] = "abc"
    path = write_report(folder, report)
    assert_failed(run_on(folder, path, out), out, ExitCode.BAD_INPUT, "row 6", "cost", "abc")


@pytest.mark.parametrize("column", ["clicks", "cost"])
def test_negative_clicks_or_cost(workspace, column):
    folder, report, out = workspace
    report.loc[report.index[2], column] = -3
    path = write_report(folder, report)
    assert_failed(run_on(folder, path, out), out, ExitCode.BAD_INPUT, "row 4", column)


def test_clicks_above_impressions(workspace):
    folder, report, out = workspace
    row = report.index[7]
    report.loc[row, "clicks"] = report.loc[row, "impressions"] + 5
    path = write_report(folder, report)
    assert_failed(run_on(folder, path, out), out, ExitCode.BAD_INPUT, "row 9", "clicks")


def test_duplicate_rows_for_one_key_and_date(workspace):
    folder, report, out = workspace
    path = write_report(folder, pd.concat([report, report.iloc[[3]]], ignore_index=True))
    assert_failed(run_on(folder, path, out), out, ExitCode.BAD_INPUT, "duplicate", "row 5")


def test_empty_file(workspace):
    folder, _, out = workspace
    path = folder / "keywords.csv"
    path.write_text("", encoding="utf-8")
    assert_failed(run_on(folder, path, out), out, ExitCode.BAD_INPUT, "keywords.csv", "empty")


def test_validate_lists_every_problem_of_every_file(workspace):
    folder, report, out = workspace
    bad = report.copy()
    bad.loc[bad.index[0], "clicks"] = -1
    bad["cost"] = bad["cost"].astype(object)
    bad.loc[bad.index[1], "cost"] = "n/a"
    first = write_report(folder, bad, "a.csv")
    second = write_report(folder, report.drop(columns="impressions"), "b.csv")
    config = write_yaml(folder, {"constraints": {"roi_floor": 2.0}})
    result = invoke("validate", "--config", str(config), "--reports", str(first),
                    "--reports", str(second))
    assert result.exit_code == ExitCode.BAD_INPUT
    for needle in ("a.csv, row 2, column 'clicks'", "a.csv, row 3, column 'cost'", "b.csv",
                   "impressions"):
        assert needle in result.output, (needle, result.output)
    assert out.read_text(encoding="utf-8") == LAST_GOOD


def test_validate_and_run_agree_on_an_output_path_that_cannot_be_written(workspace):
    """output.path under a file: run fails before any work (exit 7); validate said 'ok'."""
    folder, report, _ = workspace
    path = write_report(folder, report)
    config = write_yaml(folder, {"constraints": {"roi_floor": 2.0},
                                 "output": {"path": "keywords.csv/recs-{date}.csv"}})
    result = invoke("validate", "--config", str(config), "--reports", str(path))
    assert result.exit_code == ExitCode.BAD_CONFIG, result.output
    assert "'output.path'" in result.output and "is a file, not a folder" in result.output
    ran = invoke("run", "--config", str(config), "--reports", str(path), "--date", NIGHT)
    assert ran.exit_code == ExitCode.OUTPUT_FAILURE and "is a file, not a folder" in ran.output


def test_validate_ok_writes_nothing(workspace):
    folder, report, _ = workspace
    path = write_report(folder, report)
    config = write_yaml(folder, {"constraints": {"roi_floor": 2.0}})
    before = set(folder.iterdir())
    result = invoke("validate", "--config", str(config), "--reports", str(path))
    assert result.exit_code == 0, result.output
    assert "ok: config valid" in result.output
    assert set(folder.iterdir()) == before


@pytest.mark.parametrize(
    ("config", "needles"),
    [
        ("constraints: {roi_floor: [2\n", ("malformed YAML", "line")),
        ({"constraints": {"roi_floor": 2.0}, "strategys": {}}, ("unknown key 'strategys'", "did you mean 'strategies'")),
        ({"constraints": {"roi_floor": 2.0}, "strategies": {"roi_rulez": {}}}, ("unknown strategy", "roi_rule")),
        ({"constraints": {"roi_floor": 0}}, ("roi_floor", "greater than 0")),
        ({"constraints": {"roi_floor": 2.0, "daily_budget": -10}}, ("daily_budget",)),
    ],
    ids=["malformed-yaml", "unknown-key", "unknown-strategy", "roi-floor-zero", "negative-budget"],
)
def test_bad_config(workspace, config, needles):
    folder, report, out = workspace
    path = write_report(folder, report)
    result = run_on(folder, path, out, config)
    assert_failed(result, out, ExitCode.BAD_CONFIG, "config error", *needles)


def test_unknown_output_format_is_a_config_error(workspace):
    folder, report, out = workspace
    path = write_report(folder, report)
    config = {"constraints": {"roi_floor": 2.0}, "output": {"format": "xlsx-magic"}}
    assert_failed(run_on(folder, path, out, config), out, ExitCode.BAD_CONFIG, "xlsx-magic")
    config_path = write_yaml(folder, config)
    result = invoke("validate", "--config", str(config_path), "--reports", str(path))
    assert result.exit_code == ExitCode.BAD_CONFIG and "xlsx-magic" in result.output


def test_unknown_strategies_and_output_format_are_named_together(workspace):
    """A config with a misspelt strategy, a strategy option that does not exist and a format
    no plugin writes names all three at once, in run and validate alike: fixing one and
    running again should not reveal the next."""
    folder, report, out = workspace
    path = write_report(folder, report)
    config = {"constraints": {"roi_floor": 2.0}, "output": {"format": "pdf"},
              "strategies": {"long_tial": {}, "top3_quality": {"max_bid": 3}}}
    needles = ("did you mean 'long_tail'", "'strategies.top3_quality.max_bid'",
               "no plugin writes 'pdf'")
    assert_failed(run_on(folder, path, out, config), out, ExitCode.BAD_CONFIG, *needles)
    config_path = write_yaml(folder, config)
    result = invoke("validate", "--config", str(config_path), "--reports", str(path))
    assert result.exit_code == ExitCode.BAD_CONFIG
    assert all(needle in result.output for needle in needles), result.output
    dry = invoke("run", "--config", str(config_path), "--reports", str(path), "--dry-run")
    assert dry.exit_code == ExitCode.BAD_CONFIG  # writes nothing, so the format is not judged
    assert "long_tail" in dry.output and "pdf" not in dry.output


def test_a_night_before_all_history_is_a_clear_input_error(workspace):
    folder, report, out = workspace
    path = write_report(folder, report)
    config = write_yaml(folder, {"constraints": {"roi_floor": 2.0}})
    result = invoke("run", "--config", str(config), "--reports", str(path),
                    "--date", "2020-01-01", "--out", str(out))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "input error: the reports hold no day before the planned night 2020-01-01" in result.output
    assert out.read_text(encoding="utf-8") == LAST_GOOD


def test_reports_without_a_bid_column_still_plan(workspace):
    """Amazon search-term reports carry no bid: the current bid is inferred, with a note."""
    folder, report, out = workspace
    path = write_report(folder, report.drop(columns="bid"))
    result = run_on(folder, path, out)
    assert result.exit_code == 0, result.output
    assert "have no bid in the reports" in result.output


def test_output_below_a_file_is_an_output_error_before_any_work(workspace):
    """``--out recs.csv/tonight.csv`` where recs.csv is the last good file: exit 7 with a
    message naming it, no traceback, and the file untouched."""
    folder, report, out = workspace
    result = run_on(folder, write_report(folder, report), out / "tonight.csv")
    assert_failed(result, out, ExitCode.OUTPUT_FAILURE, f"{out} is a file, not a folder")
    assert "Traceback" not in result.output


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write into a read-only folder")
def test_a_read_only_output_folder_is_an_output_error_before_any_work(workspace):
    folder, report, out = workspace
    locked = folder / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = run_on(folder, write_report(folder, report), locked / "tonight.csv")
    finally:
        locked.chmod(0o755)
    assert result.exit_code == ExitCode.OUTPUT_FAILURE, result.output
    assert f"the folder {locked} is not writable" in result.output
    assert "reading" not in result.output and not list(locked.iterdir())


def test_text_the_output_encoding_cannot_hold_names_the_output_not_a_temporary(workspace):
    """A GBK output with an emoji keyword: exit 7, the message names the file asked for
    (not the temporary one beside it), and the last good file stays."""
    folder, report, out = workspace
    report = report.assign(keyword=report["keyword"] + " 🔥")
    config = {"constraints": {"roi_floor": 2.0}, "output": {"encoding": "gbk"}}
    result = run_on(folder, write_report(folder, report), out, config)
    assert_failed(result, out, ExitCode.OUTPUT_FAILURE, f"{out}: cannot write '🔥' in encoding gbk")
    assert ".tmp" not in result.output


def test_quiet_and_verbose_together_is_a_usage_error(workspace):
    folder, report, out = workspace
    config = write_yaml(folder, {"constraints": {"roi_floor": 2.0}})
    result = invoke("run", "--config", str(config), "--reports", str(write_report(folder, report)),
                    "--date", NIGHT, "--out", str(out), "-q", "-v")
    assert_failed(result, out, 2, "--quiet and --verbose cannot be used together")


def test_an_output_the_report_pattern_matches_is_refused_before_the_next_night(workspace):
    """reports: [exports/*.csv] and output.path: exports/recs-{date}.csv: the first night
    wrote, the second read the first night's recommendations as a report and failed."""
    folder, report, _ = workspace
    (folder / "exports").mkdir()
    write_report(folder / "exports", report, "kw_20261124.csv")
    config = write_yaml(folder, {"constraints": {"roi_floor": 2.0},
                                 "sources": {"reports": ["exports/*.csv"]},
                                 "output": {"path": "exports/recs-{date}.csv"}})
    result = invoke("run", "--config", str(config), "--date", NIGHT)
    assert result.exit_code == ExitCode.BAD_CONFIG, result.output
    assert "is among the reports" in result.output
    assert not list((folder / "exports").glob("recs-*"))
    checked = invoke("validate", "--config", str(config))
    assert checked.exit_code == ExitCode.BAD_CONFIG and "is among the reports" in checked.output
    elsewhere = invoke("run", "--config", str(config), "--date", NIGHT, "--out",
                       str(folder / "plans") + "/")
    assert elsewhere.exit_code == 0, elsewhere.output


def test_csv_text_in_an_xlsx_name_is_warned_about(workspace):
    folder, report, _ = workspace
    config = write_yaml(folder, {"constraints": {"roi_floor": 2.0}})
    out = folder / "recs.xlsx"
    result = invoke("run", "--config", str(config), "--reports", str(write_report(folder, report)),
                    "--date", NIGHT, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "recs.xlsx will hold CSV text" in result.output and out.exists()


def test_a_stopped_run_leaves_no_temporary_file_and_the_last_good_output(shop_files, tmp_path):
    """cron, systemd and `timeout` stop a job with SIGTERM: it unwinds like Ctrl-C (exit 130)."""
    import signal
    import subprocess
    import sys

    from conftest import write_config

    config = write_config(tmp_path, shop_files)
    out = tmp_path / "recs.csv"
    out.write_text(LAST_GOOD, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from bidopt.cli import main; main()", "run", "--config",
         str(config), "--date", NIGHT, "--out", str(out), "--verbose"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr.readline().startswith("...")  # the first progress line: work has begun
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted: nothing was written" in err
    assert out.read_text(encoding="utf-8") == LAST_GOOD
    assert not list(tmp_path.glob("*.tmp*")) and not list(tmp_path.glob(".*.tmp"))


def test_output_onto_an_input_file_is_refused_before_any_work(workspace):
    """``--out keywords.csv`` where keywords.csv is tonight's report: a usage error, the
    report untouched (it was silently replaced by the recommendations)."""
    folder, report, _ = workspace
    path = write_report(folder, report)
    before = path.read_bytes()
    result = run_on(folder, path, path)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "is an input file of this run" in result.output
    assert path.read_bytes() == before


def test_a_uk_export_of_early_days_reads_with_the_configured_date_order(shop_files, tmp_path):
    """Days 1-12 alone never show whether 11/12/2026 is day or month first: with auto they
    are errors, with sources.date_order they are read."""
    import pandas as pd
    import yaml

    report = pd.read_csv(shop_files["keyword_report"])
    report = report[report["date"].isin(["2026-11-11", "2026-11-12"])]
    report["date"] = pd.to_datetime(report["date"]).dt.strftime("%d/%m/%Y")
    path = tmp_path / "keywords_uk.csv"
    report.to_csv(path, index=False)
    for order, code in (("auto", 3), ("day_first", 0)):
        config = tmp_path / f"{order}.yaml"
        config.write_text(yaml.safe_dump({"constraints": {"roi_floor": 2.0}, "sources": {
            "reports": [str(path)], "date_order": order}}), encoding="utf-8")
        result = CliRunner().invoke(cli, ["validate", "--config", str(config)])
        assert result.exit_code == code, result.output
    assert "2026-11-11 .. 2026-11-12" in result.output


def test_an_interrupt_once_the_output_is_in_place_does_not_say_nothing_was_written(
        shop_files, tmp_path):
    """A signal that lands while the summary is printed, after the new file was renamed into
    place, must not claim that nothing was written."""
    import subprocess
    import sys

    from conftest import write_config

    config = write_config(tmp_path, shop_files)
    out = tmp_path / "recs.csv"
    out.write_text(LAST_GOOD, encoding="utf-8")
    code = ("import bidopt.summary as s\n"
            "def stop(*a, **k): raise KeyboardInterrupt\n"
            "s.format_summary = stop\n"
            "from bidopt.cli import main; main()")
    done = subprocess.run(
        [sys.executable, "-c", code, "run", "--config", str(config), "--date", NIGHT,
         "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert out.read_text(encoding="utf-8-sig") != LAST_GOOD  # the new plan is in place
    assert "nothing was written" not in done.stderr
    assert f"interrupted after writing {out}" in done.stderr


@pytest.mark.parametrize("name, says", [("shop.yaml", "is the config of this run"),
                                        ("bidopt-state.sqlite", "is the config's state_file")])
def test_the_plan_is_not_written_over_the_config_or_its_state(shop_files, tmp_path, name, says):
    config = write_config(tmp_path, shop_files, strategies={"roi_rule": {}})
    target = tmp_path / name
    target.write_bytes(before := (config.read_bytes() if name == "shop.yaml" else b"state"))
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", NIGHT,
                                      "--out", str(target), "-q"])
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert target.read_bytes() == before


def test_output_path_naming_the_config_is_a_config_error(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files, output={"path": "shop.yaml"})
    before = config.read_bytes()
    for command in ("run", "validate"):
        result = CliRunner().invoke(cli, [command, "--config", str(config), "--date", NIGHT])
        assert result.exit_code == 4, result.output
        assert "is the config of this run" in result.output
    assert config.read_bytes() == before


@pytest.mark.parametrize(("option", "says"), [
    ("--reports", "is a folder, not a file (expected a file, or a pattern such as "),
    ("--items", "is a folder, not a file (expected the items file)"),
])
def test_a_folder_given_as_an_input_file_is_named_as_a_folder(shop_files, tmp_path, option,
                                                              says):
    (tmp_path / "exports").mkdir()
    config = write_config(tmp_path, shop_files)
    result = CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", NIGHT,
                                      option, str(tmp_path / "exports")])
    assert result.exit_code == 3, result.output
    assert says in " ".join(result.output.split())
    assert "no reader for this file type" not in result.output
    if option == "--reports":
        assert "exports/*.csv" in result.output


def test_items_and_candidates_files_taken_as_reports_are_named_once_each(shop_files, tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    for name in ("keyword_report", "items", "candidates"):
        shutil.copy(shop_files[name], exports / shop_files[name].name)
    config = write_config(tmp_path, None, sources={"reports": ["exports/*.csv"]})
    result = CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", NIGHT])
    assert result.exit_code == 3, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 2, result.output
    items = next(line for line in lines if shop_files["items"].name in line)
    assert "looks like the items file" in items and "sources.items" in items
    candidates = next(line for line in lines if shop_files["candidates"].name in line)
    assert "looks like the candidates file" in candidates
    assert "required column" not in result.output


EARLY = "2026-11-01"  # the shop's reports run 2026-11-11 .. 2026-11-24


def test_run_names_the_days_the_reports_hold(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--date", EARLY,
                                      "--dry-run"])
    assert result.exit_code == 3, result.output
    assert "no day before the planned night 2026-11-01" in result.output
    assert "2026-11-11 .. 2026-11-24" in result.output


def test_validate_on_that_night_fails_as_run_does(shop_files, tmp_path):
    config = write_config(tmp_path, shop_files)
    for extra in ([], ["--allow-stale"]):
        result = CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", EARLY,
                                          *extra])
        assert result.exit_code == 3, result.output
        assert "no day before the planned night 2026-11-01" in result.output
        assert "ok: config valid" not in result.output


def _validate(tmp_path, shop_files, **frames: pd.DataFrame):
    """`bidopt validate` on the shop, its files of each kind given (items, keyword_report,
    candidates) replaced by the frame."""
    files = dict(shop_files)
    for kind, frame in frames.items():
        files[kind] = tmp_path / f"{kind}.csv"
        frame.to_csv(files[kind], index=False)
    config = write_config(tmp_path, files)
    return CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", NIGHT])


def test_items_named_otherwise_than_in_the_report_are_a_warning(shop_files, tmp_path):
    items = pd.read_csv(shop_files["items"], dtype=str)
    items["item"] = [f"{623456789012 + i}" for i in range(len(items))]
    result = _validate(tmp_path, shop_files, items=items)
    assert result.exit_code == 0, result.output
    assert f"none of the {len(items)} items in the keyword report is in this file" in result.output
    assert "'623456789012'" in result.output


def test_ids_excel_wrote_in_scientific_notation_are_named(shop_files, tmp_path):
    items = pd.read_csv(shop_files["items"], dtype=str)
    report = pd.read_csv(shop_files["keyword_report"], dtype=str)
    ids = {item: 623456789012 + i * 1_000_000 for i, item in enumerate(items["item"])}
    items["item"] = items["item"].map(ids).astype(str)
    report["item"] = report["item"].map(lambda item: f"{ids[item]:.5E}")
    result = _validate(tmp_path, shop_files, items=items, keyword_report=report)
    assert result.exit_code == 3, result.output
    assert "is an ID that Excel showed in scientific notation" in result.output


def test_some_items_missing_from_the_items_file_are_counted(shop_files, tmp_path):
    items = pd.read_csv(shop_files["items"], dtype=str)
    result = _validate(tmp_path, shop_files, items=items.iloc[2:])
    assert result.exit_code == 0, result.output
    assert f"2 of the {len(items)} items in the keyword report are not in this file" in result.output


def test_a_matching_items_file_says_nothing(shop_files, tmp_path):
    items = pd.read_csv(shop_files["items"], dtype=str)
    result = _validate(tmp_path, shop_files, items=items)
    assert result.exit_code == 0 and "items in the keyword report" not in result.output


def test_candidates_for_items_the_report_does_not_hold_are_a_warning(shop_files, tmp_path):
    candidates = pd.read_csv(shop_files["candidates"], dtype=str)
    candidates["item"] = "sku-" + candidates["item"]
    result = _validate(tmp_path, shop_files, candidates=candidates)
    assert result.exit_code == 0, result.output
    assert "items its candidates are for is in the keyword report" in result.output
    assert "no candidate keyword can be added" in result.output


def test_candidates_without_an_item_column_say_nothing(shop_files, tmp_path):
    candidates = pd.read_csv(shop_files["candidates"], dtype=str).drop(columns="item")
    result = _validate(tmp_path, shop_files, candidates=candidates.drop_duplicates("keyword"))
    assert result.exit_code == 0 and "candidates are for" not in result.output, result.output
