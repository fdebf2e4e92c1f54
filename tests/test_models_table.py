"""The models table of /models (:mod:`dashboard.model_comparison.table`): a hand-made comparison of three models,
its rows, formats, order after each sort and the headers' ``aria-sort``."""

from __future__ import annotations

from typing import Any

from dash import html
from hypothesis import given
from hypothesis import strategies as st

from dashboard import ids
from dashboard.figures.models import TABLE_COLUMNS, next_sort, sorted_rows, table_rows, table_sort
from dashboard.model_comparison.table import header_sort, models_table, table_body, table_head

MINUS = "\u2212"


def entry(name: str, label: str, k: int | None, n: int, **metrics: Any) -> dict[str, Any]:
    """One ``models`` entry of a comparison result."""
    return {
        "name": name,
        "label": label,
        "k": k,
        "n_segments": n,
        "notes": metrics.pop("notes", []),
        "flags": metrics.pop("flags", []),
        "live_prediction": metrics.pop("live", "native"),
        **metrics,
    }


#: KMeans (recommended), DBSCAN (negative silhouette, noise, not native) and a mixture without a silhouette.
RESULT: dict[str, Any] = {
    "models": [
        entry(
            "kmeans", "KMeans", 4, 4, silhouette=0.481, davies_bouldin=0.85, calinski_harabasz=2335.4,
            noise_share=0.0, min_segment_share=0.142, stability_mean=0.99, stability_std=0.01, fit_seconds=0.012,
        ),
        entry(
            "dbscan", "DBSCAN", None, 8, silhouette=-0.064, davies_bouldin=1.54, calinski_harabasz=220.0,
            noise_share=0.053, min_segment_share=0.004, stability_mean=0.96, stability_std=0.03, fit_seconds=0.04,
            live="nearest_centroid", notes=["Cannot score.", "5.3% of customers are noise."],
            flags=["not_native", "noise"],
        ),
        entry(
            "gmm", "Gaussian mixture", 4, 4, silhouette=None, davies_bouldin=1.55, calinski_harabasz=916.0,
            noise_share=0.0, min_segment_share=0.07, stability_mean=None, stability_std=None, fit_seconds=0.04,
        ),
    ],
    "recommendation": {"model": "kmeans", "k": 4},
}  # fmt: skip


def cells(tr: html.Tr) -> list[str]:
    """The text of each cell of a table row."""
    return [str(c.children) for c in tr.children]


def names(body: list[html.Tr]) -> list[str]:
    """The first cell (model) of each row."""
    return [cells(tr)[0] for tr in body]


def test_rows_are_formatted_like_the_grid_was() -> None:
    body = table_body(table_rows(RESULT))
    assert [cells(tr) for tr in body] == [
        ["KMeans ★", "4", "0.481", "0.85", "2,335", "0.0%", "14.2%", "0.99 ± 0.01", "0.01", "Native", "–"],
        [
            "DBSCAN",
            "8",
            f"{MINUS}0.064",
            "1.54",
            "220",
            "5.3%",
            "0.4%",
            "0.96 ± 0.03",
            "0.04",
            "Nearest-centroid",
            "5.3% of customers are noise.",
        ],
        ["Gaussian mixture", "4", "n/a", "1.55", "916", "0.0%", "7.0%", "n/a", "0.04", "Native", "–"],
    ]
    kmeans, dbscan, _gmm = body
    assert kmeans.className == "models-recommended-row" and kmeans.children[0].className == "models-recommended-cell"
    assert isinstance(kmeans.children[0], html.Th) and kmeans.children[0].scope == "row"
    assert all("text-end" in c.className for c in kmeans.children[1:9])  # numbers right-aligned
    assert (
        "models-not-native" in dbscan.children[9].className and "models-not-native" not in kmeans.children[9].className
    )


def test_first_click_sorts_best_first_and_the_second_reverses() -> None:
    rows = table_rows(RESULT)
    cases = {
        # higher is better: best first; a missing value stays last both ways
        "silhouette": (["KMeans ★", "DBSCAN", "Gaussian mixture"], ["DBSCAN", "KMeans ★", "Gaussian mixture"]),
        # lower is better: smallest first
        "davies_bouldin": (["KMeans ★", "DBSCAN", "Gaussian mixture"], ["Gaussian mixture", "DBSCAN", "KMeans ★"]),
        # text: A first
        "model": (["DBSCAN", "Gaussian mixture", "KMeans ★"], ["KMeans ★", "Gaussian mixture", "DBSCAN"]),
        # a tie (0.04) keeps the comparison's order in both directions
        "fit_seconds": (["KMeans ★", "DBSCAN", "Gaussian mixture"], ["DBSCAN", "Gaussian mixture", "KMeans ★"]),
        "stability_mean": (["KMeans ★", "DBSCAN", "Gaussian mixture"], ["DBSCAN", "KMeans ★", "Gaussian mixture"]),
    }
    for column, (first, second) in cases.items():
        once = next_sort(None, column)
        assert names(table_body(rows, once)) == first, column
        twice = next_sort(once, column)
        assert twice == {"column": column, "descending": not once["descending"]}
        assert names(table_body(rows, twice)) == second, column
    assert next_sort(None, "silhouette") == {"column": "silhouette", "descending": True}
    assert next_sort(None, "davies_bouldin") == {"column": "davies_bouldin", "descending": False}
    # another column starts again from its own best-first direction
    assert next_sort({"column": "silhouette", "descending": False}, "noise_share") == {
        "column": "noise_share",
        "descending": False,
    }


