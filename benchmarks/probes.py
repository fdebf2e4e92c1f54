"""When a page counts as done, in the browser: the JavaScript the benchmarks wait on and time with.

Each is passed to Playwright's ``page.wait_for_function`` or ``page.evaluate``
and stamps ``window.__doneAt`` (``performance.now()``, ms from the navigation)
the first time its page is done, so a benchmark reads the time the browser saw,
not when the poll noticed.  :mod:`benchmarks.bench_app` defines the measures;
``bench_trace``, ``bench_app_large`` and ``bench_bundle`` use the same definitions.
"""

from __future__ import annotations

OVERVIEW_DONE_JS = """() => {
    if (document.querySelector('[data-dash-is-loading="true"]')) return false;
    const kpis = document.querySelector('#overview-kpis');
    const gd = document.querySelector('#overview-size-graph .js-plotly-plot');
    const ok = kpis && kpis.textContent.includes('Customers') && gd && gd._fullData
        && gd._fullData.length > 0 && gd.querySelector('.barlayer .point');
    if (ok && !window.__doneAt) window.__doneAt = performance.now();
    return !!ok;
}"""

EXPLORER_DONE_JS = """(graphId) => {
    const gd = document.querySelector('#' + graphId + ' .js-plotly-plot');
    const drawn = gd && gd._fullData && gd._fullData.some(t => t.visible !== false && t.x && t.x.length)
        && (gd.querySelector('.gl-container canvas') || gd.querySelector('.main-svg .point'));
    if (drawn && !window.__doneAt) window.__doneAt = performance.now();
    return !!drawn;
}"""

# Click the navbar link in the page itself so the start time is taken right before the click.
CLICK_JS = """(href) => {
    window.__doneAt = 0; window.__streak = 0;
    const link = [...document.querySelectorAll('.app-navbar a.nav-link')].find(a => a.getAttribute('href') === href);
    if (!link) return -1;
    window.__t0 = performance.now();
    link.click();
    return window.__t0;
}"""

# True once the page at ``path`` replaced the previous one (its title differs from ``before``), no Dash
# request is in flight (counted by FETCH_COUNTER_JS) and every chart intersecting the viewport has data and
# is drawn, on three animation frames in a row (so callbacks the new layout fires have started); stamps
# ``window.__doneAt`` with the first of those frames.  Charts below the fold are not waited for: pages draw
# them when they scroll into view (dashboard.first_render.when_in_view).
PAGE_DONE_JS = """([path, before]) => {
    const ready = (() => {
        if (location.pathname !== path) return false;
        const h = document.querySelector('#_pages_content h1');
        if (!h || h.textContent === before) return false;
        if (document.querySelector('[data-dash-is-loading="true"]')) return false;
        if (window.__inflight) return false;
        // every dcc.Graph on screen, including those whose plotly.js is still loading (class dash-graph--pending)
        const graphs = [...document.querySelectorAll('#_pages_content .dash-graph')].filter((g) => {
            if (g.offsetParent === null) return false;
            const r = g.getBoundingClientRect();
            return r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth;
        });
        for (const g of graphs) {
            const gd = g.classList.contains('js-plotly-plot') ? g : g.querySelector('.js-plotly-plot');
            const drawn = gd && gd._fullData && gd._fullData.length > 0
                && gd.querySelector('.gl-container canvas, .main-svg .trace, .main-svg .hm, .main-svg .point, .main-svg .sankey');
            if (!drawn) return false;
        }
        return true;
    })();
    if (!ready) { window.__streak = 0; return false; }
    if (!window.__streak) window.__candidate = performance.now();
    window.__streak = (window.__streak || 0) + 1;
    if (window.__streak < 3) return false;
    if (!window.__doneAt) window.__doneAt = window.__candidate;
    return true;
}"""
# Counts the app's requests in flight (Dash calls back with fetch), to know when an update is complete.
FETCH_COUNTER_JS = """() => {
    if (window.__inflight !== undefined) return;
    window.__inflight = 0;
    const original = window.fetch;
    window.fetch = (...args) => {
        window.__inflight++;
        return original(...args).finally(() => { window.__inflight--; });
    };
}"""

# Press an arrow key on a slider thumb.  Resolves with [ms until the prediction for the new value is
# painted, ms until the customer map (the last chart updated) has re-plotted and painted]; only after every follow-up request is done,
# so that one run never overlaps the next.
SLIDER_JS = """([feature, key]) => new Promise((resolve, reject) => {
    const thumb = [...document.querySelectorAll('.sim-control [role=slider]')]
        .find(t => t.closest('.sim-control').querySelector('input[name="' + feature + '"]'));
    const result = document.querySelector('#sim-result');
    const gd = document.querySelector('#sim-pca-graph .js-plotly-plot');
    const before = result.querySelector('[data-values]').getAttribute('data-values');
    let t0 = 0, painted = 0, plotted = 0, quiet = 0;
    const timer = setTimeout(() => { obs.disconnect(); reject(new Error('no update within 5 s')); }, 5000);
    const idle = () => {
        quiet = window.__inflight === 0 && painted && plotted ? quiet + 1 : 0;
        if (quiet >= 2) { clearTimeout(timer); resolve([painted, plotted]); }
        else requestAnimationFrame(idle);
    };
    const obs = new MutationObserver(() => {
        const el = result.querySelector('[data-values]');
        if (el && el.getAttribute('data-values') !== before) {
            obs.disconnect();
            requestAnimationFrame(() => { painted = performance.now() - t0; });
        }
    });
    obs.observe(result, {subtree: true, childList: true, attributes: true});
    gd.once('plotly_afterplot', () => requestAnimationFrame(() => { plotted = performance.now() - t0; }));
    thumb.focus();
    t0 = performance.now();
    thumb.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true, cancelable: true}));
    requestAnimationFrame(idle);
})"""
