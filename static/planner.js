// The planner's plan page: follow the planning job's progress, then draw the routes on a map.
// (The content security policy allows no inline code, so this lives in its own file.)
(function () {
  "use strict";
  var card = document.getElementById("state");
  if (!card) { return; }
  var url = card.getAttribute("data-state-url");

  function follow() {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var bar = document.getElementById("progress");
        bar.value = s.progress;
        document.getElementById("progress-text").textContent = s.progress_text;
        document.getElementById("best-text").textContent = s.best_text;
        document.getElementById("status").textContent = s.status_text;
        if (s.status === "planning") { setTimeout(follow, 1000); }
        else { window.location.reload(); }
      })
      .catch(function () { setTimeout(follow, 3000); });
  }

  function draw() {
    var el = document.getElementById("map");
    if (!el || !window.L) { return; }
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        // Quarter zoom steps: the routes fill the map instead of half of it at a whole step.
        var map = L.map(el, { zoomSnap: 0.25 });
        var tiles = card.getAttribute("data-tiles");
        if (tiles) {
          // Without tiles (offline), the routes still draw on a plain background.
          L.tileLayer(tiles, { maxZoom: 18, attribution: "© OpenStreetMap contributors" }).addTo(map);
        }
        var bounds = [];
        s.routes.forEach(function (r) {
          L.polyline(r.points, { color: r.colour, weight: 4, opacity: 0.8 })
            .bindTooltip(r.van).addTo(map);
          r.points.forEach(function (p) { bounds.push(p); });
          r.stops.forEach(function (st, i) {
            L.circleMarker(r.points[i + 1], { radius: 6, color: r.colour, fillOpacity: 0.9 })
              .bindTooltip(st.code + " " + st.at).addTo(map);
          });
        });
        if (bounds.length) { map.fitBounds(bounds, { padding: [20, 20] }); }
        el.setAttribute("data-routes", String(s.routes.length));
      });
  }

  if (card.getAttribute("data-status") === "planning") { setTimeout(follow, 500); }
  else { window.addEventListener("load", draw); }
})();
