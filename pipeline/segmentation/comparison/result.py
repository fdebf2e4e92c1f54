"""The comparison result as typed, frozen records.

:class:`ComparisonResult` is what :func:`pipeline.segmentation.comparison.run_comparison`
returns.  :meth:`ComparisonResult.to_dict` gives the JSON form (the cache file
and ``compare --json``: the same keys, in the same order, as before the result
was typed) and :meth:`ComparisonResult.from_dict` reads it back; lists become
tuples in the records and lists again in the JSON form.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, Self


class _Record:
    """JSON conversion shared by the records (a mixin for frozen dataclasses)."""

    #: Field → record class of its value (or of each item, when the value is a list).
    _nested: ClassVar[dict[str, type[_Record]]] = {}
    #: Fields left out of the JSON form when they are None.
    _optional: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (plain dicts, lists, numbers, strings, None)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.name in self._optional:
                continue
            out[f.name] = _plain(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read the JSON form back.

        Raises
        ------
        ValueError
            A field is missing or an unknown field is present.
        """
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        unknown = set(data) - set(names)
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
        kwargs: dict[str, Any] = {}
        for name in names:
            if name not in data:
                if name in cls._optional:
                    kwargs[name] = None
                    continue
                raise ValueError(f"{cls.__name__}: missing field {name!r}")
            value = data[name]
            nested = cls._nested.get(name)
            if nested is not None and value is not None:
                value = (
                    tuple(nested.from_dict(v) for v in value) if isinstance(value, list) else nested.from_dict(value)
                )
            else:
                value = _frozen(value)
            kwargs[name] = value
        return cls(**kwargs)


def _plain(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _frozen(value: Any) -> Any:
    """Lists as tuples (dicts kept as they are)."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


@dataclasses.dataclass(frozen=True)
class ModelRow(_Record):
    """One model at the chosen k (density models: at the segments they find)."""

    name: str
    label: str
    k: int | None
    params: Mapping[str, Any]
    silhouette: float | None
    silhouette_rows: int
    n_segments: int
    davies_bouldin: float | None
    calinski_harabasz: float | None
    noise_share: float | None
    min_segment_share: float
    segment_shares: tuple[float, ...]
    fit_seconds: float
    stability_mean: float | None
    stability_std: float | None
    stability_scores: tuple[float, ...]
    predicts_natively: bool
    live_prediction: str
    sampled_rows: int
    flags: tuple[str, ...]
    notes: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class SweepRow(_Record):
    """One model at one k of the sweep."""

    model: str
    label: str
    k: int
    inertia: float | None
    silhouette: float | None
    davies_bouldin: float | None
    calinski_harabasz: float | None
    n_segments: int
    noise_share: float | None
    min_segment_share: float
    stability_mean: float | None
    stability_std: float | None
    fit_rows: int
    silhouette_rows: int
    predicts_natively: bool


@dataclasses.dataclass(frozen=True)
class ScalingVariant(_Record):
    """KMeans at the chosen k under one scaling."""

    scaling: str
    label: str
    is_compared: bool
    model: str
    k: int | None
    silhouette: float | None
    silhouette_rows: int
    davies_bouldin: float | None
    calinski_harabasz: float | None
    n_segments: int
    min_segment_share: float
    segment_shares: tuple[float, ...]
    inertia: float | None
    stability_mean: float | None
    stability_std: float | None
    stability_scores: tuple[float, ...]
    agreement_with_compared: float


@dataclasses.dataclass(frozen=True)
class KDistance(_Record):
    """The k-distance curve DBSCAN's ``eps`` was read from (at most 500 points)."""

    min_samples: int
    eps: float
    knee_index: int
    knee_rank: int
    distances: tuple[float, ...]
    ranks: tuple[int, ...]
    rows: int


@dataclasses.dataclass(frozen=True)
class Knife(_Record):
    """Per-customer silhouettes of the recommended model (at most 2,000, stratified)."""

    _optional: ClassVar[frozenset[str]] = frozenset({"scaling", "segment_means"})

    model: str | None
    k: int | None
    values: tuple[float, ...]
    labels: tuple[int, ...]
    rows: int
    mean: float | None
    scaling: str | None = None
    segment_means: Mapping[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, keys in the order of earlier versions (``scaling`` after ``k``)."""
        out = super().to_dict()
        order = ("model", "k", "scaling", "values", "labels", "rows", "mean", "segment_means")
        return {key: out[key] for key in order if key in out}


@dataclasses.dataclass(frozen=True)
class Considered(_Record):
    """One candidate the rule looked at."""

    model: str
    k: int
    eligible: bool
    why_not: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Rule(_Record):
    """The thresholds the rule used."""

    max_noise_share: float
    min_segment_share: float
    silhouette_tolerance: float
    stability_tolerance: float
    elbow_k: int | None


@dataclasses.dataclass(frozen=True)
class Recommendation(_Record):
    """The recommended model, k and scaling, and why (see :func:`pipeline.segmentation.comparison.recommend`)."""

    _nested: ClassVar[dict[str, type[_Record]]] = {"rule": Rule, "considered": Considered}

    model: str | None
    label: str | None
    k: int | None
    scaling: str
    command: str | None
    eligible: bool
    reason: str
    rule: Rule
    considered: tuple[Considered, ...]


@dataclasses.dataclass(frozen=True)
class Sampling(_Record):
    """Which customers the comparison used, and the sentence saying so."""

    applied: bool
    rows_used: int
    rows_total: int
    ward_rows: int
    stability_rows: int
    resamples: int
    message: str
    how_measured: str


@dataclasses.dataclass(frozen=True)
class ComparisonResult(_Record):
    """Everything a comparison measured (see :func:`pipeline.segmentation.comparison.run_comparison`)."""

    _nested: ClassVar[dict[str, type[_Record]]] = {
        "models": ModelRow,
        "k_sweep": SweepRow,
        "scaling_variants": ScalingVariant,
        "kdistance": KDistance,
        "silhouette_samples": Knife,
        "recommendation": Recommendation,
        "sampled": Sampling,
    }

    format: int
    data_name: str
    data_hash: str
    settings_hash: str
    settings: Mapping[str, Any]
    created_at: str
    models: tuple[ModelRow, ...]
    k_sweep: tuple[SweepRow, ...]
    elbow_k: int | None
    scaling_variants: tuple[ScalingVariant, ...]
    kdistance: KDistance
    silhouette_samples: Knife
    recommendation: Recommendation
    sampled: Sampling
    seconds: float

    def model(self, name: str) -> ModelRow:
        """The row of model ``name``.

        Raises
        ------
        KeyError
            No such model in this comparison.
        """
        for row in self.models:
            if row.name == name:
                return row
        raise KeyError(name)
