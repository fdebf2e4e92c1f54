"""How to read a user's table: the column mapping, saved as a small JSON file.

A :class:`Mapping` says which kind of input a table is and where each of the
four behavioural features (:data:`pipeline.features.definitions.FEATURE_DEFINITIONS`)
and the customer id come from.

``"marketing"``
    The reference marketing-campaign table; no columns to map.
``"customer_table"``
    One row per customer.  Each feature is one column, the sum of several
    columns, or left out; tenure may instead come from a date column
    (enrolment, first purchase) counted to the as-of date.  An optional
    column of days since the last purchase becomes the ``Recency`` profile
    attribute.
``"transactions"``
    One row per order line, aggregated by :mod:`pipeline.data.transactions`:
    customer id, timestamp, an amount column *or* quantity and unit price,
    optionally an order (invoice) id and a campaign flag.

The JSON form (``to_json``/``save``) is meant to be read and edited by
people::

    {
      "format": "customer-segmentation/mapping",
      "version": 1,
      "kind": "customer_table",
      "id_column": "Client Ref",
      "features": {
        "Customer_Value": ["Total Spend"],
        "Purchase_Frequency": ["Online orders", "Store orders"],
        "Campaign_Response": null,
        "Customer_For_Years": {"date_column": "Member since"}
      },
      "recency_column": "Days since last order",
      "custom_features": ["Loyalty points", "Satisfaction (1-10)"],
      "categorical_features": ["Region"],
      "categorical_weight": 0.5,
      "as_of": null
    }

``custom_features`` are further numeric columns clustered as given (see
:mod:`pipeline.features.custom`); ``categorical_features`` are text columns
profiled per segment and, when ``categorical_weight`` is above 0, one-hot
encoded into the clustering, each indicator weighted by it in the scaled
space (0: profiled only).  Both are optional (empty when
left out).  A feature's value may be ``null`` (left out), a column name, a list of
column names (summed) or, for tenure only, ``{"date_column": name}``.
Reading a bad file raises :class:`~pipeline.errors.DataError` naming the
problem.  Nothing in a mapping file is executed or unpickled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from pipeline.config import DEFAULT_FEATURES
from pipeline.data.reading import file_bytes
from pipeline.errors import DataError

#: The kinds of input the app understands.
INPUT_KINDS: tuple[str, ...] = ("marketing", "customer_table", "transactions")
MAPPING_FORMAT = "customer-segmentation/mapping"
MAPPING_VERSION = 1
TENURE = "Customer_For_Years"
RESPONSE = "Campaign_Response"

_TRANSACTION_FIELDS = (
    "timestamp_column",
    "amount_column",
    "quantity_column",
    "unit_price_column",
    "order_column",
    "campaign_column",
)
_COMMON_KEYS = {"format", "version", "kind", "id_column", "as_of"}
_CUSTOM_KEYS = {"custom_features", "categorical_features", "categorical_weight"}
_KEYS = {
    "marketing": _COMMON_KEYS,
    "customer_table": _COMMON_KEYS | {"features", "recency_column"} | _CUSTOM_KEYS,
    "transactions": _COMMON_KEYS | set(_TRANSACTION_FIELDS),
}


@dataclasses.dataclass(frozen=True)
class Mapping:
    """Where the features and the customer id come from.

    Parameters
    ----------
    kind : str
        One of :data:`INPUT_KINDS`.
    id_column : str or None
        Customer id column (customer tables and transaction logs).
    feature_columns : dict of str to tuple of str
        Customer tables: the columns summed into each feature (one column =
        that column).  A feature absent from the dict is left out.
    tenure_date_column : str or None
        Customer tables: tenure counted from this date column to the as-of
        date (instead of a ``Customer_For_Years`` entry in ``feature_columns``).
    recency_column : str or None
        Customer tables: days since the last purchase (profile attribute).
    timestamp_column, amount_column, quantity_column, unit_price_column, order_column, campaign_column : str or None
        Transaction logs: line timestamp; line amount, or quantity and unit
        price (amount = quantity × unit price); order/invoice id (without
        one, an order is a distinct (customer, timestamp)); a flag marking
        lines bought through a campaign.
    as_of : date or None
        Reference date for tenure and recency; ``None``: the latest date in
        the data.  An as-of date in :class:`~pipeline.config.Settings` wins.
    custom_features : tuple of str
        Customer tables: further numeric columns clustered as given.
    categorical_features : tuple of str
        Customer tables: text columns profiled per segment (and one-hot
        encoded into the clustering when ``categorical_weight`` > 0).
    categorical_weight : float
        Weight of each one-hot indicator in the scaled space (0: profiled only; at most 1).
    """

    kind: str
    id_column: str | None = None
    feature_columns: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    tenure_date_column: str | None = None
    recency_column: str | None = None
    timestamp_column: str | None = None
    amount_column: str | None = None
    quantity_column: str | None = None
    unit_price_column: str | None = None
    order_column: str | None = None
    campaign_column: str | None = None
    as_of: dt.date | None = None
    custom_features: tuple[str, ...] = ()
    categorical_features: tuple[str, ...] = ()
    categorical_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in INPUT_KINDS:
            raise DataError(f"Unknown input kind {self.kind!r}; use one of {', '.join(INPUT_KINDS)}.")
        unknown = [f for f in self.feature_columns if f not in DEFAULT_FEATURES]
        if unknown:
            raise DataError(
                f"Unknown feature(s) in the mapping: {', '.join(unknown)}; the features are {', '.join(DEFAULT_FEATURES)}."
            )
        cols: dict[str, tuple[str, ...]] = {}
        for feat in DEFAULT_FEATURES:  # canonical order, empty entries dropped
            value = self.feature_columns.get(feat)
            if value:
                cols[feat] = (value,) if isinstance(value, str) else tuple(str(c) for c in value)
        if self.tenure_date_column and TENURE in cols:
            raise DataError("Tenure is mapped twice: give either a date column or a years column, not both.")
        object.__setattr__(self, "feature_columns", cols)
        if isinstance(self.as_of, dt.datetime):
            object.__setattr__(self, "as_of", self.as_of.date())
        for key in ("custom_features", "categorical_features"):
            value = getattr(self, key)
            names = (value,) if isinstance(value, str) else tuple(str(c) for c in value)
            object.__setattr__(self, key, tuple(dict.fromkeys(names)))
        if (self.custom_features or self.categorical_features) and self.kind != "customer_table":
            raise DataError("Custom and categorical features can only be chosen from a customer table.")
        weight = self.categorical_weight
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
            raise DataError(f"The categorical weight must be a number from 0 (profiled only) to 1, got {weight!r}.")
        object.__setattr__(self, "categorical_weight", float(weight))

    def __hash__(self) -> int:
        return hash(self.to_json())

    def replace(self, **changes: Any) -> Mapping:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def features(self) -> tuple[str, ...]:
        """The features this mapping provides, in display order."""
        if self.kind == "marketing":
            return DEFAULT_FEATURES
        if self.kind == "transactions":
            return tuple(f for f in DEFAULT_FEATURES if f != RESPONSE or self.campaign_column)
        have = set(self.feature_columns) | ({TENURE} if self.tenure_date_column else set())
        return tuple(f for f in DEFAULT_FEATURES if f in have) + self.custom_features

    def columns_used(self) -> tuple[str, ...]:
        """Every table column the mapping refers to, without repeats."""
        names: list[str | None] = [self.id_column, self.tenure_date_column, self.recency_column]
        names += [getattr(self, f) for f in _TRANSACTION_FIELDS]
        for cols in self.feature_columns.values():
            names += list(cols)
        names += [*self.custom_features, *self.categorical_features]
        return tuple(dict.fromkeys(n for n in names if n))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (the file format); only the keys of this kind."""
        out: dict[str, Any] = {
            "format": MAPPING_FORMAT,
            "version": MAPPING_VERSION,
            "kind": self.kind,
            "id_column": self.id_column,
        }
        if self.kind == "customer_table":
            feats: dict[str, Any] = {}
            for f in DEFAULT_FEATURES:
                if f == TENURE and self.tenure_date_column:
                    feats[f] = {"date_column": self.tenure_date_column}
                else:
                    cols = self.feature_columns.get(f)
                    feats[f] = list(cols) if cols else None
            out["features"] = feats
            out["recency_column"] = self.recency_column
            out["custom_features"] = list(self.custom_features)
            out["categorical_features"] = list(self.categorical_features)
            out["categorical_weight"] = self.categorical_weight
        elif self.kind == "transactions":
            out.update({f: getattr(self, f) for f in _TRANSACTION_FIELDS})
        out["as_of"] = self.as_of.isoformat() if self.as_of else None
        return out

    def to_json(self) -> str:
        """Indented JSON text (see the module docstring)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def digest(self) -> str:
        """SHA-256 of the canonical JSON: part of the data set's cache key.

        The custom-feature keys enter only when used, so a mapping without
        them keeps the key it had before they existed.
        """
        data = self.to_dict()
        if not self.custom_features and not self.categorical_features:
            for key in _CUSTOM_KEYS:
                data.pop(key, None)
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: Any, source: str = "the mapping") -> Mapping:
        """Inverse of :meth:`to_dict`, checking every key and value.

        Raises
        ------
        DataError
            Not an object, a foreign or newer format, an unknown kind, key or
            feature, or a value of the wrong type.
        """
        if not isinstance(data, dict):
            raise DataError(f"{source} must be a JSON object with a 'kind' key.")
        fmt = data.get("format", MAPPING_FORMAT)
        if fmt != MAPPING_FORMAT:
            raise DataError(f"{source} is not a column mapping (format {fmt!r}).")
        version = data.get("version", MAPPING_VERSION)
        if not isinstance(version, int) or version > MAPPING_VERSION:
            raise DataError(f"{source} has mapping version {version!r}; this app reads version {MAPPING_VERSION}.")
        kind = data.get("kind")
        if kind not in INPUT_KINDS:
            raise DataError(f"{source}: 'kind' must be one of {', '.join(INPUT_KINDS)} (got {kind!r}).")
        unknown = sorted(set(data) - _KEYS[kind])
        if unknown:
            raise DataError(f"{source}: unknown key(s) for a {kind} mapping: {', '.join(unknown)}.")
        fields: dict[str, Any] = {"kind": kind, "id_column": _name(data, "id_column", source)}
        if kind == "customer_table":
            cols, date_col = _features(data.get("features") or {}, source)
            fields.update(feature_columns=cols, tenure_date_column=date_col)
            fields["recency_column"] = _name(data, "recency_column", source)
            for key in ("custom_features", "categorical_features"):
                fields[key] = _names(data, key, source)
            if data.get("categorical_weight") is not None:
                fields["categorical_weight"] = data["categorical_weight"]
        elif kind == "transactions":
            fields.update({f: _name(data, f, source) for f in _TRANSACTION_FIELDS})
        as_of = data.get("as_of")
        if as_of is not None:
            try:
                fields["as_of"] = dt.date.fromisoformat(str(as_of).strip())
            except ValueError:
                raise DataError(f"{source}: 'as_of' must be a date YYYY-MM-DD or null (got {as_of!r}).") from None
        return cls(**fields)

    @classmethod
    def from_json(cls, text: str, source: str = "the mapping") -> Mapping:
        """Parse JSON text written by :meth:`to_json` (or by hand)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(f"{source} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}).") from None
        return cls.from_dict(data, source)

    def save(self, path: str | Path) -> Path:
        """Write the JSON file; returns its path."""
        p = Path(path)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(self.to_json(), encoding="utf-8")
        except OSError as err:
            raise DataError(f"Cannot write the mapping to {p}: {err.strerror or err}.") from None
        return p

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        """Read a mapping file written by :meth:`save` (or by hand)."""
        p = Path(path)
        raw = file_bytes(p)
        if len(raw) > 1_000_000:
            raise DataError(f"{p.name} is too large to be a column mapping.")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DataError(f"{p.name} is not a text file; a mapping is a small JSON file.") from None
        return cls.from_json(text, p.name)


