// Clientdesk: small progressive enhancements; every page works without them. Pages carry no
// inline script (the Content-Security-Policy refuses it): behaviour is asked for with data-
// attributes, and listeners sit on the document so that content swapped in by HTMX gets it too.
(function () {
  "use strict";
  // Texts come from Django's JavaScript catalogue (/jsi18n/, loaded before this file) in the
  // page's language; without it, in English. Numbers are written in the page's language.
  const gettext = window.gettext || function (text) { return text; };
  const interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) { return values[name]; });
  };
  const language = document.documentElement.lang || "en";
  function formatNumber(value) { return new Intl.NumberFormat(language).format(value); }
  // A click anywhere on a row with data-href opens it (links inside keep their own behaviour).
  document.addEventListener("click", function (event) {
    const row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, label, select")) return;
    if (event.ctrlKey || event.metaKey) { window.open(row.dataset.href, "_blank"); return; }
    window.location.assign(row.dataset.href);
  });
  // Dates are text inputs in the tenant's format, e.g. data-date-input="d.m.Y" (core/dates.py):
  // a native date input would show the browser's format. A date refreshes a list once it is
  // complete: in the tenant's format with two-digit day and month, ISO, or eight digits alone.
  function formatLetters(format) { return format.split(/[^A-Za-z]/); }
  function formatSeparator(format) { return format.replace(/[A-Za-z]/g, "").charAt(0); }
  function isRealDay(year, month, day) {
    const moment = new Date(Date.UTC(year, month - 1, day));
    return year >= 1900 && year <= 8999 && moment.getUTCFullYear() === year &&
      moment.getUTCMonth() === month - 1 && moment.getUTCDate() === day;
  }
  // The ISO day (2026-10-15) a complete date names, or "".
  function isoDay(text, format) {
    const letters = formatLetters(format);
    const groups = letters.map(function (letter) { return letter === "Y" ? "(\\d{4})" : "(\\d{2})"; });
    const separator = formatSeparator(format).replace(/[.\/\\-]/, "\\$&");
    const typed = new RegExp("^" + groups.join(separator) + "$").exec(text) ||
      new RegExp("^" + groups.join("") + "$").exec(text);
    const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    const parts = {};
    if (iso) { parts.Y = iso[1]; parts.m = iso[2]; parts.d = iso[3]; }
    else if (typed) letters.forEach(function (letter, i) { parts[letter] = typed[i + 1]; });
    else return "";
    return isRealDay(Number(parts.Y), Number(parts.m), Number(parts.d))
      ? parts.Y + "-" + parts.m + "-" + parts.d : "";
  }
  function tenantDay(iso, format) {
    const split = iso.split("-");
    const parts = { Y: split[0], m: split[1], d: split[2] };
    return formatLetters(format).map(function (letter) { return parts[letter]; })
      .join(formatSeparator(format));
  }
  function datePart(input) { return input.value.trim().split(/\s+/)[0] || ""; }
  function isDateOnly(input) {
    return input instanceof HTMLInputElement && input.hasAttribute("data-date-input") &&
      !input.hasAttribute("data-with-time");
  }
  function isCompleteOrEmpty(input) {
    const text = input.value.trim();
    return text === "" || isoDay(text, input.dataset.dateInput) !== "";
  }
  // A date that has just become complete (typed or picked) is written in the tenant's format
  // (10152026 becomes 10/15/2026) and announced once as a change, which the list forms listen
  // to; the change the browser reports on leaving the field is then not a second refresh.
  function announceDate(input) {
    if (!isDateOnly(input) || !isCompleteOrEmpty(input)) return;
    const iso = isoDay(input.value.trim(), input.dataset.dateInput);
    if (iso) input.value = tenantDay(iso, input.dataset.dateInput);
    if (input.value === input.dataset.sent) return;
    input.dataset.sent = input.value;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }
  document.addEventListener("input", function (event) {
    if (isDateOnly(event.target) && event.target.value.trim() !== "") announceDate(event.target);
  });
  // Changes that must not refresh a list, stopped before any form or HTMX hears them: the
  // search box (Enter or a suggestion searches), a date still being typed or already
  // announced, and the hidden calendar behind a date's Calendar button.
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (!(input instanceof HTMLInputElement)) return;
    if (input.classList.contains("date-picker-native")) {
      event.stopPropagation();
      writePickedDay(input);
      return;
    }
    const early = isDateOnly(input) && !isCompleteOrEmpty(input);
    const repeated = isDateOnly(input) && event.isTrusted && input.value === input.dataset.sent;
    if (input.matches("[data-no-refresh]") || early || repeated) event.stopPropagation();
    else if (isDateOnly(input)) input.dataset.sent = input.value;
  }, true);
  // The Calendar button: the browser's own picker (a native date input kept out of sight),
  // whose day is written back into the field in the tenant's format (a time typed after the
  // date is kept).
  function pickerFor(button) {
    let picker = button.parentElement.querySelector("input.date-picker-native");
    if (!picker) {
      picker = document.createElement("input");
      picker.type = "date";
      picker.className = "date-picker-native";
      picker.tabIndex = -1;
      picker.min = "1900-01-01";
      picker.max = "8999-12-31";
      picker.setAttribute("aria-hidden", "true");
      button.before(picker);
    }
    return picker;
  }
  function writePickedDay(picker) {
    const field = picker.parentElement.querySelector("input[data-date-input]");
    if (!field || !picker.value) return;
    const time = field.value.trim().split(/\s+/).slice(1).join(" ");
    const day = tenantDay(picker.value, field.dataset.dateInput);
    field.value = field.hasAttribute("data-with-time") && time ? day + " " + time : day;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.focus();
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-date-picker]");
    if (!button) return;
    const field = button.parentElement.querySelector("input[data-date-input]");
    if (!field) return;
    const picker = pickerFor(button);
    picker.value = isoDay(datePart(field), field.dataset.dateInput);
    try { picker.showPicker(); } catch (error) { picker.focus(); picker.click(); }
  });
  // A date completed in a form with data-autosubmit (a period) shows its figures at once.
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (isDateOnly(input) && input.form && input.form.hasAttribute("data-autosubmit")) {
      input.form.requestSubmit();
    }
  });
  // A form with a data-once button is sent once: the idempotency token already makes a repeat
  // harmless on the server; this just spares the operator a confusing second round trip.
  document.addEventListener("submit", function (event) {
    event.target.querySelectorAll("button[data-once]").forEach(function (button) {
      setTimeout(function () { button.disabled = true; }, 0);
    });
  });
  // A form with data-join-checked="NAME" sends its ticked NAME boxes as one comma-joined NAME
  // field, so that ticking thousands stays within the server's limit on the number of fields.
  document.addEventListener("formdata", function (event) {
    var name = event.target.dataset && event.target.dataset.joinChecked;
    if (!name) { return; }
    var values = event.formData.getAll(name);
    event.formData.delete(name);
    if (values.length) { event.formData.set(name, values.join(",")); }
  }, true);
  // Progress bars take their width from data-progress (set through the CSSOM, which the
  // policy allows, rather than a style attribute, which it refuses).
  function showProgress(root) {
    root.querySelectorAll("[data-progress]").forEach(function (bar) {
      const percent = Math.max(0, Math.min(100, Number(bar.dataset.progress) || 0));
      bar.style.width = percent + "%";
      // The progress bar a screen reader announces is the bar's container (role=progressbar).
      const meter = bar.closest("[role=progressbar]") || bar;
      meter.setAttribute("aria-valuenow", String(percent));
      meter.setAttribute("aria-valuetext", interpolate(
        gettext("%(percent)s done"), { percent: formatNumber(percent) + "%" }, true));
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
  // A list toolbar's form (export, save view) sends the list's query as the address bar shows
  // it now: HTMX changes the filter and sort without reloading the toolbar.
  function currentListQuery(form) {
    const input = form.querySelector("input[name=list_query]");
    if (input) input.value = window.location.search.replace(/^\?/, "");
  }
  document.addEventListener("submit", function (event) {
    if (event.target.matches && event.target.matches("form[data-list-form]")) currentListQuery(event.target);
  }, true);
  document.addEventListener("htmx:configRequest", function (event) {
    const form = event.detail.elt.closest && event.detail.elt.closest("form[data-list-form]");
    if (form) event.detail.parameters["list_query"] = window.location.search.replace(/^\?/, "");
  });
  function enhance(root) { showProgress(root); startDownloads(root); }
  if (window.htmx) window.htmx.onLoad(enhance);
  else document.addEventListener("DOMContentLoaded", function () { enhance(document); });
})();
