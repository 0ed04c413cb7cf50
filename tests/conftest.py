"""Shared fixtures: a simulated shop written to disk, and a config pointing at it."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from bidopt.plugins import DISABLE_ENV
from bidopt.simulate import simulate_shop, write_shop

END_DATE = "2026-11-24"
NIGHT = "2026-11-25"


@pytest.fixture(scope="session")
def shop():
    import datetime as dt

    return simulate_shop(seed=3, days=14, size="small", end_date=dt.date(2026, 11, 24))


@pytest.fixture(scope="session")
def shop_files(shop, tmp_path_factory) -> dict[str, Path]:
    return write_shop(shop, tmp_path_factory.mktemp("shop_en"))


@pytest.fixture(scope="session")
def shop_files_chinese(shop, tmp_path_factory) -> dict[str, Path]:
    return write_shop(shop, tmp_path_factory.mktemp("shop_zh"), chinese=True)


def report_paths(files: dict[str, Path]) -> list[str]:
    return [str(p) for name, p in sorted(files.items()) if name.endswith("report")]


def write_config(folder: Path, files: dict[str, Path] | None, **extra) -> Path:
    data = {"shop": "test-shop", "constraints": {"roi_floor": 2.0}}
    if files is not None:
        data["sources"] = {
            "reports": report_paths(files),
            "items": str(files["items"]),
            "candidates": str(files["candidates"]),
        }
    data.update(extra)
    path = folder / "shop.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def install(tmp_path, monkeypatch):
    """Install a one-module plugin as a real distribution with a ``bidopt`` entry point;
    ``target`` is the entry point's value (the module by default)."""
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    site = tmp_path / "site"
    site.mkdir()
    modules: list[str] = []

    def install(dist: str, module: str, source: str, version: str = "1.2.3",
                target: str | None = None) -> None:
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
        (info / "entry_points.txt").write_text(f"[bidopt]\n{dist} = {target or module}\n",
                                               encoding="utf-8")
        modules.append(module)

    monkeypatch.syspath_prepend(str(site))  # also invalidates importlib's caches
    yield install
    for module in modules:
        sys.modules.pop(module, None)
