"""bidopt-dayparting: a bidopt strategy proposing per-hour discounts (分时折扣)."""

from __future__ import annotations

from bidopt_dayparting.plugin import DaypartingParams, plan_campaign, propose

__version__ = "0.1.0"

__all__ = ["DaypartingParams", "__version__", "plan_campaign", "propose"]
