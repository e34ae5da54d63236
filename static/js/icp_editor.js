// Progressive enhancement of the ICP criteria editor. Each criterion row shows only
// the inputs of its kind, its field select offers only the fields that kind can test,
// and "Add criterion" clones a blank row instead of posting the form. Without this
// script every input shows and the server ignores the ones the kind does not read.
(function () {
  "use strict";

  var form = document.getElementById("icp-editor");
  if (!form) {
    return;
  }
  var rows = document.getElementById("criterion-rows");
  var template = document.getElementById("criterion-template");
  var addButton = document.getElementById("add-criterion");

  function applyKind(row) {
    var kind = row.querySelector("[data-kind-select]").value;
    row.setAttribute("data-kind", kind);
    row.querySelectorAll("[data-kinds]").forEach(function (cell) {
      cell.hidden = cell.getAttribute("data-kinds").split(" ").indexOf(kind) === -1;
    });

    var fieldSelect = row.querySelector("[data-field-select]");
    var selected = fieldSelect.options[fieldSelect.selectedIndex];
    var firstAllowed = null;
    var selectedAllowed = false;
    fieldSelect.querySelectorAll("optgroup").forEach(function (group) {
      var allowed = group.getAttribute("data-kind") === kind;
      group.hidden = !allowed;
      group.disabled = !allowed;
      if (allowed) {
        firstAllowed = firstAllowed || group.querySelector("option");
        selectedAllowed = selectedAllowed || (selected && selected.parentNode === group);
      }
    });
    if (!selectedAllowed && firstAllowed) {
      firstAllowed.selected = true;
    }
  }

  function markRemoved(row) {
    var remove = row.querySelector("input[name$='-remove']");
    row.classList.toggle("criterion-row-removed", Boolean(remove && remove.checked));
  }

  function setUp(row) {
    applyKind(row);
    markRemoved(row);
  }

  function addRow() {
    var index = Number(rows.getAttribute("data-next-index"));
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__index__/g, String(index)));
    rows.setAttribute("data-next-index", String(index + 1));
    var row = rows.lastElementChild;
    setUp(row);
    row.querySelector("input[type='text']").focus();
  }

  rows.querySelectorAll("[data-criterion-row]").forEach(setUp);

  rows.addEventListener("change", function (event) {
    var row = event.target.closest("[data-criterion-row]");
    if (!row) {
      return;
    }
    if (event.target.matches("[data-kind-select]")) {
      applyKind(row);
    } else if (event.target.matches("input[name$='-remove']")) {
      markRemoved(row);
    }
  });

  addButton.addEventListener("click", function (event) {
    event.preventDefault();
    addRow();
  });
})();
