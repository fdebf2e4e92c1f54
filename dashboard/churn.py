"""The measured churn figures of an artifact, read for display (pure functions, no callbacks).

The pipeline fits a BG/NBD model of whether each customer is still buying
(and, when spend is known, a Gamma-Gamma model of order value) and stores:

* ``manifest["churn_model"]``: the fitted model and how it was measured, or
  ``{"model": None, "reason": ...}`` when the data cannot measure it (no
  recency).  Manifests written before the measurement have no such key.
* ``segment["churn"]`` per segment: ``share_likely_inactive``,
  ``mean_p_alive``, ``mean_clv``, ``total_clv`` and ``value_at_risk`` (the
  last three may be None without a spend model), or None.

Every page reads them through these functions, so "not measured" is shown
the same way everywhere and nothing is ever filled in by a guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.churn.result import population_churn as population_of_customers

#: P(alive) below which a customer counts as likely inactive, when the manifest does not say.
DEFAULT_THRESHOLD = 0.5
#: Shown when a model version predates the measurement.
NOT_MEASURED_OLD = "This model version was trained before inactivity was measured; retrain it to measure it."
#: Customer-table column behind each input of the per-customer estimate.
CHURN_INPUTS: dict[str, str] = {
    "frequency": "Purchase_Frequency",
    "tenure_years": "Customer_For_Years",
    "recency_days": "Recency",
    "value": "Customer_Value",
}
#: Days since the last purchase (a profile attribute, or a clustered feature for some data).
RECENCY = CHURN_INPUTS["recency_days"]
#: Shown when the pipeline gave no reason.
NOT_MEASURED_UNKNOWN = "The data has no purchase recency, so whether customers are still active cannot be measured."


def churn_model(manifest: Mapping[str, Any]) -> dict[str, Any] | None:
    """The fitted churn model of a manifest, or None when inactivity was not measured."""
    cm = manifest.get("churn_model")
    if isinstance(cm, Mapping) and cm.get("model"):
        return dict(cm)
    return None


def not_measured_reason(manifest: Mapping[str, Any]) -> str:
    """Why inactivity is not measured for this manifest (one sentence)."""
    cm = manifest.get("churn_model")
    if not isinstance(cm, Mapping):
        return NOT_MEASURED_OLD
    reason = str(cm.get("reason") or "").strip()
    # "not measured: the data has no days since last purchase" → "The data has no days since last purchase."
    for prefix in ("not measured:", "not measured -", "not measured"):
        if reason.lower().startswith(prefix):
            reason = reason[len(prefix) :].strip()
            break
    if not reason:
        return NOT_MEASURED_UNKNOWN
    reason = reason[0].upper() + reason[1:]
    return reason if reason.endswith((".", "!", "?")) else reason + "."


def threshold(cm: Mapping[str, Any] | None) -> float:
    """The P(alive) threshold below which a customer is likely inactive."""
    value = (cm or {}).get("inactive_threshold")
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else DEFAULT_THRESHOLD


def horizon_months(cm: Mapping[str, Any] | None) -> int:
    """Months of the expected-value horizon (12 when not stated)."""
    value = (cm or {}).get("horizon_months")
    return int(value) if isinstance(value, int | float) and value > 0 else 12


def has_spend_model(cm: Mapping[str, Any] | None) -> bool:
    """True when expected order values (and so expected lifetime value) were fitted."""
    return bool(cm and cm.get("spend_model"))


def how_measured(cm: Mapping[str, Any], value: bool = True) -> str:
    """The short "how this is measured" note for a fitted churn model (``value``: add the CLV sentence)."""
    thr = threshold(cm)
    fitted_to = (
        "purchase counts, enrolment dates and days since the last purchase"
        if cm.get("source") == "marketing"
        else "purchase history"
    )
    text = f"BG/NBD fitted to {fitted_to}; a customer counts as likely inactive when P(alive) < {thr:g}."
    if value and has_spend_model(cm):
        text += f" Value = expected purchases × expected order value (Gamma-Gamma) over {horizon_months(cm)} months."
    return text


def segment_churn(segment: Mapping[str, Any]) -> dict[str, Any] | None:
    """A segment's measured churn figures, or None."""
    c = segment.get("churn")
    if isinstance(c, Mapping) and number(c.get("share_likely_inactive")) is not None:
        return dict(c)
    return None


