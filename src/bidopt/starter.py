"""The commented starter config that ``bidopt init`` writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

TEMPLATE = """\
# bidopt config for one shop. Check it with: bidopt validate --config {name}
# Full reference: bidopt config schema (JSON Schema; editors use it to complete keys).
shop: {shop}

# Input files, relative to this file; a pattern such as exports/kw_*.csv takes every daily
# export it matches. CSV in any encoding Excel or the platform saves (UTF-8, GBK,
# UTF-16...), .xlsx or .parquet; ZTC Chinese, Google Ads and Amazon headers are recognised.
# On the command line, `--reports FILE ...`, `--items FILE` and `--candidates FILE` each
# replace the files of their kind here.
sources:
{sources}

constraints:
  roi_floor: {roi_floor}          # lowest acceptable GMV / spend, per campaign
  daily_budget: {budget}     # spend cap per campaign per day (null = none)
  # shop_budget: 20000     # optional cap for the whole shop
  # campaigns:             # per-campaign overrides
  #   "Campaign name": {{roi_floor: 2.5, daily_budget: 800}}

bids:
  max_change_pct: 30       # largest change of one bid in one night
  mobile: {{min: 0.05, max: 100, step: 0.01}}   # also keywords of reports without a device split (Google Ads, Amazon)
  pc: {{min: 0.05, max: 100, step: 0.01}}
  # pinned:                # bids that must not change (platform: all without a device split)
  #   - {{campaign: "...", item: "...", keyword: "...", platform: mobile, bid: 1.20}}

objective:
  target: gmv              # gmv | profit | clicks | orders

history:
  days: 14                 # look-back window

optimiser:
  bids: free               # free: any bid may move within the nightly limit; proposals: only as strategies propose
  floor_confidence: 0.9    # plan each campaign above its floor by its ROI's standard error...
  roi_margin_pct: 5        # ...and never closer than this (percent) to the floor
  added_spend_margin_pct: 20   # spend the plan adds counts 20% more against floor and budget
  new_keyword_margin_pct: 50   # keywords not bought yet count toward the floor at this margin
  budget_margin_pct: 10    # plan each campaign's expected spend this far (percent) below its budget
  shop_budget_margin_pct: 15   # ... and the shop's below the shop budget
  min_clicks_to_raise: 2   # the optimiser raises no keyword with fewer clicks in the window (strategies still may)
  min_gain: 0.3            # a change must gain at least this much money per day

# calendar:                # promotion phases override the floor, budget and objective weights;
#                          # factors: the phase's traffic and conversion against an ordinary day
#   - {{name: burst, start: "11-11", end: "11-11", roi_floor: 1.2, daily_budget: 6000,
#      traffic_factor: 2.5, conversion_factor: 2.0}}

# Strategies propose, the optimiser decides. `bidopt plugins` lists every strategy with what
# it does; each strategy's options: docs/strategies.md (unknown keys are errors).
strategies:
  roi_rule: {{}}             # bid x ROI / target, capped at +-20%
  long_tail: {{}}            # 门当户对: add candidate keywords of each item's ring (reads candidates and items)
  top3_quality: {{}}         # 养分: rank 1 / top 3 for a few words below quality 10, in the push hours
  region_exclusion: {{}}     # exclude regions below the floor on evidence (reads the region report)
  crowd_premium: {{}}        # premiums on crowds worth more per click (reads the crowd report)
  pc_floor: {{}}             # PC bids at the platform floor unless PC's own ROI proves out

# state_file: bidopt-state.sqlite   # premiums, hour discounts, regions in force (`bidopt applied`)

output:
  path: {output}
  encoding: utf-8-sig      # with BOM, so Excel shows Chinese text correctly
"""


def _relative(path: Path, base: Path) -> str:
    """The path relative to the config's folder, as a quoted YAML string: a bare
    ``*_report.csv`` would be read as a YAML alias, ``a #1.csv`` as a comment."""
    try:
        text = os.path.relpath(Path(path).resolve(), base.resolve())
    except ValueError:  # another drive on Windows
        text = str(Path(path).resolve())
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def starter_config(roi_floor: float, budget: float | None, reports: list[Path],
                   items: Path | None, candidates: Path | None, folder: Path,
                   name: str = "bidopt.yaml") -> str:
    """Config text; with no files given, sources stay empty and the bundled sample is used.

    A config named after its shop (``acme.yaml``, one of several in a folder) gets that shop
    name and writes ``recommendations-acme-{date}.csv``, so that the shops' plans do not
    replace one another next to their configs."""
    if reports or items or candidates:
        lines = (["  reports:"] + [f"    - {_relative(p, folder)}" for p in reports] if reports
                 else ["  reports: []            # add the keyword report (required), e.g. "
                       "[exports/kw_*.csv]"])
        if items:
            lines.append(f"  items: {_relative(items, folder)}")
        if candidates:
            lines.append(f"  candidates: {_relative(candidates, folder)}")
        sources = "\n".join(lines)
    else:
        sources = ("  reports: []            # empty: the bundled sample shop is used\n"
                   "  # items: items.csv\n  # candidates: candidates.csv")
    stem = Path(name).stem
    shop = "my-shop" if stem == "bidopt" else stem
    output = ("recommendations-{date}.csv" if stem == "bidopt"
              else f"recommendations-{stem}-{{date}}.csv")
    return TEMPLATE.format(
        name=name, sources=sources, roi_floor=roi_floor,
        shop=json.dumps(shop, ensure_ascii=False), output=json.dumps(output, ensure_ascii=False),
        budget="null" if budget is None else budget,
    )
