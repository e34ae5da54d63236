// Keep keyboard focus and open <details> across the outerHTML swaps of a polled
// fragment (an element with data-live-refresh, such as the dashboard's sections).
//
// Before htmx swaps in the fresh copy, the script records which element inside the
// fragment had focus and which <details data-live-key="..."> were open. After the
// swap it sets those <details> open again and focuses the element of the new copy
// that matches, without scrolling. Without JavaScript htmx does not run, so the
// fragment is never replaced and there is no focus to restore.
//
// A poll is skipped while a form field in the fragment has focus or differs from
// its initial value, so a refresh does not throw away what the user is typing.
(function () {
  "use strict";

  var FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";
  var TEXT_ENTRY = "input, select, textarea";
  var BUTTON_TYPES = ["button", "submit", "reset", "image", "checkbox", "radio", "hidden"];
  // State recorded before a swap, keyed by the id of the fragment being replaced.
  var pending = {};

  function liveFragment(element) {
    return element && element.matches && element.matches("[data-live-refresh]") ? element : null;
  }

  function text(element) {
    return element.textContent.replace(/\s+/g, " ").trim();
  }

  // A key that names the same control in the old and the new copy of the fragment.
  function focusKey(element) {
    if (element.id) {
      return "id:" + element.id;
    }
    var tag = element.tagName.toLowerCase();
    if (tag === "summary") {
      var details = element.closest("details[data-live-key]");
      if (details) {
        return "summary:" + details.getAttribute("data-live-key");
      }
    }
    if (tag === "a") {
      return "a:" + element.getAttribute("href") + "|" + text(element);
    }
    if (tag === "button" || tag === "input" || tag === "select" || tag === "textarea") {
      var action = element.form ? element.form.getAttribute("action") || "" : "";
      var label = tag === "button" ? text(element) : element.value;
      return tag + ":" + action + "|" + (element.name || "") + "|" + label;
    }
    return tag + ":" + text(element);
  }

  // The focusable elements of `root` whose key is `key`, in document order.
  function matching(root, key) {
    return Array.prototype.filter.call(root.querySelectorAll(FOCUSABLE), function (element) {
      return focusKey(element) === key;
    });
  }

  function isEditing(fragment) {
    var active = document.activeElement;
    if (active && fragment.contains(active) && active.matches(TEXT_ENTRY)) {
      if (BUTTON_TYPES.indexOf(active.type) === -1) {
        return true;
      }
    }
    return Array.prototype.some.call(fragment.querySelectorAll(TEXT_ENTRY), function (field) {
      if (field.tagName === "SELECT") {
        return Array.prototype.some.call(field.options, function (option) {
          return option.selected !== option.defaultSelected;
        });
      }
      if (field.type === "checkbox" || field.type === "radio") {
        return field.checked !== field.defaultChecked;
      }
      return field.value !== field.defaultValue;
    });
  }

  function record(fragment) {
    var state = { openDetails: {}, focus: null };
    fragment.querySelectorAll("details[data-live-key]").forEach(function (details) {
      state.openDetails[details.getAttribute("data-live-key")] = details.open;
    });
    var active = document.activeElement;
    if (active && active !== fragment && fragment.contains(active)) {
      var key = focusKey(active);
      state.focus = { key: key, index: matching(fragment, key).indexOf(active) };
    }
    return state;
  }

  function restore(fragment, state) {
    fragment.querySelectorAll("details[data-live-key]").forEach(function (details) {
      var key = details.getAttribute("data-live-key");
      if (Object.prototype.hasOwnProperty.call(state.openDetails, key)) {
        details.open = state.openDetails[key];
      }
    });
    if (!state.focus) {
      return;
    }
    var candidates = matching(fragment, state.focus.key);
    var target = candidates[Math.max(state.focus.index, 0)] || candidates[0];
    if (!target) {
      // The focused control is gone, such as a "Next" link on the last page. Focus
      // the fragment itself so the next Tab continues from here, not from the top.
      target = fragment;
      if (!fragment.hasAttribute("tabindex")) {
        fragment.setAttribute("tabindex", "-1");
      }
    }
    target.focus({ preventScroll: true });
  }

  // Skip a poll while the user is editing a field of the fragment.
  document.addEventListener("htmx:confirm", function (event) {
    var fragment = liveFragment(event.detail.elt);
    if (fragment && isEditing(fragment)) {
      event.preventDefault();
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var fragment = liveFragment(event.detail.target);
    // An error response is not swapped in, so the page keeps its state.
    if (fragment && fragment.id && event.detail.shouldSwap) {
      pending[fragment.id] = record(fragment);
    }
  });

  // With an outerHTML swap the event's target is the old copy, so the new one is
  // looked up by id.
  document.addEventListener("htmx:afterSwap", function () {
    Object.keys(pending).forEach(function (id) {
      var fragment = document.getElementById(id);
      var state = pending[id];
      delete pending[id];
      if (fragment) {
        restore(fragment, state);
      }
    });
  });
})();
