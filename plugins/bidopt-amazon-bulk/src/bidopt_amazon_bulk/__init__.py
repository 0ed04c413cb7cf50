"""bidopt-amazon-bulk: write bidopt's recommendations as an Amazon Ads SP bulk sheet."""

from __future__ import annotations

from bidopt_amazon_bulk.bulk import BULK_COLUMNS, BulkSheet, read_ids, to_bulk_rows

__version__ = "0.1.0"

__all__ = ["BULK_COLUMNS", "BulkSheet", "__version__", "read_ids", "to_bulk_rows"]
