"""bidopt recommendations as Amazon Ads Sponsored Products bulk sheet rows (bulksheets 2.0).

Format followed: the "Sponsored Products Campaigns" sheet of Amazon Ads bulk operations,
bulksheets 2.0 (the layout Amazon introduced in 2022, with ``Product``, ``Entity`` and
``Operation`` columns). Only the upload columns are written, in the template's order
(``BULK_COLUMNS``); download-only columns ("(Informational only)", metrics) are omitted,
which Amazon allows. Value conventions:

- ``Product`` = ``Sponsored Products``; ``Entity`` = ``Keyword``;
- ``Operation`` = ``Create`` (new keyword) or ``Update`` (bid or state change);
- ``State`` = ``enabled`` / ``paused`` (lower case, as in Amazon's downloads);
- ``Keyword Text`` / ``Match Type``: read from bidopt's keyword notation (see
  ``split_match_type``): ``[x]`` is ``x`` in ``exact``, ``"x"`` is ``x`` in ``phrase``,
  plain words take the match type the bulk file gives them or else the configured default;
- ``Bid`` = a plain number with 2 decimals, in the marketplace currency: bidopt's
  relative change applied to the keyword's real bid where the bulk file gives it (see
  ``_bids``), else the proposed bid; rows that change nothing (action ``keep``: rejected
  proposals listed with ``output.include_rejected``; or proposed = current, as older bidopt
  versions wrote them) are not written;
- ``Campaign ID`` / ``Ad Group ID`` / ``Keyword ID``: Amazon's IDs, looked up by name in a
  bulk file downloaded from the account (``ids``). A new keyword (``Create``) takes the
  Campaign ID and Ad Group ID of its existing campaign and ad group from that file. Where
  no ID is known, the ID columns carry the names: fine for ``Create`` rows in a campaign
  created in the same upload, but Amazon rejects ``Update`` rows that lack real IDs.

bidopt's ``item`` is the ad group. Amazon has no device-level keyword bid: a ``pc`` bid
row is skipped when the same keyword has a ``mobile`` row (and used otherwise). Actions
the sheet's Keyword entity cannot express (crowd premiums, regions, hour discounts) are
skipped and counted, and so are actions on auto-targeting groups (``close-match``, ...) and
product targets (``asin="B07..."``, ``category="..."``, ...), which are not keywords.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

PRODUCT = "Sponsored Products"
SHEET_NAME = "Sponsored Products Campaigns"
BULK_COLUMNS = (
    "Product", "Entity", "Operation", "Campaign ID", "Ad Group ID", "Portfolio ID", "Ad ID",
    "Keyword ID", "Product Targeting ID", "Campaign Name", "Ad Group Name", "Start Date",
    "End Date", "Targeting Type", "State", "Daily Budget", "SKU", "ASIN",
    "Ad Group Default Bid", "Bid", "Keyword Text", "Native Language Keyword",
    "Native Language Locale", "Match Type", "Bidding Strategy", "Placement", "Percentage",
    "Product Targeting Expression",
)
MATCH_TYPES = ("exact", "phrase", "broad")
MIN_BID = 0.02  # Amazon's lowest Sponsored Products keyword bid
EXPRESSIBLE = ("set_bid", "pause_keyword", "add_keyword")
KEEP = "keep"  # a rejected proposal listed with output.include_rejected: nothing to upload
# What Amazon's targeting reports show in the Targeting column for targets that are not
# keywords: auto-targeting groups, and product targeting expressions (asin="B07...",
# asin-expanded="B07...", category="..." brand="...", price<20, ...).
AUTO_TARGETS = frozenset({"close-match", "loose-match", "substitutes", "complements"})
PRODUCT_TARGET = re.compile(
    r"(asin|category|brand|price|rating|prime-shipping-eligible|keyword-group)(-[a-z-]+)?\s*[=<>]",
    re.IGNORECASE)
NOT_A_KEYWORD = "product or auto target: not a keyword"
# Columns of a downloaded bulk file used to find IDs (names as Amazon spells them there;
# downloads also carry "(Informational only)" name columns, used when present).
ID_KEYS = ("Campaign Name", "Ad Group Name", "Keyword Text")


@dataclass
class BulkSheet:
    """The rows to upload, and what could not be expressed (action -> count)."""

    rows: pd.DataFrame
    skipped: Counter = field(default_factory=Counter)
    sources: list = field(default_factory=list)
    """The index labels of the recommendations the rows come from, one per row."""

    def skipped_text(self) -> str:
        return ", ".join(f"{n} {action}" for action, n in sorted(self.skipped.items()))


def _name_column(frame: pd.DataFrame, name: str) -> pd.Series:
    informational = f"{name} (Informational only)"
    if informational in frame.columns:
        return frame[informational].where(frame[informational].notna(), frame.get(name))
    return frame[name]


def _number(text: pd.Series) -> pd.Series:
    """Amazon's bid cells: "0.75", or "0,75" in some marketplaces' downloads."""
    text = text.astype(str).str.strip()
    text = text.where(~text.str.fullmatch(r"\d+,\d+"), text.str.replace(",", ".", regex=False))
    return pd.to_numeric(text, errors="coerce")


def read_ids(path: Path) -> pd.DataFrame:
    """Keyword rows of a downloaded bulk file: names, match type, the three IDs and the
    keyword's bid (NaN where the file has no ``Bid`` column or cell)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame = pd.read_excel(path, sheet_name=SHEET_NAME, dtype=str)
    else:  # a CSV saved from Excel may be Windows-1252 or UTF-16, not UTF-8
        from bidopt.io.readers import detect_encoding

        with path.open("rb") as handle:
            encoding = detect_encoding(handle.read(1 << 20))
        frame = pd.read_csv(path, dtype=str, encoding=encoding)
    missing = [name for name in ("Entity", "Campaign ID", "Ad Group ID", "Keyword ID",
                                 "Campaign Name", "Ad Group Name", "Keyword Text", "Match Type")
               if name not in frame.columns
               and f"{name} (Informational only)" not in frame.columns]
    if missing:
        raise ValueError(f"{path} is not a Sponsored Products bulk file: it has no column "
                         + ", ".join(map(repr, missing)))
    frame = frame[frame["Entity"].str.strip().str.lower() == "keyword"]
    _check_ids_not_rounded(frame, path)
    return pd.DataFrame({
        "campaign": _name_column(frame, "Campaign Name").str.strip(),
        "item": _name_column(frame, "Ad Group Name").str.strip(),
        "keyword": frame["Keyword Text"].str.strip(),
        "match_type": frame["Match Type"].str.strip().str.lower(),
        "campaign_id": frame["Campaign ID"], "ad_group_id": frame["Ad Group ID"],
        "keyword_id": frame["Keyword ID"],
        "bid": _number(frame["Bid"]) if "Bid" in frame.columns else np.nan,
    }).reset_index(drop=True)


