// The recipient's delivery pin: tap the map (or use the phone's location) to fill the
// latitude and longitude fields; typing in them moves the pin. Without tiles the map is blank
// but still takes a tap, and the fields work without the map at all.
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("pin-map");
  var lat = document.getElementById("lat"), lon = document.getElementById("lon");
  if (!el || !lat || !lon || !window.L) { return; }
  var home = [parseFloat(el.getAttribute("data-lat")), parseFloat(el.getAttribute("data-lon"))];
  var map = L.map(el).setView(home, 15);
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution: "© OpenStreetMap contributors" }).addTo(map);
  }
  if (el.getAttribute("data-office")) {
    L.circleMarker(home, { radius: 6, color: "#c8102e" }).addTo(map)
      .bindTooltip(el.getAttribute("data-office"));
  }
  var marker = null;
  function put(latlng, fill) {
    if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
    if (fill) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
    }
  }
  if (lat.value && lon.value) { put(L.latLng(+lat.value, +lon.value), false); map.setView(marker.getLatLng(), 16); }
  map.on("click", function (ev) { put(ev.latlng, true); });
  function typed() {
    var a = parseFloat(lat.value), b = parseFloat(lon.value);
    if (isFinite(a) && isFinite(b)) { put(L.latLng(a, b), false); map.panTo([a, b]); }
  }
  lat.addEventListener("change", typed);
  lon.addEventListener("change", typed);
  var here = document.getElementById("here");
  if (here && navigator.geolocation) {
    here.hidden = false;
    here.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        var ll = L.latLng(pos.coords.latitude, pos.coords.longitude);
        put(ll, true); map.setView(ll, 17);
      });
    });
  }
});
