"""Header aliases: how ZTC, Google Ads and Amazon exports name the canonical columns.

Matching is case-, space- and punctuation-insensitive (see :func:`header_key`). The first
Chinese alias of each column is the header ZTC exports write; ``bidopt simulate --chinese``
writes those.
"""

from __future__ import annotations

import re

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("日期", "Day", "Date", "Start Date", "报表日期"),
    "campaign": ("推广计划", "计划名称", "推广计划名称", "Campaign", "Campaign Name"),
    "item": (
        "推广单元",
        "宝贝ID",
        "宝贝名称",
        "商品名称",
        "商品ID",
        "Ad group",
        "Ad Group Name",
        "Ad group name",
        "ASIN",
        "Advertised ASIN",
    ),
    "keyword": ("关键词", "Keyword", "Search keyword", "Targeting", "Keyword Text"),
    "crowd": ("人群", "人群名称", "Audience", "Audience segment"),
    "region": ("地域", "省份", "Region", "Province", "Location"),
    "platform": ("投放平台", "设备", "Device", "Platform"),
    "hour": ("小时", "Hour of day", "Hour"),
    "bid": ("出价", "关键词出价", "默认出价", "Max. CPC", "Max CPC", "Keyword max CPC", "Keyword Bid",
            "Bid"),
    "impressions": ("展现量", "Impr.", "Impressions"),
    "clicks": ("点击量", "Clicks"),
    "cost": ("花费", "Cost", "Spend"),
    "orders": (
        "成交笔数",
        "总成交笔数",
        "Conversions",
        "7 Day Total Orders (#)",
        "14 Day Total Orders (#)",  # Amazon vendors' Sponsored Products: 14-day attribution
        "Orders",
    ),
    "gmv": (
        "成交金额",
        "总成交金额",
        "Conv. value",
        "7 Day Total Sales",
        "14 Day Total Sales",
        "Sales",
        "Revenue",
    ),
    "carts": ("总购物车数", "加购数", "Add to cart", "Carts"),
    "favorites": ("收藏宝贝数", "收藏数", "Favourites", "Favorites"),
    "avg_rank": ("平均展现排名", "Avg. position", "Average position"),
    "quality_score": ("质量分", "Quality Score", "Qual. score"),
    # items file
    "price": ("价格", "一口价", "Price"),
    "unit_cost": ("成本", "单位成本", "Unit cost", "Cost of goods"),
    "sales_30d": ("30天销量", "月销量", "Sales 30d"),
    "tier": ("层级", "Tier"),
    "category": ("类目", "商品类目", "Category"),
    # keyword candidates file (ZTC 关键词分析; 生意参谋 市场 names second)
    "search_volume": ("展现指数", "搜索人气", "Search volume", "Avg. monthly searches"),
    "competition": ("竞争指数", "竞争度", "Competition", "Competition (indexed value)"),
    "market_ctr": ("点击率", "Market CTR", "CTR"),
    "market_cvr": ("点击转化率", "支付转化率", "Market CVR", "Conv. rate"),
    "market_cpc": ("市场均价", "直通车参考价", "Market CPC", "Avg. CPC",
                   "Top of page bid (high range)"),
}

# Aliases that win over every other name of their column, the canonical one included, when
# a file has both: Google Keyword Planner writes "Competition" as Low / Medium / High and the
# number beside it as "Competition (indexed value)".
PREFERRED_ALIASES: dict[str, tuple[str, ...]] = {
    "competition": ("Competition (indexed value)",),
}

# Aliases counted in another unit than their column: Google Keyword Planner's searches are
# per month, bidopt's search_volume per day (long_tail's head_volume and tail_volume).
ALIAS_SCALES: dict[str, float] = {"Avg. monthly searches": 12 / 365}

# Derived ratio columns that exports carry next to the counts. They are recognised (so they
# are not reported as unknown) but never trusted over the counts.
DERIVED_COLUMNS: tuple[str, ...] = (
    "点击率",
    "平均点击花费",
    "千次展现花费",
    "点击转化率",
    "投入产出比",
    "实际投产比",
    "净成交金额",
    "直接成交金额",
    "宝贝收藏加购数",
    "CTR",
    "Avg. CPC",
    "Cost Per Click (CPC)",
    "Conv. rate",
    "ROAS",
    "ACOS",
    "Total Advertising Cost of Sales (ACOS)",
    "Total Return on Advertising Spend (ROAS)",
    "Search impr. share",
    "Top-of-search Impression Share",  # Amazon's targeting report
    "Top of page bid (low range)",  # Keyword Planner, beside the high range (market_cpc)
    "Match type",
    "Match Type",
    "Search keyword match type",
    "Customer Search Term",
    "Search term",
    "Search term match type",
    "Added/Excluded",
    "Currency",
    "Currency code",
    "Click-Thru Rate (CTR)",
    "7 Day Conversion Rate",
    "7 Day Total Units (#)",
    "7 Day Advertised SKU Units (#)",
    "7 Day Other SKU Units (#)",
    "7 Day Advertised SKU Sales",
    "7 Day Other SKU Sales",
    "14 Day Conversion Rate",
    "14 Day Total Units (#)",
    "14 Day Advertised SKU Units (#)",
    "14 Day Other SKU Units (#)",
    "14 Day Advertised SKU Sales",
    "14 Day Other SKU Sales",
    "Conv. value / cost",
    "Cost / conv.",
)

