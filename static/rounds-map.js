// The office's planned rounds on a map: one colour per postman, from the office through the
// stops and back. The routes come in the page (data-routes, JSON), so nothing runs inline.
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("rounds-map");
  if (!el || !window.L) { return; }
  var routes = JSON.parse(el.getAttribute("data-routes") || "[]");
  var map = L.map(el, { zoomSnap: 0.25 });  // the rounds fill the map
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution: "© OpenStreetMap contributors" }).addTo(map);
  }
  var bounds = [];
  routes.forEach(function (r) {
    L.polyline(r.points, { color: r.colour, weight: 4, opacity: 0.8 }).bindTooltip(r.name).addTo(map);
    r.points.slice(1, -1).forEach(function (p, i) {
      L.circleMarker(p, { radius: 5, color: r.colour, fillOpacity: 0.9 })
        .bindTooltip((i + 1) + ". " + r.stops[i]).addTo(map);
    });
    r.points.forEach(function (p) { bounds.push(p); });
  });
  if (bounds.length) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 }); }
  el.setAttribute("data-drawn", String(routes.length));
});
