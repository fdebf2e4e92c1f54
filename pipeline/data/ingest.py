"""Bring your own data: validate a mapped table before training (kind detection and suggested
mappings: :mod:`pipeline.data.detect`, re-exported here).

The data page (and the CLI without ``--mapping``) calls, in this order:

1. :func:`pipeline.data.reading.read_table` (or :func:`validate_upload`, which
   also catches an unreadable file): raw columns;
2. :func:`detect_kind`: ``"marketing"``, ``"customer_table"`` or
   ``"transactions"``, with a confidence and the evidence in words;
3. :func:`suggest_mapping`: a :class:`~pipeline.data.mapping.Mapping` pre-filled
   from column names and types, for the user to review and edit;
4. :func:`validate_table`: the customers the mapping yields, the
   data-quality report and the list of blocking problems, *without raising*;
5. :func:`pipeline.segmentation.training.dataset_from_validation` (or
   :func:`pipeline.segmentation.training.dataset_from_bytes`) then
   :func:`pipeline.segmentation.training.settings_for_dataset` and
   :func:`pipeline.segmentation.training.train`.

:func:`require_valid` raises a :class:`~pipeline.errors.DataError` with all
the blocking problems, for the command line.

Detection
---------
* ``marketing``: every column the reference table's four features need is
  present (:data:`pipeline.features.definitions.REQUIRED_COLUMNS`).
* ``transactions``: a customer-id column (named like customer, client,
  user, member, account or buyer) whose values repeat, a column of
  timestamps, and an amount column (amount, total, revenue, sales, value,
  spend, monetary) or a quantity and a unit-price column.
* ``customer_table``: anything else.

Customer tables
---------------
Blank and exactly duplicated rows are dropped; ids are cleaned like the
reference table's (missing ids are named after their row, shared ids are
flagged).  A feature mapped to several columns is their sum, known only when
all parts are.  Values that are not numbers, and negative spend, purchase or
response counts, are treated as missing (the model imputes the median) and
counted; when most of a column is not numbers it is a blocking type problem.
Tenure from a date column is counted to the as-of date (settings, then
mapping, else the latest date in the column); unreadable dates are imputed,
or blocking when most are unreadable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any

import pandas as pd

from pipeline.config import DEFAULT_FEATURES, Settings
from pipeline.data.coerce import as_text, parse_timestamps, to_ids
from pipeline.data.detect import Detection, _numeric, _profile, _source_text, detect_kind, suggest_mapping
from pipeline.data.loading import clean_marketing, customer_ids, example_rows, example_values, numeric_column
from pipeline.data.mapping import INPUT_KINDS, TENURE, Mapping
from pipeline.data.quality import DataQualityReport, QualityItem
from pipeline.data.reading import closest_columns, data_hash, read_table
from pipeline.data.transactions import MAX_BAD_SHARE, Prepared, prepare_transactions, transaction_mapping_problems
from pipeline.errors import DataError
from pipeline.features.custom import (
    DEFAULT_CATEGORICAL_WEIGHT,
    RESERVED_COLUMNS,
    heavy_tail_items,
    indicator_name,
    one_hot,
)
from pipeline.features.definitions import (
    FEATURE_DEFINITIONS,
    ID_COLUMN,
    LOG_FEATURES,
    REQUIRED_COLUMNS,
    default_as_of,
    engineer_features,
    negligible_spread,
    tenure_years,
)

__all__ = [
    "INPUT_KINDS",
    "Detection",
    "Mapping",
    "Validation",
    "dataset_hash",
    "detect_kind",
    "mapping_problems",
    "prepare_customer_table",
    "require_valid",
    "spread_items",
    "suggest_mapping",
    "training_problems",
    "validate_table",
    "validate_upload",
]


@dataclasses.dataclass(frozen=True, eq=False)
class Validation:
    """Everything the data page shows before training.

    Attributes
    ----------
    name : str
        The file's name.
    kind : str or None
        The input kind used (``None`` when the file could not be read).
    mapping : Mapping or None
        The mapping used (the suggestion when none was given).
    detection : Detection or None
        The detection, when the kind was detected rather than given.
    report : DataQualityReport
        Rows read, dropped, imputed, fixed, flagged.
    problems : tuple of str
        Blocking problems, one sentence each; empty when training can go ahead.
    customers : DataFrame or None
        ``ID``, the features, profile attributes; ``None`` if not buildable.
    features : tuple of str
        The features that will be clustered.
    as_of : date or None
        Reference date for tenure and recency.
    """

    name: str
    kind: str | None
    mapping: Mapping | None
    detection: Detection | None
    report: DataQualityReport
    problems: tuple[str, ...]
    customers: pd.DataFrame | None
    features: tuple[str, ...]
    as_of: dt.date | None

    @property
    def ok(self) -> bool:
        """True when training can go ahead."""
        return not self.problems and self.customers is not None

    @property
    def n_customers(self) -> int:
        """Customers found (0 when none could be built)."""
        return 0 if self.customers is None else len(self.customers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (no customer rows): for a ``dcc.Store`` or ``--json``."""
        return {
            "name": self.name,
            "kind": self.kind,
            "mapping": self.mapping.to_dict() if self.mapping else None,
            "detection": self.detection.to_dict() if self.detection else None,
            "ok": self.ok,
            "problems": list(self.problems),
            "n_customers": self.n_customers,
            "features": list(self.features),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "data_quality": self.report.to_dict(),
        }


