"""Canonical column names and vocabularies shared by every module.

Readers map whatever headers an export carries onto these names; everything downstream
speaks only these.
"""

from __future__ import annotations

ALL = "all"
"""Value of a dimension a row is summed over (e.g. ``crowd == "all"``)."""

PLATFORMS = ("mobile", "pc")

# Dimensions a performance row may be split by, in canonical order.
DIMENSIONS = ("date", "campaign", "item", "keyword", "crowd", "region", "platform", "hour")
# Additive counts: these may be summed over any dimension.
METRICS = ("impressions", "clicks", "cost", "orders", "gmv", "carts", "favorites")
REPORT_COLUMNS = DIMENSIONS + ("bid",) + METRICS + ("avg_rank", "quality_score")
REQUIRED_REPORT_COLUMNS = ("date", "campaign", "impressions", "clicks", "cost", "orders", "gmv")

ITEM_COLUMNS = ("item", "price", "unit_cost", "sales_30d", "tier", "campaign", "category")
REQUIRED_ITEM_COLUMNS = ("item", "price")

CANDIDATE_COLUMNS = (
    "keyword",
    "item",
    "search_volume",
    "competition",
    "market_ctr",
    "market_cvr",
    "market_cpc",
)
REQUIRED_CANDIDATE_COLUMNS = ("keyword", "search_volume")

# Report grains: which dimensions identify a row of each aggregated history frame.
GRAIN_KEYS = {
    "keywords": ("campaign", "item", "keyword", "platform"),
    "crowds": ("campaign", "item", "crowd"),
    "regions": ("campaign", "region"),
    "hours": ("campaign", "hour"),
}

ACTIONS = (
    "set_bid",
    "add_keyword",
    "pause_keyword",
    "set_crowd_premium",
    "exclude_region",
    "include_region",
    "set_hour_discount",
)

RECOMMENDATION_COLUMNS = (
    "date",
    "campaign",
    "item",
    "keyword",
    "crowd",
    "region",
    "platform",
    "hour",
    "action",
    "current",
    "proposed",
    "change_pct",
    "strategy",
    "reason",
    "exp_clicks",
    "exp_cost",
    "exp_gmv",
    "exp_roi",
    # the expected change against keeping the current value: exp_* minus the forecast at the
    # current value; a campaign's rows add up to the summary's 'after' minus 'before'
    "d_clicks",
    "d_cost",
    "d_gmv",
    # keyword rows: the 80% outcome range of the planned day's report at the proposed bid
    # (the response model's Forecast.low / high; 0 to 0 for a pause); empty on crowd,
    # region and hour rows. Last, so that the columns of files written before keep their
    # places.
    *(f"{name}_{end}" for name in ("clicks", "cost", "gmv") for end in ("low", "high")),
)
RANGE_COLUMNS = RECOMMENDATION_COLUMNS[-6:]
"""``clicks_low, clicks_high, cost_low, cost_high, gmv_low, gmv_high``."""

# What a strategy returns: one row per proposed action. Missing optional columns are
# filled with empty values by the loop.
PROPOSAL_COLUMNS = (
    "campaign",
    "item",
    "keyword",
    "crowd",
    "region",
    "platform",
    "hour",
    "action",
    "current",
    "proposed",
    "reason",
    # Optional: slice actions of one strategy that share a group name (e.g. one campaign's
    # 24 hour discounts) are accepted or rejected together, as one plan.
    "group",
    # Actions other than bids (crowd premiums, regions, hour discounts) carry their own
    # forecast, made with the response model: the affected slice per day as it is now
    # (base_*) and at the proposed value (exp_*).
    "base_clicks",
    "base_cost",
    "base_gmv",
    "exp_clicks",
    "exp_cost",
    "exp_gmv",
)
SLICE_FORECAST_COLUMNS = PROPOSAL_COLUMNS[-6:]
KEYWORD_ACTIONS = ("set_bid", "add_keyword", "pause_keyword")
REQUIRED_PROPOSAL_COLUMNS = ("campaign", "action", "proposed", "reason")
