"""The editable note of each segment (its plan), saved with the model version.

A segment named from its evidence leaves the action to the user; this box
on the segments page keeps it.  Notes are stored by
:mod:`pipeline.store.notes` beside the signed artifact (the state database,
keyed by version id, owner and segment key), with the owner checks of the
registry: each owner keeps their own notes on a version they may read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import MATCH, Input, Output, State, callback, html
from dash.exceptions import PreventUpdate

from dashboard import ids
from dashboard.identity import current_owner
from dashboard.services import ArtifactView, service, view
from pipeline.errors import SegmentationError
from pipeline.store.notes import MAX_NOTE_CHARS, read_notes, write_note


def notes_of(v: ArtifactView) -> dict[str, str]:
    """The request owner's notes on the version shown (``{}`` when none or not readable)."""
    try:
        return read_notes(service().store, current_owner(), v.id)
    except SegmentationError:
        return {}


def note_box(segment: Mapping[str, Any], note: str) -> html.Div:
    """A text box with the segment's note and a Save button."""
    key = str(segment["key"])
    return html.Div(
        [
            html.Div("Your plan (note saved with this model version)", className="seg-label"),
            dbc.Textarea(
                id=ids.segment_note(key),
                value=note,
                maxLength=MAX_NOTE_CHARS,
                rows=2,
                placeholder="What will you do with these customers?",
                className="small",
            ),
            html.Div(
                [
                    dbc.Button("Save note", id=ids.segment_note_save(key), size="sm", color="secondary", outline=True),
                    html.Span(id={"type": ids.SEGMENT_NOTE_STATUS, "index": key}, className="small ms-2"),
                ],
                className="mt-1",
            ),
        ],
        className="mb-3 segment-note",
    )


@callback(
    Output({"type": ids.SEGMENT_NOTE_STATUS, "index": MATCH}, "children"),
    Input(ids.segment_note_save(MATCH), "n_clicks"),
    State(ids.segment_note(MATCH), "value"),
    State(ids.segment_note(MATCH), "id"),
    State(ids.ACTIVE_ARTIFACT, "data"),
    prevent_initial_call=True,
)
def save_note(n_clicks: int | None, text: str | None, note_id: dict[str, str], active: str | None) -> str:
    """Save the note of one segment of the version shown (owner checks apply)."""
    if not n_clicks:
        raise PreventUpdate
    v = view(active)
    try:
        stored = write_note(
            service().store, current_owner(), v.id, note_id["index"], text, {s["key"] for s in v.segments}
        )
    except SegmentationError as err:
        return str(err)
    return "Saved." if stored else "Note removed."
