"""The CSV's rows in the order a reviewer reads them in Excel: campaign by campaign, its
keywords (a keyword's mobile and PC rows together), then its crowds, regions and hours;
rejected proposals (include_rejected) after every change."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from click.testing import CliRunner

from bidopt.cli import cli

SAMPLE = Path(__file__).resolve().parents[1] / "configs" / "sample.yaml"
KIND = {"set_bid": 0, "pause_keyword": 0, "add_keyword": 0, "set_crowd_premium": 1,
        "exclude_region": 2, "include_region": 2, "set_hour_discount": 3}


def run_sample(tmp_path: Path) -> pd.DataFrame:
    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    data["objective"] = {"target": "profit"}
    data["output"]["include_rejected"] = True
    config = tmp_path / "sample.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "recs.csv"
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def contiguous(values: pd.Series) -> bool:
    """Each value's rows form one block."""
    starts = values.ne(values.shift())
    return int(starts.sum()) == values.nunique()


def test_rows_are_grouped_as_a_reviewer_reads_them(tmp_path):
    recs = run_sample(tmp_path)
    keep = recs["action"].eq("keep")
    assert keep.any()
    # every change first, the rejected proposals after them
    assert keep.idxmax() == (~keep).sum() and keep[keep.idxmax():].all()
    for part in (recs[~keep], recs[keep]):
        assert contiguous(part["campaign"])
    changes = recs[~keep]
    assert {"set_crowd_premium", "exclude_region", "set_hour_discount"} & set(changes["action"])
    for _, rows in changes.groupby("campaign", sort=False):
        kinds = rows["action"].map(KIND)
        assert kinds.is_monotonic_increasing, rows["action"].tolist()
        words = rows[kinds == 0]
        assert list(zip(words["item"], words["keyword"], strict=True)) == sorted(
            zip(words["item"], words["keyword"], strict=True))
        hours = pd.to_numeric(rows.loc[rows["action"] == "set_hour_discount", "hour"])
        assert hours.is_monotonic_increasing