# Identifier and settings columns of the exports in DOMAIN.md that bidopt does not use;
# like the derived columns they are accepted without an "ignored" warning.
INFORMATIONAL_COLUMNS: tuple[str, ...] = (
    "Criterion Type",
    "Status",
    "Keyword status",
    "Search keyword status",
    "Search keyword status reasons",
    "Status reasons",
    "State",
    "Product",
    "Entity",
    "Operation",
    "Campaign ID",
    "Ad Group ID",
    "Keyword ID",
    "Daily Budget",
    "Bidding Strategy",
    "Placement",
    "Percentage",
    "Portfolio name",
    "End Date",
    "计划ID",
    "单元ID",
    "关键词ID",
    # Google Keyword Planner, beside the searches, competition and bids bidopt reads
    "Segmentation",
    "Three month change",
    "YoY change",
    "Ad impression share",
    "Organic impression share",
    "Organic average position",
    "In account?",
    "In plan?",
)

# Values of the platform column as exports write them.
PLATFORM_ALIASES: dict[str, str] = {
    "mobile": "mobile",
    "无线": "mobile",
    "移动": "mobile",
    "移动设备": "mobile",
    "无线端": "mobile",
    "移动端": "mobile",
    "手机": "mobile",
    "手机端": "mobile",
    "mobile phones": "mobile",
    "mobile devices with full browsers": "mobile",
    "tablets with full browsers": "mobile",
    "tablets": "mobile",
    "pc": "pc",
    "计算机": "pc",
    "pc端": "pc",
    "电脑端": "pc",
    "计算机端": "pc",
    "电脑": "pc",
    "computers": "pc",
    "desktop": "pc",
    # Google Ads' other devices: large screens and the rest, bid like computers
    "tv screens": "pc",
    "other": "pc",
}

# Device names only Google Ads writes: its keywords have one max CPC for every device.
GOOGLE_DEVICES = frozenset({"mobile phones", "computers", "tablets", "tablets with full browsers",
                            "mobile devices with full browsers", "tv screens"})

# Values that mean "summed over this dimension".
# Subtotal labels read as "all" too: a 小计 row of a campaign then belongs to no grain
# and is not summed with the rows it totals.
ALL_ALIASES = frozenset({"all", "全部", "所有", "total", "合计", "小计", "总计", "汇总",
                         "subtotal", "grand total", "--", ""})

# ZTC export headers per canonical column, for writers that speak Chinese.
ZTC_HEADERS: dict[str, str] = {
    name: next(a for a in aliases if not a.isascii())
    for name, aliases in COLUMN_ALIASES.items()
    if any(not a.isascii() for a in aliases)
}
ZTC_PLATFORM = {"mobile": "无线", "pc": "计算机"}

# Half- and full-width punctuation: "花费（元）", "点击率(%)", "7 Day Total Orders (#)".
_NOT_WORD = re.compile(r"[\s_\-.()#/（）【】\[\]:：%,，]+")


def header_key(header: str) -> str:
    """Fold a header for matching: case, spaces, underscores and punctuation ignored."""
    return _NOT_WORD.sub("", str(header).strip().lower().replace("\ufeff", ""))


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for canonical, aliases in COLUMN_ALIASES.items():
        for name in (canonical, *aliases):
            lookup.setdefault(header_key(name), canonical)
    return lookup


HEADER_LOOKUP: dict[str, str] = _build_lookup()
DERIVED_KEYS = frozenset(header_key(h) for h in DERIVED_COLUMNS) - set(HEADER_LOOKUP)
INFORMATIONAL_KEYS = frozenset(header_key(h) for h in INFORMATIONAL_COLUMNS) - set(HEADER_LOOKUP)


def canonical_column(header: str) -> str | None:
    """The canonical name of an export header, or None when bidopt does not use it."""
    return HEADER_LOOKUP.get(header_key(header))
