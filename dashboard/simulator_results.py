"""The simulator's prediction panel: the segment and how sure, what would move the customer, expected value.

Pure builders of Dash components from a :class:`pipeline.segmentation.simulate.Simulation`
and the session's :class:`dashboard.services.ArtifactView`; the page
(:mod:`dashboard.pages.simulator`) lays them out and calls them from its callbacks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import dash_bootstrap_components as dbc
from dash import html

from dashboard import churn, ids
from dashboard.components import (
    actions_list,
    fmt_money,
    how_measured,
    not_measured,
)
from dashboard.figures.simulator import (
    readable_colour,
)
from dashboard.services import ArtifactView
from dashboard.simulator_inputs import (
    median_note,
)
from pipeline.segmentation.simulate import Simulation

#: Confidence (1 − nearest / runner-up distance) above which an assignment is "clear", and below which "borderline".
CLEAR_CONFIDENCE = 0.35
BORDERLINE_CONFIDENCE = 0.15
#: Height (px) of the distances chart for up to 5 segments.


# --- prediction text ------------------------------------------------------------
def confidence_level(confidence: float) -> str:
    """``"clear"``, ``"probable"`` or ``"borderline"`` (see :data:`CLEAR_CONFIDENCE`)."""
    if confidence >= CLEAR_CONFIDENCE:
        return "clear"
    return "probable" if confidence >= BORDERLINE_CONFIDENCE else "borderline"


def confidence_words(sim: Simulation, names: Mapping[str, str]) -> tuple[str, str]:
    """How clear-cut the assignment is, in words.

    Returns
    -------
    (headline, detail)
        ``("Clearly High-Value Loyal", "2.4× closer to its centre than to Low-Value's …")``
        or ``("Borderline between X and Y", …)``.
    """
    own_key = str(sim.segment["key"])
    own = names.get(own_key, own_key)
    if sim.runner_up is None:
        return f"Clearly {own}", "It is the only segment."
    runner = names.get(sim.runner_up, sim.runner_up)
    d_own, d_run = sim.distances[own_key], sim.distances[sim.runner_up]
    ratio = d_run / d_own if d_own > 0 else math.inf
    closer = "at its centre" if math.isinf(ratio) else f"{ratio:.1f}× closer to its centre than to {runner}'s"
    detail = f"{closer} (distance {d_own:.2f} vs {d_run:.2f})."
    level = confidence_level(sim.confidence)
    if level == "clear":
        return f"Clearly {own}", detail[0].upper() + detail[1:]
    if level == "probable":
        return f"Probably {own}, leaning towards {runner}", detail[0].upper() + detail[1:]
    return f"Borderline between {own} and {runner}", "Almost as close to both centres: " + detail


def values_signature(values: Mapping[str, float]) -> str:
    """``"Customer_Value=1230|…"``: which inputs the shown prediction is for (read by tests and the benchmark)."""
    return "|".join(f"{k}={float(v):g}" for k, v in values.items())


def result_block(sim: Simulation, values: Mapping[str, float], theme: str) -> html.Div:
    """Predicted segment in its colour, objective and recommended actions."""
    seg = sim.segment
    return html.Div(
        [
            html.Div("This customer belongs to", className="sim-eyebrow"),
            html.Div(
                [
                    html.Span(className="sim-dot", style={"backgroundColor": seg["colour"]}),
                    html.Span(
                        seg["name"],
                        id=ids.SIM_SEGMENT_NAME,
                        style={"color": readable_colour(seg["colour"], theme)},
                    ),
                ],
                className="sim-segment-name",
            ),
            html.Div(
                [html.Span("Objective ", className="text-body-secondary"), html.Strong(seg.get("objective", ""))],
                className="mb-2",
            ),
            html.Div("Recommended actions", className="sim-eyebrow mb-1"),
            actions_list(seg.get("actions", [])),
        ],
        className="sim-result-inner",
        style={"borderLeftColor": seg["colour"]},
        **{"data-values": values_signature(values), "data-segment": str(seg["key"])},
    )


def confidence_block(sim: Simulation, names: Mapping[str, str]) -> html.Div:
    """Confidence headline, bar and the distances behind it."""
    headline, detail = confidence_words(sim, names)
    level = confidence_level(sim.confidence)
    return html.Div(
        [
            html.Div(
                [
                    html.I(
                        className={
                            "clear": "bi bi-check-circle-fill text-success",
                            "probable": "bi bi-info-circle-fill text-primary",
                            "borderline": "bi bi-exclamation-circle-fill text-warning",
                        }[level]
                        + " me-2"
                    ),
                    html.Span(headline, className="fw-semibold"),
                ],
                className="d-flex align-items-center",
            ),
            html.Div(
                dbc.Progress(
                    value=round(sim.confidence * 100),
                    className="sim-confidence-bar my-1",
                    color={"clear": "success", "probable": "primary", "borderline": "warning"}[level],
                    style={"height": "6px"},
                ),
                **{"data-a11y-label": f"Assignment confidence {sim.confidence:.0%}"},
            ),
            html.Div(detail, className="small text-body-secondary"),
        ],
        className=f"sim-confidence sim-confidence-{level}",
    )


MOVE_ROW = "sim-move d-flex align-items-center gap-2"


def moves_frame(v: ArtifactView, sim: Simulation | None = None) -> html.Ul:
    """One row per segment for "what would move this customer", built once per model.

    The rows and their "apply" buttons stay in place while the sliders move
    (only their text and visibility change, see :func:`move_outputs`), so the
    buttons are never re-created and never fire by themselves.  With ``sim``
    the rows start with its moves (the page's first customer); without, empty
    until the prediction fills them.
    """
    keys = [s["key"] for s in v.segments]
    texts, classes, disabled = (
        move_outputs(sim, keys) if sim is not None else ([""] * len(keys), [MOVE_ROW] * len(keys), [False] * len(keys))
    )
    rows = [
        html.Li(
            [
                html.Span(className="segment-dot flex-shrink-0", style={"backgroundColor": s["colour"]}),
                html.Div(
                    [
                        html.Div(s["name"], className="fw-semibold sim-move-target"),
                        html.Div(text, id=ids.sim_move_text(s["key"]), className="sim-move-change small"),
                    ],
                    className="flex-grow-1 min-w-0",
                ),
                dbc.Button(
                    [
                        "Apply",
                        html.Span(f" the change that moves the customer to {s['name']}", className="visually-hidden"),
                    ],
                    id=ids.sim_move(s["key"]),
                    size="sm",
                    color="secondary",
                    outline=True,
                    className="sim-move-apply",
                    title=f"Make this change and move the customer to {s['name']}",
                    n_clicks=0,
                    disabled=off,
                ),
            ],
            id=ids.sim_move_row(s["key"]),
            className=row_class,
        )
        for s, text, row_class, off in zip(v.segments, texts, classes, disabled, strict=True)
    ]
    return html.Ul(rows, className="list-unstyled mb-0 d-grid gap-2")


def move_outputs(sim: Simulation, keys: Sequence[str]) -> tuple[list[str], list[str], list[bool]]:
    """Text, row class and "apply" disabled state for the move rows of ``keys``.

    The predicted segment's row is hidden; a segment no single change reaches
    says so and its button is disabled.
    """
    by_target = {m.target: m for m in sim.moves}
    texts, classes, disabled = [], [], []
    for key in keys:
        move = by_target.get(key)
        if key == sim.segment["key"] or move is None:
            texts.append("")
            classes.append("sim-move d-none")
            disabled.append(True)
            continue
        if move.feature is None:
            texts.append("No change to a single feature gets there.")
            disabled.append(True)
        else:
            texts.append(move.text.rsplit(" → ", 1)[0])
            disabled.append(False)
        classes.append(MOVE_ROW)
    return texts, classes, disabled


def churn_block(v: ArtifactView, estimate: Mapping[str, float | None] | None, fixed: Sequence[str] = ()) -> html.Div:
    """Expected purchases and value over the horizon for this customer, and how they are measured.

    ``fixed``: inputs of the estimate without a slider, taken at the customers'
    median (said under the figures).  Without a churn model: "not measured" and why.
    """
    cm = churn.churn_model(v.manifest)
    if cm is None:
        return not_measured(churn.not_measured_reason(v.manifest))
    if estimate is None:
        return not_measured("These values cannot be scored by the activity model.", "Not estimated")
    months = churn.horizon_months(cm)
    clv, purchases = estimate.get("expected_clv"), estimate.get("expected_purchases")
    p_alive = float(estimate["p_alive"] or 0.0)
    if clv is not None:
        headline = [
            html.Div(f"Expected value, next {months} months", className="sim-eyebrow"),
            html.Div(fmt_money(clv), className="sim-clv"),
        ]
        detail = f"{purchases or 0:.1f} expected purchases"
    elif purchases is not None:
        headline = [
            html.Div(f"Expected purchases, next {months} months", className="sim-eyebrow"),
            html.Div(f"{purchases:.1f}", className="sim-clv"),
        ]
        detail = "expected value not measured (no spend model)"
    else:
        headline = [html.Div(f"Next {months} months", className="sim-eyebrow")]
        detail = "expected purchases and value: not measured for these values"
    return html.Div(
        [
            *headline,
            html.Div(detail, className="small", id=ids.SIM_CHURN_DETAIL),
            how_measured(churn.how_measured(cm, value=clv is not None) + median_note(v, fixed)),
        ],
        className="sim-churn-inner",
        **{"data-p-alive": f"{p_alive:.4f}"},
    )
