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
      // The zone's name sits just above the plot, in the top padding, where no point can be
      // (points at 100 % depth stay inside the plot's small margin); kept within the canvas.
      ctx.fillStyle = "rgba(30, 123, 79, 0.95)";
      ctx.font = "600 12px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "bottom";
      var half = ctx.measureText(options.label).width / 2;
      var centre = (x.getPixelForValue(options.low) + x.getPixelForValue(options.high)) / 2;
      centre = Math.min(Math.max(centre, area.left + half), chart.width - half - 2);
      ctx.fillText(options.label, centre, area.top - 5);
      ctx.textBaseline = "alphabetic";
      ctx.font = "12px system-ui, sans-serif";
      ctx.fillStyle = "rgba(16, 24, 40, 0.6)";
      ctx.textAlign = "left";
      ctx.fillText(options.consultativeLabel, area.left + 6, yLine - 6);
      ctx.fillText(options.transactionalLabel, area.left + 6, yLine + 16);
      ctx.restore();
    }
  };

  // The names of the at-risk engagements (score under 50, or transactional) beside their points, most at-risk first,
  // skipping a name that would overlap one already written: the rest are a hover or a key away.
  var atRiskLabels = {
    id: "rapportAtRisk",
    afterDatasetsDraw: function (chart) {
      var dataset = chart.data.datasets[chart.data.datasets.length - 1];
      if (!dataset || dataset.type !== "scatter") return;
      var ctx = chart.ctx, x = chart.scales.x, y = chart.scales.y, taken = [];
      ctx.save();
      ctx.font = "600 11px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      dataset.data.forEach(function (item) {
        var p = item.point;
        if (!p || !p.at_risk || taken.length >= 12) return;
        var name = p.label.split(" — ")[0];
        var width = ctx.measureText(name).width;
        var px = x.getPixelForValue(p.x) + 9, py = y.getPixelForValue(p.y);
        if (px + width > chart.chartArea.right) px = x.getPixelForValue(p.x) - 9 - width;
        var box = {left: px - 2, right: px + width + 2, top: py - 8, bottom: py + 8};
        if (taken.some(function (t) { return box.left < t.right && box.right > t.left && box.top < t.bottom && box.bottom > t.top; })) return;
        taken.push(box);
        ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
        ctx.fillRect(box.left, box.top, box.right - box.left, box.bottom - box.top);
        ctx.fillStyle = "#912018";
        ctx.textAlign = "left";
        ctx.fillText(name, px, py);
      });
      ctx.restore();
    }
  };

  // The axes show 0–100 %, with a small margin beyond so points at the edges are drawn whole
  // (and none sits on an axis line); the margin has no ticks. Every 10 %, or 20 % on a narrow axis.
  var MAP_MARGIN = 0.04;
  function percentTicks(scale) {
    var room = scale.isHorizontal() ? scale.width / 40 : scale.height / 22;
    var step = room >= 11 ? 10 : 20;
    scale.ticks = [];
    for (var i = 0; i <= 100; i += step) scale.ticks.push({value: i / 100});
  }

  // An axis title on one line when it fits at the chart's size, else on two (a phone, long French titles).
  function textWidth(chart, text) {
    var ctx = chart.ctx;
    ctx.save();
    ctx.font = window.Chart.helpers && window.Chart.helpers.toFont ?
      window.Chart.helpers.toFont(window.Chart.defaults.font).string : "12px sans-serif";
    var width = ctx.measureText(text).width;
    ctx.restore();
    return width;
  }
  function splitAfterColon(text) {
    var at = text.indexOf(":");
    return at > 0 && at < text.length - 1 ? [text.slice(0, at + 1).trim(), text.slice(at + 1).trim()] : text;
  }
  function fitTitles(chart, labels, width, height) {
    var x = chart.scales.x, y = chart.scales.y;
    if (!x || !y) return;
    var padding = chart.options.layout.padding;
    var xText = labels.consultant_driven + "  ←  " + labels.x + "  →  " + labels.client_driven;
    var plotWidth = width - y.width - (padding.right || 0);
    chart.options.scales.x.title.text = textWidth(chart, xText) <= plotWidth ? xText :
      [labels.x, "← " + labels.consultant_driven + "   ·   " + labels.client_driven + " →"];
    var plotHeight = height - x.height - (padding.top || 0);
    chart.options.scales.y.title.text = textWidth(chart, labels.y) <= plotHeight - 8 ? labels.y : splitAfterColon(labels.y);
  }

  // The engagements a click hit, each once: where they are now first, then those only passing by
  // (a trail point at a quarter end), as the tooltip lists them.
  function engagementsHit(chart, elements) {
    var now = [], passing = [];
    elements.forEach(function (element) {
      var raw = element.element.$context.raw;
      var dataset = chart.data.datasets[element.datasetIndex];
      var p = raw.point || dataset.rapportTrail;
      if (!p || !p.url) return;
      if (raw.point || raw === dataset.data[dataset.data.length - 1]) {  // a trail ends where its engagement is now
        if (now.indexOf(p) < 0) now.push(p);
      } else if (passing.every(function (hit) { return hit.point !== p; })) {
        passing.push({point: p, date: raw.date, x: raw.x, y: raw.y});
      }
    });
    // Engagements that are here now win: a click on a dot opens that engagement even where older
    // trail points of others pass under it. Trails only count where no engagement is now.
    if (now.length) return now.map(function (p) { return {point: p, x: p.x, y: p.y}; });
    return passing;
  }

  // Several engagements under one click: a small list of links beside it, so the manager picks one.
  // Escape, a click elsewhere or leaving it with Tab closes it.
  function mapChooser(chart, canvas, labels) {
    var box = null, returnTo = null;

    function onKey(event) {
      if (event.key === "Escape" || event.key === "Esc") { event.preventDefault(); close(true); }
    }
    function onPointer(event) {
      if (box && !box.contains(event.target)) close(false);
    }
    function onFocusOut(event) {
      if (box && event.relatedTarget && !box.contains(event.relatedTarget)) close(false);
    }

    function close(restoreFocus) {
      if (!box) return;
      var hadFocus = box.contains(document.activeElement);
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer, true);
      box.remove();
      box = null;
      chart.options.plugins.tooltip.enabled = true;
      chart.update("none");
      if (restoreFocus && hadFocus) {
        if (returnTo && returnTo !== document.body && document.contains(returnTo)) returnTo.focus();
        else document.activeElement.blur();
      }
    }

    function open(event, hits) {
      close(false);
      returnTo = document.activeElement;
      box = document.createElement("div");
      box.className = "dash-map-chooser";
      box.id = "map-chooser";
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-labelledby", "map-chooser-title");
      var title = document.createElement("p");
      title.id = "map-chooser-title";
      title.className = "dash-map-chooser-title";
      title.textContent = labels.balance + " " + percent.format(hits[0].x) + " · " + labels.depth + " " + percent.format(hits[0].y);
      box.appendChild(title);
      var list = document.createElement("ul");
      hits.forEach(function (hit) {
        var p = hit.point;
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = p.url;
        var name = document.createElement("span");
        name.className = "dash-map-chooser-name";
        name.textContent = p.label;
        var meta = document.createElement("span");
        meta.className = "dash-map-chooser-meta";
        meta.textContent = hit.date !== undefined ? hit.date :
          [labels.lead + ": " + p.lead, p.score !== null ? labels.score + ": " + number(p.score) : ""]
            .filter(Boolean).join(" · ");
        link.appendChild(name);
        link.appendChild(meta);
        item.appendChild(link);
        list.appendChild(item);
      });
      box.appendChild(list);
      var holder = canvas.parentNode;
      holder.appendChild(box);

      // Beside the click, flipped to the other side where it would leave the map.
      var gap = 12;
      var left = canvas.offsetLeft + event.x + gap, top = canvas.offsetTop + event.y + gap;
      var width = box.offsetWidth, height = box.offsetHeight;
      if (left + width > holder.clientWidth) left = Math.max(0, canvas.offsetLeft + event.x - gap - width);
      if (top + height > holder.clientHeight) top = Math.max(0, canvas.offsetTop + event.y - gap - height);
      box.style.left = left + "px";
      box.style.top = top + "px";

      // The tooltip would cover the list: it stays off while the list is open.
      chart.options.plugins.tooltip.enabled = false;
      chart.tooltip.setActiveElements([], {x: 0, y: 0});
      chart.update("none");

      document.addEventListener("keydown", onKey);
      document.addEventListener("pointerdown", onPointer, true);
      box.addEventListener("focusout", onFocusOut);
      box.querySelector("a").focus();
    }

    return {open: open, close: close};
  }

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
        // One trail at a time, the hovered or keyboard-picked engagement's: forty at once were a tangle.
        hidden: true,
        borderColor: "rgba(52, 64, 84, 0.7)",
        backgroundColor: "rgba(52, 64, 84, 0.7)",
        borderWidth: 2,
        pointRadius: 3,
        pointHoverRadius: 4,
        tension: 0.25,
        clip: false,
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
      clip: false,
      parsing: false
    };
    var severalUnderPointer = false;
    var chooser = null;
    // The 0 % and 100 % lines frame the map (the axis lines would stand at the margin's edge).
    var grid = {color: function (context) {
      return context.tick && (context.tick.value === 0 || context.tick.value === 1) ? "rgba(16, 24, 40, 0.3)" : "rgba(0, 0, 0, 0.1)";
    }};
    var chart = new window.Chart(canvas, {
      data: {datasets: trails.concat([points])},
      options: {
        locale: lang,
        maintainAspectRatio: false,
        animation: false,
        // Room above the plot for the co-production zone's name.
        layout: {padding: {top: 22, right: 10}},
        scales: {
          x: {type: "linear", min: -MAP_MARGIN, max: 1 + MAP_MARGIN, afterBuildTicks: percentTicks,
              grid: grid, border: {display: false},
              title: {display: true, text: labels.consultant_driven + "  ←  " + labels.x + "  →  " + labels.client_driven},
              ticks: {callback: function (v) { return percent.format(v); }}},
          y: {type: "linear", min: -MAP_MARGIN, max: 1 + MAP_MARGIN, afterBuildTicks: percentTicks,
              grid: grid, border: {display: false},
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
        // One engagement under the click opens it; several open the chooser, never the first blindly.
        onClick: function (event, elements) {
          var hits = engagementsHit(chart, elements);
          if (hits.length === 1) window.location.href = hits[0].point.url;
          else if (hits.length > 1) chooser.open(event, hits);
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
          var hovered = null;
          elements.forEach(function (element) {
            var raw = element.element.$context.raw;
            if (!hovered) hovered = raw.point || chart.data.datasets[element.datasetIndex].rapportTrail || null;
          });
          showTrail(hovered || (picked >= 0 ? data.points[picked] : null));
        },
        onResize: function (resized, size) {
          if (chooser) chooser.close(false);
          fitTitles(resized, labels, size.width, size.height);
        }
      },
      plugins: [zonePlugin, atRiskLabels]
    });
    chooser = mapChooser(chart, canvas, labels);

    var shownTrail = null;
    function showTrail(p) {
      if (p === shownTrail) return;
      shownTrail = p;
      chart.data.datasets.forEach(function (dataset) {
        if (dataset.rapportTrail) dataset.hidden = dataset.rapportTrail !== p;
      });
      chart.update("none");
    }

    // The keyboard's route through the points, most at-risk first (the order of data.points):
    // arrows move, Enter opens, Escape lets go. What is picked is read out by the live region.
    var picked = -1;
    var pointsIndex = chart.data.datasets.length - 1;
    var announce = document.getElementById("map-picked");
    function pick(index) {
      picked = index;
      if (index < 0) {
        chart.setActiveElements([]);
        chart.tooltip.setActiveElements([], {x: 0, y: 0});
        showTrail(null);
        if (announce) announce.textContent = "";
        return;
      }
      var p = data.points[index];
      var active = [{datasetIndex: pointsIndex, index: index}];
      chart.setActiveElements(active);
      chart.tooltip.setActiveElements(active, {x: chart.scales.x.getPixelForValue(p.x), y: chart.scales.y.getPixelForValue(p.y)});
      showTrail(p);
      if (announce) {
        announce.textContent = (index + 1) + " / " + data.points.length + ": " + p.label +
          (p.score !== null ? ", " + labels.score + " " + number(p.score) : "") +
          ", " + [p.mode, p.state].filter(Boolean).join(" · ");
      }
    }
    canvas.tabIndex = 0;
    canvas.addEventListener("keydown", function (event) {
      var count = data.points.length;
      if (!count) return;
      var next = null;
      if (event.key === "ArrowRight" || event.key === "ArrowDown") next = (picked + 1) % count;
      else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = picked <= 0 ? count - 1 : picked - 1;
      else if (event.key === "Home") next = 0;
      else if (event.key === "End") next = count - 1;
      else if (event.key === "Enter" && picked >= 0) { window.location.href = data.points[picked].url; return; }
      else if (event.key === "Escape" || event.key === "Esc") next = -1;
      if (next === null) return;
      event.preventDefault();
      pick(next);
    });
    canvas.addEventListener("blur", function () { pick(-1); });
    fitTitles(chart, labels, chart.width, chart.height);
    chart.update("none");
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
               tension: 0.25,
               // The month under way: dashed, its point hollow (its few sessions can swing the share).
               segment: {borderDash: function (ctx) {
                 return data.partial_last && ctx.p1DataIndex === data.share.length - 1 ? [6, 4] : undefined;
               }},
               pointBackgroundColor: data.share.map(function (v, i) {
                 return data.partial_last && i === data.share.length - 1 ? "#fff" : "#1e7b4f";
               })}]},
        options: {
          locale: lang, maintainAspectRatio: false, animation: false,
          scales: {y: {min: 0, max: 1, ticks: {callback: function (v) { return percent.format(v); }}}},
          plugins: {legend: {display: false},
                    tooltip: {callbacks: {label: function (item) { return percent.format(item.raw); }}}}
        }
      });
    }
  }

  // A wide table in a narrow box (the per-member shares on a phone): it opens on the latest months,
  // and says the earlier ones are a scroll away.
  function scrollCues() {
    document.querySelectorAll(".scroll-cue:not([data-cued])").forEach(function (box) {
      box.setAttribute("data-cued", "1");
      if (box.scrollWidth > box.clientWidth + 2) {
        box.classList.add("is-overflowing");
        box.scrollLeft = box.scrollWidth;
      }
    });
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

  // Chart.js itself comes from the script tag's data-chart-src, when a chart nears the screen (rapport.js).
  var chartSrc = document.currentScript && document.currentScript.getAttribute("data-chart-src");

  function whenVisible(id, draw) {
    var canvas = document.getElementById(id);
    if (canvas && !canvas.dataset.drawn && chartSrc && window.rapportChart) window.rapportChart(canvas, chartSrc, draw);
  }

  function charts() {
    whenVisible("relationship-map", drawMap);
    whenVisible("score-distribution", drawTrends);
    whenVisible("consultative-share", drawTrends);
  }

  function init() {
    charts();
    scrollCues();
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", function (event) {
    charts();
    scrollCues();
    closedCardsLeave();
  });
})();
