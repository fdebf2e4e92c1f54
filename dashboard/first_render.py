"""A page's first figures in its layout: one round trip fewer before the first chart.

With Dash pages the page layout comes from a server call (the router
callback, fired when the URL is set).  A page that filled its charts in a
callback fired by that layout's arrival made the browser wait for a second
round trip, and for the server to build the figures only then.  The router
now also receives the session's data version and theme
(:data:`ROUTING_INPUTS`, the browser stores read as ``State``), so a page's
layout function can build its first figures through the same services and
figure builders; its callbacks run only on later changes
(``prevent_initial_call=True``).

The data version is the id the browser's session store holds: as in every
callback it is handed to :func:`dashboard.services.view`, which checks that
the request's owner may read it (an id from the browser is never a key by
itself) and otherwise shows the default data set with a notice.

Parts of a page below the fold are built when they scroll into view
(:func:`when_in_view`): their box keeps its height, so nothing moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import Input, Output, State, clientside_callback, dcc
from dash.development.base_component import Component

from dashboard import ids
from dashboard.theme import THEMES

ARTIFACT_ARG = "session_artifact"
THEME_ARG = "session_theme"

#: ``routing_callback_inputs`` of the app: what every page's ``layout(**kwargs)`` receives besides the query.
ROUTING_INPUTS: dict[str, State] = {
    ARTIFACT_ARG: State(ids.ACTIVE_ARTIFACT, "data"),
    THEME_ARG: State(ids.THEME, "data"),
}


def session_choice(kwargs: Mapping[str, Any]) -> tuple[str | None, str]:
    """``(artifact id or None, theme)`` of the session, from a layout function's keyword arguments.

    The artifact id is untrusted (it goes to :func:`dashboard.services.view`,
    which checks its owner); a theme that is not one of
    :data:`dashboard.theme.THEMES` is read as ``"light"``.
    """
    artifact = kwargs.get(ARTIFACT_ARG)
    theme = kwargs.get(THEME_ARG)
    return (artifact if isinstance(artifact, str) and artifact else None), (theme if theme in THEMES else "light")


def quiet_store(store_id: str, **kwargs: Any) -> dcc.Store:
    """A ``dcc.Store`` that starts empty (``""``) and reports no change when it mounts.

    A store created with no data sets its ``data`` to None when it mounts, and
    Dash runs every callback it feeds, whatever ``prevent_initial_call`` says: a
    round trip on every visit of the page.  Starting from ``""`` it only records
    the value; a value kept in the tab's storage (``storage_type``) still
    arrives as a change, so what it feeds is restored.  Callbacks read ``""``
    as "nothing yet".
    """
    return dcc.Store(id=store_id, data="", **kwargs)


#: Sets ``data`` of the store to True once the holder element has intersected the viewport (then stops watching).
IN_VIEW_JS = """function (holderId, storeId) {
    const watch = (tries) => {
        const el = document.getElementById(holderId);
        if (!el) { if (tries < 600) { requestAnimationFrame(() => watch(tries + 1)); } return; }
        const seen = new IntersectionObserver((entries) => {
            if (!entries.some((e) => e.isIntersecting)) { return; }
            seen.disconnect();
            if (el.isConnected) { window.dash_clientside.set_props(storeId, {data: true}); }
        });
        seen.observe(el);
    };
    watch(0);
    return window.dash_clientside.no_update;
}"""


def when_in_view(holder_id: str, store_id: str) -> None:
    """Register the clientside callback that sets ``store_id``'s data to True once ``holder_id`` is on screen.

    The page's layout holds ``dcc.Store(id=store_id, data=False)``; a server
    callback with ``Input(store_id, "data")`` and ``prevent_initial_call=True``
    builds what is below the fold when it turns True.
    """
    clientside_callback(
        # One inline script per use, each with its own CSP hash (the page's hash list has no duplicates).
        IN_VIEW_JS.replace("function (holderId, storeId) {", f"function (holderId, storeId) {{  // {holder_id}", 1),
        Output(store_id, "data"),
        Input(holder_id, "id"),
        State(store_id, "id"),
    )


def fill_in(tree: Component, values: Mapping[tuple[str, str], Any]) -> Component:
    """Set ``values`` (``(component id, property) → value``, a callback's outputs) on the components of ``tree``.

    For a layout built from static pieces whose first values come from the
    same functions as its callbacks' outputs.  Returns ``tree``.

    Raises
    ------
    KeyError
        An id of ``values`` that is not in ``tree``.
    """
    wanted = {cid for cid, _prop in values}
    found: set[str] = set()
    for component in [tree, *tree._traverse()]:
        cid = getattr(component, "id", None)
        if isinstance(cid, str) and cid in wanted:
            found.add(cid)
            for (target, prop), value in values.items():
                if target == cid:
                    setattr(component, prop, value)
    missing = wanted - found
    if missing:
        raise KeyError(f"not in the layout: {sorted(missing)}")
    return tree
