// One submission per click. A form that is being posted ignores further submits (a double
// click, an impatient second click) until the next page arrives. The server recognises
// repeats of bookings and class registrations by their one-time keys as well; for every
// other form this spares the second request. A file, not an inline script: the CSP allows
// scripts from the portal's own files only.
(function () {
  "use strict";
  const WAIT_MS = 8000; // a download keeps the page: the form works again after a while

  function release(form) {
    delete form.dataset.submitting;
    form.removeAttribute("aria-busy");
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) return;
    if (form.method.toLowerCase() !== "post") return;
    if (form.dataset.submitting) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    form.setAttribute("aria-busy", "true");
    window.setTimeout(function () { release(form); }, WAIT_MS);
  });

  // Back to a page from the browser's cache: its forms are usable again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      for (const form of document.querySelectorAll("form[data-submitting]")) release(form);
    }
  });
})();
