"""What a strategy is: a name, a parameters model, and a function that proposes actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import BaseModel, ConfigDict

from bidopt.schema import PROPOSAL_COLUMNS

if TYPE_CHECKING:
    from bidopt.context import RunContext


class StrategyParams(BaseModel):
    """Base of every strategy's parameters: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Strategy:
    """A registered strategy.

    ``propose(context, params)`` returns a frame with the columns of
    ``bidopt.schema.PROPOSAL_COLUMNS`` (optional ones may be left out): one row per action
    it would like to take. It never applies anything itself; the decision step forecasts
    each proposal and accepts, scales or rejects it against the ROI floors and budgets.
    """

    name: str
    propose: Callable[[RunContext, StrategyParams], pd.DataFrame]
    params: type[StrategyParams] = StrategyParams
    description: str = ""


def no_proposals(why: str = "") -> pd.DataFrame:
    """An empty proposal frame with every column: what a strategy returns on a quiet night.

    ``why`` (e.g. "no crowd report among the sources") is shown in the run's notes, so a
    user can tell a missing report from a night with nothing worth changing.
    """
    frame = pd.DataFrame(columns=list(PROPOSAL_COLUMNS))
    if why:
        frame.attrs["why"] = why
    return frame
