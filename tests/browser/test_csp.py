"""Every page renders under the app's content security policy, with no violation reported.

The server sends the policy of :mod:`dashboard.security`; the browser reports
each blocked script, style, image or eval as a ``securitypolicyviolation``
event (collected here) and a console error (which fails any browser test).
The pages are opened with their charts drawn: Plotly's WebGL 3D scatter, the
explorer's member grid (dash-ag-grid value formatters given as strings) and
the clientside callbacks (navbar toggler, theme switch) all run.
"""

from __future__ import annotations

from playwright.sync_api import expect

from pipeline.segmentation.training import TrainResult

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""

SETTLED_JS = """() => {
    const content = document.querySelector('#_pages_content');
    return content && content.children.length > 0
        && !document.querySelector('[data-dash-is-loading="true"]');
}"""


def test_pages_render_without_csp_violations(page, trained: TrainResult) -> None:
    page.add_init_script(COLLECT_VIOLATIONS)
    segment = trained.artifact.manifest["segments"][0]
    checks = {
        "/": "#overview-size-graph .main-svg",
        "/eda": "#eda-outlier-table .ag-row",
        "/models": "#_pages_content",
        "/explorer": "#explorer-scatter-graph .js-plotly-plot",
        f"/explorer?segment={segment['key']}": "#explorer-grid .ag-center-cols-container .ag-row",
        "/simulator": "#sim-pca-graph .js-plotly-plot",
        "/segments": "#segments-matrix-graph .main-svg",
        "/data": "#_pages_content",
    }
    for path, selector in checks.items():
        response = page.goto(path)
        policy = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, policy
        if path == "/eda":  # its grid is mounted once scrolled into view
            page.locator("#eda-outlier-grid-holder").scroll_into_view_if_needed()
        expect(page.locator(selector).first).to_be_visible(timeout=30_000)
        page.wait_for_function(SETTLED_JS, timeout=30_000)
        assert page.evaluate("() => window.__cspViolations") == [], path
    # the clientside callbacks (inline scripts allowed by hash) still run
    page.locator("#app-theme-switch").check(force=True)
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    assert page.evaluate("() => window.__cspViolations") == []
    assert not page.console_errors
