/* Prefetch the 3-D plotly.js bundle named by <meta name="plotly-3d"> (dashboard/plotly_loading.py)
   once this page has loaded and the browser is idle: a later navbar switch to the 3D explorer
   finds it in the HTTP cache instead of waiting for the download.  It is only fetched, never run
   here (running it would cost this page's main thread). */
(function () {
  'use strict';
  function prefetch() {
    var meta = document.querySelector('meta[name="plotly-3d"]');
    if (!meta || document.querySelector('link[rel="prefetch"][href="' + meta.content + '"]')) return;
    var link = document.createElement('link');
    link.rel = 'prefetch';
    link.as = 'script';
    link.href = meta.content;
    document.head.appendChild(link);
  }
  function later() {
    if (window.requestIdleCallback) window.requestIdleCallback(prefetch, {timeout: 5000});
    else window.setTimeout(prefetch, 1000);
  }
  if (document.readyState === 'complete') later();
  else window.addEventListener('load', later);
})();