# ---------------------------------------------------------------- detection


def auto_mapping_problem(table: pd.DataFrame, mapping: Mapping, name: str = "data") -> str | None:
    """Why a *suggested* mapping is not safe to train on unreviewed, or None.

    A transaction log needs a customer id, a timestamp and an amount (or
    quantity × unit price); a customer table needs an id and at least two
    features.
    """
    if mapping.kind == "marketing":
        return None
    if mapping.kind == "transactions":
        problems = mapping_problems(table, mapping, name)
        return " ".join(problems) or None
    missing = []
    if not mapping.id_column:
        missing.append("no customer id column")
    if len(mapping.features) < 2:
        found = ", ".join(mapping.features) or "none"
        missing.append(f"fewer than two feature columns (found: {found})")
    return f"{name}: " + " and ".join(missing) + " recognised" if missing else None


# ---------------------------------------------------------------- building customer tables


def prepare_customer_table(
    table: pd.DataFrame, mapping: Mapping, as_of: dt.date | None = None, name: str = "data"
) -> Prepared:
    """One row per customer from a mapped customer table (see the module docstring).

    Never raises for bad data: blocking problems are returned in
    ``Prepared.problems``.
    """
    rows_read = len(table)
    empty = DataQualityReport(rows_read=rows_read, rows_kept=0)
    problems = mapping_problems(table, mapping, name)
    if problems:
        return Prepared(None, empty, tuple(problems))
    items: list[QualityItem] = []
    frame = table.loc[:, list(mapping.columns_used())]
    blank = pd.concat([as_text(frame[c]).isna() for c in frame.columns], axis=1).all(axis=1)
    frame = frame.loc[~blank]
    items.append(
        QualityItem(
            "blank_rows",
            "dropped",
            int(blank.sum()),
            f"{int(blank.sum()):,} blank rows (no value in any mapped column) dropped.",
        )
    )
    dup = table.loc[frame.index].duplicated(keep="first")
    frame = frame.loc[~dup.to_numpy()]
    items.append(
        QualityItem("duplicate_rows", "dropped", int(dup.sum()), f"{int(dup.sum()):,} exact duplicate rows dropped.")
    )
    if frame.empty:
        return Prepared(None, empty.with_items(*items), (f"{name} has no customer rows (all rows are blank).",))

    out = pd.DataFrame(index=frame.index)
    out[ID_COLUMN], id_items = customer_ids(to_ids(frame[mapping.id_column]), mapping.id_column)
    items.extend(id_items)
    numbers: dict[str, pd.Series] = {}
    for feat, cols in mapping.feature_columns.items():
        for col in cols:
            if col not in numbers:
                num, col_items, col_problems = _numeric_column(frame[col], col, name)
                numbers[col] = num
                items.extend(col_items)
                problems.extend(col_problems)
        out[feat] = pd.concat([numbers[c] for c in cols], axis=1).sum(axis=1, min_count=len(cols))

    if mapping.tenure_date_column:
        col = mapping.tenure_date_column
        stamps = parse_timestamps(frame[col])
        text = as_text(frame[col])
        present = int(text.notna().sum())
        bad = stamps.unreadable.to_numpy()
        if int(stamps.values.notna().sum()) < max(1, MAX_BAD_SHARE * present):
            problems.append(
                f"{name}: the date column {col} cannot be read as dates ({example_rows(text, bad | text.isna().to_numpy())}). "
                "Use yyyy-mm-dd, dd/mm/yyyy or dd-mm-yyyy."
            )
        else:
            as_of = as_of or mapping.as_of or default_as_of(stamps.values)
            out[TENURE] = tenure_years(stamps.values, as_of)
            out["Enrolled"] = stamps.values.dt.normalize()
            missing = stamps.values.isna()
            items.append(
                QualityItem(
                    "date_unparsed",
                    "imputed",
                    int(missing.sum()),
                    f"{col}: {int(missing.sum()):,} dates missing or unreadable (e.g. {example_rows(text, missing.to_numpy())}); tenure imputed with the median.",
                    column=col,
                    examples=example_values(text, missing.to_numpy()),
                )
            )
            if stamps.secondary.any():
                items.append(
                    QualityItem(
                        "date_formats_mixed",
                        "fixed",
                        int(stamps.secondary.sum()),
                        f"{col}: {int(stamps.secondary.sum()):,} dates written in another format than the main one "
                        f"({stamps.formats[0]}) were read in their own format ({', '.join(stamps.formats[1:])}).",
                        column=col,
                        examples=example_values(text, stamps.secondary.to_numpy()),
                    )
                )
    for col in mapping.custom_features:
        num, col_items, col_problems = _numeric_column(frame[col], col, name, non_negative=False)
        out[col] = num
        items.extend(col_items)
        problems.extend(col_problems)
    for col in mapping.categorical_features:
        out[col] = frame[col].astype("string").str.strip().replace("", pd.NA).fillna("Unknown").astype(str)
        if mapping.categorical_weight > 0:
            out = pd.concat([out, one_hot(frame[col], col)], axis=1)
    if mapping.recency_column:
        num, col_items, col_problems = _numeric_column(frame[mapping.recency_column], mapping.recency_column, name)
        out["Recency"] = num
        items.extend(col_items)
        problems.extend(col_problems)
    if as_of is None:
        as_of = mapping.as_of or dt.date.today()
    report = DataQualityReport(rows_read=rows_read, rows_kept=len(out)).with_items(*items)
    if problems:
        return Prepared(None, report, tuple(problems), as_of)
    ordered = list(
        dict.fromkeys([ID_COLUMN, *[f for f in FEATURE_DEFINITIONS if f in out], "Recency", "Enrolled", *out.columns])
    )
    ordered = [c for c in ordered if c in out]
    return Prepared(out[ordered].reset_index(drop=True), report, (), as_of)


