"""Mappings and helpers shared by the bring-your-own-data tests (tests/test_ingest*.py)."""

from __future__ import annotations

import pandas as pd

from pipeline.data.mapping import Mapping

ONLINE_RETAIL = Mapping(
    "transactions",
    id_column="CustomerID",
    timestamp_column="InvoiceDate",
    quantity_column="Quantity",
    unit_price_column="UnitPrice",
    order_column="InvoiceNo",
)
CRM = Mapping(
    "customer_table",
    id_column="Client Ref",
    feature_columns={
        "Customer_Value": ("Total Spend",),
        "Purchase_Frequency": ("Online orders", "Store orders"),
        "Campaign_Response": ("Promo responses",),
    },
    tenure_date_column="Member since",
    recency_column="Days since last order",
)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode()
