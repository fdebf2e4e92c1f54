/* The 3-D plotly.js bundle named by <meta name="plotly-3d"> (dashboard/plotly_loading.py):
   - loaded once this page's content is on screen and the browser is idle, as a script marked
     data-compile-only: downloaded into the HTTP cache and compiled (on a background thread: its compile
     hint), but its guard skips the body (running it would cost this page's main thread and replace its
     Plotly), so a later navbar switch to a 3-D page waits neither for the download nor for the compile;
   - run as soon as a link to a 3-D page (the meta's data-pages) is pressed or clicked: the bundle
     is evaluated while the server builds the new page's layout, not after the layout has arrived.
   Dash's renderer loads the bundle again before it draws a layout that lists it in "dist": a copy run
   (or still loading) from here is not appended a second time (a 2 MB script compiled again, even though
   its guard skips the work); the renderer's script gets its load event when that copy has run. */
(function () {
  'use strict';
  var started = false;
  var running = {};  // absolute URL -> the script element this file appended

  function meta() {
    return document.querySelector('meta[name="plotly-3d"]');
  }

  function compileWhenIdle() {
    var m = meta();
    if (!m || started || window.__plotly3d || document.querySelector('script[data-compile-only]')) return;
    var script = document.createElement('script');
    script.src = m.content;
    script.setAttribute('data-compile-only', '');
    append.call(document.head, script);
  }

  function runBundle(url) {
    var script = document.createElement('script');
    script.src = url;
    running[script.src] = script;
    script.addEventListener('load', function () { script.__ran = 'load'; });
    script.addEventListener('error', function () { script.__ran = 'error'; });
    append.call(document.head, script);
  }

  // The renderer's copy of a script run here: not appended; its load (or error) event follows this copy's.
  var append = document.head.appendChild;
  document.head.appendChild = function (node) {
    var mine = node && node.tagName === 'SCRIPT' && node.src ? running[node.src] : null;
    if (!mine) return append.call(this, node);
    var fire = function (type) { node.dispatchEvent(new Event(type)); };
    if (mine.__ran) window.setTimeout(function () { fire(mine.__ran); }, 0);
    else {
      mine.addEventListener('load', function () { fire('load'); });
      mine.addEventListener('error', function () { fire('error'); });
    }
    return node;
  };

  function run(event) {
    var m = meta();
    if (started || window.__plotly3d || !m || !event.target || !event.target.closest) return;
    var a = event.target.closest('a[href]');
    if (!a) return;
    var pages = (m.getAttribute('data-pages') || '').split(' ');
    var path = new URL(a.href, window.location.href).pathname.replace(/\/$/, '');
    if (pages.indexOf(path) < 0) return;
    started = true;
    runBundle(m.content);
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
    if (settled() || Date.now() - loadedAt > 10000) compileWhenIdle();
    else window.setTimeout(later, 250);
  }
  function later() {
    if (window.requestIdleCallback) window.requestIdleCallback(whenSettled, {timeout: 5000});
    else window.setTimeout(whenSettled, 1000);
  }
  if (document.readyState === 'complete') later();
  else window.addEventListener('load', later);
})();
