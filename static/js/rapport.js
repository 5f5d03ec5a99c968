// Small behaviours shared by every page. No inline scripts anywhere: the Content-Security-Policy
// forbids them, so pages declare behaviour with data- attributes and this file wires it up.
(function () {
  "use strict";

  // The phone's menu button shows or hides the header's links (css/nojs.css shows them without it).
  function wireMenu() {
    var toggle = document.querySelector(".menu-toggle");
    var menu = document.getElementById("site-menu");
    if (!toggle || !menu) return;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-open", open);
    });
    document.addEventListener("keydown", function (event) {
      if ((event.key === "Escape" || event.key === "Esc") && menu.classList.contains("is-open")) {
        toggle.setAttribute("aria-expanded", "false");
        menu.classList.remove("is-open");
        toggle.focus();
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wireMenu);
  else wireMenu();

  // <form data-warn-unsaved>: leaving the page with typed, unsent text asks first. Sending the form
  // (plainly or through htmx) and a fresh form swapped in by htmx count as saved.
  var dirty = new Set();
  document.addEventListener("input", function (event) {
    var form = event.target.form || (event.target.closest && event.target.closest("form"));
    if (form && form.hasAttribute("data-warn-unsaved")) dirty.add(form);
  });
  document.addEventListener("submit", function (event) { dirty.delete(event.target); });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;  // the form itself sends (not, say, its Markdown preview button)
    if (form && form.tagName === "FORM") dirty.delete(form);
  });
  window.addEventListener("beforeunload", function (event) {
    dirty.forEach(function (form) { if (!document.contains(form)) dirty.delete(form); });
    if (dirty.size) { event.preventDefault(); event.returnValue = ""; }
  });

  // <select data-autosubmit> submits its form when changed (the language switcher, filters).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-autosubmit]") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });

  // <form data-confirm="Are you sure?"> asks before submitting (destructive actions).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      // Capture phase on the document: stopping here keeps htmx's own submit handler on the form
      // from sending the request anyway.
      event.stopImmediatePropagation();
    }
  }, true);

  // A flag card replaced by its own action (acknowledge, note, snooze…) would drop the keyboard
  // focus to the page's start. Put it on the new card's message (an error, or the confirmation),
  // else its title, so the person goes on from where they were and hears what happened.
  var swappedCard = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    swappedCard = target && target.classList && target.classList.contains("flag-card") ? target.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!swappedCard) return;
    var card = document.getElementById(swappedCard);
    swappedCard = null;
    if (!card) return;
    var focus = card.querySelector("[role=alert], .error, [role=status]") || card.querySelector("h3");
    if (!focus) return;
    if (!focus.hasAttribute("tabindex")) focus.setAttribute("tabindex", "-1");
    focus.focus({preventScroll: false});
  });

  // Charts (workspace.js, dashboard.js): Chart.js loads only once a chart is about to scroll into
  // view, and each chart is drawn in a task of its own, so the page is usable before any is drawn
  // and a phone that never scrolls to a chart never pays for it.
  var chartWaiting = [];
  function withChartJs(src, then) {
    if (window.Chart) { window.setTimeout(then, 0); return; }
    chartWaiting.push(then);
    if (chartWaiting.length > 1) return;  // already loading
    var script = document.createElement("script");
    script.src = src;
    script.onload = function () {
      var waiting = chartWaiting;
      chartWaiting = [];
      waiting.forEach(function (draw) { window.setTimeout(draw, 0); });
    };
    document.head.appendChild(script);
  }
  window.rapportChart = function (canvas, src, draw) {
    if (!canvas || canvas.hasAttribute("data-chart-pending")) return;
    canvas.setAttribute("data-chart-pending", "");
    var go = function () { withChartJs(src, function () { if (document.contains(canvas)) draw(canvas); }); };
    if (!("IntersectionObserver" in window)) { go(); return; }
    var observer = new IntersectionObserver(function (entries) {
      if (!entries.some(function (entry) { return entry.isIntersecting; })) return;
      observer.disconnect();
      go();
    }, {rootMargin: "200px 0px"});
    observer.observe(canvas);
  };
})();
