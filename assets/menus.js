/* Menu buttons (dashboard.components.menu_button): the button opens and closes its menu and says so
   (aria-expanded); a choice in the menu, a click elsewhere or Escape closes it (Escape puts the focus back
   on the button).  One listener per document, so menus added by later page switches need nothing. */
(function () {
  'use strict';
  var TOGGLE = '[data-menu-toggle]';

  function setOpen(toggle, open) {
    var menu = toggle.parentElement && toggle.parentElement.querySelector('.dropdown-menu');
    if (!menu) return;
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    menu.classList.toggle('show', open);
  }

  function closeAll(except) {
    var open = document.querySelectorAll(TOGGLE + '[aria-expanded="true"]');
    for (var i = 0; i < open.length; i++) {
      if (open[i] !== except) setOpen(open[i], false);
    }
  }

  document.addEventListener('click', function (e) {
    var target = e.target instanceof Element ? e.target : null;
    var toggle = target && target.closest(TOGGLE);
    if (toggle) {
      closeAll(toggle);
      setOpen(toggle, toggle.getAttribute('aria-expanded') !== 'true');
      return;
    }
    // A click in an open menu but not on an entry (a heading) leaves it open.
    if (target && target.closest('.app-menu .dropdown-menu') && !target.closest('.dropdown-item')) return;
    closeAll(null);
  });

  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape') return;
    var open = document.querySelector(TOGGLE + '[aria-expanded="true"]');
    if (!open) return;
    setOpen(open, false);
    open.focus();
  });
})();
