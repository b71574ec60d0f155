// A calendar opened without a chosen view shows the week on a phone: a month's seven
// columns leave a phone too little room for names. The month stays one tap away (its
// link names the view, so this never overrides a choice). A file: the CSP allows no
// inline script.
(function () {
  "use strict";
  const url = new URL(window.location.href);
  if (url.searchParams.has("view")) return;
  if (!window.matchMedia("(max-width: 575.98px)").matches) return;
  url.searchParams.set("view", "week");
  window.location.replace(url.toString());
})();
