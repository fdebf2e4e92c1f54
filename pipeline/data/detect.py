"""Which kind of table is it, and which columns mean what: kind detection and suggested mappings.

:func:`detect_kind` reads the column names and values of a table (never the
file name) and says whether it is the reference marketing table, another
customer table or a transaction log, with its evidence; :func:`suggest_mapping`
proposes the columns of each feature for the user to check.  Validation before
training is :mod:`pipeline.data.ingest`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np
import pandas as pd

from pipeline.data.coerce import parse_timestamps, read_numbers
from pipeline.data.mapping import INPUT_KINDS, RESPONSE, TENURE, Mapping
from pipeline.data.reading import closest_columns
from pipeline.errors import DataError
from pipeline.features.custom import (
    RESERVED_COLUMNS,
    categorical_columns,
)
from pipeline.features.definitions import (
    FEATURE_DEFINITIONS,
    REQUIRED_COLUMNS,
)

__all__ = [
    "KIND_LABELS",
    "Detection",
    "column_words",
    "detect_kind",
    "is_marketing",
    "near_marketing",
    "numeric_candidates",
    "suggest_mapping",
]

KIND_LABELS: dict[str, str] = {
    "marketing": "the reference marketing-campaign table",
    "customer_table": "a customer table (one row per customer)",
    "transactions": "a transaction log (one row per order line)",
}
_SAMPLE = 500

# Column-name synonyms, as lower-case words (plurals are matched too).
VALUE_WORDS = frozenset(
    {"spend", "spent", "amount", "total", "revenue", "sale", "value", "monetary", "turnover", "mnt"}
)
FREQUENCY_WORDS = frozenset({"order", "purchase", "frequency", "count", "visit", "transaction"})
RESPONSE_WORDS = frozenset(
    {"campaign", "response", "responded", "accepted", "promo", "promotion", "cmp", "coupon", "voucher"}
)
DATE_WORDS = frozenset(
    {"date", "joined", "join", "signup", "created", "since", "first", "enrolled", "enrolment", "registered", "dt"}
)
TENURE_WORDS = frozenset({"tenure", "seniority"})
RECENCY_WORDS = frozenset({"recency"})
ID_WORDS = frozenset({"id", "customer", "client", "user", "member", "account", "cust", "ref", "buyer"})
CUSTOMER_WORDS = frozenset({"customer", "client", "user", "member", "account", "cust", "buyer", "shopper"})
ORDER_WORDS = frozenset({"invoice", "order", "transaction", "receipt", "basket", "ticket", "bill", "txn"})
TIME_WORDS = frozenset({"date", "time", "timestamp", "datetime", "created", "ordered", "purchased", "day", "when"})
QUANTITY_WORDS = frozenset({"quantity", "qty", "units", "pieces", "pcs"})
PRICE_WORDS = frozenset({"price", "unitprice", "rate", "cost"})
#: Words that mark a column as something else (never mapped to a feature).
OTHER_WORDS = frozenset({"birth", "age", "income", "kid", "kidhome", "teen", "teenhome", "complain", "zip", "phone"})
_WEAK_VALUE = "total"


@dataclasses.dataclass(frozen=True)
class Detection:
    """What kind of input a table is, and why.

    Attributes
    ----------
    kind : str
        One of :data:`~pipeline.data.mapping.INPUT_KINDS`.
    confidence : str
        ``"high"``, ``"medium"`` or ``"low"``.
    evidence : tuple of str
        Plain sentences: what was found (or missing).
    """

    kind: str
    confidence: str
    evidence: tuple[str, ...]

    @property
    def label(self) -> str:
        """The kind in words."""
        return KIND_LABELS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"kind": self.kind, "label": self.label, "confidence": self.confidence, "evidence": list(self.evidence)}


def detect_kind(table: pd.DataFrame) -> Detection:
    """Detect the kind of input from a raw table (output of ``read_table``).

    Parameters
    ----------
    table : DataFrame
        Raw columns.

    Returns
    -------
    Detection
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if is_marketing(table):
        return Detection(
            "marketing",
            "high",
            (
                f"All {len(REQUIRED_COLUMNS)} columns the reference marketing-campaign table's features need are present "
                "(MntWines…, Num…Purchases, AcceptedCmp1–5, Response, Dt_Customer).",
            ),
        )
    profile = _profile(table)
    tx = _suggest_transactions(table, profile)
    evidence: list[str] = []
    if tx.id_column and tx.timestamp_column and (tx.amount_column or (tx.quantity_column and tx.unit_price_column)):
        ids = profile[tx.id_column]
        lines_per = ids["n"] / max(ids["unique"], 1)
        if ids["unique"] < 0.8 * ids["n"]:
            amount = (
                f"the amount column {tx.amount_column}"
                if tx.amount_column
                else f"amount = {tx.quantity_column} × {tx.unit_price_column}"
            )
            evidence += [
                f"{tx.id_column} repeats: {ids['unique']:,} distinct customers over {ids['n']:,} lines "
                f"({lines_per:.1f} lines per customer).",
                f"{tx.timestamp_column} holds timestamps ({profile[tx.timestamp_column]['dates']:.0%} of sampled values read).",
                f"Spend comes from {amount}.",
            ]
            if tx.order_column:
                evidence.append(f"{tx.order_column} looks like an order (invoice) id.")
            strong = tx.order_column is not None and lines_per >= 1.5
            return Detection("transactions", "high" if strong else "medium", tuple(evidence))
        evidence.append(
            f"{tx.id_column}, {tx.timestamp_column} and an amount look like a transaction log, "
            f"but {tx.id_column} hardly repeats ({ids['unique']:,} distinct of {ids['n']:,}), so one row is one customer."
        )
    if near_marketing(table):
        near = closest_columns(missing, table.columns)
        shown = "; ".join(f"{c}" + (f" (closest: {', '.join(near[c])})" if near[c] else "") for c in missing[:5])
        evidence.append(
            f"Looks like the reference marketing table but {len(missing)} of its columns are missing: {shown}"
            + ("…" if len(missing) > 5 else ".")
        )
    suggestion = _suggest_customer_table(table, profile)
    if suggestion.id_column:
        uniq = profile[suggestion.id_column]
        evidence.append(
            f"{suggestion.id_column} identifies customers ({uniq['unique']:,} distinct values in {uniq['n']:,} rows)."
        )
    else:
        evidence.append("No customer id column was recognised.")
    found = [
        f"{FEATURE_DEFINITIONS[f].label.lower()} ← {_source_text(suggestion, f)}"
        for f in suggestion.features
        if f in FEATURE_DEFINITIONS
    ]
    evidence.append("Recognised: " + ("; ".join(found) if found else "no behavioural feature columns") + ".")
    if suggestion.custom_features:
        evidence.append(
            "Numeric columns offered as your own features (clustered as given): "
            + ", ".join(suggestion.custom_features)
            + "."
        )
    if suggestion.categorical_features:
        evidence.append(
            "Categorical columns profiled per segment (choose them to one-hot encode them into the clustering): "
            + ", ".join(suggestion.categorical_features)
            + "."
        )
    confident = suggestion.id_column is not None and len(suggestion.features) >= 2
    return Detection("customer_table", "high" if confident else "low", tuple(evidence))


