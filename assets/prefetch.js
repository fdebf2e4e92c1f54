/* The 3-D plotly.js bundle named by <meta name="plotly-3d"> (dashboard/plotly_loading.py):
   - prefetched once this page's content is on screen and the browser is idle, so a later navbar switch to a
     3-D page finds it in the HTTP cache instead of waiting for the download (fetched, not run:
     running it would cost this page's main thread);
   - run as soon as a link to a 3-D page (the meta's data-pages) is pressed or clicked: the bundle
     is evaluated while the server builds the new page's layout, not after the layout has arrived.
     The renderer, which loads it before drawing that layout, then finds it has run (the bundle's
     guard makes a second copy do nothing). */
(function () {
  'use strict';
  var started = false;

  function meta() {
    return document.querySelector('meta[name="plotly-3d"]');
  }

  function prefetch() {
    var m = meta();
    if (!m || document.querySelector('link[rel="prefetch"][href="' + m.content + '"]')) return;
    var link = document.createElement('link');
    link.rel = 'prefetch';
    link.as = 'script';
    link.href = m.content;
    document.head.appendChild(link);
  }

  function run(event) {
    var m = meta();
    if (started || window.__plotly3d || !m || !event.target || !event.target.closest) return;
    var a = event.target.closest('a[href]');
    if (!a) return;
    var pages = (m.getAttribute('data-pages') || '').split(' ');
    var path = new URL(a.href, window.location.href).pathname.replace(/\/$/, '');
    if (pages.indexOf(path) < 0) return;
    started = true;
    var script = document.createElement('script');
    script.src = m.content;
    document.head.appendChild(script);
  }

  document.addEventListener('pointerdown', run, true);
  document.addEventListener('click', run, true);

  // Not before the page itself is on screen: its heading rendered and no component loading (a
  // download started earlier competes with the page's own callbacks and first paint), or 10 s at most.
  var loadedAt = Date.now();
  function settled() {
    return document.querySelector('#_pages_content h1') !== null &&
      document.querySelector('[data-dash-is-loading="true"]') === null;
  }
  function whenSettled() {
    if (settled() || Date.now() - loadedAt > 10000) prefetch();
    else window.setTimeout(later, 250);
  }
  function later() {
    if (window.requestIdleCallback) window.requestIdleCallback(whenSettled, {timeout: 5000});
    else window.setTimeout(whenSettled, 1000);
  }
  if (document.readyState === 'complete') later();
  else window.addEventListener('load', later);
})();
