"""Measured churn risk and lifetime value of a data set: fit, per customer, per segment, holdout.

:func:`measure_churn` fits a BG/NBD model (:class:`~pipeline.churn.bgnbd.BetaGeoModel`)
on every measurable customer's ``(x, t_x, T)`` in days (:mod:`pipeline.churn.inputs`)
and a Gamma-Gamma model (:class:`~pipeline.churn.gamma_gamma.GammaGammaModel`) on the
spend per purchase day of the customers with repeat purchases, then gives each
customer

``p_alive``
    The probability that the customer is still active at the as-of date.
``expected_purchases``
    Expected purchase days over the horizon (``horizon_months``).
``expected_clv``
    Expected purchases × expected spend per purchase × ``margin``, discounted
    at ``annual_discount_rate`` (:func:`~pipeline.churn.clv.expected_clv`); NaN
    when there is no spend model.

A customer is *likely inactive* when ``p_alive < inactive_threshold``; a
segment's *value at risk* is the total expected CLV of its likely inactive
customers.  How well the model predicts is checked on a holdout period
(transaction logs only): the log's lines after the as-of date, or else an
internal one (refit on the first two thirds of the period, compared on the rest).

The manifest form (:meth:`ChurnMeasurement.to_dict`) is the ``churn_model`` object
of ``train --json``; :func:`customer_churn` gives one customer's figures from it with
the training derivation (the simulator).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from pipeline.churn.bgnbd import BetaGeoModel
from pipeline.churn.clv import expected_clv
from pipeline.churn.gamma_gamma import GammaGammaModel, in_larger_units
from pipeline.churn.inputs import (
    DAYS_PER_YEAR,
    ChurnInputs,
    HoldoutInputs,
    NotMeasured,
    churn_inputs,
    summary_from_counts,
)
from pipeline.churn.result import ChurnMeasurement, CustomerChurn, HoldoutCheck, HoldoutGroup, not_measured
from pipeline.config import Settings
from pipeline.errors import DataError

#: Most customers the spend model is fitted on (a random sample above this; the estimate is already precise).
MAX_SPEND_FIT = 100_000
#: Most customers the BG/NBD model is fitted on (a random sample above this, said in the assumptions):
#: on a million customers the fit would otherwise take most of the training time.
MAX_BGNBD_FIT = 100_000
_KEY_SPAN = 1 << 21
#: BG/NBD a or b, or Gamma-Gamma q, above this: the fit ran along the likelihood's ridge (:func:`_off_the_ridge`).
RIDGE = 1e4
#: Penalties tried, smallest first, when a fit runs along the ridge (:func:`_off_the_ridge`).
RIDGE_PENALTIES = (1e-10, 1e-9, 1e-8, 1e-7, 1e-6)
#: Calibration groups of the holdout check: 0, 1, ..., 6 repeat purchases, then 7 or more.
HOLDOUT_GROUPS = 7
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
_Fitted = TypeVar("_Fitted", BetaGeoModel, GammaGammaModel)


def transactions_after_as_of(report_items: Any) -> int:
    """Lines dropped as later than the as-of date, from a data-quality report's items."""
    return int(sum(int(i.count) for i in report_items if getattr(i, "kind", None) == "after_as_of"))


