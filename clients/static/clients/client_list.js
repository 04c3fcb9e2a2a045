// The client list's search box: suggestions with keyboard and mouse, and the Status button's
// highlight. Without this file the search box is a plain field and Enter searches the table.
(function () {
  "use strict";
  const form = document.getElementById("client-filter-form");
  if (!form) return;
  const input = form.querySelector("input[name=q]");
  const box = document.getElementById("client-suggestions");
  let suppressed = null; // the value whose suggestions must not reappear (Enter was pressed)

  function items() { return Array.from(box.querySelectorAll("[role=option]")); }
  function activeIndex() { return items().findIndex((el) => el.classList.contains("active")); }
  function setActive(index) {
    const list = items();
    list.forEach((el, i) => {
      el.classList.toggle("active", i === index);
      el.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (list[index]) { list[index].scrollIntoView({ block: "nearest" }); input.setAttribute("aria-activedescendant", list[index].id || ""); }
  }
  function open() { return box.childElementCount > 0; }
  function close() { box.innerHTML = ""; input.setAttribute("aria-expanded", "false"); }

  input.addEventListener("keydown", function (event) {
    if (!open()) return;
    const list = items();
    let index = activeIndex();
    if (event.key === "ArrowDown") {
      event.preventDefault(); setActive(index + 1 < list.length ? index + 1 : 0);
    } else if (event.key === "ArrowUp") {
      event.preventDefault(); setActive(index > 0 ? index - 1 : list.length - 1);
    } else if (event.key === "Escape") {
      event.preventDefault(); suppressed = input.value; close();
    } else if (event.key === "Enter" && index >= 0) {
      event.preventDefault(); window.location.assign(list[index].href);
    }
  });
  // Enter without a chosen suggestion submits the form: every result in the table.
  form.addEventListener("submit", function () { suppressed = input.value; close(); });
  box.addEventListener("mousemove", function (event) {
    const option = event.target.closest("[role=option]");
    if (option) setActive(items().indexOf(option));
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("#client-suggestions") && event.target !== input) close();
  });
  input.addEventListener("input", function () { if (input.value !== suppressed) suppressed = null; });
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target !== box) return;
    if (suppressed !== null && input.value === suppressed) { event.detail.shouldSwap = false; return; }
    if (document.activeElement !== input) event.detail.shouldSwap = false;
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === box) {
      items().forEach((el, i) => { el.id = "client-suggestion-" + i; });
      input.setAttribute("aria-expanded", open() ? "true" : "false");
    }
  });
  // Keep the URL short: leave out empty filter fields (the server treats absent and empty
  // alike, so the pushed URL reproduces the same view).
  form.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt !== form) return;
    const parameters = event.detail.parameters;
    const names = Array.from(new Set(Array.from(form.elements).map((el) => el.name).filter(Boolean)));
    names.forEach(function (name) {
      const value = parameters[name];
      if (value === "" || (Array.isArray(value) && value.every((v) => v === ""))) delete parameters[name];
    });
  });
  // The Status button is highlighted while any status is ticked; its panel closes on a click
  // elsewhere or Escape, like a drop-down.
  const status = document.getElementById("status-filter");
  if (status) {
    status.addEventListener("change", function () {
      const ticked = status.querySelectorAll("input[type=checkbox]:checked").length;
      status.querySelector("summary").classList.toggle("filter-active", ticked > 0);
    });
    document.addEventListener("click", function (event) {
      if (status.open && !status.contains(event.target)) status.open = false;
    });
    status.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && status.open) { status.open = false; status.querySelector("summary").focus(); }
    });
  }
})();
// The bulk actions' tick boxes: the header's box ticks or clears the page, the bar counts the
// rows ticked, and ticking a row chooses "the clients ticked". Without this file each row's box
// still belongs to the bar's form.
(function () {
  "use strict";
  function rows() { return Array.from(document.querySelectorAll("input[data-bulk-row]")); }
  function refresh() {
    const all = rows();
    const ticked = all.filter((box) => box.checked).length;
    const counter = document.querySelector("[data-bulk-ticked]");
    if (counter) counter.textContent = String(ticked);
    const page = document.querySelector("input[data-bulk-page]");
    if (page) {
      page.checked = all.length > 0 && ticked === all.length;
      page.indeterminate = ticked > 0 && ticked < all.length;
    }
  }
  document.addEventListener("change", function (event) {
    const box = event.target;
    if (box.matches("input[data-bulk-page]")) {
      rows().forEach((row) => { row.checked = box.checked; });
    } else if (!box.matches("input[data-bulk-row]")) {
      return;
    }
    const ticked = document.getElementById("bulk-scope-ticked");
    if (ticked) ticked.checked = true;
    refresh();
  });
  document.body.addEventListener("htmx:afterSettle", refresh);
})();