def _numeric_column(
    values: pd.Series, column: str, name: str, non_negative: bool = True
) -> tuple[pd.Series, list[QualityItem], list[str]]:
    """Numbers of a mapped column (negatives treated as missing unless allowed), what was missing, any type problem."""
    num, bad, items = numeric_column(values, column, non_negative)
    present = int(as_text(values).notna().sum())
    if present and bad.sum() > MAX_BAD_SHARE * present:
        # Mostly text: a blocking problem instead of a count of imputed values.
        text = as_text(values)
        problem = (
            f"{name}: the column {column} holds text where numbers are expected "
            f"({example_rows(text, bad.to_numpy())}); map a numeric column."
        )
        return num, [i for i in items if i.kind != "not_a_number"], [problem]
    return num, items, []


# ---------------------------------------------------------------- validation


def mapping_problems(table: pd.DataFrame, mapping: Mapping, name: str = "data") -> list[str]:
    """Blocking problems of a mapping against a table's columns (no data is read).

    Missing id, columns that do not exist (with the closest names), a
    transaction log without timestamp or amount.
    """
    if mapping.kind == "transactions":
        return transaction_mapping_problems(table, mapping, name)
    if mapping.kind == "marketing":
        missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
        if not missing:
            return []
        near = closest_columns(missing, table.columns)
        parts = [f"{c}" + (f" (closest: {', '.join(near[c])})" if near[c] else "") for c in missing]
        return [f"{name} is missing {len(missing)} required column(s): " + "; ".join(parts) + "."]
    problems = []
    if not mapping.id_column:
        problems.append(f"{name}: no customer ID column is mapped; choose the column that identifies each customer.")
    missing = [c for c in mapping.columns_used() if c not in table.columns]
    if missing:
        near = closest_columns(missing, table.columns)
        parts = [f"{c}" + (f" (closest: {', '.join(near[c])})" if near[c] else "") for c in missing]
        problems.append(f"{name} has no column(s) named {'; '.join(parts)}.")
    reserved = [c for c in (*mapping.custom_features, *mapping.categorical_features) if c in RESERVED_COLUMNS]
    if reserved:
        problems.append(
            f"{name}: the column(s) {', '.join(reserved)} cannot be custom features: the app uses these names itself "
            "(map them as a behavioural feature, or rename the column)."
        )
    both = [c for c in mapping.custom_features if c in mapping.categorical_features or c == mapping.id_column]
    if both:
        problems.append(f"{name}: {', '.join(both)} is mapped twice (as a custom feature and as the id or a category).")
    return problems


