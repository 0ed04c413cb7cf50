"""bidopt: nightly bid recommendations for keyword campaigns under ROI floors and budgets.

The public API for plugin authors is re-exported here. The names that need pandas,
pydantic or pluggy are imported on first use, so that ``import bidopt`` (the ``bidopt``
command's first step) is quick: the command sets up Ctrl-C and SIGTERM handling before the
heavy imports, and an interrupt while they run exits as cleanly as one later on.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from bidopt.errors import BidoptError, ConfigError, DataError, PluginError, Problem

if TYPE_CHECKING:
    from bidopt.hookspecs import HOOK_VERSION, hookimpl
    from bidopt.strategy import Strategy, StrategyParams, no_proposals, with_notes

__version__ = "0.1.0"

_LAZY = {
    "HOOK_VERSION": "bidopt.hookspecs",
    "hookimpl": "bidopt.hookspecs",
    "Strategy": "bidopt.strategy",
    "StrategyParams": "bidopt.strategy",
    "no_proposals": "bidopt.strategy",
    "with_notes": "bidopt.strategy",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bidopt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "HOOK_VERSION",
    "BidoptError",
    "ConfigError",
    "DataError",
    "PluginError",
    "Problem",
    "Strategy",
    "StrategyParams",
    "__version__",
    "hookimpl",
    "no_proposals",
    "with_notes",
]
