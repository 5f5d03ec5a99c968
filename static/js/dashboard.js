// Manager dashboard: the relationship map, the trend charts, and the flag queue's live updates.
// Data comes from json_script blocks (no inline scripts: the Content-Security-Policy forbids them).
(function () {
  "use strict";

  var lang = document.documentElement.lang || "en";
  var number = function (value, digits) {
    return new Intl.NumberFormat(lang, {maximumFractionDigits: digits || 0}).format(value);
  };
  var percent = new Intl.NumberFormat(lang, {style: "percent", maximumFractionDigits: 0});

  function readJSON(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function scoreColour(score) {
    if (score === null || score === undefined) return "#98a2b3";
    if (score >= 70) return "#1e7b4f";
    if (score >= 50) return "#c27803";
    return "#b42318";
  }

  // Shades the co-production zone and draws the consultative line, under the points.
  var zonePlugin = {
    id: "rapportZone",
    beforeDatasetsDraw: function (chart, args, options) {
      if (!options || options.low === undefined) return;
      var x = chart.scales.x, y = chart.scales.y, ctx = chart.ctx, area = chart.chartArea;
      ctx.save();
      ctx.fillStyle = "rgba(30, 123, 79, 0.08)";
      ctx.fillRect(x.getPixelForValue(options.low), area.top,
        x.getPixelForValue(options.high) - x.getPixelForValue(options.low), area.bottom - area.top);
      ctx.strokeStyle = "rgba(30, 123, 79, 0.35)";
      ctx.setLineDash([2, 3]);
      [options.low, options.high].forEach(function (v) {
        ctx.beginPath();
        ctx.moveTo(x.getPixelForValue(v), area.top);
        ctx.lineTo(x.getPixelForValue(v), area.bottom);
        ctx.stroke();
      });
      ctx.strokeStyle = "rgba(16, 24, 40, 0.45)";
      ctx.setLineDash([6, 4]);
      var yLine = y.getPixelForValue(options.consultative);
      ctx.beginPath();
      ctx.moveTo(area.left, yLine);
      ctx.lineTo(area.right, yLine);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = "rgba(30, 123, 79, 0.8)";
      ctx.font = "12px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.fillText(options.label, (x.getPixelForValue(options.low) + x.getPixelForValue(options.high)) / 2, area.top + 14);
      ctx.fillStyle = "rgba(16, 24, 40, 0.6)";
      ctx.textAlign = "left";
      ctx.fillText(options.consultativeLabel, area.left + 6, yLine - 6);
      ctx.fillText(options.transactionalLabel, area.left + 6, yLine + 16);
      ctx.restore();
    }
  };

  function drawMap() {
    var canvas = document.getElementById("relationship-map");
    var data = readJSON("map-data");
    if (!canvas || !data || !window.Chart || canvas.dataset.drawn) return;
    canvas.dataset.drawn = "1";
    var labels = data.labels;
    var trails = data.points.filter(function (p) { return p.trail.length; }).map(function (p) {
      return {
        type: "line",
        data: p.trail.map(function (t) { return {x: t.x, y: t.y, date: t.date}; }).concat([{x: p.x, y: p.y, date: labels.now}]),
        borderColor: "rgba(102, 112, 133, 0.35)",
        backgroundColor: "rgba(102, 112, 133, 0.35)",
        borderWidth: 1,
        pointRadius: 2,
        pointHoverRadius: 3,
        tension: 0.25,
        clip: 10,
        parsing: false,
        rapportTrail: p
      };
    });
    var points = {
      type: "scatter",
      label: "engagements",
      data: data.points.map(function (p) { return {x: p.x, y: p.y, point: p}; }),
      pointBackgroundColor: data.points.map(function (p) { return scoreColour(p.score); }),
      pointBorderColor: "#fff",
      pointBorderWidth: 1.5,
      pointRadius: data.points.length > 60 ? 5 : 7,
      pointHoverRadius: 9,
      clip: 10,
      parsing: false
    };
    var severalUnderPointer = false;
    var chart = new window.Chart(canvas, {
      data: {datasets: trails.concat([points])},
      options: {
        locale: lang,
        maintainAspectRatio: false,
        animation: false,
        layout: {padding: {top: 10, right: 10}},
        scales: {
          x: {type: "linear", min: 0, max: 1,
              title: {display: true, text: labels.consultant_driven + "  ←  " + labels.x + "  →  " + labels.client_driven},
              ticks: {callback: function (v) { return percent.format(v); }}},
          y: {type: "linear", min: 0, max: 1,
              title: {display: true, text: labels.y},
              ticks: {callback: function (v) { return percent.format(v); }}}
        },
        plugins: {
          legend: {display: false},
          rapportZone: {low: data.zone.low, high: data.zone.high, consultative: data.zone.consultative,
                        label: labels.zone, consultativeLabel: labels.consultative, transactionalLabel: labels.transactional},
          tooltip: {
            filter: function (item) { return item.dataset.type === "scatter" || item.raw.date !== labels.now; },
            callbacks: {
              // Several engagements can sit on the same spot: then each body names its own engagement,
              // so no figure reads as another engagement's.
              title: function (items) {
                var seen = [];
                items.forEach(function (item) {
                  var p = item.raw.point || item.dataset.rapportTrail;
                  if (p && seen.indexOf(p) < 0) seen.push(p);
                });
                severalUnderPointer = seen.length > 1;
                return seen.length === 1 ? seen[0].label : "";
              },
              label: function (item) {
                var p = item.raw.point;
                var trail = item.dataset.rapportTrail;
                if (!p) {
                  return (severalUnderPointer && trail ? trail.label + ", " : "") + item.raw.date + ": " +
                    labels.balance + " " + percent.format(item.raw.x) + " · " + labels.depth + " " + percent.format(item.raw.y);
                }
                var lines = severalUnderPointer ? [p.label] : [];
                lines.push(labels.lead + ": " + p.lead);
                if (p.score !== null) lines.push(labels.score + ": " + number(p.score));
                lines.push([p.mode, p.state].filter(Boolean).join(" · "));
                return lines;
              }
            }
          }
        },
        onClick: function (event, elements) {
          for (var i = 0; i < elements.length; i++) {
            var raw = elements[i].element.$context.raw;
            var p = raw.point || chart.data.datasets[elements[i].datasetIndex].rapportTrail;
            if (p && p.url) { window.location.href = p.url; return; }
          }
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        }
      },
      plugins: [zonePlugin]
    });
    canvas.dataset.points = String(data.points.length);
  }

  function drawTrends() {
    var data = readJSON("trends-data");
    if (!data || !window.Chart) return;
    var dist = document.getElementById("score-distribution");
    if (dist && !dist.dataset.drawn) {
      dist.dataset.drawn = "1";
      var palette = ["#b42318", "#e0663a", "#c9a227", "#6aa84f", "#1e7b4f"];
      var datasets = data.bins.map(function (band, i) {
        return {type: "bar", label: band, backgroundColor: palette[i], stack: "bands",
                data: data.counts.map(function (counts) { return counts[i]; }), yAxisID: "y"};
      });
      datasets.push({type: "line", label: data.labels.mean, data: data.mean, yAxisID: "y2",
                     borderColor: "#101828", backgroundColor: "#101828", pointRadius: 2, spanGaps: true});
      new window.Chart(dist, {
        data: {labels: data.months, datasets: datasets},
        options: {
          locale: lang, maintainAspectRatio: false, animation: false,
          scales: {
            x: {stacked: true},
            y: {stacked: true, beginAtZero: true, title: {display: true, text: data.labels.engagements},
                ticks: {callback: function (v) { return number(v); }}},
            y2: {position: "right", min: 0, max: 100, grid: {drawOnChartArea: false},
                 title: {display: true, text: data.labels.mean}}
          },
          plugins: {legend: {position: "bottom"},
                    tooltip: {callbacks: {label: function (item) {
                      var digits = item.dataset.yAxisID === "y2" ? 1 : 0;  // the mean score, else a count
                      return item.dataset.label + ": " + number(item.raw, digits);
                    }}}}
        }
      });
    }
    var share = document.getElementById("consultative-share");
    if (share && !share.dataset.drawn) {
      share.dataset.drawn = "1";
      new window.Chart(share, {
        type: "line",
        data: {labels: data.share_months, datasets: [{label: data.labels.overall, data: data.share,
               borderColor: "#1e7b4f", backgroundColor: "rgba(30, 123, 79, 0.15)", fill: true, spanGaps: true,
               tension: 0.25}]},
        options: {
          locale: lang, maintainAspectRatio: false, animation: false,
          scales: {y: {min: 0, max: 1, ticks: {callback: function (v) { return percent.format(v); }}}},
          plugins: {legend: {display: false},
                    tooltip: {callbacks: {label: function (item) { return percent.format(item.raw); }}}}
        }
      });
    }
  }

  // A card that was resolved or dismissed in the queue leaves it, after a moment to read its confirmation.
  function closedCardsLeave() {
    var queue = document.querySelector("[data-flag-queue]");
    // The view of resolved and dismissed flags keeps them: that is what it is for.
    if (!queue || queue.getAttribute("data-flag-queue") === "closed") return;
    var status = document.getElementById("flag-queue-status");
    queue.querySelectorAll(".flag-resolved:not(.flag-leaving), .flag-dismissed:not(.flag-leaving)").forEach(function (card) {
      card.classList.add("flag-leaving");
      window.setTimeout(function () {
        card.remove();
        if (status) status.textContent = status.getAttribute("data-left-message");
      }, 1500);
    });
  }

  function init() {
    drawMap();
    drawTrends();
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", function (event) {
    drawTrends();
    closedCardsLeave();
  });
})();