def is_marketing(table: pd.DataFrame) -> bool:
    """True when every column the reference table's features need is present."""
    return all(c in table.columns for c in REQUIRED_COLUMNS)


def near_marketing(table: pd.DataFrame) -> bool:
    """True when at least half the reference table's feature columns are present (a damaged copy)."""
    return sum(c in table.columns for c in REQUIRED_COLUMNS) >= len(REQUIRED_COLUMNS) / 2


def _source_text(mapping: Mapping, feature: str) -> str:
    if feature == TENURE and mapping.tenure_date_column:
        return f"date {mapping.tenure_date_column}"
    if feature in mapping.custom_features:
        return "the column as given"
    return " + ".join(mapping.feature_columns.get(feature, ()))


# ---------------------------------------------------------------- suggestions


def suggest_mapping(table: pd.DataFrame, kind: str | None = None) -> Mapping:
    """A mapping pre-filled from column names and value types.

    Parameters
    ----------
    table : DataFrame
        Raw columns (output of ``read_table``).
    kind : str or None
        The input kind; ``None`` detects it.

    Returns
    -------
    Mapping
        Unrecognised parts are left empty (``None``) for the user to fill in.
    """
    kind = kind or detect_kind(table).kind
    if kind not in INPUT_KINDS:
        raise DataError(f"Unknown input kind {kind!r}; use one of {', '.join(INPUT_KINDS)}.")
    if kind == "marketing":
        return Mapping("marketing")
    profile = _profile(table)
    if kind == "transactions":
        return _suggest_transactions(table, profile)
    return _suggest_customer_table(table, profile)


