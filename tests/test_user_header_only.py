"""A keyword export of a day without activity: the header and no rows."""

from __future__ import annotations

from click.testing import CliRunner

from bidopt.cli import cli
from conftest import NIGHT, write_config


def test_a_header_only_keyword_report_alone_is_named(tmp_path):
    report = tmp_path / "kw.csv"
    report.write_text("date,campaign,item,keyword,platform,bid,impressions,clicks,cost,"
                      "orders,gmv\n", encoding="utf-8")
    config = write_config(tmp_path, None, sources={"reports": ["kw.csv"]})
    result = CliRunner().invoke(cli, ["validate", "--config", str(config), "--date", NIGHT])
    assert result.exit_code == 3, result.output
    assert "no keyword rows in the reports" in result.output
    assert f"{report}: a header and no data rows" in result.output
