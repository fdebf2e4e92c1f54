/* Presentation mode (/present): one screen at a time, walked with the keyboard.
   Right/Down/Page Down/Space: next; Left/Up/Page Up: previous; Home/End: first/last;
   Escape: leave.  ?present=1 on any page opens presentation mode. */
(function () {
  'use strict';

  function deck() { return document.querySelector('.present-deck'); }

  function screens() {
    var d = deck();
    return d ? Array.prototype.slice.call(d.querySelectorAll('.present-screen')) : [];
  }

  function show(index) {
    var all = screens();
    if (!all.length) return;
    var i = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (s, j) { s.hidden = j !== i; });
    var d = deck();
    d.setAttribute('data-screen', String(i));
    d.setAttribute('data-screens', String(all.length));
    var counter = document.querySelector('.present-counter');
    if (counter) counter.textContent = 'Screen ' + (i + 1) + ' of ' + all.length;
    // Plotly charts drawn while hidden take their size now.
    window.dispatchEvent(new Event('resize'));
  }

  function current() {
    var d = deck();
    return d ? parseInt(d.getAttribute('data-screen') || '0', 10) : 0;
  }

  function onKey(event) {
    if (!deck() || event.altKey || event.ctrlKey || event.metaKey) return;
    var t = event.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
    var step = {ArrowRight: 1, ArrowDown: 1, PageDown: 1, ' ': 1, ArrowLeft: -1, ArrowUp: -1, PageUp: -1}[event.key];
    if (step) {
      show(current() + step);
    } else if (event.key === 'Home') {
      show(0);
    } else if (event.key === 'End') {
      show(screens().length - 1);
    } else if (event.key === 'Escape') {
      var exit = document.querySelector('.present-exit');
      if (exit) exit.click();
      return;
    } else {
      return;
    }
    event.preventDefault();
  }

  // A new deck (first render, other data set): start at its first screen.
  function watch() {
    var d = deck();
    if (d && d.getAttribute('data-screens') !== String(screens().length)) show(0);
  }

  function start() {
    var params = new URLSearchParams(window.location.search);
    if (params.get('present') === '1' && window.location.pathname !== '/present') {
      window.location.replace('/present');
      return;
    }
    document.addEventListener('keydown', onKey);
    new MutationObserver(watch).observe(document.body, {childList: true, subtree: true});
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
