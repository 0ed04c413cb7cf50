"""docs/plugins.md cannot rot: its tutorial is built and its tests are run here."""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from bidopt import hookspecs
from bidopt.config import check_strategies
from bidopt.testing import make_config, make_registry

DOCS = Path(__file__).parent.parent / "docs" / "plugins.md"
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def code_blocks() -> list[tuple[str, str]]:
    """(language, code) of every fenced block, in order."""
    return FENCE.findall(DOCS.read_text(encoding="utf-8"))


def tutorial_files() -> dict[str, str]:
    """Blocks whose first line is ``# file: <path>``: the tutorial project."""
    files = {}
    for _, code in code_blocks():
        first, _, rest = code.partition("\n")
        if first.startswith("# file: "):
            files[first.removeprefix("# file: ").strip()] = code
    return files


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("acme-bidopt")
    for name, code in tutorial_files().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding="utf-8")
        if path.suffix == ".py" and path.parent.name != "tests":
            (path.parent / "__init__.py").touch()
    return root


def test_the_tutorial_has_its_four_files():
    assert {"acme_bidopt/plugin.py", "pyproject.toml", "tests/conftest.py",
            "tests/test_plugin.py"} <= set(tutorial_files())


def load_plugin(project: Path):
    spec = importlib.util.spec_from_file_location("acme_tutorial_plugin",
                                                  project / "acme_bidopt" / "plugin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_entry_point_names_the_plugin_module(project):
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    target = meta["project"]["entry-points"]["bidopt"]["acme"]
    assert (project / (target.replace(".", "/") + ".py")).exists()


def test_the_config_snippet_enables_the_tutorial_strategy(project):
    snippet = next(code for lang, code in code_blocks()
                   if lang == "yaml" and "acme_zero_orders" in code)
    registry = make_registry([load_plugin(project)])
    config = make_config(strategies=yaml.safe_load(snippet)["strategies"])
    params = check_strategies(config, registry.strategies)
    assert params["acme_zero_orders"].min_clicks == 15
    assert registry.strategy_owner["acme_zero_orders"] == "acme_tutorial_plugin"


def test_the_tutorials_own_tests_pass(project):
    env = {**os.environ, "PYTHONPATH": str(project)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


@pytest.mark.parametrize("hook", [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
                                  if name.startswith("bidopt_")])
def test_every_hook_is_in_the_authors_guide_with_its_signature(hook):
    parameters = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"`{hook}({parameters})`" in DOCS.read_text(encoding="utf-8")
