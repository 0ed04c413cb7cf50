"""The name a strategy's reasons start with, in the words of the shop's users.

The playbook terms (门当户对, 养分, 低出价高溢价) are what a ZTC operator knows the tactics by;
a Google Ads or Amazon account manager reads them as noise. Reasons name the tactic in
English, after the ZTC term where the shop is a ZTC shop, i.e. where most of its keywords
are Chinese ("门当户对 (matched rings): ..."; "matched rings: ..." elsewhere).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bidopt.context import RunContext

MATCHED_RINGS = ("门当户对", "matched rings")
QUALITY_NURTURE = ("养分", "quality nurture")
LOW_BID_HIGH_PREMIUM = ("低出价高溢价", "low bid, high premium")
_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


def chinese_shop(context: RunContext) -> bool:
    """Whether most of the shop's keywords (its campaigns, where it has none) are Chinese."""
    names = context.keywords.get("keyword")
    if names is None or not len(names):
        names = context.keywords.get("campaign")
    if names is None or not len(names):
        return False
    names = names.dropna().astype(str).drop_duplicates()
    return bool(len(names)) and names.str.contains(_CJK, regex=True).mean() >= 0.5


def label(context: RunContext, term: tuple[str, str]) -> str:
    """'门当户对 (matched rings)' in a ZTC shop, 'matched rings' elsewhere."""
    ztc, english = term
    return f"{ztc} ({english})" if chinese_shop(context) else english
