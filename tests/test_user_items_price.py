"""An items file whose price cells are not numbers, empty or zero."""

from __future__ import annotations

from pathlib import Path

from bidopt.io import normalise_table, read_raw_table


def test_each_bad_price_is_named_once(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("item,price\nfoo,abc\nbar,\nbaz,-\nqux,0\nok,9.9\n", encoding="utf-8")
    _, problems = normalise_table(read_raw_table(path), "items", str(path))
    found = [(p.row, p.message) for p in problems if p.severity == "error"]
    assert found == [(2, "'abc' is not a number"), (3, "missing price"), (4, "missing price"),
                     (5, "price 0 is not positive")]
