// Clientdesk: small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // A click anywhere on a row with data-href opens it (links inside keep their own behaviour).
  document.addEventListener("click", function (event) {
    const row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, label, select")) return;
    if (event.ctrlKey || event.metaKey) { window.open(row.dataset.href, "_blank"); return; }
    window.location.assign(row.dataset.href);
  });
})();
