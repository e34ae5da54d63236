// Let keyboard users scroll wide tables. A .table-wrap that scrolls sideways and
// contains nothing focusable becomes a focusable, labelled region, so arrow keys
// scroll it; one that fits stays out of the tab order.
(function () {
  "use strict";

  var FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";

  function label(wrap) {
    var section = wrap.closest("section, figure");
    var heading = section && section.querySelector("h2, h3, figcaption");
    return heading ? heading.textContent.trim() : "Table";
  }

  function mark(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll(".table-wrap").forEach(function (wrap) {
      // A template that made the box a region itself keeps its own markup.
      if (wrap.hasAttribute("tabindex") && !wrap.hasAttribute("data-scroll-region")) {
        return;
      }
      var scrolls = wrap.scrollWidth > wrap.clientWidth;
      var managed = wrap.hasAttribute("data-scroll-region");
      if (scrolls && !managed && !wrap.querySelector(FOCUSABLE)) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", label(wrap) + " (scrolls sideways)");
        wrap.setAttribute("data-scroll-region", "");
      } else if (!scrolls && managed) {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
        wrap.removeAttribute("data-scroll-region");
      }
    });
  }

  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      mark(document);
    }, 200);
  });
  document.addEventListener("htmx:load", function (event) {
    mark(event.detail.elt);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      mark(document);
    });
  } else {
    mark(document);
  }
})();
