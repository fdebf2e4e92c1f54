/* Accessible names for widgets whose Dash components take no aria-* props:
   slider thumbs (role=slider), progress bars (role=progressbar) and the file
   inputs inside dcc.Upload get the name written on their wrapper's
   data-a11y-label attribute.  The member grid (AG Grid) is crossed in one Tab
   stop: Tab leaves the grid instead of walking its cells (arrow keys move inside). */
(function () {
  'use strict';
  var SELECTOR = '[role="slider"], [role="progressbar"], input[type="file"]';

  function nameWidgets(root) {
    var found = root.querySelectorAll ? root.querySelectorAll('[data-a11y-label]') : [];
    for (var i = 0; i < found.length; i++) {
      var label = found[i].getAttribute('data-a11y-label');
      var widgets = found[i].querySelectorAll(SELECTOR);
      for (var j = 0; j < widgets.length; j++) {
        if (widgets[j].getAttribute('aria-label') !== label) {
          widgets[j].setAttribute('aria-label', label);
        }
      }
    }
  }

  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      nameWidgets(document);
    });
  }

  function start() {
    nameWidgets(document);
    new MutationObserver(schedule).observe(document.body, {
      childList: true, subtree: true, attributes: true, attributeFilter: ['data-a11y-label'],
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