def training_problems(customers: pd.DataFrame, features: tuple[str, ...], k: int, name: str) -> list[str]:
    """Why ``customers`` cannot be segmented into ``k`` segments on ``features`` (empty: it can).

    Fewer than two features, a feature missing, empty or constant, fewer
    customers than segments.  Each problem is one sentence.
    """
    problems = []
    if len(features) < 2:
        have = ", ".join(features) or "none"
        problems.append(
            f"{name}: at least two features are needed to segment; the mapping provides {len(features)} ({have})."
        )
    missing = [f for f in features if f not in customers.columns]
    if missing:
        problems.append(f"{name} has no values for the feature(s) {', '.join(missing)}.")
    n = len(customers)
    if n < k:
        problems.append(
            f"{name} has {n} customer(s), fewer than the {k} segments requested; choose a smaller k or add data."
        )
    for f in features:
        if f not in customers.columns:
            continue
        col = customers[f]
        if col.notna().sum() == 0:
            problems.append(f"{name}: the feature {f} has no values.")
        elif col.nunique(dropna=True) <= 1:
            problems.append(
                f"{name}: the feature {f} has the same value for every customer "
                f"({col.dropna().iloc[0]:g}); it cannot separate segments. Leave it out."
            )
    return problems


def spread_items(customers: pd.DataFrame, features: tuple[str, ...]) -> tuple[QualityItem, ...]:
    """One ``feature_left_out`` info item per feature whose real spread is negligible.

    See :func:`pipeline.features.definitions.negligible_spread` (the rule) and
    :func:`pipeline.segmentation.training.settings_for_dataset` (which leaves them out).
    """
    return tuple(
        QualityItem(
            "feature_left_out",
            "info",
            len(customers),
            f"{fact}; {f} is left out of the clustering (standardising would blow it up into the largest split).",
            column=f,
        )
        for f, fact in negligible_spread(customers, features).items()
    )


