"""Running strategies so that one misbehaving plugin cannot take the night down.

A strategy that raises, or returns something that is not a well-formed proposal frame,
has its proposals dropped and its failure reported with the plugin's name; ``--strict``
turns that into an error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bidopt.context import RunContext
from bidopt.errors import PluginError
from bidopt.plugins import Registry
from bidopt.schema import ACTIONS, PROPOSAL_COLUMNS, REQUIRED_PROPOSAL_COLUMNS


def _check_proposals(frame: object, name: str) -> pd.DataFrame:
    """A strategy's output, checked: the right columns, known actions, finite values."""
    if not isinstance(frame, pd.DataFrame):
        raise PluginError(f"strategy '{name}' returned {type(frame).__name__}, not a DataFrame")
    missing = [c for c in REQUIRED_PROPOSAL_COLUMNS if c not in frame.columns]
    if missing:
        raise PluginError(f"strategy '{name}' returned proposals without {', '.join(missing)}")
    unknown = set(frame["action"].astype(str)) - set(ACTIONS)
    if unknown:
        raise PluginError(f"strategy '{name}' proposed unknown actions: {sorted(unknown)}")
    proposed = pd.to_numeric(frame["proposed"], errors="coerce")
    if not np.isfinite(proposed.to_numpy(float)).all():
        raise PluginError(f"strategy '{name}' proposed a value that is not a finite number")
    checked = frame.reindex(columns=list(PROPOSAL_COLUMNS)).copy()
    checked["proposed"] = proposed.to_numpy(float)
    checked["current"] = pd.to_numeric(checked["current"], errors="coerce")
    checked["strategy"] = name
    return checked


def collect_proposals(ctx: RunContext, registry: Registry, params: dict, *, strict: bool,
                      progress) -> tuple[pd.DataFrame, list[str]]:
    """Run every enabled strategy; a failing one is dropped and reported (or raised, strict)."""
    frames, failures = [], []
    for name, strategy_params in params.items():
        progress(f"strategy {name}")
        owner = registry.strategy_owner[name]
        try:
            frames.append(_check_proposals(registry.strategies[name].propose(ctx, strategy_params), name))
        except Exception as exc:  # any plugin error must not take the run down
            message = f"strategy '{name}' (plugin '{owner}') failed: {exc}"
            if strict:
                raise PluginError(message) from exc
            failures.append(message)
    columns = [*PROPOSAL_COLUMNS, "strategy"]
    proposals = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return proposals, failures
