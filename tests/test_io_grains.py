"""split_report_grains: sums per grain, no double counting across report levels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bidopt.io import normalise_table, read_raw_table, split_report_grains
from bidopt.io.grains import grain_columns
from bidopt.schema import GRAIN_KEYS


def report(tmp_path: Path, name: str, text: str) -> pd.DataFrame:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    frame, problems = normalise_table(read_raw_table(path), "report", str(path))
    assert [p for p in problems if p.severity == "error"] == []
    return frame


def test_keywords_summed_over_crowd_region_hour(tmp_path: Path) -> None:
    frame = report(
        tmp_path,
        "kw.csv",
        "date,campaign,item,keyword,platform,crowd,bid,impressions,clicks,cost,orders,gmv,avg_rank,quality_score\n"
        "2024-01-01,C,i,k,mobile,women,1.0,300,6,3.0,1,50,2,6\n"
        "2024-01-01,C,i,k,mobile,men,2.0,100,2,1.0,0,0,6,8\n"
        "2024-01-01,C,i,k,pc,women,0.05,10,0,0,0,0,,\n"
        "2024-01-02,C,i,k,mobile,women,1.0,50,1,0.5,0,0,3,6\n",
    )
    grains = split_report_grains([frame])
    kw = grains["keywords"]
    assert list(kw.columns) == grain_columns("keywords")
    assert len(kw) == 3
    day1 = kw[(kw["date"] == "2024-01-01") & (kw["platform"] == "mobile")].iloc[0]
    assert day1["impressions"] == 400 and day1["clicks"] == 8 and day1["cost"] == 4.0
    assert day1["gmv"] == 50 and day1["orders"] == 1
    assert day1["bid"] == pytest.approx(1.5)
    assert day1["avg_rank"] == pytest.approx((2 * 300 + 6 * 100) / 400)
    assert day1["quality_score"] == pytest.approx(7.0)
    pc = kw[kw["platform"] == "pc"].iloc[0]
    assert np.isnan(pc["avg_rank"]) and np.isnan(pc["quality_score"])
    crowds = grains["crowds"]
    assert set(crowds["crowd"]) == {"women", "men"}
    women = crowds[(crowds["crowd"] == "women") & (crowds["date"] == "2024-01-01")].iloc[0]
    assert women["impressions"] == 310  # summed over platform
    assert grains["regions"].empty and grains["hours"].empty


def test_one_file_per_dimension_and_no_double_counting(tmp_path: Path) -> None:
    keywords = report(
        tmp_path,
        "kw.csv",
        "日期,推广计划,推广单元,关键词,投放平台,展现量,点击量,花费,成交笔数,成交金额\n"
        "2024-01-01,A,u1,k,无线,1000,20,10,1,50\n",
    )
    keyword_by_crowd = report(
        tmp_path,
        "kwcrowd.csv",
        "日期,推广计划,推广单元,关键词,投放平台,人群,展现量,点击量,花费,成交笔数,成交金额\n"
        "2024-01-01,A,u1,k,无线,女,600,12,6,1,50\n"
        "2024-01-01,A,u1,k,无线,男,400,8,4,0,0\n",
    )
    regions = report(
        tmp_path,
        "region.csv",
        "日期,推广计划,地域,展现量,点击量,花费,成交笔数,成交金额\n"
        "2024-01-01,A,北京,700,14,7,1,50\n"
        "2024-01-01,A,新疆,300,6,3,0,0\n"
        "2024-01-01,A,全部,1000,20,10,1,50\n",
    )
    hours = report(
        tmp_path,
        "hour.csv",
        "日期,推广计划,小时,展现量,点击量,花费,成交笔数,成交金额\n2024-01-01,A,10,600,12,6,1,50\n2024-01-01,A,9,400,8,4,0,0\n",
    )
    grains = split_report_grains([keywords, keyword_by_crowd, regions, hours])
    kw = grains["keywords"]
    assert len(kw) == 1 and kw.loc[0, "impressions"] == 1000  # not 2000
    assert sorted(grains["crowds"]["impressions"]) == [400, 600]
    regions_out = grains["regions"].set_index("region")["clicks"].to_dict()
    assert regions_out == {"北京": 14, "新疆": 6}  # the 全部 row belongs to no grain
    hours_out = grains["hours"]
    assert hours_out["hour"].dtype.kind == "i"
    assert hours_out["hour"].tolist() == [9, 10]
    for grain in GRAIN_KEYS:
        assert list(grains[grain].columns) == grain_columns(grain)


def test_no_frames_or_no_rows_give_empty_grains_with_columns() -> None:
    grains = split_report_grains([])
    for grain in GRAIN_KEYS:
        assert grains[grain].empty
        assert list(grains[grain].columns) == grain_columns(grain)
    assert str(grains["keywords"]["date"].dtype).startswith("datetime64")


def test_subtotal_rows_and_all_platform_rows_are_not_summed_again(tmp_path: Path) -> None:
    """ZTC exports may carry a 小计 row per campaign and a 全部 row per keyword beside its
    无线端 / PC端 rows; both are sums of rows already read."""
    frame = report(
        tmp_path,
        "kw.csv",
        "日期,推广计划,推广单元,关键词,投放平台,展现量,点击量,花费,成交笔数,成交金额\n"
        "2024-01-01,A,u1,k,无线端,1000,20,10,2,100\n"
        "2024-01-01,A,u1,k,PC端,100,2,1,0,0\n"
        "2024-01-01,A,u1,k,全部,1100,22,11,2,100\n"
        "2024-01-01,A,u1,j,手机,50,1,1,0,0\n"
        "2024-01-01,A,u1,小计,全部,1150,23,12,2,100\n"
        "总计,,,,,1150,23,12,2,100\n",
    )
    kw = split_report_grains([frame])["keywords"]
    pairs = sorted(zip(kw["keyword"], kw["platform"], strict=True))
    assert pairs == [("j", "mobile"), ("k", "mobile"),
                     ("k", "pc")]
    assert kw["clicks"].sum() == 23 and kw["cost"].sum() == 12
