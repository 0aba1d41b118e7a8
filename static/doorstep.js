// The postman's page: where the phone is (for the record of each outcome) and a signature pad
// for a delivery where no handover code can be had.
(function () {
  "use strict";
  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.querySelectorAll(".here-lat").forEach(function (el) {
        el.value = pos.coords.latitude.toFixed(6);
      });
      document.querySelectorAll(".here-lon").forEach(function (el) {
        el.value = pos.coords.longitude.toFixed(6);
      });
    }, function () { /* no location: the outcome is recorded without a place */ },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  document.querySelectorAll("form.proof").forEach(function (form) {
    var pad = form.querySelector(".sign-pad");
    var out = form.querySelector(".signature");
    var ctx = pad.getContext("2d");
    var drawing = false, inked = false;
    function clear() {
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, pad.width, pad.height);
      inked = false;
      out.value = "";
    }
    function at(ev) {
      var r = pad.getBoundingClientRect();
      return [(ev.clientX - r.left) * pad.width / r.width, (ev.clientY - r.top) * pad.height / r.height];
    }
    clear();
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.strokeStyle = "#000";
    pad.addEventListener("pointerdown", function (ev) {
      drawing = true;
      try { pad.setPointerCapture(ev.pointerId); } catch (e) { /* the pointer is gone already */ }
      var p = at(ev);
      ctx.beginPath();
      ctx.moveTo(p[0], p[1]);
    });
    pad.addEventListener("pointermove", function (ev) {
      if (!drawing) { return; }
      var p = at(ev);
      ctx.lineTo(p[0], p[1]);
      ctx.stroke();
      inked = true;
    });
    pad.addEventListener("pointerup", function () {
      drawing = false;
      if (inked) { out.value = pad.toDataURL("image/png"); }
    });
    form.querySelector(".sign-clear").addEventListener("click", clear);
  });
})();