def number(value: Any) -> float | None:
    """``value`` as a finite float, or None (bools, text, NaN and infinities are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def share_inactive(segment: Mapping[str, Any]) -> float | None:
    """The segment's measured share of likely inactive customers (None when not measured)."""
    c = segment_churn(segment)
    return None if c is None else number(c.get("share_likely_inactive"))


def value_at_risk(segment: Mapping[str, Any]) -> float | None:
    """Expected lifetime value of the segment's likely inactive customers (None when not measured)."""
    c = segment_churn(segment)
    return None if c is None else number(c.get("value_at_risk"))


def badge_text(segment: Mapping[str, Any]) -> str:
    """``"38% likely inactive"``, or ``"activity not measured"``."""
    share = share_inactive(segment)
    return "activity not measured" if share is None else f"{share:.0%} likely inactive"


def population_churn(segments: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    """All customers' figures from the segments': size-weighted share likely inactive and sums.

    Returns
    -------
    dict
        ``share_likely_inactive`` and ``n_likely_inactive`` (None when a
        segment is not measured), ``value_at_risk`` and ``total_clv`` (None
        when any segment lacks them).
    """
    sizes = [int(s.get("size") or 0) for s in segments]
    shares = [share_inactive(s) for s in segments]
    n = sum(sizes)
    if not segments or n == 0 or any(x is None for x in shares):
        return {"share_likely_inactive": None, "n_likely_inactive": None, "value_at_risk": None, "total_clv": None}
    n_inactive = sum(float(x) * size for x, size in zip(shares, sizes, strict=True))
    risk = [value_at_risk(s) for s in segments]
    totals = [number((segment_churn(s) or {}).get("total_clv")) for s in segments]
    return {
        "share_likely_inactive": n_inactive / n,
        "n_likely_inactive": round(n_inactive),
        "value_at_risk": None if any(x is None for x in risk) else float(sum(risk)),  # type: ignore[arg-type]
        "total_clv": None if any(x is None for x in totals) else float(sum(totals)),  # type: ignore[arg-type]
    }


def population_from_customers(customers: Any, thr: float) -> dict[str, float | None] | None:
    """All customers' figures from the per-customer ``p_alive`` and ``expected_clv`` columns.

    Customers whose ``p_alive`` could not be measured (NaN) are left out of
    the share (:func:`pipeline.churn.result.population_churn`); ``n_measured``
    and ``n_customers`` say how many that leaves.  Returns None when the
    table has no measured ``p_alive`` (then :func:`population_churn` over the
    segments is used).
    """
    if "p_alive" not in getattr(customers, "columns", ()):
        return None
    clv = customers["expected_clv"].to_numpy() if "expected_clv" in customers.columns else None
    pop = population_of_customers(customers["p_alive"].to_numpy(), clv, thr)
    if pop is None:
        return None
    return {
        "share_likely_inactive": pop.share_likely_inactive,
        "n_likely_inactive": pop.n_likely_inactive,
        "value_at_risk": pop.value_at_risk,
        "total_clv": pop.total_clv,
        "n_measured": pop.n_measured,
        "n_customers": pop.n_customers,
    }


def measured_population(
    manifest: Mapping[str, Any], customers: Any, segments: Sequence[Mapping[str, Any]]
) -> dict[str, float | None] | None:
    """All customers' figures of a model version, or None when not measured.

    From each customer's ``p_alive`` (:func:`population_from_customers`);
    a table without it (a version saved before it was kept per customer)
    falls back to the segments' figures (:func:`population_churn`).
    """
    cm = churn_model(manifest)
    if cm is None:
        return None
    return population_from_customers(customers, threshold(cm)) or population_churn(segments)


def inactive_caption(pop: Mapping[str, Any], thr: float) -> str:
    """What the "likely inactive" share counts: ``"224 of 1,071 customers measured, P(alive) < 0.5; 1,169 not measured"``."""
    n_inactive = pop.get("n_likely_inactive")
    if n_inactive is None:
        return "of customers"
    n_measured, n_customers = pop.get("n_measured"), pop.get("n_customers")
    if n_measured is not None and n_customers is not None and n_measured < n_customers:
        return (
            f"{int(n_inactive):,} of {int(n_measured):,} customers measured, P(alive) < {thr:g}; "
            f"{int(n_customers) - int(n_measured):,} not measured"
        )
    return f"{int(n_inactive):,} customers with P(alive) < {thr:g}"


def act_first_order(segments: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Segments in the order to act on: most value at risk first.

    Ties and segments without a value at risk (no spend model) follow by the
    number of likely inactive customers, then by share of spend.  When
    inactivity is not measured at all this is the order of share of spend.
    """

    def key(s: Mapping[str, Any]) -> tuple[float, float, float]:
        var = value_at_risk(s)
        share = share_inactive(s)
        n_inactive = (share or 0.0) * float(s.get("size") or 0)
        return (-(var if var is not None else -1.0), -n_inactive, -float(s.get("value_share") or 0.0))

    return sorted(segments, key=key)


def customer_estimate(cm: Mapping[str, Any], inputs: Mapping[str, float]) -> dict[str, float | None] | None:
    """P(alive), expected purchases and expected value of one customer under a fitted churn model.

    Parameters
    ----------
    cm : mapping
        The manifest's fitted ``churn_model``.
    inputs : mapping
        ``frequency``, ``tenure_years``, ``recency_days`` and ``value`` (the
        keys of :data:`CHURN_INPUTS`).

    Returns
    -------
    dict or None
        ``p_alive`` (0-1), ``expected_purchases`` and ``expected_clv`` (None
        without a spend model) over the model's horizon; None when the
        estimate cannot be made for these inputs.  Closed-form: no fitting.
    """
    try:
        from pipeline.churn.measure import customer_churn
    except ImportError:  # the measurement is not installed in this tree
        return None
    try:
        out = customer_churn(
            dict(cm),
            frequency=float(inputs["frequency"]),
            tenure_years=float(inputs["tenure_years"]),
            recency_days=float(inputs["recency_days"]),
            value=float(inputs["value"]),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None
    p_alive = number(_scalar(out.p_alive))
    if p_alive is None:
        return None
    return {
        "p_alive": min(1.0, max(0.0, p_alive)),
        "expected_purchases": number(_scalar(out.expected_purchases)),
        "expected_clv": number(_scalar(out.expected_clv)),
    }


def _scalar(value: Any) -> Any:
    """A plain float from a number or a one-element array."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        try:
            return float(value[0])
        except (TypeError, ValueError, IndexError, KeyError):
            return None


def holdout_rows(holdout: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Predicted against actual purchases after the cut-off, per number of repeat purchases before it.

    Parameters
    ----------
    holdout : mapping or None
        ``churn_model["holdout"]``: ``by_repeat_purchases`` is a list of
        ``{"repeat_purchases": "0" … "7+", "n_customers", "predicted_mean", "actual_mean"}``.

    Returns
    -------
    list of dict
        ``label`` (``"0"`` … ``"7+"``), ``n_customers``, ``predicted`` and
        ``actual`` (mean purchase days per customer in the holdout period), in
        increasing number of repeat purchases.  Empty when there is no holdout.
    """
    if not isinstance(holdout, Mapping):
        return []
    rows = []
    for g in holdout.get("by_repeat_purchases") or []:
        if not isinstance(g, Mapping):
            continue
        predicted, actual = number(g.get("predicted_mean")), number(g.get("actual_mean"))
        label = str(g.get("repeat_purchases", "")).strip()
        digits = label.rstrip("+")
        if predicted is None or actual is None or not digits.isdigit():
            continue
        rows.append(
            {
                "order": int(digits),
                "label": label,
                "n_customers": int(number(g.get("n_customers")) or 0),
                "predicted": predicted,
                "actual": actual,
            }
        )
    return [
        {k: r[k] for k in ("label", "n_customers", "predicted", "actual")}
        for r in sorted(rows, key=lambda r: r["order"])
    ]


def holdout_totals(holdout: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Total predicted and actual purchase days in the holdout period, the relative error, the period and how.

    None when there is no holdout or its totals are missing.
    """
    if not isinstance(holdout, Mapping):
        return None
    predicted, actual = number(holdout.get("predicted_total")), number(holdout.get("actual_total"))
    if predicted is None or actual is None:
        return None
    period = holdout.get("period") if isinstance(holdout.get("period"), Mapping) else {}
    return {
        "predicted": predicted,
        "actual": actual,
        "error": (predicted - actual) / actual if actual else None,
        "start": period.get("start"),
        "end": period.get("end"),
        "n_customers": number(holdout.get("n_customers")),
        "how_measured": str(holdout.get("how_measured") or ""),
    }
