"""A writer plugin's output format gets bidopt's own recommendations CSV beside the plugin's
file (the review file, ``<name>.recommendations.csv``): both are put in place together, and
the review file is checked before the run as the output is."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bidopt.cli import cli
from bidopt.errors import ExitCode
from bidopt.schema import RECOMMENDATION_COLUMNS
from conftest import NIGHT, report_paths, write_config

TSV_WRITER = """
    import os

    import bidopt

    @bidopt.hookimpl
    def bidopt_output_formats():
        return ["acme_tsv"]

    @bidopt.hookimpl
    def bidopt_write_output(recommendations, path, format, options):
        if format != "acme_tsv":
            return None
        if os.environ.get("ACME_TSV_FAIL"):
            raise RuntimeError("the upload template is gone")
        rows = recommendations
        if os.environ.get("ACME_TSV_BIDS_ONLY"):  # a format that holds bid changes alone
            rows = rows[rows["action"] == "set_bid"]
        rows[["campaign", "keyword", "proposed"]].to_csv(path, sep="\\t", index=False)
        if os.environ.get("ACME_TSV_LABELS") == "wrong":
            return ["no such row"]
        return list(rows.index) if os.environ.get("ACME_TSV_BIDS_ONLY") else True
"""
STRATEGIES = {"roi_rule": {}, "long_tail": {}, "crowd_premium": {}}


def bidopt(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def tsv_config(shop_files, tmp_path, install):
    install("acme-tsv", "acme_tsv_writer", TSV_WRITER)
    return write_config(tmp_path, shop_files, strategies=STRATEGIES,
                        output={"format": "acme_tsv", "path": "plans/plan-{date}.tsv"})


def test_a_plugin_format_is_written_with_the_review_file_beside_it(tsv_config, tmp_path):
    done = bidopt("run", "--config", str(tsv_config), "--date", NIGHT)
    assert done.exit_code == 0, done.output
    plan, review = (tmp_path / "plans" / f"plan-{NIGHT}{suffix}"
                    for suffix in (".tsv", ".recommendations.csv"))
    assert sorted(p.name for p in plan.parent.iterdir()) == [review.name, plan.name]
    recs = pd.read_csv(review, encoding="utf-8-sig")
    assert tuple(recs.columns) == RECOMMENDATION_COLUMNS
    assert len(pd.read_csv(plan, sep="\t")) == len(recs) > 0
    assert f"wrote {plan} (output format acme_tsv)\n" in done.stdout
    assert f"wrote {review}, its review file ({len(recs):,} rows)" in done.stdout


def files(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Each file of ``folder`` by name: its inode (a file put in its place has another one,
    even with the same bytes: the same night planned again) and its bytes."""
    return {p.name: (p.stat().st_ino, p.read_bytes()) for p in folder.iterdir()}


def test_a_failure_of_either_file_keeps_the_last_pair(tsv_config, tmp_path, monkeypatch):
    """The plugin failing, or the review file failing after the plugin wrote its file
    (a full disk): exit 7, and neither file of the last good run is replaced, nor a
    temporary file left."""
    assert bidopt("run", "--config", str(tsv_config), "--date", NIGHT).exit_code == 0
    plans = tmp_path / "plans"
    good = files(plans)
    assert len(good) == 2

    with monkeypatch.context() as patch:
        patch.setenv("ACME_TSV_FAIL", "1")
        failed = bidopt("run", "--config", str(tsv_config), "--date", NIGHT)
    assert failed.exit_code == ExitCode.OUTPUT_FAILURE, failed.output
    assert ("the writer for 'acme_tsv' (plugin 'acme-tsv') failed: RuntimeError: the "
            "upload template is gone") in failed.stderr
    assert files(plans) == good

    def disk_full(recommendations, path, **_):
        Path(path).write_text("date,campaign\n2026-11-25,half a ro", encoding="utf-8")
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr("bidopt.loop.write_recommendations_csv", disk_full)
        failed = bidopt("run", "--config", str(tsv_config), "--date", NIGHT)
    assert failed.exit_code == ExitCode.OUTPUT_FAILURE, failed.output
    assert "No space left on device" in failed.stderr
    assert files(plans) == good


