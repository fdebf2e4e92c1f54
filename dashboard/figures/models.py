"""Model comparison figures and facts (the import path of earlier versions).

Words and tables are in :mod:`dashboard.figures.model_text`, charts in
:mod:`dashboard.figures.model_charts`; every function takes the JSON form of
a comparison (:meth:`pipeline.segmentation.comparison.ComparisonResult.to_dict`)
or a part of it.  Model labels and colours come from
:mod:`pipeline.segmentation.registry`.
"""

from __future__ import annotations

from .model_charts import (
    SCALING_BARS,
    holdout_figure,
    kdistance_figure,
    knife_figure,
    knife_segments,
    metric_figure,
    scaling_figure,
    sweep_figure,
)
from .model_text import (
    GROUP_COLOURS,
    KNIFE_SHARE_TOLERANCE,
    METRICS,
    SCALING_SHORT,
    TABLE_COLUMN_BY_KEY,
    TABLE_COLUMNS,
    Column,
    Metric,
    candidate_rows,
    choice_label,
    fmt,
    model_colour,
    model_label,
    next_sort,
    not_native_labels,
    plain_recommendation,
    recommended_entry,
    scaling_rows,
    scaling_sentence,
    sorted_rows,
    stability_words,
    table_cell,
    table_rows,
    table_sort,
    why_not_others,
    wrap_label,
)

__all__ = [
    "GROUP_COLOURS",
    "KNIFE_SHARE_TOLERANCE",
    "METRICS",
    "SCALING_BARS",
    "SCALING_SHORT",
    "TABLE_COLUMNS",
    "TABLE_COLUMN_BY_KEY",
    "Column",
    "Metric",
    "candidate_rows",
    "choice_label",
    "fmt",
    "holdout_figure",
    "kdistance_figure",
    "knife_figure",
    "knife_segments",
    "metric_figure",
    "model_colour",
    "model_label",
    "next_sort",
    "not_native_labels",
    "plain_recommendation",
    "recommended_entry",
    "scaling_figure",
    "scaling_rows",
    "scaling_sentence",
    "sorted_rows",
    "stability_words",
    "sweep_figure",
    "table_cell",
    "table_rows",
    "table_sort",
    "why_not_others",
    "wrap_label",
]
