// The Statistics tab's chart, drawn with the vendored Chart.js from the JSON the view put in
// #statistics-chart-data. By day: sent (blue) and delivered (purple) as two lines; the other
// groupings: the same two figures as bars. The Chart instance is kept on window.statisticsChart.
(function () {
  "use strict";
  const canvas = document.getElementById("statistics-chart");
  const source = document.getElementById("statistics-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const colours = { sent: "#0d6efd", delivered: "#6f42c1" };
  const line = data.type === "line";
  window.statisticsChart = new Chart(canvas, {
    type: line ? "line" : "bar",
    data: {
      labels: data.labels,
      datasets: data.datasets.map(function (set) {
        return {
          label: set.label,
          data: set.data,
          borderColor: colours[set.key],
          backgroundColor: line ? colours[set.key] : colours[set.key] + "cc",
          tension: 0.2,
          pointRadius: data.labels.length > 62 ? 0 : 2,
        };
      }),
    },
    options: {
      // Numbers on the axis and in the tooltips in the page's language (1 234 in Russian).
      locale: document.documentElement.lang || "en",
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
  canvas.dataset.chartReady = "true";
  // Changing a date submits the period, as the Finance tab does.
  document.querySelectorAll("[data-testid=period-form] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  });
  // The export pop-up: after a job was queued, the footer's Export button is not needed.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "export-modal-body" && event.target.querySelector("[data-testid=export-job]")) {
      const submit = document.querySelector("[data-testid=export-submit]");
      if (submit) submit.disabled = true;
    }
  });
})();