def measure_churn(
    customers: pd.DataFrame,
    kind: str,
    as_of: dt.date,
    settings: Settings,
    n_after_as_of: int = 0,
) -> ChurnMeasurement:
    """Fit the churn and spend models on a customer table and measure every customer.

    Parameters
    ----------
    customers : DataFrame
        The data set's customers (:attr:`pipeline.segmentation.training.Dataset.customers`).
    kind : str
        Input kind (``"transactions"``, ``"marketing"``, ``"customer_table"``).
    as_of : date
        The data set's as-of date.
    settings : Settings
        ``horizon_months``, ``margin``, ``annual_discount_rate``, ``inactive_threshold``.
    n_after_as_of : int
        Log lines after the as-of date (reported; their purchases are the holdout).

    Returns
    -------
    ChurnMeasurement
        Not measured (with the reason) when the data has no days since the
        last purchase, too few customers, or nobody with a repeat purchase.
    """
    n = len(customers)
    inputs = churn_inputs(customers, kind, as_of)
    if isinstance(inputs, NotMeasured):
        return not_measured(n, inputs.reason, settings)
    ok = inputs.measured
    rows = np.flatnonzero(ok)
    sample_note = ""
    if len(rows) > MAX_BGNBD_FIT:
        rows = np.sort(np.random.default_rng(settings.random_state).choice(rows, MAX_BGNBD_FIT, replace=False))
        sample_note = (
            f"The purchase model is fitted on a random sample of {MAX_BGNBD_FIT:,} of {int(ok.sum()):,} customers "
            "(the estimate is already precise); every customer is then measured with it."
        )
    try:
        bg, fit_note = _fit_bgnbd(inputs.x[rows], inputs.t_x[rows], inputs.T[rows])
    except DataError as err:
        return not_measured(n, f"not measured: {err}", settings)
    gg, spend_note = _fit_spend(inputs, ok, settings.random_state)
    p_alive, purchases, clv = _predict(bg, gg, inputs, ok, settings)
    holdout = _holdout(bg, inputs.holdout) if inputs.holdout is not None else None
    return ChurnMeasurement(
        reason=None,
        p_alive=p_alive,
        expected_purchases=purchases,
        expected_clv=clv,
        bg_params=dict(bg.params_),
        gg_params=None if gg is None else dict(gg.params_),
        n_customers_fitted=int(bg.n_customers_),
        transactions_after_as_of=int(n_after_as_of),
        holdout=holdout,
        as_of=inputs.as_of,
        horizon_months=settings.horizon_months,
        margin=settings.margin,
        annual_discount_rate=settings.annual_discount_rate,
        inactive_threshold=settings.inactive_threshold,
        source=inputs.source,
        assumptions=inputs.assumptions + tuple(note for note in (sample_note, fit_note) if note),
        tenure_offset_days=inputs.tenure_offset_days,
        spend_note=spend_note,
    )


