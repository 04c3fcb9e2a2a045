// Clientdesk: small progressive enhancements; every page works without them. Pages carry no
// inline script (the Content-Security-Policy refuses it): behaviour is asked for with data-
// attributes, and listeners sit on the document so that content swapped in by HTMX gets it too.
(function () {
  "use strict";
  // A click anywhere on a row with data-href opens it (links inside keep their own behaviour).
  document.addEventListener("click", function (event) {
    const row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, label, select")) return;
    if (event.ctrlKey || event.metaKey) { window.open(row.dataset.href, "_blank"); return; }
    window.location.assign(row.dataset.href);
  });
  // Changes that must not refresh a list, stopped before any form or HTMX hears them: the
  // search box (Enter or a suggestion searches), and a date still being typed (Chromium reports
  // 0002-10-15 while the operator types the year 2026). A date refreshes once it is complete.
  function isCompleteDate(input) {
    return /^\d{4}-\d{2}-\d{2}$/.test(input.value) && Number(input.value.slice(0, 4)) >= 1900;
  }
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (!(input instanceof HTMLInputElement)) return;
    if (input.matches("[data-no-refresh]") || (input.type === "date" && !isCompleteDate(input))) {
      event.stopPropagation();
    }
  }, true);
  // A date picked or typed in a form with data-autosubmit (a period) shows its figures at once.
  document.addEventListener("change", function (event) {
    const input = event.target.closest("form[data-autosubmit] input[type=date]");
    if (input) input.form.requestSubmit();
  });
  // A form with a data-once button is sent once: the idempotency token already makes a repeat
  // harmless on the server; this just spares the operator a confusing second round trip.
  document.addEventListener("submit", function (event) {
    event.target.querySelectorAll("button[data-once]").forEach(function (button) {
      setTimeout(function () { button.disabled = true; }, 0);
    });
  });
  // Progress bars take their width from data-progress (set through the CSSOM, which the
  // policy allows, rather than a style attribute, which it refuses).
  function showProgress(root) {
    root.querySelectorAll("[data-progress]").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.progress) || 0)) + "%";
    });
  }
  // An export that finished while its operator is on the page downloads by itself, once; the
  // Download button stays for another copy, and the Exports page keeps the history.
  function startDownloads(root) {
    root.querySelectorAll("a[data-auto-download]").forEach(function (link) {
      link.removeAttribute("data-auto-download");
      link.click();
    });
  }
  function enhance(root) { showProgress(root); startDownloads(root); }
  if (window.htmx) window.htmx.onLoad(enhance);
  else document.addEventListener("DOMContentLoaded", function () { enhance(document); });
})();