_ROUNDED_ID = re.compile(r"\d(?:[.,]\d+)?E\+?\d+", re.IGNORECASE)


def _check_ids_not_rounded(frame: pd.DataFrame, path: Path) -> None:
    """Amazon's IDs have 15 digits or more; a CSV saved from Excel writes them as 3.00E+14,
    rounded. Uploaded, such an ID names no keyword: refuse the file rather than write it."""
    for column in ("Campaign ID", "Ad Group ID", "Keyword ID"):
        text = frame[column].astype(str).str.strip()
        rounded = text.str.fullmatch(_ROUNDED_ID)
        if rounded.any():
            first = rounded.to_numpy().nonzero()[0][0]
            raise ValueError(
                f"{path}: {column} '{text.iloc[first]}' (and {int(rounded.sum()) - 1} more) is "
                "in scientific notation: Excel rounded the IDs when it saved this CSV; use the "
                "bulk file as downloaded (.xlsx)")


def _one_row_per_keyword(actions: pd.DataFrame, skipped: Counter) -> pd.DataFrame:
    """Amazon bids per keyword, not per device: keep mobile where both devices are given."""
    keys = ["campaign", "item", "keyword", "action"]
    is_pc = actions["platform"].astype(str).eq("pc")
    has_mobile = actions.assign(_m=~is_pc).groupby(keys, dropna=False)["_m"].transform("any")
    dropped = is_pc & has_mobile
    for action, n in actions.loc[dropped, "action"].value_counts().items():
        skipped[f"{action} (pc; Amazon has no device bids)"] += int(n)
    return actions[~dropped]


