// Scanning a van out or in: one field keeps focus; a keyboard-wedge scanner types an id and
// Enter; each scan is sent at once and its result shown (green OK, red anything else) and
// sounded (one high beep for OK, two low ones otherwise). Without scripts the form still posts.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  if (!form) { return; }
  var field = document.getElementById("code");
  var last = document.getElementById("last");
  var token = form.querySelector("input[name=csrf_token]").value;
  var audio = null;

  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, ok ? null : 0.18].forEach(function (at) {
        if (at === null) { return; }
        var osc = audio.createOscillator();
        osc.frequency.value = ok ? 1200 : 300;
        osc.connect(audio.destination);
        osc.start(audio.currentTime + at);
        osc.stop(audio.currentTime + at + 0.12);
      });
    } catch (e) { /* no sound on this device: the colour still tells */ }
  }

  // Numbers in the page's language (Bangla digits on a Bangla page), as the server writes them.
  var bangla = document.documentElement.lang === "bn";
  function num(n) {
    var s = String(n);
    return bangla ? s.replace(/[0-9]/g, function (d) { return "০১২৩৪৫৬৭৮৯"[+d]; }) : s;
  }

  function list(id, items) {
    var ul = document.getElementById(id);
    ul.textContent = "";
    items.forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      ul.appendChild(li);
    });
  }

  function show(state) {
    document.getElementById("n-expected").textContent = num(state.expected);
    document.getElementById("n-scanned").textContent = num(state.scanned);
    document.getElementById("n-missing").textContent = num(state.missing.length);
    document.getElementById("n-extra").textContent = num(state.extra.length);
    list("missing", state.missing.map(function (x) { return x.id + " → " + x.to; }));
    list("extra", state.extra.map(function (x) { return x.code + " — " + x.why; }));
  }

  // Scans are sent one after another, in the order they were typed (a scanner may type the
  // next before the last is answered): each answer, and the counts it carries, then includes
  // every scan before it, so the page always shows the latest scan and the true counts.
  var queue = Promise.resolve();
  function send(code) {
    var body = new URLSearchParams({ code: code, csrf_token: token });
    return fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token }
    })
      .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (pair) {
        var ok = pair[0], j = pair[1];
        var good = ok && j.result === "ok";
        last.textContent = ok ? j.text : (j.error && j.error.message) || "?";
        last.setAttribute("data-result", ok ? j.result : "error");
        last.className = "scan-result " + (good ? "good" : "bad");
        beep(good);
        if (ok) { show(j); }
      })
      .catch(function () {
        last.textContent = code + " ?";
        last.className = "scan-result bad";
        beep(false);
      });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var code = field.value.trim();
    field.value = "";
    field.focus();
    if (!code) { return; }
    queue = queue.then(function () { return send(code); });
  });
  // A scanner types into whatever has focus: keep it on the field.
  document.addEventListener("click", function (ev) {
    if (!ev.target.closest("a, button, input, select")) { field.focus(); }
  });
})();