def _name(data: dict[str, Any], key: str, source: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DataError(f"{source}: {key!r} must be a column name or null (got {value!r}).")
    return value.strip() or None


def _names(data: dict[str, Any], key: str, source: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DataError(f"{source}: {key!r} must be a list of column names (got {value!r}).")
    return tuple(v.strip() for v in value)


def _features(data: Any, source: str) -> tuple[dict[str, tuple[str, ...]], str | None]:
    if not isinstance(data, dict):
        raise DataError(f"{source}: 'features' must be an object keyed by feature name.")
    unknown = [f for f in data if f not in DEFAULT_FEATURES]
    if unknown:
        raise DataError(
            f"{source}: unknown feature(s) {', '.join(unknown)}; the features are {', '.join(DEFAULT_FEATURES)}."
        )
    cols: dict[str, tuple[str, ...]] = {}
    date_col = None
    for feat, value in data.items():
        if value is None or value == []:
            continue
        if isinstance(value, str):
            cols[feat] = (value,)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            cols[feat] = tuple(value)
        elif feat == TENURE and isinstance(value, dict) and set(value) == {"date_column"}:
            if not isinstance(value["date_column"], str):
                raise DataError(f"{source}: the tenure 'date_column' must be a column name.")
            date_col = value["date_column"]
        else:
            hint = ', or {"date_column": name}' if feat == TENURE else ""
            raise DataError(f"{source}: {feat} must be null, a column name or a list of column names{hint}.")
    return cols, date_col
