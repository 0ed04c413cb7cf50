"""Write a simulated shop as the CSV files a seller would export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from bidopt.io.aliases import ZTC_HEADERS, ZTC_PLATFORM
from bidopt.io.writer import atomic_output

if TYPE_CHECKING:
    from bidopt.simulate import SimulatedShop

FILES = ("keyword_report", "crowd_report", "region_report", "hour_report", "items",
         "candidates")


def write_shop(shop: SimulatedShop, out_dir: Path, *, chinese: bool = False) -> dict[str, Path]:
    """Write reports, items and candidates to ``out_dir``; return {name: path}.

    English: canonical headers, UTF-8. ``chinese``: ZTC export headers and platform values
    (无线 / 计算机), GBK-encoded, as Taobao's exports are. Dates are written YYYY-MM-DD.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in FILES:
        frame: pd.DataFrame = getattr(shop, name).copy()
        if "date" in frame.columns:
            frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
        if chinese:
            if "platform" in frame.columns:
                frame["platform"] = frame["platform"].map(ZTC_PLATFORM)
            frame = frame.rename(columns=ZTC_HEADERS)
        path = out_dir / f"{name}.csv"
        # written beside, then renamed: an interrupted run leaves no file that looks whole
        with atomic_output(path) as temporary:
            frame.to_csv(temporary, index=False, encoding="gbk" if chinese else "utf-8")
        written[name] = path
    return written
