"""Cross-check derived ratio columns (ROI, CTR, CPC) against the counts.

The counts are always what bidopt uses; a ratio column that disagrees with them usually
means a column was mapped wrongly or money is in another unit (API exports give cost in 分,
hundredths), which would silently distort every ROI. One warning per ratio column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bidopt.errors import Problem
from bidopt.io.aliases import header_key
from bidopt.io.parsing import parse_numbers

# Ratio header key -> (numerator, denominator) of the canonical counts.
RATIOS = {
    "投入产出比": ("gmv", "cost"),
    "实际投产比": ("gmv", "cost"),
    "roas": ("gmv", "cost"),
    "点击率": ("clicks", "impressions"),
    "ctr": ("clicks", "impressions"),
    "平均点击花费": ("cost", "clicks"),
    "avgcpc": ("cost", "clicks"),
    "costperclickcpc": ("cost", "clicks"),
}
RELATIVE_TOLERANCE = 0.05  # plus half a unit of the last digit the export wrote


def rounding_unit(column: pd.Series) -> np.ndarray:
    """Half a unit of each cell's last written digit ("1.2%" -> 0.0005, "200" -> 0.5)."""
    codes, uniques = pd.factorize(column.astype(str), use_na_sentinel=False)
    text = pd.Series(np.asarray(uniques, dtype=object), dtype=str).str.strip()
    decimals = text.str.extract(r"\.(\d+)", expand=False).str.len().fillna(0).to_numpy(float)
    decimals = decimals + np.where(text.str.endswith("%").to_numpy(), 2, 0)
    return (0.5 * 10.0**-decimals)[codes]


def cross_check_ratios(
    frame: pd.DataFrame, cells: pd.DataFrame, headers: list[str], row_numbers: np.ndarray, file: str
) -> list[Problem]:
    """Warn where a ratio column disagrees with the ratio of the counts."""
    problems: list[Problem] = []
    for position, header in enumerate(headers):
        pair = RATIOS.get(header_key(header))
        if pair is None:
            continue
        reported, _, _ = parse_numbers(cells[position])
        half_unit = rounding_unit(cells[position])
        top = frame[pair[0]].to_numpy(dtype=float)
        bottom = frame[pair[1]].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            computed = np.where(bottom > 0, top / bottom, np.nan)
        usable = np.isfinite(reported) & np.isfinite(computed) & (computed > 0)
        if not usable.any():
            continue

        def agrees(scale: float, rep=reported, com=computed, unit=half_unit) -> np.ndarray:
            expected = com * scale
            return np.abs(rep - expected) <= RELATIVE_TOLERANCE * expected + unit * 1.001

        # A ratio written as a plain percent number ("5.00" for 5%) is not a disagreement.
        ok = agrees(1.0) | (agrees(100.0) if pair[1] == "impressions" else False)
        bad = usable & ~ok
        if not bad.any():
            continue
        first = int(np.flatnonzero(bad)[0])
        message = (
            f"{int(bad.sum())} of {int(usable.sum())} rows disagree with "
            f"{pair[0]}/{pair[1]} (row {row_numbers[first]}: {reported[first]:g} reported, "
            f"{computed[first]:.4g} from the counts); the counts are used"
        )
        scaled = usable & (agrees(100.0) | agrees(0.01))
        if pair[1] != "impressions" and scaled[bad].mean() > 0.9:
            message += "; money columns may be in 分 (hundredths): name the column e.g. 花费(分)"
        problems.append(Problem(file=file, column=header, message=message, severity="warning"))
    return problems
