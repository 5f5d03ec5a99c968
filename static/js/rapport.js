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
})();
