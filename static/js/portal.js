// Portal behaviours. No inline scripts: pages declare behaviour with data- attributes.
(function () {
  "use strict";

  // <form data-submit-once>: after the first submit, its buttons are disabled so a double click
  // cannot send it twice. Registered after rapport.js's data-confirm listener (same capture phase),
  // so a cancelled confirmation arrives here already prevented and leaves the buttons alone.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-submit-once]") || event.defaultPrevented) {
      return;
    }
    if (form.getAttribute("data-submitting") === "1") {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    form.setAttribute("data-submitting", "1");
    // Disable after this tick, so the browser (or htmx) still reads the form as it was.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (button) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      });
    }, 0);
  }, true);

  function release(form) {
    if (!form) { return; }
    form.removeAttribute("data-submitting");
    form.querySelectorAll("button[aria-busy=true]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  }

  // An htmx request that failed (no swap) must give the form back to the user.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) {
      release(event.detail.elt.closest ? event.detail.elt.closest("form") : null);
    }
  });

  // Coming back with the browser's Back button restores the page from cache: re-enable its forms.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-submitting]").forEach(release);
    }
  });
})();
