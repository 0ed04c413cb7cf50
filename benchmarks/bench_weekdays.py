"""The forecast of today's bids against the truth of the night's weekday, with and without
weekday factors.

    python benchmarks/bench_weekdays.py [--seeds 0 1 ... 9] [--windows 14 28] [--same-history]

For every small simulated shop, window and night (Saturday 2026-11-28, Wednesday
2026-11-25): draw the history ending the day before the night, build the run's context as
``bidopt run`` does (read, window, fit; no strategies) with ``history.weekdays`` off and on,
and compare the forecast of today's bids (``RunContext.forecast``) per campaign with the
simulator's noise-free truth of that weekday (``Market.on_day(night,
seasonal=False).expected``), never with bidopt's own forecast. Prints, per window x night x
setting, the shop totals' mean error and median |error| (cost and GMV), the campaigns'
median |error|, and the night's factor.

``--same-history``: one history for both nights (to Tuesday 2026-11-24; the window is 3 days
longer so that the Saturday's holds it all), and the forecast's Saturday / Wednesday ratio
against the truth's: the weekday alone, without the draws' own noise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from bidopt.config import parse_config
from bidopt.context import KEYWORD_KEYS
from bidopt.loop import SourceOverrides, build_context, load_inputs
from bidopt.plugins import build_registry, get_plugin_manager
from bidopt.simulate import simulate_shop, write_shop

NIGHTS = {"Sat": dt.date(2026, 11, 28), "Wed": dt.date(2026, 11, 25)}
SAME_END = dt.date(2026, 11, 24)


def campaign_rows(seed: int, window: int, label: str, night: dt.date, same: bool,
                  registry, folder: Path) -> list[dict]:
    end = SAME_END if same else night - dt.timedelta(days=1)
    shop = simulate_shop(seed=seed, days=window, size="small", end_date=end)
    files = write_shop(shop, folder / f"{seed}-{window}-{label}")
    sources = SourceOverrides([p for n, p in sorted(files.items()) if n.endswith("report")],
                              files["items"], files["candidates"])
    truth = shop.market.on_day(night, seasonal=False)
    rows = []
    for weekdays in (False, True):
        config = parse_config({"constraints": {"roi_floor": 2.0},
                               "history": {"days": window + (3 if same else 0),
                                           "weekdays": weekdays}})
        inputs = load_inputs(registry, sources, lambda _: None)
        ctx = build_context(config.for_night(night), inputs, night, lambda _: None)
        state = ctx.keywords
        bids = state["bid"].to_numpy(float)
        forecast = ctx.forecast(state[KEYWORD_KEYS], bids[:, None])
        ours = pd.DataFrame({"campaign": state["campaign"].to_numpy(),
                             "cost": np.asarray(forecast.cost)[:, 0],
                             "gmv": np.asarray(forecast.gmv)[:, 0]}
                            ).groupby("campaign")[["cost", "gmv"]].sum()
        true = (truth.expected(state[KEYWORD_KEYS].assign(bid=bids))
                .groupby("campaign")[["cost", "gmv"]].sum().reindex(ours.index))
        rows += [{"seed": seed, "window": window, "night": label, "weekdays": weekdays,
                  "campaign": c, "f_cost": ours.loc[c, "cost"], "t_cost": true.loc[c, "cost"],
                  "f_gmv": ours.loc[c, "gmv"], "t_gmv": true.loc[c, "gmv"],
                  "factor": ctx.weekdays.factor(night)} for c in ours.index]
    return rows


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (window, night, weekdays), group in frame.groupby(["window", "night", "weekdays"]):
        shop = group.groupby("seed")[["f_cost", "t_cost", "f_gmv", "t_gmv"]].sum()
        row = {"window": window, "night": night, "weekdays": weekdays}
        for metric in ("cost", "gmv"):
            shop_error = np.log(shop[f"f_{metric}"] / shop[f"t_{metric}"])
            campaign_error = np.log(group[f"f_{metric}"] / group[f"t_{metric}"])
            row[f"shop {metric} mean"] = f"{np.expm1(shop_error.mean()):+.1%}"
            row[f"shop {metric} |med|"] = f"{np.median(np.abs(np.expm1(shop_error))):.1%}"
            row[f"campaign {metric} |med|"] = (
                f"{np.median(np.abs(np.expm1(campaign_error))):.1%}")
        row["factor"] = f"{group['factor'].mean():.3f}"
        out.append(row)
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--windows", type=int, nargs="+", default=[14, 28])
    parser.add_argument("--same-history", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    registry = build_registry(get_plugin_manager(entry_points=False))
    rows = []
    with tempfile.TemporaryDirectory(prefix="bidopt-bench-weekdays-") as tmp:
        for seed in args.seeds:
            for window in args.windows:
                for label, night in NIGHTS.items():
                    rows += campaign_rows(seed, window, label, night, args.same_history,
                                          registry, Path(tmp))
                    print(f"seed {seed}, {window} days, {label}: factor "
                          f"{rows[-1]['factor']:.3f}", file=sys.stderr)
    frame = pd.DataFrame(rows)
    print(summary(frame).to_string(index=False))
    if args.same_history:
        shop = (frame.groupby(["window", "weekdays", "seed", "night"])
                [["f_cost", "t_cost", "f_gmv", "t_gmv"]].sum().unstack("night"))
        for (window, weekdays), g in shop.groupby(level=[0, 1]):
            ratios = {name: (g[(name, "Sat")] / g[(name, "Wed")]).mean()
                      for name in ("f_cost", "t_cost", "f_gmv", "t_gmv")}
            print(f"{window} days, weekdays {weekdays}: Saturday / Wednesday cost "
                  f"{ratios['f_cost']:.3f} (truth {ratios['t_cost']:.3f}), GMV "
                  f"{ratios['f_gmv']:.3f} (truth {ratios['t_gmv']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