def column_words(name: str) -> frozenset[str]:
    """Lower-case words of a column name, camelCase split, singulars added.

    ``"NumWebPurchases"`` → {num, web, purchases, purchase};
    ``"CustomerID"`` → {customer, id}.
    """
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    words = [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]
    singular = [w[:-1] for w in words if len(w) > 3 and w.endswith("s") and not w.endswith("ss")]
    return frozenset(words + singular)


def _profile(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per column: rows with a value, distinct values, share of sampled values that are numbers / dates."""
    out: dict[str, dict[str, Any]] = {}
    for col in table.columns:
        values = table[col]
        sample = values.iloc[np.flatnonzero(values.notna().to_numpy())[:_SAMPLE]]  # no copy of a long column
        numbers = dates = 0.0
        if len(sample):
            numbers = float(read_numbers(sample)[0].notna().mean())
            if numbers < 0.5 or pd.api.types.is_datetime64_any_dtype(values):
                dates = float(parse_timestamps(sample).values.notna().mean())
        out[str(col)] = {
            "n": int(values.notna().sum()),
            "unique": int(values.nunique()),
            "numbers": numbers,
            "dates": dates,
        }
    return out


def _numeric(profile: dict[str, dict[str, Any]], col: str) -> bool:
    """Mostly numbers, and not constant (a constant column cannot be a feature)."""
    return profile[col]["n"] > 0 and profile[col]["numbers"] >= 0.8 and profile[col]["unique"] > 1


def _date_like(profile: dict[str, dict[str, Any]], col: str) -> bool:
    return profile[col]["n"] > 0 and profile[col]["dates"] >= 0.8


def _best(candidates: dict[str, float]) -> str | None:
    """The highest-scoring column (first in table order on ties), or None."""
    scored = [(score, -i, col) for i, (col, score) in enumerate(candidates.items()) if score > 0]
    return max(scored)[2] if scored else None


def _suggest_customer_table(table: pd.DataFrame, profile: dict[str, dict[str, Any]]) -> Mapping:
    cols = [str(c) for c in table.columns]
    words = {c: column_words(c) for c in cols}
    usable = [c for c in cols if not (words[c] & OTHER_WORDS)]
    recency = _best(
        {
            c: len(words[c] & RECENCY_WORDS) + ("last" in words[c] and bool(words[c] & {"day", "since"}))
            for c in usable
            if _numeric(profile, c)
        }
    )
    usable = [c for c in usable if c != recency and "last" not in words[c]]

    feature_scores: dict[str, dict[str, float]] = {}
    for c in usable:
        if not _numeric(profile, c):
            continue
        w = words[c]
        scores = {
            "Customer_Value": len(w & (VALUE_WORDS - {_WEAK_VALUE})) + 0.5 * (_WEAK_VALUE in w),
            "Purchase_Frequency": float(len(w & FREQUENCY_WORDS)),
            RESPONSE: float(len(w & RESPONSE_WORDS)),
            TENURE: float(len(w & TENURE_WORDS)) + 0.5 * ("year" in w and bool(w & CUSTOMER_WORDS)),
        }
        top = max(scores.values())
        winners = [f for f, s in scores.items() if s == top]
        if top > 0 and len(winners) == 1:
            feature_scores.setdefault(winners[0], {})[c] = top
    feature_columns: dict[str, tuple[str, ...]] = {}
    for feat, found in feature_scores.items():
        totals = [c for c in found if _WEAK_VALUE in words[c]]
        chosen = totals[:1] if totals and len(found) > 1 else list(found)
        feature_columns[feat] = tuple(chosen)
    claimed = {c for chosen in feature_columns.values() for c in chosen}

    tenure_date = None
    if TENURE not in feature_columns:
        tenure_date = _best(
            {c: len(words[c] & DATE_WORDS) + 0.5 for c in usable if c not in claimed and _date_like(profile, c)}
        )
    taken = claimed | {tenure_date, recency}
    id_column = _best(
        {
            c: 3 * ("id" in words[c])
            + 2 * bool(words[c] & CUSTOMER_WORDS)
            + bool(words[c] & (ID_WORDS - {"id"}))
            + 2 * (profile[c]["unique"] >= 0.9 * profile[c]["n"] > 0)
            for c in cols
            if c not in taken and (words[c] & ID_WORDS) and not _date_like(profile, c)
        }
    )
    custom: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    if len(feature_columns) + bool(tenure_date) < 2:
        # The behavioural features cannot be computed: offer the table's own numeric columns.
        behavioural = {c for found in feature_scores.values() for c in found}
        custom = numeric_candidates(table, profile, exclude=(id_column, tenure_date, recency, *behavioural))
        categorical = categorical_columns(table, exclude=tuple(c for c in (id_column, tenure_date) if c))
    return Mapping(
        "customer_table",
        id_column=id_column,
        feature_columns=feature_columns,
        tenure_date_column=tenure_date,
        recency_column=recency,
        custom_features=custom,
        categorical_features=categorical,
        categorical_weight=0.0,
    )


def numeric_candidates(
    table: pd.DataFrame, profile: dict[str, dict[str, Any]] | None = None, exclude: tuple[str | None, ...] = ()
) -> tuple[str, ...]:
    """Numeric columns that can be clustered as custom features, in table order.

    Mostly numbers and not constant; not an id (named like one), a phone
    number or a zip code, not a date, and not a name the scored table uses
    itself (:data:`pipeline.features.custom.RESERVED_COLUMNS`).
    """
    profile = profile if profile is not None else _profile(table)
    out = []
    for col in map(str, table.columns):
        w = column_words(col)
        if col in exclude or col in RESERVED_COLUMNS or not _numeric(profile, col) or _date_like(profile, col):
            continue
        if "id" in w or w & {"zip", "phone", "postcode", "code"}:
            continue
        out.append(col)
    return tuple(out)


def _suggest_transactions(table: pd.DataFrame, profile: dict[str, dict[str, Any]]) -> Mapping:
    cols = [str(c) for c in table.columns]
    words = {c: column_words(c) for c in cols}
    timestamp = _best({c: 1 + len(words[c] & TIME_WORDS) for c in cols if _date_like(profile, c)})
    rest = [c for c in cols if c != timestamp]
    customer = _best(
        {
            c: 2 * bool(words[c] & CUSTOMER_WORDS) + ("id" in words[c]) + (profile[c]["unique"] < 0.8 * profile[c]["n"])
            for c in rest
            if words[c] & CUSTOMER_WORDS and not words[c] & ORDER_WORDS
        }
    )
    rest = [c for c in rest if c != customer]
    order = _best(
        {
            c: 2 * len(words[c] & ORDER_WORDS) + bool(words[c] & {"id", "no", "number", "nr"})
            for c in rest
            if words[c] & ORDER_WORDS and not _date_like(profile, c)
        }
    )
    rest = [c for c in rest if c != order]
    numeric = [c for c in rest if _numeric(profile, c)]
    amount = _best({c: len(words[c] & VALUE_WORDS) for c in numeric if not words[c] & (PRICE_WORDS | QUANTITY_WORDS)})
    quantity = price = None
    if amount is None:
        quantity = _best({c: len(words[c] & QUANTITY_WORDS) for c in numeric})
        price = _best({c: len(words[c] & PRICE_WORDS) + ("unit" in words[c]) for c in numeric if c != quantity})
    used = {timestamp, customer, order, amount, quantity, price}
    campaign = _best({c: len(words[c] & RESPONSE_WORDS) for c in cols if c not in used})
    return Mapping(
        "transactions",
        id_column=customer,
        timestamp_column=timestamp,
        amount_column=amount,
        quantity_column=quantity,
        unit_price_column=price,
        order_column=order,
        campaign_column=campaign,
    )
