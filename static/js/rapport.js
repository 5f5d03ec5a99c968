// Small behaviours shared by every page. No inline scripts anywhere: the Content-Security-Policy
// forbids them, so pages declare behaviour with data- attributes and this file wires it up.
(function () {
  "use strict";

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
})();