def group_rows(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(x, t_x, T)`` rows (sorted), each row's position among them, and their counts.

    Whole days up to 2**21 are packed into one integer key (fast); other values use a row-wise unique.
    """
    stacked = (x, t_x, T)
    whole = all(
        len(v) == 0 or (v.min() >= 0 and v.max() < _KEY_SPAN and np.array_equal(v, np.floor(v))) for v in stacked
    )
    if whole:
        key = (x.astype(np.int64) << 42) | (t_x.astype(np.int64) << 21) | T.astype(np.int64)
        uk, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
        mask = _KEY_SPAN - 1
        return (uk >> 42).astype(float), ((uk >> 21) & mask).astype(float), (uk & mask).astype(float), inv, counts
    uniq, inv, counts = np.unique(np.column_stack(stacked), axis=0, return_inverse=True, return_counts=True)
    return uniq[:, 0], uniq[:, 1], uniq[:, 2], inv.ravel(), counts


def _fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[BetaGeoModel, str]:
    """BG/NBD maximum-likelihood fit on the distinct rows weighted by their counts (same estimate, faster).

    When the likelihood has no maximum at finite ``a`` and ``b`` (the fit runs
    along the ridge where the dropout probability is the same for everyone,
    ``a, b > RIDGE``), :func:`_off_the_ridge` applies; the returned note says so
    and what it cost in log-likelihood.  Otherwise the note is empty.
    """
    ux, utx, uT, _, counts = group_rows(x, t_x, T)

    def size(m: BetaGeoModel) -> float:
        return max(m.params_["a"], m.params_["b"])

    # L-BFGS-B alone first: on the ridge, Nelder-Mead would only walk further along it
    # (tens of thousands of likelihood calls) before the penalised refit replaces it.
    bg = BetaGeoModel(polish=False).fit(ux, utx, uT, sample_weight=counts)
    if not bg.converged_ and size(bg) < RIDGE:
        bg = BetaGeoModel().fit(ux, utx, uT, sample_weight=counts)  # off the ridge: the full fit, as before
    model, penalty = _off_the_ridge(
        bg, lambda pen: BetaGeoModel(penalizer=pen).fit(ux, utx, uT, sample_weight=counts), size
    )
    if not penalty:
        if size(bg) >= RIDGE:  # no penalty gave finite values: the full plain fit, as before the rule
            return BetaGeoModel().fit(ux, utx, uT, sample_weight=counts), ""
        return bg, ""
    note = (
        f"The purchase model's likelihood has no maximum at finite a and b (no sign that the chance of "
        f"dropping out differs between customers: the plain fit runs to a = {bg.params_['a']:.3g}, "
        f"b = {bg.params_['b']:.3g}); a penalty of {penalty:g} × (r² + alpha² + a² + b²) picks finite values, "
        f"{_likelihood_cost(bg, model)}."
    )
    return model, note


def _off_the_ridge(
    plain: _Fitted, fit: Callable[[float], _Fitted], size: Callable[[_Fitted], float]
) -> tuple[_Fitted, float]:
    """THE rule for a likelihood without a finite maximum, shared by the purchase and the spend model.

    Parameters
    ----------
    plain : fitted model
        The unpenalised fit.
    fit : callable
        ``fit(penalty)``: the same fit with ``penalizer=penalty``.
    size : callable
        The parameter that runs away along the ridge (BG/NBD: ``max(a, b)``; Gamma-Gamma: ``q``).

    Returns
    -------
    (model, penalty)
        ``(plain, 0.0)`` when ``size(plain) < RIDGE`` (not on the ridge), else the fit with
        the smallest penalty of :data:`RIDGE_PENALTIES` that brings ``size`` below
        :data:`RIDGE`; ``(plain, 0.0)`` when none does.
    """
    if size(plain) < RIDGE:
        return plain, 0.0
    for penalty in RIDGE_PENALTIES:
        model = fit(penalty)
        if size(model) < RIDGE:
            return model, penalty
    return plain, 0.0


def _likelihood_cost(plain: _Fitted, model: _Fitted) -> str:
    """``"at a log-likelihood D lower (d per customer)"``: what the penalised ``model`` gave up against ``plain``."""
    drop = plain.log_likelihood_ - model.log_likelihood_
    return f"at a log-likelihood {drop:.1f} lower ({drop / max(plain.n_customers_, 1):.4f} per customer)"


def _fit_spend(inputs: ChurnInputs, ok: np.ndarray, random_state: int = 0) -> tuple[GammaGammaModel | None, str]:
    """The Gamma-Gamma fit on repeat customers with a positive spend, or None and why.

    Above :data:`MAX_SPEND_FIT` such customers, it is fitted on a random
    sample of that many (``random_state``), and the note says so.

    L-BFGS-B alone first: when ``q >= RIDGE`` the likelihood has no finite
    maximum (no sign that customers' average spend differs beyond the noise
    between purchases) and :func:`_off_the_ridge` applies, as for the purchase
    model, without Nelder-Mead's walk along the ridge; the penalised fits are on
    spend in units of its mean (``gamma`` has money units, so the penalty does not
    depend on the currency), and the note says what happened.  Otherwise the fit
    is the plain one, as before the rule (with Nelder-Mead if L-BFGS-B did not converge).
    """
    m = inputs.monetary
    usable = ok & (inputs.x > 0) & np.isfinite(m) & (m > 0)
    if not np.isfinite(m).any():
        return None, "the data has no spend."
    rows = np.flatnonzero(usable)
    sampled = len(rows) > MAX_SPEND_FIT
    if sampled:
        rows = np.sort(np.random.default_rng(random_state).choice(rows, MAX_SPEND_FIT, replace=False))
    # The spend is averaged over all x + 1 purchase days, so x + 1 is the number of purchases in the mean.
    x, spend = inputs.x[rows] + 1.0, m[rows]
    try:
        plain = GammaGammaModel(polish=False).fit(x, spend)
        if not plain.converged_ and _spend_size(plain) < RIDGE:
            plain = GammaGammaModel().fit(x, spend)
        unit = float(spend.mean())
        gg, penalty = _off_the_ridge(
            plain,
            lambda pen: in_larger_units(GammaGammaModel(penalizer=pen).fit(x, spend / unit), unit),
            _spend_size,
        )
        if not penalty and _spend_size(plain) >= RIDGE:
            gg = GammaGammaModel().fit(x, spend)  # no penalty gave finite values: the plain fit, as before the rule
    except DataError as err:
        return None, f"the spend model could not be fitted ({err})."
    if gg.params_["q"] <= 1.0:
        return None, "the fitted spend model has no finite mean spend (q ≤ 1)."
    corr = gg.frequency_monetary_corr_
    fitted = (
        f"a random sample of {gg.n_customers_:,} of the {int(usable.sum()):,}" if sampled else f"{gg.n_customers_:,}"
    )
    note = f"Spend model fitted on {fitted} customers with repeat purchases and a positive spend" + (
        f"; correlation of repeat purchases and spend per purchase {corr:+.2f} (the model assumes 0)."
        if np.isfinite(corr)
        else "."
    )
    if penalty:
        note += (
            " Its likelihood has no maximum at finite q (no sign that customers' average spend per purchase differs "
            f"beyond the purchase-to-purchase noise: the plain fit runs to q = {plain.params_['q']:.3g}), so each "
            f"customer's expected spend per purchase is close to the population mean, {gg.population_mean_:,.2f}; "
            f"a penalty of {penalty:g} × (p² + q² + (gamma / {unit:,.2f})²) picks finite values, "
            f"{_likelihood_cost(plain, gg)}."
        )
    return gg, note


def _spend_size(model: GammaGammaModel) -> float:
    """Gamma-Gamma ``q``: it runs away along the ridge (``gamma`` follows it, in money units, so it is not compared)."""
    return model.params_["q"]


def _predict(
    bg: BetaGeoModel, gg: GammaGammaModel | None, inputs: ChurnInputs, ok: np.ndarray, settings: Settings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p_alive``, expected purchases and expected CLV of every row (NaN where not measured)."""
    n = len(ok)
    p_alive = np.full(n, np.nan)
    purchases = np.full(n, np.nan)
    clv = np.full(n, np.nan)
    if not ok.any():
        return p_alive, purchases, clv
    x, t_x, T = inputs.x[ok], inputs.t_x[ok], inputs.T[ok]
    # Identical (x, t_x, T) rows are predicted once: whole days repeat a lot.
    ux, utx, uT, inv, _ = group_rows(x, t_x, T)
    horizon = settings.horizon_months * DAYS_PER_MONTH
    p_alive[ok] = bg.p_alive(ux, utx, uT)[inv]
    purchases[ok] = bg.expected_purchases(horizon, ux, utx, uT)[inv]
    if gg is not None:
        clv[ok] = _clv(bg, gg, x, t_x, T, inputs.monetary[ok], settings, (ux, utx, uT, inv))
    return p_alive, purchases, clv


def _clv(
    bg: BetaGeoModel,
    gg: GammaGammaModel,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    monetary: np.ndarray,
    settings: Settings,
    grouped: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Expected CLV per customer; NaN where the spend is unknown.

    The expected spend per purchase is the Gamma-Gamma expectation given the
    customer's mean spend over their ``x + 1`` purchase days.  A customer whose
    net spend is 0 (returned everything) gets its limit as the spend tends to 0.
    """
    out = np.full(len(x), np.nan)
    known = np.isfinite(monetary)
    if not known.any():
        return out
    m = np.maximum(np.nan_to_num(monetary, nan=0.0), 1e-9)
    # expected_clv = margin × expected spend (Gamma-Gamma) × discounted expected purchases (BG/NBD);
    # the purchases part depends on (x, t_x, T) only, so it is computed once per distinct row.
    if grouped is None:
        ux, utx, uT = x, t_x, T
        inv = np.arange(len(x))
    else:
        ux, utx, uT, inv = grouped
    # With p = 1, q = 2, gamma = 1 and a spend of 1 the Gamma-Gamma expectation is 1 for every x, so
    # expected_clv gives the discounted expected purchases, which depend on (x, t_x, T) only.
    unit = GammaGammaModel.from_params({"p": 1.0, "q": 2.0, "gamma": 1.0})
    per_purchase = expected_clv(
        bg,
        unit,
        ux,
        utx,
        uT,
        np.ones_like(ux),
        horizon=settings.horizon_months * DAYS_PER_MONTH,
        periods_per_year=DAYS_PER_YEAR,
        margin=1.0,
        annual_discount_rate=settings.annual_discount_rate,
        steps=12 if settings.annual_discount_rate else 1,  # the undiscounted sum does not depend on steps
    )[inv]
    spend = gg.expected_average_value(x[known] + 1.0, m[known])
    out[known] = settings.margin * spend * per_purchase[known]
    return out


def _holdout(bg: BetaGeoModel, h: HoldoutInputs) -> HoldoutCheck | None:
    """Predicted vs actual purchase days in the holdout period (refit for an internal holdout)."""
    model = bg
    if not h.after_as_of:
        try:
            model, _ = _fit_bgnbd(h.x, h.t_x, h.T)
        except DataError:
            return None
    predicted = model.expected_purchases(float(h.days), h.x, h.t_x, h.T)
    group = np.minimum(h.x, HOLDOUT_GROUPS).astype(int)
    groups = []
    for g in range(HOLDOUT_GROUPS + 1):
        sel = group == g
        if not sel.any():
            continue
        groups.append(
            HoldoutGroup(
                repeat_purchases=f"{g}+" if g == HOLDOUT_GROUPS else str(g),
                n_customers=int(sel.sum()),
                predicted_mean=float(predicted[sel].mean()),
                actual_mean=float(h.actual[sel].mean()),
            )
        )
    return HoldoutCheck(
        kind="after_as_of" if h.after_as_of else "internal",
        calibration_end=h.calibration_end,
        end=h.end,
        n_customers=len(h.x),
        predicted_total=float(predicted.sum()),
        actual_total=float(h.actual.sum()),
        groups=tuple(groups),
        params=dict(model.params_),
    )


# ------------------------------------------------------------------ scoring and the simulator


def _models(churn_model: Mapping[str, Any]) -> tuple[BetaGeoModel, GammaGammaModel | None] | None:
    if not churn_model or churn_model.get("model") is None:
        return None
    bg = BetaGeoModel.from_params(churn_model["params"])
    spend = churn_model.get("spend_model")
    gg = GammaGammaModel.from_params(spend["params"]) if spend else None
    return bg, gg


def _settings_of(churn_model: Mapping[str, Any]) -> Settings:
    return Settings(
        horizon_months=int(churn_model.get("horizon_months", 12)),
        margin=float(churn_model.get("margin", 1.0)),
        annual_discount_rate=float(churn_model.get("annual_discount_rate", 0.0)),
        inactive_threshold=float(churn_model.get("inactive_threshold", 0.5)),
    )


def customer_churn(
    churn_model: Mapping[str, Any],
    *,
    frequency: float,
    tenure_years: float,
    recency_days: float,
    value: float | None,
    repeat_purchases: float | None = None,
) -> CustomerChurn:
    """One customer's ``p_alive``, expected purchases and expected CLV under a stored model.

    The derivation is the one training uses for summary tables
    (:func:`pipeline.churn.inputs.summary_from_counts`): ``x = frequency − 1``,
    ``T = tenure in days (+ the model's tenure offset)``, ``t_x = T − recency``.
    For a transaction log, frequency counts orders while the model counts
    purchase days; pass ``repeat_purchases`` (distinct purchase days − 1) to
    reproduce a data row exactly.

    Parameters
    ----------
    churn_model : mapping
        The manifest's ``churn_model``.
    frequency : float
        Purchases (``Purchase_Frequency``).
    tenure_years : float
        ``Customer_For_Years`` (to the data's as-of date).
    recency_days : float
        Days since the last purchase.
    value : float or None
        ``Customer_Value`` (total spend); None: no CLV.
    repeat_purchases : float or None
        Overrides ``frequency − 1``.

    Returns
    -------
    CustomerChurn
        NaN figures when the model was not measured or an input is missing.
    """
    models = _models(churn_model)
    nan = float("nan")
    if models is None:
        return CustomerChurn(nan, nan, None)
    bg, gg = models
    settings = _settings_of(churn_model)
    offset = int(churn_model.get("tenure_offset_days", 0) or 0)
    purchases = frequency if repeat_purchases is None else float(repeat_purchases) + 1.0
    x, t_x, T, monetary = summary_from_counts(
        np.array([purchases]),
        np.array([tenure_years]),
        np.array([recency_days]),
        None if value is None else np.array([value]),
        offset,
    )
    inputs = ChurnInputs(x=x, t_x=t_x, T=T, monetary=monetary, source="", as_of=dt.date(1970, 1, 1))  # as_of unused
    ok = inputs.measured
    p, e, v = _predict(bg, gg if value is not None else None, inputs, ok, settings)
    clv = None if gg is None or value is None else float(v[0])
    return CustomerChurn(float(p[0]), float(e[0]), clv)


def score_churn(
    churn_model: Mapping[str, Any] | None,
    customers: pd.DataFrame,
    kind: str,
    as_of: dt.date,
    value_settings: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``p_alive`` and expected CLV of every row of a customer table under a stored model.

    The inputs are derived from ``customers`` as in training; NaN where the
    model was not measured, the table cannot be measured, or there is no spend
    model.  ``value_settings`` (``horizon_months``, ``margin``,
    ``annual_discount_rate``) replace the model's for the CLV.

    Raises
    ------
    SegmentationError
        Invalid ``value_settings``.
    """
    n = len(customers)
    nan = np.full(n, np.nan)
    models = _models(churn_model or {})
    if models is None:
        return nan, nan.copy()
    inputs = churn_inputs(customers, kind, as_of)
    if isinstance(inputs, NotMeasured):
        return nan, nan.copy()
    assert churn_model is not None
    bg, gg = models
    settings = _settings_of({**churn_model, **(value_settings or {})})
    p, _, clv = _predict(bg, gg, inputs, inputs.measured, settings)
    return p, clv
