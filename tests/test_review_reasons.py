"""Reasons in the words of the shop's users: an English shop (a Google Ads account) reads
no ZTC playbook terms; a ZTC shop keeps them, with the English name beside them."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from bidopt.cli import cli
from conftest import NIGHT

SAMPLE = Path(__file__).resolve().parents[1] / "configs" / "sample.yaml"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def english_copy(files: dict[str, Path], folder: Path) -> dict[str, Path]:
    """The simulated shop with every Chinese name (campaigns, items, keywords, crowds,
    regions) replaced by an English one, the same in every file: an English account."""
    names: dict[str, str] = {}

    def english(value):
        if isinstance(value, str) and CJK.search(value):
            return names.setdefault(value, f"term {len(names) + 1}")
        return value

    out = {}
    for name, path in files.items():
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame = frame.apply(lambda column: column.map(english))
        out[name] = folder / path.name
        frame.to_csv(out[name], index=False)
    return out


def run_shop(files: dict[str, Path], folder: Path) -> pd.DataFrame:
    config = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    config["strategies"]["top3_quality"].pop("regions")
    config["objective"] = {"target": "profit"}
    config["output"]["include_rejected"] = True
    config["sources"] = {
        "reports": [str(p) for name, p in sorted(files.items()) if name.endswith("report")],
        "items": str(files["items"]), "candidates": str(files["candidates"])}
    path = folder / "shop.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = folder / "recs.csv"
    result = run_cli("run", "--config", str(path), "--date", NIGHT, "--out", str(out))
    assert result.exit_code in (0, 6), result.output
    return pd.read_csv(out, encoding="utf-8-sig", dtype={"hour": str})


@pytest.fixture(scope="module")
def runs(shop_files, tmp_path_factory):
    english = tmp_path_factory.mktemp("english")
    chinese = tmp_path_factory.mktemp("chinese")
    return (run_shop(english_copy(shop_files, english), english),
            run_shop(shop_files, chinese))


STRATEGIES = {"long_tail": "matched rings", "top3_quality": "quality nurture",
              "crowd_premium": "low bid, high premium"}


def test_an_english_shop_reads_no_ztc_terms(runs):
    english, _ = runs
    assert not english["reason"].str.contains(CJK.pattern, regex=True).any(), \
        english.loc[english["reason"].str.contains(CJK.pattern, regex=True), "reason"].iloc[0]
    for strategy, words in STRATEGIES.items():
        mine = english[english["strategy"] == strategy]
        assert len(mine), strategy
        assert mine["reason"].str.contains(f"{words}: ", regex=False).any(), strategy


def test_a_ztc_shop_keeps_its_terms_with_the_english_name(runs):
    _, chinese = runs
    for strategy, words in STRATEGIES.items():
        term = {"long_tail": "门当户对", "top3_quality": "养分",
                "crowd_premium": "低出价高溢价"}[strategy]
        mine = chinese[chinese["strategy"] == strategy]
        assert mine["reason"].str.contains(f"{term} ({words}): ", regex=False).any(), strategy
