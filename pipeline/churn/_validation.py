"""Input checks shared by the churn models: one clear sentence per problem.

Every array is turned into a flat ``float64`` array; anything that cannot be a
customer summary (text, missing or infinite values, negative times, a last
purchase after the as-of date, ...) raises :class:`~pipeline.errors.DataError`.
"""

from __future__ import annotations

import numpy as np

from pipeline.errors import DataError

#: Fewest customers a model is fitted on (four parameters need some evidence).
MIN_CUSTOMERS = 10


def as_float_array(values: object, name: str) -> np.ndarray:
    """Return ``values`` as a 1-D ``float64`` array, refusing text, missing and infinite values.

    Parameters
    ----------
    values : array-like or scalar
        The column.
    name : str
        Its name, for the message.

    Returns
    -------
    numpy.ndarray
        A new flat float array.
    """
    try:
        arr = np.asarray(values, dtype="float64").ravel()
    except (TypeError, ValueError):
        raise DataError(f"{name} must be numbers") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataError(f"{name} has {int(bad.sum()):,} missing or infinite values (first at position {_first(bad)})")
    return arr


def broadcast_flat(*values: object) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """Broadcast the values against each other; return the common shape and each one flattened.

    Raises
    ------
    DataError
        When the shapes do not match (e.g. columns of different lengths).
    """
    arrays = [np.asarray(v) for v in values]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        sizes = ", ".join(f"{a.size:,}" for a in arrays)
        raise DataError(f"the inputs must have the same length (got {sizes})") from None
    return shape, [np.broadcast_to(a, shape).ravel() for a in arrays]


def check_summary(frequency: object, recency: object, T: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check one BG/NBD customer summary ``(x, t_x, T)`` and return it as flat float arrays.

    Scalars are broadcast against arrays (one customer's values may be given as numbers).

    Raises
    ------
    DataError
        On text, missing/infinite or negative values, fractional ``frequency``,
        ``recency > T``, repeat purchases with ``recency == 0``, or no repeat
        purchase with ``recency > 0``.
    """
    x = as_float_array(frequency, "frequency")
    tx = as_float_array(recency, "recency")
    t = as_float_array(T, "T")
    try:
        x, tx, t = (np.array(v, dtype="float64") for v in np.broadcast_arrays(x, tx, t))
    except ValueError:
        raise DataError(
            f"frequency, recency and T must have the same length (got {x.size:,}, {tx.size:,} and {t.size:,})"
        ) from None
    if x.size == 0:
        raise DataError("no customers were given")
    for arr, name in ((x, "frequency"), (tx, "recency"), (t, "T")):
        neg = arr < 0
        if neg.any():
            raise DataError(
                f"{name} must not be negative ({int(neg.sum()):,} values are, first at position {_first(neg)})"
            )
    frac = x != np.floor(x)
    if frac.any():
        raise DataError(
            f"frequency must count whole repeat purchases ({int(frac.sum()):,} values are fractional, "
            f"first at position {_first(frac)})"
        )
    late = tx > t + 1e-9 * np.maximum(t, 1.0)
    if late.any():
        raise DataError(
            f"recency is greater than T for {int(late.sum()):,} customers (first at position {_first(late)}): "
            "the last purchase cannot come after the as-of date"
        )
    zero = (x > 0) & (tx == 0)
    if zero.any():
        raise DataError(
            f"{int(zero.sum()):,} customers have repeat purchases but recency 0 (first at position {_first(zero)}): "
            "a repeat purchase must come after the first one"
        )
    stray = (x == 0) & (tx > 0)
    if stray.any():
        raise DataError(
            f"{int(stray.sum()):,} customers have no repeat purchase but recency above 0 "
            f"(first at position {_first(stray)}): recency is the time from the first to the last purchase"
        )
    return x, tx, t


def check_weights(sample_weight: object, n: int) -> np.ndarray:
    """Return non-negative weights of length ``n`` (ones when ``sample_weight`` is None)."""
    if sample_weight is None:
        return np.ones(n)
    w = as_float_array(sample_weight, "sample_weight")
    if w.size != n:
        raise DataError(f"sample_weight has {w.size:,} values for {n:,} customers")
    if (w < 0).any():
        raise DataError("sample_weight must not be negative")
    return w


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])
