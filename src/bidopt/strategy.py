"""What a strategy is: a name, a parameters model, and a function that proposes actions."""

from __future__ import annotations

import inspect
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

    def __post_init__(self) -> None:
        """Mistakes that would otherwise surface as a traceback in the middle of a run, or
        not at all (a params model that lets a misspelt option through)."""
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"a strategy's name must be non-empty text, not {self.name!r}")
        if not callable(self.propose):
            raise TypeError(f"strategy '{self.name}': propose must be a function "
                            f"propose(context, params), not {type(self.propose).__name__}")
        try:
            inspect.signature(self.propose).bind(None, None)
        except TypeError:
            raise TypeError(
                f"strategy '{self.name}': propose{inspect.signature(self.propose)} cannot be "
                "called as propose(context, params)") from None
        except ValueError:  # a builtin without a signature: let the run tell
            pass
        if not (isinstance(self.params, type) and issubclass(self.params, BaseModel)):
            raise TypeError(
                f"strategy '{self.name}': params must be a subclass of bidopt.StrategyParams "
                f"(the class itself), not {self.params!r}")
        if self.params.model_config.get("extra") != "forbid":
            raise TypeError(
                f"strategy '{self.name}': params {self.params.__name__} lets unknown keys "
                "through, so a misspelt option in the config would be ignored without a word; "
                "derive it from bidopt.StrategyParams")


def no_proposals(why: str = "") -> pd.DataFrame:
    """An empty proposal frame with every column: what a strategy returns on a quiet night.

    ``why`` (e.g. "no crowd report among the sources") is shown in the run's notes, so a
    user can tell a missing report from a night with nothing worth changing.
    """
    frame = pd.DataFrame(columns=list(PROPOSAL_COLUMNS))
    if why:
        frame.attrs["why"] = why
    return frame


def with_notes(frame: pd.DataFrame, *notes: str) -> pd.DataFrame:
    """``frame`` with notes for the run's summary, e.g. an option that names a crowd the
    reports do not hold (a typo would otherwise be ignored without a word)."""
    kept = [note for note in notes if note]
    if kept:
        frame.attrs["notes"] = [*frame.attrs.get("notes", []), *kept]
    return frame


def unknown_names(option: str, given, known, *, where: str = "the reports") -> str:
    """A note naming the entries of ``option`` that match nothing in ``known`` ("" if none)."""
    known = set(map(str, known))
    missing = sorted({str(name) for name in given} - known)
    if not missing:
        return ""
    shown = ", ".join(repr(m) for m in missing[:5]) + (" and more" if len(missing) > 5 else "")
    return f"{option} names {shown}, not in {where}: ignored"
