/* The 3-D part of plotly.js named by <meta name="plotly-3d"> (dashboard/plotly_loading.py). Every page
   runs the 2-D build; the 3-D part (scatter3d and its WebGL scene, which it registers into the 2-D build)
   is brought only when a 3-D chart is wanted:
   - window.__dashLoadPlotly3d() runs it once (a <script>) and returns a promise of its having run. The
     2-D build's Plotly.react calls it before a 3-D draw, after the page around the graph has been
     painted, so the page's text never waits for it. A part that fails to load or to run, or takes
     longer than LOAD_TIMEOUT_MS, rejects the promise: the graph says the 3-D view could not be loaded,
     and its next figure tries again (a late part announces itself with the dash-plotly3d event);
   - it is run as soon as a link to a 3-D page (the meta's data-pages) is pressed or clicked with the
     main button and no modifier key (a right click, or a click opening a new tab, does not need it
     here), while the server builds the new page's layout;
   - on the other pages it is loaded first as a script marked data-compile-only, once the page's content
     is on screen and the browser is idle (earlier, it would compete with the page's own callbacks and
     first paint): downloaded into the HTTP cache and compiled (on a background thread: its compile
     hint), but its guard skips the body, so the run later finds it downloaded and compiled. A 3-D page
     opened directly does not: its download would count before the page's largest paint. */
(function () {
  'use strict';
  var loading = null;  // the promise of the run
  var LOAD_TIMEOUT_MS = 30000;

  function meta() {
    return document.querySelector('meta[name="plotly-3d"]');
  }

  function pathOf(href) {
    return new URL(href, window.location.href).pathname.replace(/\/$/, '');
  }

  function isThreeD(m, href) {
    return (m.getAttribute('data-pages') || '').split(' ').indexOf(pathOf(href)) >= 0;
  }

  function compileOnly() {
    var m = meta();
    if (!m || loading || window.__plotly3d || document.querySelector('script[data-compile-only]')) return;
    var script = document.createElement('script');
    script.src = m.content;
    script.setAttribute('data-compile-only', '');
    document.head.appendChild(script);
  }

  function load() {
    if (window.__plotly3d) return Promise.resolve();
    if (loading) return loading;
    var m = meta();
    if (!m) return Promise.reject(new Error('no 3-D part of plotly.js is named on this page'));
    var attempt = loading = new Promise(function (resolve, reject) {
      var script = document.createElement('script');
      var timer = window.setTimeout(function () { fail('did not load within ' + LOAD_TIMEOUT_MS / 1000 + ' s'); }, LOAD_TIMEOUT_MS);
      function fail(why) {
        window.clearTimeout(timer);
        if (loading === attempt) loading = null;  // a late event of an earlier attempt leaves a retry alone
        reject(new Error('the 3-D part of plotly.js ' + why));
      }
      script.src = m.content;
      script.addEventListener('load', function () {
        // a part that threw (a 2-D build of other code: its error is on the console) fires load too
        if (window.__plotly3d) { window.clearTimeout(timer); resolve(); } else fail('ran but did not add scatter3d');
      });
      script.addEventListener('error', function () { fail('did not load'); });
      document.head.appendChild(script);
    });
    return loading;
  }
  window.__dashLoadPlotly3d = load;

  function pressed(event) {
    var m = meta();
    if (loading || window.__plotly3d || !m || !event.target || !event.target.closest) return;
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    var a = event.target.closest('a[href]');
    if (a && (!a.target || a.target === '_self') && isThreeD(m, a.href)) load().catch(function () {});
  }

  document.addEventListener('pointerdown', pressed, true);
  document.addEventListener('click', pressed, true);

  var m = meta();
  if (m && isThreeD(m, window.location.href)) return;  // its first 3-D draw loads it, after the page is painted

  // Not before the page itself is on screen: its heading rendered and no component loading (a
  // download started earlier competes with the page's own callbacks and first paint), or 10 s at most.
  var loadedAt = Date.now();
  function settled() {
    return document.querySelector('#_pages_content h1') !== null &&
      document.querySelector('[data-dash-is-loading="true"]') === null;
  }
  function whenSettled() {
    if (settled() || Date.now() - loadedAt > 10000) compileOnly();
    else window.setTimeout(later, 250);
  }
  function later() {
    if (window.requestIdleCallback) window.requestIdleCallback(whenSettled, {timeout: 5000});
    else window.setTimeout(whenSettled, 1000);
  }
  if (document.readyState === 'complete') later();
  else window.addEventListener('load', later);
})();
