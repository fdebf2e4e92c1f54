"""A page's job poll is switched in the browser (``JobWidgets.register_poll_switch``), not by a round trip.

Opening a page with no job followed sends no request for its poll; opening it
again while the session still follows a job (the store is kept in the tab's
session storage) starts polling that job at once.
"""

from __future__ import annotations

import json

from dashboard import ids


def callback_outputs(requests: list) -> list[str]:
    """The ``output`` of every ``/_dash-update-component`` request."""
    return [json.loads(r.post_data or "{}").get("output", "") for r in requests if "_dash-update-component" in r.url]


def test_opening_the_overview_sends_no_request_for_its_report_poll(page) -> None:
    sent: list = []
    page.on("request", lambda request: sent.append(request))
    page.goto("/", wait_until="networkidle")
    page.locator(f"#{ids.OVERVIEW_KPIS}").get_by_text("Customers").first.wait_for()
    outputs = callback_outputs(sent)
    assert any("_pages_content" in o for o in outputs)
    assert not [o for o in outputs if ids.REPORT_POLL in o], outputs


def test_a_job_still_followed_is_polled_when_its_page_is_opened_again(page) -> None:
    page.goto("/models", wait_until="networkidle")
    assert page.evaluate("(k) => window.sessionStorage.getItem(k)", ids.MODELS_TRAIN_JOB) is None
    # The session follows a job (here one the runner does not know: the poll's answer is a refusal).
    page.evaluate("(k) => window.sessionStorage.setItem(k, JSON.stringify({id: '0'.repeat(32)}))", ids.MODELS_TRAIN_JOB)
    with page.expect_request(
        lambda r: "_dash-update-component" in r.url and f"{ids.MODELS_TRAIN_POLL}.n_intervals" in (r.post_data or ""),
        timeout=30_000,
    ):
        page.reload(wait_until="commit")
    # The refusal is shown, and the poll stops with the job forgotten.
    page.locator(f"#{ids.MODELS_TRAIN_STATUS} .alert").wait_for(timeout=30_000)
    page.wait_for_function(
        "(k) => window.sessionStorage.getItem(k) === 'null' || window.sessionStorage.getItem(k) === null",
        arg=ids.MODELS_TRAIN_JOB,
        timeout=30_000,
    )