def split_match_type(keyword: pd.Series, default: str = "exact"
                     ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Read bidopt's keyword notation (``bidopt.io.parsing.with_match_type``): ``[x]`` is
    ``x`` in exact match, ``"x"`` is ``x`` in phrase match; plain words (broad, or no match
    type in the report) take ``default``. Returns the text, the match type and whether the
    notation named the match type."""
    keyword = keyword.astype(str).str.strip()
    long = keyword.str.len() > 2
    exact = long & keyword.str.startswith("[") & keyword.str.endswith("]")
    phrase = long & keyword.str.startswith('"') & keyword.str.endswith('"')
    marked = exact | phrase
    text = keyword.where(~marked, keyword.str[1:-1].str.strip())
    match_type = pd.Series(np.select([exact, phrase], ["exact", "phrase"], default),
                           index=keyword.index, dtype=object)
    return text, match_type, marked


def _bids(actions: pd.DataFrame, skipped: Counter) -> tuple[pd.DataFrame, np.ndarray]:
    """The Bid to write. bidopt's ``current`` is a guess where the reports have no bid
    column (Amazon's have none), so where the IDs file gives the keyword's real bid, bidopt's
    relative change is applied to it: real x proposed / current, rounded to the cent towards
    the real bid (the change never exceeds bidopt's, so the nightly change limit holds) and
    at least Amazon's minimum. A change that rounds away is not written."""
    proposed = pd.to_numeric(actions["proposed"], errors="coerce").to_numpy(float)
    current = pd.to_numeric(actions["current"], errors="coerce").to_numpy(float)
    real = pd.to_numeric(actions["_real_bid"], errors="coerce").to_numpy(float)
    scaled = ((actions["action"] == "set_bid").to_numpy() & np.isfinite(proposed)
              & (real > 0) & (current > 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        cents = real * proposed / current * 100
    cents = np.where(proposed > current, np.floor(cents + 1e-6), np.ceil(cents - 1e-6))
    bid = np.where(scaled, np.maximum(cents / 100, MIN_BID), proposed)
    same = scaled & np.isclose(bid, real)
    for action, n in actions.loc[same, "action"].value_counts().items():
        skipped[f"{action} (rounds to the real bid: no change)"] += int(n)
    return actions[~same], bid[~same]


def is_target(keyword: pd.Series) -> pd.Series:
    """Auto-targeting groups and product targets (the sheet's Product Targeting entity,
    not a Keyword): true where ``keyword`` is one."""
    text = keyword.astype(str).str.strip()
    return (text.str.lower().isin(AUTO_TARGETS)
            | text.map(lambda t: PRODUCT_TARGET.match(t) is not None).astype(bool))


def to_bulk_rows(recommendations: pd.DataFrame, ids: pd.DataFrame | None = None,
                 default_match_type: str = "exact") -> BulkSheet:
    """Map bidopt actions onto bulk sheet Keyword rows; see the module docstring."""
    skipped: Counter = Counter()
    # rejected proposals listed with output.include_rejected (action 'keep') change nothing:
    # not written, and not counted as recommendations left out
    actions = recommendations[recommendations["action"].astype(str) != KEEP].copy()
    actions["_source"] = actions.index  # carried through the merges below
    for action, n in actions.loc[~actions["action"].isin(EXPRESSIBLE), "action"].value_counts().items():
        skipped[str(action)] += int(n)
    actions = actions[actions["action"].isin(EXPRESSIBLE)]
    target = is_target(actions["keyword"])
    for action, n in actions.loc[target, "action"].value_counts().items():
        skipped[f"{action} ({NOT_A_KEYWORD})"] += int(n)
    actions = _one_row_per_keyword(actions[~target], skipped)
    # proposed = current changes nothing (rejected proposals written with
    # output.include_rejected): no row, or the upload would set the guessed current bid
    current = pd.to_numeric(actions["current"], errors="coerce")
    same = np.isclose(pd.to_numeric(actions["proposed"], errors="coerce"), current)
    for action, n in actions.loc[same, "action"].value_counts().items():
        skipped[f"{action} (proposed = current: no change)"] += int(n)
    actions = actions[~same]
    text, match_type, marked = split_match_type(actions["keyword"], default_match_type)
    actions = actions.assign(text=text, match_type=match_type, _marked=marked,
                             campaign_id=actions["campaign"], ad_group_id=actions["item"],
                             keyword_id="", _real_bid=np.nan)
    if ids is not None and len(ids):
        # _rec numbers the recommendations: the merge gives a recommendation one row per
        # match type of its words in the bulk file, and skips are counted per recommendation
        base = actions.drop(columns=["campaign_id", "ad_group_id", "keyword_id", "_real_bid"]
                            ).assign(_rec=np.arange(len(actions)))
        found = base.merge(ids.rename(columns={"keyword": "text", "match_type": "_file_type",
                                               "bid": "_real_bid"}),
                           on=["campaign", "item", "text"], how="left")
        # [x] and "x" name their match type, and find only a keyword of that match type.
        # Plain words are broad in bidopt's notation (or of no stated match type, where the
        # report has none): the file's broad keyword where it has the words in several
        # match types, else whatever match type it has them in.
        file_type, plain = found["_file_type"], ~found["_marked"]
        has_broad = (plain & file_type.eq("broad")).groupby(found["_rec"]).transform("any")
        other = ((~plain & file_type.notna() & file_type.ne(found["match_type"]))
                 | (plain & has_broad & file_type.ne("broad")))
        found = found[~other]
        lost = np.setdiff1d(np.arange(len(actions)), found["_rec"].to_numpy())
        found = pd.concat([found, base.iloc[lost]], ignore_index=True
                          ).sort_values("_rec", kind="stable", ignore_index=True)
        found["match_type"] = found["_file_type"].fillna(found["match_type"])
        found = found.drop(columns="_file_type")
        updates = found["action"] != "add_keyword"
        ambiguous = updates & found["_rec"].duplicated(keep=False)
        missing = updates & found["keyword_id"].isna()
        for reason, mask in (("several match types in the bulk file", ambiguous),
                             ("no Keyword ID in the bulk file", missing)):
            counted = found[mask].drop_duplicates("_rec")
            for action, n in counted["action"].value_counts().items():
                skipped[f"{action} ({reason})"] += int(n)
        found = found[~(ambiguous | missing)].drop_duplicates("_rec").drop(columns="_rec")
        # a new keyword goes into the existing campaign and ad group: their IDs, found on
        # any keyword of that ad group (or campaign) in the bulk file
        adds = (found["action"] == "add_keyword").to_numpy()
        groups = ids.dropna(subset=["ad_group_id"]).drop_duplicates(["campaign", "item"])
        campaigns = ids.dropna(subset=["campaign_id"]).drop_duplicates("campaign")
        group_id = pd.MultiIndex.from_frame(found[["campaign", "item"]]).map(
            dict(zip(zip(groups["campaign"], groups["item"], strict=True),
                     groups["ad_group_id"], strict=True)))
        campaign_id = found["campaign"].map(campaigns.set_index("campaign")["campaign_id"])
        found.loc[adds, "ad_group_id"] = np.asarray(group_id, dtype=object)[adds]
        found.loc[adds, "campaign_id"] = campaign_id.to_numpy(object)[adds]
        found["campaign_id"] = found["campaign_id"].fillna(found["campaign"])
        found["ad_group_id"] = found["ad_group_id"].fillna(found["item"])
        found["keyword_id"] = found["keyword_id"].fillna("")
        actions = found
    actions, bid = _bids(actions, skipped)
    action = actions["action"].to_numpy(str)
    rows = pd.DataFrame({column: "" for column in BULK_COLUMNS}, index=range(len(actions)))
    rows["Product"] = PRODUCT
    rows["Entity"] = "Keyword"
    rows["Operation"] = np.where(action == "add_keyword", "Create", "Update")
    rows["Campaign ID"] = actions["campaign_id"].to_numpy(str)
    rows["Ad Group ID"] = actions["ad_group_id"].to_numpy(str)
    rows["Keyword ID"] = np.where(action == "add_keyword", "", actions["keyword_id"].to_numpy(str))
    rows["Campaign Name"] = actions["campaign"].to_numpy(str)
    rows["Ad Group Name"] = actions["item"].to_numpy(str)
    rows["State"] = np.where(action == "pause_keyword", "paused", "enabled")
    rows["Bid"] = np.where(action == "pause_keyword", "",
                           [f"{b:.2f}" if np.isfinite(b) else "" for b in bid])
    rows["Keyword Text"] = actions["text"].to_numpy(str)
    rows["Match Type"] = actions["match_type"].to_numpy(str)
    return BulkSheet(rows, skipped, actions["_source"].tolist())


def write_csv(sheet: BulkSheet, path: Path) -> None:
    """UTF-8 with BOM (Excel and Amazon's uploader both read it), comma-separated."""
    sheet.rows.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def write_xlsx(sheet: BulkSheet, path: Path) -> None:
    """An .xlsx workbook with the single sheet ``Sponsored Products Campaigns``; every cell
    is text except Bid, as in Amazon's template (IDs must not become floats). Text is stored
    as text even where it starts with ``=``: openpyxl would otherwise store a campaign or
    keyword named ``=...`` as a formula, which Excel runs and Amazon never sees as the name."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = SHEET_NAME
    ws.append(list(BULK_COLUMNS))
    bid_column = BULK_COLUMNS.index("Bid")
    for values in sheet.rows.itertuples(index=False):
        cells = [v if v != "" else None for v in values]
        if cells[bid_column] is not None:
            cells[bid_column] = float(cells[bid_column])
        ws.append(cells)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    with open(path, "wb") as handle:
        book.save(handle)
