// The live board: every 15 seconds, each stop's state from the scans, without reloading.
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box) { return; }
  function refresh() {
    fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        Object.keys(s.stops).forEach(function (id) {
          var cell = box.querySelector('[data-stop="' + id + '"]');
          if (!cell) { return; }
          cell.textContent = s.stops[id].text;
          cell.setAttribute("data-state", s.stops[id].state);
          cell.className = "stop-state " + s.stops[id].state;
        });
        box.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { /* the next round tries again */ })
      .then(function () { setTimeout(refresh, 15000); });
  }
  setTimeout(refresh, 15000);
})();
