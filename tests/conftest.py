"""Shared fixtures: a trained sample artifact and an app built on it (once per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.segmentation.training import TrainResult, load_dataset, train


@pytest.fixture(autouse=True)
def keep_page_callbacks() -> Iterator[None]:
    """Put back the pages' ``@dash.callback`` registrations a test's own bare ``dash.Dash`` took.

    Dash moves the module-level registrations into the first app that serves a
    request; a bare app made by a test (tests/test_plotly_loading.py and the
    like) would otherwise take them from the session's real app, whose
    callbacks then fail with ``Callback function not found`` in whichever test
    runs after it in the same process.
    """
    from dash import _callback

    saved = list(_callback.GLOBAL_CALLBACK_LIST), dict(_callback.GLOBAL_CALLBACK_MAP)
    scripts = list(_callback.GLOBAL_INLINE_SCRIPTS)
    yield
    if saved[0] and not _callback.GLOBAL_CALLBACK_LIST:
        _callback.GLOBAL_CALLBACK_LIST[:] = saved[0]
        _callback.GLOBAL_CALLBACK_MAP.update(saved[1])
        _callback.GLOBAL_INLINE_SCRIPTS[:] = scripts


@pytest.fixture(scope="session", autouse=True)
def isolated_secret(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point the installation secret at a scratch config folder for the whole session.

    ``XDG_CONFIG_HOME`` is set in ``os.environ`` (so server subprocesses started by
    browser tests inherit it) and ``SEGMENTS_SECRET_KEY`` is removed: tests never
    read or create the real ``~/.config/customer-segments/secret-key``.
    """
    config_home = tmp_path_factory.mktemp("xdg-config")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CONFIG_HOME", str(config_home))
        mp.delenv("SEGMENTS_SECRET_KEY", raising=False)
        yield config_home


@pytest.fixture(scope="session")
def app_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch folder with models/ and data/ for the whole session."""
    return tmp_path_factory.mktemp("app")


@pytest.fixture(scope="session")
def settings(app_root: Path, isolated_secret: Path) -> Settings:
    """Default settings pointing at the session's scratch folders."""
    return Settings(models_dir=app_root / "models", data_dir=app_root / "data")


@pytest.fixture(scope="session")
def trained(settings: Settings) -> TrainResult:
    """The default sample, trained once."""
    return train(load_dataset(None, settings), settings)


@pytest.fixture(scope="session")
def dash_app(settings: Settings, trained: TrainResult):
    """The Dash app on the trained sample (built once: page callbacks register globally)."""
    from dashboard.app import create_app

    return create_app(settings, default_artifact_id=trained.artifact.artifact_id)


@pytest.fixture
def request_ctx(dash_app) -> Iterator[object]:
    """A Flask request context, so callbacks can be called as plain functions."""
    with dash_app.server.test_request_context("/"):
        yield dash_app
