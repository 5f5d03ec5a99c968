// Consultant workspace behaviours: charts from json_script data, and Ctrl+Enter to save a form.
// No inline scripts (the Content-Security-Policy forbids them): templates declare data- attributes.
(function () {
  "use strict";

  var lang = document.documentElement.lang || "en";
  var monthFormat = new Intl.DateTimeFormat(lang, { month: "short", year: "2-digit" });
  // Days as the server writes them (config/formats): "4 Dec 2026", « 4 déc. 2026 ».
  var dayFormat = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : lang, { day: "numeric", month: "short", year: "numeric" });

  function readData(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-source"));
    if (!source) { return null; }
    try { return JSON.parse(source.textContent); } catch (error) { return null; }
  }

  function parseDate(iso) {
    var parts = iso.split("-");
    return new Date(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]));
  }

  function healthChart(canvas, data) {
    return new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels.map(function (iso) { return monthFormat.format(parseDate(iso)); }),
        datasets: [
          { label: canvas.getAttribute("data-label-score"), data: data.score, borderColor: "#1d4ed8",
            backgroundColor: "#1d4ed8", tension: 0.3, spanGaps: true, pointRadius: 3 },
          { label: canvas.getAttribute("data-label-depth"), data: data.depth, borderColor: "#0f766e",
            backgroundColor: "#0f766e", borderDash: [6, 4], tension: 0.3, spanGaps: true, pointRadius: 2 }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { min: 0, max: 100, ticks: { stepSize: 25 } } },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
      }
    });
  }

  function kpiChart(canvas, data) {
    var datasets = [{ label: canvas.getAttribute("data-label"), data: data.values, borderColor: "#1d4ed8",
                      backgroundColor: "rgba(29, 78, 216, 0.08)", fill: true, tension: 0.3, pointRadius: 0,
                      borderWidth: 2 }];
    if (data.target !== null && data.target !== undefined) {
      datasets.push({ label: "target", data: data.values.map(function () { return data.target; }),
                      borderColor: "#98a2b3", borderDash: [4, 4], pointRadius: 0, borderWidth: 1 });
    }
    return new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels.map(function (iso) { return dayFormat.format(parseDate(iso)); }), datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { display: false }, y: { display: false } },
        plugins: { legend: { display: false }, tooltip: { intersect: false, mode: "index" } }
      }
    });
  }

  // Chart.js itself comes from the script tag's data-chart-src, when a chart nears the screen (rapport.js).
  var chartSrc = document.currentScript && document.currentScript.getAttribute("data-chart-src");

  function draw(canvas) {
    if (canvas.getAttribute("data-drawn")) { return; }
    var data = readData(canvas);
    if (!data) { return; }
    canvas.setAttribute("data-drawn", "1");
    if (canvas.getAttribute("data-chart") === "health") { healthChart(canvas, data); }
    else { kpiChart(canvas, data); }
  }

  function drawCharts(root) {
    if (!chartSrc || !window.rapportChart) { return; }
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (!canvas.getAttribute("data-drawn")) { window.rapportChart(canvas, chartSrc, draw); }
    });
  }

  // A data-confirm question answered "Cancel" (rapport.js) only stops the browser's own submit;
  // HTMX listens on the form itself, so stop the event before it gets there too. Registered after
  // rapport.js's capturing listener, so it runs once the question has been asked.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented && form.matches && form.matches("form[data-confirm]")) {
      event.stopPropagation();
    }
  }, true);

  // Ctrl+Enter (Cmd+Enter on a Mac) in a form marked data-submit-shortcut saves it.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) { return; }
    var form = event.target.closest && event.target.closest("form[data-submit-shortcut]");
    if (form) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.submit();
    }
  });

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSwap", function (event) {
    drawCharts(event.target);
    // The planned breaks came back after an add or a delete: the keyboard focus goes to what happened
    // (the error, or the confirmation) instead of the top of the page.
    if (event.target.id === "planned-breaks" || (event.detail.elt && event.detail.elt.closest &&
        event.detail.elt.closest("#planned-breaks"))) {
      var section = document.getElementById("planned-breaks");
      var focus = section && section.querySelector("[role=alert], .error, [role=status]");
      if (focus) {
        if (!focus.hasAttribute("tabindex")) { focus.setAttribute("tabindex", "-1"); }
        focus.focus();
      }
    }
    // A milestone just added: its card is highlighted (the cards are cached, so not by the server).
    var added = event.target.id === "milestones" && event.target.querySelector("[data-new-milestone]");
    var card = added && document.getElementById(added.getAttribute("data-new-milestone"));
    if (card) {
      card.classList.add("just-logged");
      card.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
    // A session just logged: bring it into view so the user sees it landed.
    var logged = document.querySelector(".session-item.just-logged");
    if (logged && event.target.id === "log-session-form") {
      logged.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  });
})();
