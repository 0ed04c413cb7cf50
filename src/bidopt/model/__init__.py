"""Response estimation: what follows from a bid, per keyword x platform, with intervals."""

from __future__ import annotations

from bidopt.model.effects import RegionEffects
from bidopt.model.forecast import FORECAST_METRICS, Forecast
from bidopt.model.response import ResponseModel

__all__ = ["FORECAST_METRICS", "Forecast", "RegionEffects", "ResponseModel"]
