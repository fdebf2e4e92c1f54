"""The data page's first render, and the rule that keeps every page free of round trips when it appears.

Dash runs a callback on every insertion of a page when one of its inputs is
in the page and one of its outputs is not (the app shell's stores, such as the
session's version), whatever ``prevent_initial_call`` says.  Such callbacks
must run in the browser.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from dashboard import ids
from dashboard.first_render import ARTIFACT_ARG, THEME_ARG
from dashboard.screenshots import layout_components
from tests.test_data_page import page_module, triggered
from tests.test_explorer_first_render import by_id
from tests.test_simulator import text_of


@pytest.fixture
def data(request_ctx) -> ModuleType:
    """The data page module (inside a request context)."""
    return page_module("data")


def test_layout_is_the_page_before_an_upload_with_the_versions_listed(data) -> None:
    page = by_id(data.layout(**{ARTIFACT_ARG: None, THEME_ARG: "light"}))
    assert text_of(page[ids.DATA_VERSIONS].children) == text_of(data.show_versions(None, 0))
    # what the upload's callbacks answer without an upload
    assert text_of(page[ids.DATA_PREVIEW].children) == text_of(data.show_preview(None))
    with triggered(ids.DATA_UPLOAD_KEY, "data", None):
        kind, options, detection, mapping, _status, _contents = data.build_form(None, None, None, None, None)
    assert page[ids.DATA_KIND].value == kind and page[ids.DATA_KIND].options == options
    assert text_of(page[ids.DATA_DETECTION].children) == text_of(detection)
    assert text_of(page[ids.DATA_MAPPING].children) == text_of(mapping)
    validation, train_disabled, hint, _stored, save_disabled = data.check_mapping([], [], None)
    assert text_of(page[ids.DATA_VALIDATION].children) == text_of(validation)
    assert page[ids.DATA_TRAIN].disabled is train_disabled is True
    assert page[ids.DATA_MAPPING_SAVE].disabled is save_disabled is True
    assert text_of(page[ids.DATA_TRAIN_HINT].children) == hint
    # stores that would report a change when they mount if they started as None
    for store in (ids.DATA_UPLOAD_KEY, ids.DATA_TRAINED, ids.DATA_VERSION_CHOSEN):
        assert page[store].data == "", store


def test_the_versions_list_marks_the_sessions_version(data, trained) -> None:
    page = by_id(data.layout(**{ARTIFACT_ARG: trained.artifact.artifact_id, THEME_ARG: "dark"}))
    assert text_of(page[ids.DATA_VERSIONS].children) == text_of(data.show_versions(trained.artifact.artifact_id, 0))
    odd = by_id(data.layout(**{ARTIFACT_ARG: "../../etc", THEME_ARG: "light"}))
    assert text_of(odd[ids.DATA_VERSIONS].children) == text_of(data.show_versions("../../etc", 0))


def shell_ids(layout: Any) -> set[str]:
    """String ids of the app shell (the app's layout outside any page)."""
    return {c["props"]["id"] for c in layout_components(layout) if isinstance(c["props"].get("id"), str)}


def test_no_server_callback_writes_the_shell_from_a_pages_inputs(dash_app) -> None:
    client = dash_app.server.test_client()
    shell = shell_ids(client.get("/_dash-layout").get_json())
    assert {ids.ACTIVE_ARTIFACT, ids.THEME} <= shell
    offenders = []
    for dep in client.get("/_dash-dependencies").get_json():
        outputs = {part.split("@")[0].rsplit(".", 1)[0] for part in dep["output"].strip(".").split("...")}
        inputs = {i["id"] if isinstance(i["id"], str) else str(i["id"]) for i in dep["inputs"]}
        if outputs & shell and inputs - shell and not dep.get("clientside_function"):
            offenders.append(dep["output"])
    assert not offenders


def test_the_pages_first_state_callbacks_wait_for_a_change(dash_app) -> None:
    specs = dash_app.server.test_client().get("/_dash-dependencies").get_json()
    first_state = (ids.DATA_VERSIONS, ids.DATA_PREVIEW, ids.DATA_MAPPING, ids.DATA_VALIDATION)
    server = [s for s in specs if s.get("clientside_function") is None]
    touching = [s for s in server if any(f"{o}.children" in s["output"] for o in first_state)]
    assert len(touching) >= 4
    assert all(s["prevent_initial_call"] for s in touching), [s["output"] for s in touching]
