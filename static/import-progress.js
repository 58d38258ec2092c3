// The page of a running import: reads the page again every second and puts its progress
// in place, until the import has ended. Without JavaScript the page's "Check again" link
// does the same by hand.
(function () {
  "use strict";
  var box = document.querySelector("[data-testid=import-job]");
  if (!box || box.getAttribute("data-state") !== "running") return;
  function tick() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html").querySelector("[data-testid=import-job]");
        if (!next) return;
        box.innerHTML = next.innerHTML;
        box.setAttribute("data-state", next.getAttribute("data-state"));
        if (next.getAttribute("data-state") === "running") window.setTimeout(tick, 1000);
      })
      .catch(function () { window.setTimeout(tick, 5000); });
  }
  window.setTimeout(tick, 1000);
})();