def validate_table(
    table: pd.DataFrame, mapping: Mapping | None = None, settings: Settings | None = None, name: str = "data"
) -> Validation:
    """Build the customers a mapping yields and list what blocks training, without raising.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`pipeline.data.reading.read_table`.
    mapping : Mapping or None
        The user's mapping; ``None`` detects the kind and uses the suggestion
        (and then reports a suggestion too incomplete to trust as a problem).
    settings : Settings or None
        ``k``, the requested features and the as-of date (defaults if None).
    name : str
        The file's name, used in messages.

    Returns
    -------
    Validation
    """
    settings = settings or Settings()
    detection = None
    problems: list[str] = []
    empty = DataQualityReport(rows_read=len(table), rows_kept=0)
    if len(table) <= 1:
        what = "has a header row but no data rows" if len(table) == 0 else "has only one data row"
        problems.append(
            f"{name} {what}; segmenting needs a table with one row per customer, or a transaction log, "
            "covering many customers."
        )
        kind = mapping.kind if mapping else None
        return Validation(name, kind, mapping, None, empty, tuple(problems), None, (), None)
    if mapping is None:
        detection = detect_kind(table)
        mapping = suggest_mapping(table, detection.kind)
        auto = auto_mapping_problem(table, mapping, name)
        if auto:
            problems.append(
                f"{auto}; {name} looks like {detection.label} but its columns could not all be mapped automatically."
            )
    if settings.features != DEFAULT_FEATURES:
        mapping = with_requested_features(table, mapping, settings.features)
        unknown = [
            f for f in settings.features if f not in FEATURE_DEFINITIONS and f not in set(map(str, table.columns))
        ]
        if unknown and mapping.kind == "customer_table":
            near = closest_columns(unknown, table.columns)
            parts = [f"{c}" + (f" (closest: {', '.join(near[c])})" if near[c] else "") for c in unknown]
            problems.append(f"{name} has no column(s) named {'; '.join(parts)} to cluster on.")
    offered = (*mapping.features, *(LOG_FEATURES if mapping.kind == "transactions" else ()))
    requested = offered if settings.features == DEFAULT_FEATURES else settings.features
    features = tuple(f for f in requested if f in offered)
    if problems:
        return Validation(name, mapping.kind, mapping, detection, empty, tuple(problems), None, features, None)

    as_of = settings.as_of or mapping.as_of
    prepared = _prepare(table, mapping, as_of, name)
    if detection is not None and mapping.kind != "marketing":
        prepared = dataclasses.replace(prepared, report=prepared.report.with_items(_auto_item(mapping)))
    problems = list(prepared.problems)
    if prepared.customers is not None:
        encoded = indicator_features(prepared.customers, mapping)
        features = expand_features(
            tuple(f for f in requested if f in offered or f in mapping.categorical_features), encoded
        )
        if settings.features == DEFAULT_FEATURES:
            features = (*features, *(f for group in encoded.values() for f in group))
        flat = spread_items(prepared.customers, features)
        tails = heavy_tail_items(prepared.customers, features)
        prepared = dataclasses.replace(prepared, report=prepared.report.with_items(*tails))
        prepared = dataclasses.replace(prepared, report=prepared.report.with_items(*flat))
        features = tuple(f for f in features if f not in {i.column for i in flat})
        problems += training_problems(prepared.customers, features, settings.k, name)
        if flat and len(features) < 2:
            problems += [f"{name}: {i.column} cannot be used: {i.message.split(';')[0]}." for i in flat]
    return Validation(
        name=name,
        kind=mapping.kind,
        mapping=mapping,
        detection=detection,
        report=prepared.report,
        problems=tuple(problems),
        customers=prepared.customers,
        features=features,
        as_of=prepared.as_of,
    )


def with_requested_features(table: pd.DataFrame, mapping: Mapping, requested: tuple[str, ...]) -> Mapping:
    """``mapping`` with the requested table columns added as custom (numeric) or categorical features.

    Only for customer tables; a requested name that is a behavioural feature,
    already mapped, or not a column of ``table`` is left as it is (training
    then says what is missing).  A text column becomes a categorical feature
    one-hot encoded into the clustering (weight
    :data:`pipeline.features.custom.DEFAULT_CATEGORICAL_WEIGHT` unless the
    mapping states one).
    """
    if mapping.kind != "customer_table":
        return mapping
    columns = {str(c) for c in table.columns}
    used = set(mapping.columns_used()) - set(mapping.categorical_features)
    new = [f for f in requested if f not in FEATURE_DEFINITIONS and f in columns and f not in used]
    if not new:
        return mapping
    profile = _profile(table.loc[:, new])
    custom = [f for f in new if _numeric(profile, f)]
    categorical = [f for f in new if f not in custom]
    weight = mapping.categorical_weight or (DEFAULT_CATEGORICAL_WEIGHT if categorical else 0.0)
    return mapping.replace(
        custom_features=(*mapping.custom_features, *custom),
        categorical_features=(
            *mapping.categorical_features,
            *(c for c in categorical if c not in mapping.categorical_features),
        ),
        categorical_weight=weight,
    )