def test_a_review_file_the_reports_pattern_takes_is_refused_before_the_run(
        shop_files, tmp_path, install):
    """A plan folder that is also the reports' folder: the .tsv is not a report, but its
    review file is a .csv that the next night would read as one, and fail."""
    install("acme-tsv", "acme_tsv_writer", TSV_WRITER)
    exports = tmp_path / "exports"
    exports.mkdir()
    for path in report_paths(shop_files):
        (exports / Path(path).name).write_bytes(Path(path).read_bytes())
    config = write_config(tmp_path, None, sources={"reports": [f"{exports}/*.csv"]},
                          output={"format": "acme_tsv", "path": "exports/plan-{date}.tsv"})
    review = exports / f"plan-{NIGHT}.recommendations.csv"
    for command in ("run", "validate"):
        refused = bidopt(command, "--config", str(config), "--date", NIGHT)
        assert refused.exit_code == ExitCode.BAD_CONFIG, refused.output
        assert f"'output.path': its review file {review} is among the reports" in " ".join(
            refused.stderr.split()), refused.stderr
    assert not list(exports.glob("plan-*"))


XLSX_WRITER = """
    import bidopt

    @bidopt.hookimpl
    def bidopt_output_formats():
        return ["acme_sheet"]

    @bidopt.hookimpl
    def bidopt_write_output(recommendations, path, format, options):
        if format != "acme_sheet":
            return None
        recommendations[["campaign", "keyword", "proposed"]].to_excel(path, index=False,
                                                                      engine="openpyxl")
        return True
"""


def test_a_workbook_named_as_a_csv_is_refused_and_the_last_plan_kept(
        shop_files, tmp_path, install):
    """`bidopt init` names the plan .csv; setting a workbook format alone would write a
    workbook under that name, which neither Excel nor an upload page opens."""
    install("acme-sheet", "acme_sheet_writer", XLSX_WRITER)
    config = write_config(tmp_path, shop_files, strategies=STRATEGIES,
                          output={"format": "acme_sheet", "path": "plans/plan-{date}.csv"})
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / f"plan-{NIGHT}.csv").write_text("last night's plan\n", encoding="utf-8")
    before = files(plans)
    done = bidopt("run", "--config", str(config), "--date", NIGHT)
    assert done.exit_code == ExitCode.OUTPUT_FAILURE, done.output
    assert "wrote an Excel workbook (a zip file)" in done.output
    assert "the suffix .xlsx" in done.output
    assert files(plans) == before
    renamed = write_config(tmp_path, shop_files, strategies=STRATEGIES,
                           output={"format": "acme_sheet", "path": "plans/plan-{date}.xlsx"})
    assert bidopt("run", "--config", str(renamed), "--date", NIGHT).exit_code == 0
    assert pd.read_excel(plans / f"plan-{NIGHT}.xlsx").shape[0] > 0


def test_a_writer_that_holds_some_rows_gets_them_marked_and_only_they_are_recorded(
        tsv_config, tmp_path, monkeypatch):
    """A format that cannot hold pauses or premiums returns the labels of the rows it
    wrote: the review file marks every row in_upload_file yes or no, and `bidopt applied`
    records only the rows marked yes. Before, a pause the upload never carried was recorded
    as in force, and the next nights left that keyword out of the plan."""
    monkeypatch.setenv("ACME_TSV_BIDS_ONLY", "1")
    done = bidopt("run", "--config", str(tsv_config), "--date", NIGHT)
    assert done.exit_code == 0, done.output
    plan, review = (tmp_path / "plans" / f"plan-{NIGHT}{suffix}"
                    for suffix in (".tsv", ".recommendations.csv"))
    recs = pd.read_csv(review, encoding="utf-8-sig")
    assert tuple(recs.columns) == (*RECOMMENDATION_COLUMNS, "in_upload_file")
    held = recs["in_upload_file"] == "yes"
    assert held.equals(recs["action"] == "set_bid") and held.sum() == len(
        pd.read_csv(plan, sep="\t"))
    pauses = recs[recs["action"] == "pause_keyword"]
    assert len(pauses) and (recs["action"] == "set_crowd_premium").any()

    recorded = bidopt("applied", "--config", str(tsv_config), str(review))
    assert recorded.exit_code == 0, recorded.output
    assert "recorded 0 crowd premiums, 0 hour discounts, 0 region settings, 0 paused keywords" \
        in recorded.stdout
    assert f"; {held.sum():,} keyword changes for the next runs" in recorded.stdout
    assert f"note: {(~held).sum():,} rows marked in_upload_file: no" in recorded.stderr


def test_a_writer_returning_labels_of_no_row_fails_and_keeps_the_last_pair(
        tsv_config, tmp_path, monkeypatch):
    assert bidopt("run", "--config", str(tsv_config), "--date", NIGHT).exit_code == 0
    good = files(tmp_path / "plans")
    monkeypatch.setenv("ACME_TSV_LABELS", "wrong")
    failed = bidopt("run", "--config", str(tsv_config), "--date", NIGHT)
    assert failed.exit_code == ExitCode.OUTPUT_FAILURE, failed.output
    assert "returned labels that are no row of the recommendations (1, e.g. 'no such row')" \
        in failed.stderr
    assert files(tmp_path / "plans") == good
