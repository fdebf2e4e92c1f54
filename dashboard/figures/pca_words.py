"""What the principal components mean, in words: axis titles for the explorer's 3D scatter and the simulator's map.

A module of its own (no figures), so a page can name the components without
importing a module that builds 3-D traces (``tests/test_plotly_bundle.py``
follows a page's imports to decide which plotly.js bundle it needs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.segmentation.manifest import PC_COLUMNS

#: A feature names a principal component with the strongest one when its weight is at least this share of it.
DRIVER_SHARE = 0.8


def pca_drivers(loadings: Mapping[str, float], labels: Mapping[str, str]) -> str:
    """What drives one component, in words: its strongest feature, and the next one when nearly as strong.

    ``{"Customer_Value": 0.60, "Purchase_Frequency": 0.59, "Tenure": 0.30}`` →
    ``"customer value & purchase frequency"``; a driver with a negative weight reads
    ``"less <feature>"`` (the axis grows as the feature falls).
    """
    ranked = sorted(loadings.items(), key=lambda kv: -abs(kv[1]))
    if not ranked:
        return ""
    top = abs(ranked[0][1])
    picked = [(f, w) for f, w in ranked[:2] if abs(w) >= DRIVER_SHARE * top]
    words = [("less " if w < 0 else "") + labels.get(f, f.replace("_", " ")).lower() for f, w in picked]
    return " & ".join(words)


def pca_axis_titles(
    ratios: Sequence[float],
    loadings: Mapping[str, Mapping[str, float]] | None = None,
    labels: Mapping[str, str] | None = None,
) -> list[str]:
    """Titles of the three PCA axes: ``"PC1: customer value & purchase frequency (62%)"``.

    Without loadings (older artifacts) only the share of variance: ``"PC1 (62% var)"``.
    """
    titles = []
    for i, pc in enumerate(PC_COLUMNS):
        share = f"{ratios[i]:.0%}" if i < len(ratios) else ""
        drivers = pca_drivers((loadings or {}).get(pc, {}), labels or {})
        if drivers:
            titles.append(f"{pc}: {drivers}" + (f" ({share})" if share else ""))
        else:
            titles.append(f"{pc} ({share} var)" if share else pc)
    return titles
