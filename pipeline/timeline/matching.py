"""Matching a retrained model's segments to the old ones, so names stay stable.

Each snapshot's segment centroid is the mean of its members' features.  The
distance between an old and a new centroid is Euclidean in units of the
earlier snapshot's standard deviation per feature (so spend in euros and
tenure in years weigh alike).  The pairing that minimises the total distance
is found with the Hungarian algorithm
(:func:`scipy.optimize.linear_sum_assignment`).  Each pair's **similarity** is
``1 / (1 + distance)``: 1 for identical centroids, 0.5 one standard deviation
apart.  A new segment takes the old one's key, name and colour when they are
at least :data:`MIN_SIMILARITY` alike; otherwise (and when the new model has
more segments) it keeps its own identity and is reported as unmatched.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from pipeline.errors import DataError
from pipeline.timeline.snapshot import SEGMENT, SegmentInfo, Snapshot

#: Below this similarity (centroids more than 1 standard deviation apart) a pair keeps separate identities.
MIN_SIMILARITY = 0.5


@dataclasses.dataclass(frozen=True)
class SegmentMatch:
    """One old segment paired with one new segment.

    Attributes
    ----------
    old_key, new_key : str
        The paired segments (``old_key`` is None for a new segment left unmatched).
    distance : float
        Centroid distance in standard deviations of the earlier snapshot.
    similarity : float
        ``1 / (1 + distance)``.
    renamed : bool
        The new segment took the old one's identity.
    """

    old_key: str | None
    new_key: str
    distance: float
    similarity: float
    renamed: bool


def centroids(snapshot: Snapshot, features: tuple[str, ...]) -> pd.DataFrame:
    """Mean feature values per segment key (segments without members left out)."""
    frame = snapshot.customers[[SEGMENT, *features]]
    return frame.groupby(SEGMENT, observed=True)[list(features)].mean()


def match_centroids(old: pd.DataFrame, new: pd.DataFrame, scale: pd.Series) -> list[SegmentMatch]:
    """Hungarian matching of ``new`` centroids (rows) to ``old`` ones (same columns).

    Parameters
    ----------
    old, new : DataFrame
        One row per segment key, one column per feature.
    scale : Series
        Standard deviation per feature (zeros are treated as 1).

    Returns
    -------
    list of SegmentMatch
        One per new segment, in ``new``'s order.
    """
    from scipy.optimize import linear_sum_assignment  # scipy only when matching (not when the app starts)

    cols = list(old.columns)
    s = scale.reindex(cols).to_numpy(dtype=float)
    s = np.where(np.isfinite(s) & (s > 0), s, 1.0)
    a = old[cols].to_numpy(dtype=float) / s
    b = new[cols].to_numpy(dtype=float) / s
    dist = np.sqrt(((b[:, None, :] - a[None, :, :]) ** 2).sum(axis=2))
    rows, cols_idx = linear_sum_assignment(dist)
    paired = dict(zip(rows.tolist(), cols_idx.tolist(), strict=True))
    out = []
    for i, key in enumerate(new.index):
        if i in paired:
            d = float(dist[i, paired[i]])
            sim = 1.0 / (1.0 + d)
            out.append(SegmentMatch(str(old.index[paired[i]]), str(key), d, sim, sim >= MIN_SIMILARITY))
        else:
            out.append(SegmentMatch(None, str(key), float("nan"), 0.0, False))
    return out


def match_snapshots(before: Snapshot, after: Snapshot) -> tuple[Snapshot, list[SegmentMatch]]:
    """``after`` (scored by a retrained model) relabelled with ``before``'s segment identities.

    Returns
    -------
    (Snapshot, list of SegmentMatch)
        The relabelled snapshot (its ``key_space`` is ``before``'s) and the pairs.

    Raises
    ------
    DataError
        The two snapshots share fewer than two features.
    """
    features = tuple(f for f in before.features if f in after.features)
    if len(features) < 2:
        raise DataError("The two snapshots share fewer than two features; their segments cannot be matched.")
    scale = before.customers[list(features)].std(ddof=0)
    matches = match_centroids(centroids(before, features), centroids(after, features), scale)
    old = {s.key: s for s in before.segments}
    rename = {m.new_key: m.old_key for m in matches if m.renamed and m.old_key is not None}
    taken = set(rename.values())
    segments = []
    for seg in after.segments:
        if seg.key in rename:
            segments.append(old[rename[seg.key]])
        else:
            key = seg.key if seg.key not in old and seg.key not in taken else f"{seg.key}_new"
            rename[seg.key] = key
            segments.append(SegmentInfo(key, seg.name if key == seg.key else f"{seg.name} (new)", seg.colour))
    customers = after.customers.copy()
    customers[SEGMENT] = customers[SEGMENT].cat.rename_categories(rename)
    relabelled = dataclasses.replace(after, customers=customers, segments=tuple(segments), key_space=before.key_space)
    return relabelled, matches