def test_aria_sort_is_on_the_sorted_header_only() -> None:
    sortable = [c.key for c in TABLE_COLUMNS if c.sortable]
    assert header_sort(None) == [None] * len(sortable)
    states = header_sort({"column": "silhouette", "descending": True})
    assert states[sortable.index("silhouette")] == "descending"
    assert [s for s in states if s] == ["descending"]
    assert header_sort({"column": "model", "descending": False})[0] == "ascending"
    head = table_head({"column": "noise_share", "descending": False}).to_plotly_json()
    ths = head["props"]["children"].children
    sorted_ths = [th for th in ths if th.to_plotly_json()["props"].get("aria-sort")]
    assert [th.id for th in sorted_ths] == [ids.models_sort_header("noise_share")]
    assert getattr(sorted_ths[0], "aria-sort") == "ascending"


def test_headers_are_buttons_with_what_the_column_measures() -> None:
    ths = table_head().children.children
    assert [th.scope for th in ths] == ["col"] * len(TABLE_COLUMNS)
    by_key = {c.key: th for c, th in zip(TABLE_COLUMNS, ths, strict=True)}
    th = by_key["davies_bouldin"]
    button = th.children
    assert isinstance(button, html.Button) and button.type == "button"
    assert button.id == ids.models_sort("davies_bouldin")
    assert button.title.startswith("How much segments overlap") and button.title.endswith("Lower is better.")
    assert button.children[0] == "Davies–Bouldin ↓" and "text-end" in th.className
    notes = by_key["notes"]
    assert notes.children == "Notes" and not hasattr(notes, "id")  # not sortable: no button


def test_whole_table_has_a_caption_and_its_body_id() -> None:
    box = models_table(table_rows(RESULT), {"column": "silhouette", "descending": True})
    table = box.children
    caption, head, body = table.children
    assert table.id == ids.MODELS_TABLE and body.id == ids.MODELS_TABLE_BODY and isinstance(head, html.Thead)
    assert isinstance(caption, html.Caption) and "sort" in caption.children
    assert names(body.children) == ["KMeans ★", "DBSCAN", "Gaussian mixture"]
    assert "table-responsive" in box.className


def test_sort_state_from_the_browser_is_checked() -> None:
    rows = table_rows(RESULT)
    for junk in (None, 3, "silhouette", {"column": "nope"}, {"column": "notes"}, {"column": ["x"]}, {}):
        assert table_sort(junk) is None
        assert sorted_rows(rows, junk) == rows
    # an unknown or unsortable column clicked leaves the sort as it was
    assert next_sort({"column": "silhouette", "descending": True}, "notes") == {
        "column": "silhouette",
        "descending": True,
    }
    assert next_sort(None, "no-such-column") is None
    assert next_sort({"column": "nope"}, {"evil": 1}) is None


@given(
    values=st.lists(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)), max_size=12),
    column=st.sampled_from([c.key for c in TABLE_COLUMNS if c.sortable and c.fmt]),
    descending=st.booleans(),
)
def test_sorting_is_a_permutation_with_missing_values_last(
    values: list[float | None], column: str, descending: bool
) -> None:
    rows = [{"i": i, column: v} for i, v in enumerate(values)]
    out = sorted_rows(rows, {"column": column, "descending": descending})
    assert sorted(r["i"] for r in out) == list(range(len(values)))
    present = [r[column] for r in out if r[column] is not None]
    assert present == sorted(present, reverse=descending)
    assert [r[column] for r in out[len(present) :]] == [None] * (len(values) - len(present))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from([c.key for c in TABLE_COLUMNS]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["column", "descending", "x"]), inner),
    max_leaves=8,
)


@given(current=JSON, column=JSON)
def test_any_sort_state_and_click_from_the_browser_give_a_valid_sort(current: Any, column: Any) -> None:
    new = next_sort(current, column)
    sortable = {c.key for c in TABLE_COLUMNS if c.sortable}
    assert new is None or (set(new) == {"column", "descending"} and new["column"] in sortable)
    assert len(table_body(table_rows(RESULT), new)) == len(RESULT["models"])
    assert sum(state is not None for state in header_sort(new)) == (0 if new is None else 1)
