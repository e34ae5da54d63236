// Show a confirmation dialog before a destructive form is sent. A form opts in
// with data-confirm (the question) and may add data-confirm-detail (the effect)
// and data-confirm-button (the label of the button that goes ahead).
// data-confirm-when="field=value" shows the dialog only when that field contains
// that value. Confirming adds confirmed=1, so the server accepts the POST at once.
// Without this script the server shows its own confirmation page instead.
(function () {
  "use strict";

  if (typeof HTMLDialogElement !== "function") {
    return;
  }

  var dialog = document.createElement("dialog");
  dialog.className = "confirm-dialog";
  dialog.setAttribute("aria-labelledby", "confirm-dialog-question");
  dialog.innerHTML =
    '<form method="dialog">' +
    '<h2 id="confirm-dialog-question"></h2>' +
    '<p class="confirm-dialog-detail"></p>' +
    '<div class="form-actions">' +
    '<button type="submit" value="confirm" class="button button-danger"></button>' +
    '<button type="submit" value="cancel" class="button button-secondary">Cancel</button>' +
    "</div></form>";
  var question = dialog.querySelector("h2");
  var detail = dialog.querySelector(".confirm-dialog-detail");
  var confirmButton = dialog.querySelector('button[value="confirm"]');
  var cancelButton = dialog.querySelector('button[value="cancel"]');
  var pending = null;
  var pendingSubmitter = null;

  function addHidden(form, name, value) {
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = name;
    field.value = value;
    form.appendChild(field);
  }

  dialog.addEventListener("close", function () {
    var form = pending;
    var submitter = pendingSubmitter;
    pending = null;
    pendingSubmitter = null;
    if (!form || dialog.returnValue !== "confirm") {
      return;
    }
    // submit() leaves out the clicked button, so its name and value are added here.
    if (submitter && submitter.name) {
      addHidden(form, submitter.name, submitter.value);
    }
    addHidden(form, "confirmed", "1");
    // submit() does not fire the submit event again, so the dialog is not reopened.
    form.submit();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) {
      return;
    }
    var when = form.getAttribute("data-confirm-when");
    if (when) {
      var parts = when.split("=");
      if (new FormData(form).get(parts[0]) !== parts.slice(1).join("=")) {
        return;
      }
    }
    event.preventDefault();
    if (!dialog.isConnected) {
      document.body.appendChild(dialog);
    }
    pending = form;
    pendingSubmitter = event.submitter || null;
    question.textContent = form.getAttribute("data-confirm");
    detail.textContent = form.getAttribute("data-confirm-detail") || "";
    detail.hidden = !detail.textContent;
    confirmButton.textContent = form.getAttribute("data-confirm-button") || "Confirm";
    dialog.returnValue = "";
    dialog.showModal();
    // The safe choice takes the focus, so Enter alone never confirms.
    cancelButton.focus();
  });
})();
