// Refreshes the live part of the page in place every few seconds, so an
// admin can watch a resync. Pauses while the tab is hidden or while a
// control inside it has the focus. No framework: served by postern itself.
(function () {
  "use strict";
  var PERIOD_MS = 3000;
  function tick() {
    var live = document.getElementById("live");
    if (!live || document.hidden) return;
    if (live.contains(document.activeElement) && document.activeElement !== document.body) return;
    var src = live.getAttribute("data-src");
    fetch(src, { credentials: "same-origin", headers: { "X-Requested-With": "postern-console" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        live.innerHTML = html;
        live.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { live.setAttribute("data-stale", "true"); });
  }
  setInterval(tick, PERIOD_MS);
})();
