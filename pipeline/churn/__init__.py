"""Churn and lifetime value: BG/NBD (still active? how many purchases?) and Gamma-Gamma (spend per purchase).

Small maximum-likelihood implementations on scipy (see :mod:`pipeline.churn.bgnbd`),
the expected customer lifetime value (:func:`expected_clv`) and simulators that draw
customers from the models themselves.  Importing the package does no work: the names
below are imported when first used (PEP 562), so a module that needs only
:mod:`pipeline.churn.result` (the dashboard's landing page) does not load scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Each public name and the module that defines it.
_EXPORTS = {
    "BetaGeoModel": "pipeline.churn.bgnbd",
    "expected_clv": "pipeline.churn.clv",
    "GammaGammaModel": "pipeline.churn.gamma_gamma",
    "simulate_bgnbd": "pipeline.churn.simulate",
    "simulate_gamma_gamma": "pipeline.churn.simulate",
}

__all__ = ["BetaGeoModel", "GammaGammaModel", "expected_clv", "simulate_bgnbd", "simulate_gamma_gamma"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