def indicator_features(customers: pd.DataFrame, mapping: Mapping) -> dict[str, tuple[str, ...]]:
    """Categorical column → its one-hot indicator features present in ``customers`` (encoded ones only)."""
    if mapping.kind != "customer_table" or mapping.categorical_weight <= 0:
        return {}
    return {
        col: tuple(c for c in map(str, customers.columns) if c.startswith(indicator_name(col, "")))
        for col in mapping.categorical_features
    }


def expand_features(features: tuple[str, ...], encoded: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """``features`` with each categorical column replaced by its indicator features."""
    out: list[str] = []
    for f in features:
        out += list(encoded.get(f, (f,)))
    return tuple(dict.fromkeys(out))


def _auto_item(mapping: Mapping) -> QualityItem:
    """An info item saying which columns were mapped automatically."""
    if mapping.kind == "transactions":
        amount = mapping.amount_column or f"{mapping.quantity_column} × {mapping.unit_price_column}"
        parts = [f"customer {mapping.id_column}", f"time {mapping.timestamp_column}", f"amount {amount}"]
        parts += [f"order {mapping.order_column}"] if mapping.order_column else []
        parts += [f"campaign {mapping.campaign_column}"] if mapping.campaign_column else []
    else:
        parts = [f"id {mapping.id_column}"] + [f"{f} ← {_source_text(mapping, f)}" for f in mapping.features]
    return QualityItem(
        "mapping_suggested",
        "info",
        len(mapping.features),
        "Columns mapped automatically: " + "; ".join(parts) + ". Pass a mapping file to change them.",
    )


def validate_upload(
    raw: bytes, name: str, mapping: Mapping | None = None, settings: Settings | None = None
) -> Validation:
    """:func:`validate_table` on file bytes; an unreadable file becomes a problem, not an exception."""
    try:
        table = read_table(raw, name)
    except DataError as err:
        empty = DataQualityReport(rows_read=0, rows_kept=0)
        return Validation(name, None, mapping, None, empty, (str(err),), None, (), None)
    return validate_table(table, mapping, settings, name)


def require_valid(validation: Validation) -> None:
    """Raise a :class:`DataError` listing every blocking problem (for the command line)."""
    if validation.problems:
        raise DataError(" ".join(validation.problems))
    if validation.customers is None:  # pragma: no cover - prepare always explains
        raise DataError(f"{validation.name} could not be turned into a customer table.")


def dataset_hash(raw: bytes, mapping: Mapping | None) -> str:
    """Cache key of the data: the file's bytes and, when one is used, the mapping.

    Without a mapping it is :func:`pipeline.data.reading.data_hash`, so the
    reference table keeps its artifacts.
    """
    if mapping is None or mapping == Mapping("marketing"):
        return data_hash(raw)
    return hashlib.sha256(f"{data_hash(raw)}:{mapping.digest()}".encode()).hexdigest()


def _prepare(table: pd.DataFrame, mapping: Mapping, as_of: dt.date | None, name: str) -> Prepared:
    if mapping.kind == "transactions":
        return prepare_transactions(table, mapping, as_of, name)
    if mapping.kind == "customer_table":
        return prepare_customer_table(table, mapping, as_of, name)
    try:
        clean, report = clean_marketing(table, name, as_of)
    except DataError as err:
        return Prepared(None, DataQualityReport(rows_read=len(table), rows_kept=0), (str(err),))
    as_of = as_of or default_as_of(clean["Dt_Customer"])
    return Prepared(engineer_features(clean, as_of), report, (), as_of)
