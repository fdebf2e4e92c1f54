"""Components of the /data page that only draw: the detection panel, the mapping form and the
validation report (pure builders, called by the page's callbacks and by tests)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import feature_picker, ids
from dashboard.versions import apply_version_action as apply_version_action  # the list on this page
from dashboard.versions import show_versions as show_versions
from dashboard.versions import version_action as version_action
from dashboard.versions import versions_table as versions_table
from pipeline.config import DEFAULT_FEATURES, parse_date
from pipeline.data.detect import KIND_LABELS, Detection
from pipeline.data.ingest import Validation
from pipeline.data.mapping import TENURE, Mapping
from pipeline.data.quality import DataQualityReport
from pipeline.features.definitions import FEATURE_DEFINITIONS, feature_definitions

#: Data-quality action → colour family of its badge (Bootstrap subtle colours; see data.css).
ACTION_COLOURS = {"dropped": "danger", "imputed": "warning", "fixed": "info", "flagged": "primary", "info": "secondary"}
# No ``accept`` filter on the uploads: a file the browser would drop silently
# gets a clear message from the server instead (the content decides, not the name).

# Mapping form fields: index → (label, help, multi).
FIELD_LABELS: dict[str, tuple[str, str, bool]] = {
    "id_column": ("Customer ID", "The column that identifies each customer.", False),
    "Customer_Value": ("Customer value ($)", "Total spend: one column, or several that are added up.", True),
    "Purchase_Frequency": ("Purchase frequency", "Number of purchases: one column or several added up.", True),
    "Campaign_Response": ("Campaign response", "Campaigns or promotions accepted; leave empty if unknown.", True),
    TENURE: ("Tenure in years", "A column of years as a customer…", True),
    "tenure_date_column": ("…or tenure from a date", "e.g. 'Member since': counted to the as-of date.", False),
    "recency_column": ("Days since last purchase", "Optional profile attribute.", False),
    "timestamp_column": ("Order date / time", "When each line was bought (mixed formats are fine).", False),
    "amount_column": ("Line amount", "Money per line; or leave empty and use quantity × unit price.", False),
    "quantity_column": ("Quantity", "Units per line (negative = return).", False),
    "unit_price_column": ("Unit price", "Price of one unit.", False),
    "order_column": ("Order / invoice ID", "Optional: counts distinct orders; 'C…' invoices are cancellations.", False),
    "campaign_column": ("Campaign flag", "Optional: marks lines bought through a campaign.", False),
    "as_of": (
        "As-of date",
        "Tenure and recency are counted to this date (default: the latest date in the data).",
        False,
    ),
}
CUSTOMER_FIELDS = (
    "id_column",
    "Customer_Value",
    "Purchase_Frequency",
    "Campaign_Response",
    TENURE,
    "tenure_date_column",
    "recency_column",
)
TRANSACTION_FIELDS = (
    "id_column",
    "timestamp_column",
    "amount_column",
    "quantity_column",
    "unit_price_column",
    "order_column",
    "campaign_column",
)


def detection_panel(detection: Detection, chosen: str) -> html.Div:
    """What was detected, how sure, and why; notes a different choice by the user."""
    colour = {"high": "success", "medium": "warning", "low": "secondary"}[detection.confidence]
    head = html.Div(
        [
            html.Span("Detected: ", className="text-body-secondary"),
            html.Strong(detection.label),
            dbc.Badge(f"{detection.confidence} confidence", color=colour, className="ms-2 align-middle"),
        ],
        className="small mb-1",
    )
    items = [html.Li(e) for e in detection.evidence]
    parts: list[Any] = [head, html.Ul(items, className="small mb-0 ps-3 data-evidence")]
    if chosen != detection.kind:
        parts.append(
            html.Div(
                [html.I(className="bi bi-info-circle me-1"), f"You chose to read it as {KIND_LABELS[chosen]}."],
                className="small text-body-secondary mt-1",
            )
        )
    return html.Div(parts)


def _field_value(mapping: Mapping, field: str) -> Any:
    if field in DEFAULT_FEATURES:
        return list(mapping.feature_columns.get(field, ()))
    if field == "as_of":
        return mapping.as_of.isoformat() if mapping.as_of else None
    return getattr(mapping, field)


def _field(field: str, mapping: Mapping, columns: list[str]) -> html.Div:
    label, help_text, multi = FIELD_LABELS[field]
    value = _field_value(mapping, field)
    wanted = value if isinstance(value, list) else ([value] if value else [])
    options = [{"label": c, "value": c} for c in columns]
    options += [{"label": f"{c} (not in this file)", "value": c} for c in wanted if c not in columns]
    if field in FEATURE_DEFINITIONS:
        d = FEATURE_DEFINITIONS[field]
        help_text = f"{help_text} ({d.description.rstrip('.')})" if field != TENURE else help_text
    control = dcc.Dropdown(
        id=ids.data_map_field(field),
        options=options,
        value=value,
        multi=multi,
        clearable=True,
        placeholder="Choose columns…" if multi else "Choose a column…",
        className="data-map-dropdown",
    )
    return html.Div(
        [
            dbc.Label(label, html_for=f"data-map-{field}", className="small fw-semibold mb-1"),
            control,
            html.Div(help_text, className="form-text mt-1"),
        ],
        className="data-map-field",
    )


def mapping_form(mapping: Mapping, columns: list[str]) -> html.Div:
    """The form for ``mapping.kind``, pre-filled with ``mapping`` (field ids: ``ids.data_map_field``)."""
    hidden_kind = dcc.Input(id=ids.data_map_field("kind"), type="hidden", value=mapping.kind)
    as_of = html.Div(
        [
            dbc.Label(FIELD_LABELS["as_of"][0], className="small fw-semibold mb-1"),
            dbc.Input(
                id=ids.data_map_field("as_of"),
                type="date",
                value=mapping.as_of.isoformat() if mapping.as_of else None,
                size="sm",
                className="data-as-of",
            ),
            html.Div(FIELD_LABELS["as_of"][1], className="form-text mt-1"),
        ],
        className="data-map-field",
    )
    if mapping.kind == "marketing":
        body: list[Any] = [
            html.P(
                "The reference columns (MntWines…, Num…Purchases, AcceptedCmp1–5, Response, Dt_Customer) are read "
                "as they are; there is nothing to map.",
                className="small mb-2",
            )
        ]
    elif mapping.kind == "transactions":
        f = {name: _field(name, mapping, columns) for name in TRANSACTION_FIELDS}
        body = [
            dbc.Row([dbc.Col(f["id_column"], md=6), dbc.Col(f["timestamp_column"], md=6)], className="g-2"),
            dbc.Row([dbc.Col(f["amount_column"], md=12)], className="g-2"),
            dbc.Row([dbc.Col(f["quantity_column"], md=6), dbc.Col(f["unit_price_column"], md=6)], className="g-2"),
            dbc.Row([dbc.Col(f["order_column"], md=6), dbc.Col(f["campaign_column"], md=6)], className="g-2"),
        ]
    else:
        f = {name: _field(name, mapping, columns) for name in CUSTOMER_FIELDS}
        body = [
            f["id_column"],
            f["Customer_Value"],
            f["Purchase_Frequency"],
            f["Campaign_Response"],
            dbc.Row([dbc.Col(f[TENURE], md=6), dbc.Col(f["tenure_date_column"], md=6)], className="g-2"),
            f["recency_column"],
            feature_picker.picker_fields(mapping, columns),
        ]
    return html.Div([hidden_kind, *body, as_of], className="data-map-form d-grid gap-2")


def mapping_from_fields(values: dict[str, Any]) -> Mapping:
    """The :class:`Mapping` a filled form describes (raises ``DataError`` for a contradictory one)."""
    kind = values.get("kind") or "customer_table"

    def single(name: str) -> str | None:
        v = values.get(name)
        return str(v) if v else None

    as_of = values.get("as_of") or None
    fields: dict[str, Any] = {"kind": kind}
    if as_of:
        fields["as_of"] = parse_date(str(as_of))
    if kind == "customer_table":
        fields["id_column"] = single("id_column")
        fields["feature_columns"] = {
            f: tuple(values.get(f) or ()) for f in DEFAULT_FEATURES if isinstance(values.get(f), list) and values[f]
        }
        fields["tenure_date_column"] = single("tenure_date_column")
        fields["recency_column"] = single("recency_column")
        fields.update(feature_picker.mapping_fields(values))
    elif kind == "transactions":
        for name in TRANSACTION_FIELDS:
            fields[name] = single(name)
    return Mapping(**fields)


def validation_report(v: Validation) -> html.Div:
    """Rows read, kept, dropped, imputed; type problems with examples; blocking problems."""
    if v.ok:
        feats = ", ".join(d.label.lower() for d in feature_definitions(v.features))
        left_out = [FEATURE_DEFINITIONS[f].label.lower() for f in DEFAULT_FEATURES if f not in v.features]
        left_out = [] if v.mapping and v.mapping.custom_features else left_out
        extra = f" Left out: {', '.join(left_out)}." if left_out else ""
        banner = dbc.Alert(
            [
                html.I(className="bi bi-check-circle-fill me-2"),
                html.Strong(f"Ready to train {v.name}: {v.n_customers:,} customers"),
                f" on {feats}.{extra}",
            ],
            color="success",
            className="py-2 small mb-2 data-ready",
        )
    else:
        banner = dbc.Alert(
            [
                html.Div(
                    [html.I(className="bi bi-x-octagon-fill me-2"), html.Strong(f"{v.name} cannot be trained yet:")],
                ),
                html.Ul([html.Li(p) for p in v.problems], className="mb-0 ps-3 mt-1"),
            ],
            color="danger",
            className="py-2 small mb-2 data-blocked",
        )
    return html.Div([banner, quality_counts(v.report), quality_items(v.report)])


def quality_counts(report: DataQualityReport) -> dbc.Row:
    """The headline counts of a data-quality report."""
    d = report.to_dict()
    cells = [
        (d["rows_read"], "rows read"),
        (d["rows_kept"], "rows kept"),
        (d["rows_dropped"], "rows dropped"),
        (d["values_imputed"], "values imputed"),
        (d["values_fixed"], "values fixed"),
        (d["rows_flagged"], "flagged"),
    ]
    return dbc.Row(
        [
            dbc.Col([html.Div(f"{n:,}", className="data-count"), html.Small(label, className="text-body-secondary")])
            for n, label in cells
        ],
        className="g-2 text-center mb-2 data-counts",
    )


def quality_items(report: DataQualityReport) -> html.Div:
    """Each thing the loader did, with its action and examples."""
    if not report.items:
        return html.Div("Nothing was dropped, fixed or imputed.", className="small text-body-secondary")
    rows = [
        html.Li(
            [
                html.Span(
                    item.action, className=f"badge data-action data-action-{ACTION_COLOURS.get(item.action, 'info')}"
                ),
                html.Span(item.message),
            ],
            className="data-item",
        )
        for item in report.items
    ]
    return html.Ul(rows, className="list-unstyled small mb-0 data-items")
