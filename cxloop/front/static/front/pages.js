// The dashboards' explanations: Bootstrap tooltips (on hover and keyboard focus) and popovers
// (the "?" buttons), where Bootstrap's script is on the page. Without it the title attribute
// still shows the tooltip's text, and nothing is lost but the styling.
(function () {
  "use strict";
  function start() {
    if (!window.bootstrap) {
      return;
    }
    document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
      window.bootstrap.Tooltip.getOrCreateInstance(el);
    });
    document.querySelectorAll('[data-bs-toggle="popover"]').forEach(function (el) {
      window.bootstrap.Popover.getOrCreateInstance(el);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
