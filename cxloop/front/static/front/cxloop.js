// The shell's behaviour under the strict CSP (no inline script): Bootstrap popovers on cx-help
// buttons, tooltips, and toasts that leave by themselves unless they report an error.
(function () {
  "use strict";
  function start(root) {
    if (!window.bootstrap || !root.querySelectorAll) return;
    root.querySelectorAll('[data-bs-toggle="popover"]').forEach(function (element) {
      bootstrap.Popover.getOrCreateInstance(element, { trigger: "focus" });
    });
    root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (element) {
      bootstrap.Tooltip.getOrCreateInstance(element);
    });
    root.querySelectorAll(".cx-toasts .toast:not([data-cx-started])").forEach(function (element) {
      element.setAttribute("data-cx-started", "");
      var autohide = element.getAttribute("data-cx-autohide") === "true";
      bootstrap.Toast.getOrCreateInstance(element, { autohide: autohide, delay: 8000 }).show();
    });
  }
  // A table wider than a phone scrolls inside its .table-responsive box; a keyboard reaches that
  // box only if it can take the focus (WCAG 2.1.1, axe's scrollable-region-focusable).
  function focusableScrollers() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) {
        if (!box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0");
          box.setAttribute("data-cx-scroller", "");
        }
      } else if (box.hasAttribute("data-cx-scroller")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-cx-scroller");
      }
    });
  }
  window.addEventListener("load", focusableScrollers);
  window.addEventListener("resize", focusableScrollers);
  document.addEventListener("htmx:afterSettle", focusableScrollers);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(document); focusableScrollers(); });
  } else {
    start(document);
    focusableScrollers();
  }
  // What htmx swaps in gets the same treatment.
  document.addEventListener("htmx:load", function (event) { start(event.target); });
})();
