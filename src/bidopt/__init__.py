"""bidopt: nightly bid recommendations for keyword campaigns under ROI floors and budgets.

The public API for plugin authors is re-exported here.
"""

from bidopt.errors import BidoptError, ConfigError, DataError, PluginError, Problem
from bidopt.hookspecs import HOOK_VERSION, hookimpl
from bidopt.strategy import Strategy, StrategyParams, no_proposals, with_notes

__version__ = "0.1.0"

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
