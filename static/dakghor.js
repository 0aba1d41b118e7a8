// DakGhor's own script on every page (the content security policy allows no inline code).

// Print buttons.
document.addEventListener("click", function (ev) {
  var el = ev.target.closest("[data-print]");
  if (el) { ev.preventDefault(); window.print(); }
});

// A card wider than the screen (a table, on a phone) scrolls sideways inside itself: it then
// takes the keyboard's focus, so that it scrolls with the arrow keys too (WCAG 2.1.1).
function focusableScrolls() {
  document.querySelectorAll(".card").forEach(function (card) {
    var scrolls = card.scrollWidth > card.clientWidth + 1;
    if (scrolls && !card.hasAttribute("tabindex")) {
      card.setAttribute("tabindex", "0");
      card.dataset.scrollFocus = "1";
    } else if (!scrolls && card.dataset.scrollFocus) {
      card.removeAttribute("tabindex");
      delete card.dataset.scrollFocus;
    }
  });
}
document.addEventListener("DOMContentLoaded", focusableScrolls);
window.addEventListener("resize", focusableScrolls);

// A job the page waits for (an office's rounds being planned: data-follow is its state's
// address). Its state is asked every two seconds; when it changes, the page says so with a
// link that shows it, instead of reloading itself under a clerk who is typing (without
// JavaScript, a <noscript> refresh does the waiting).
function follow(el) {
  var timer = setInterval(function () {
    fetch(el.dataset.follow, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s || s.status === el.dataset.status) { return; }
        clearInterval(timer);
        el.dataset.status = s.status;
        if (s.status === "failed") { el.classList.add("error"); }
        el.textContent = s.text + " ";
        var show = document.createElement("a");
        show.href = window.location.href;
        show.id = "plan-show";
        show.textContent = s.link;
        show.addEventListener("click", function (ev) { ev.preventDefault(); window.location.reload(); });
        el.appendChild(show);
      })
      .catch(function () { /* the next turn asks again */ });
  }, 2000);
}
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-follow]").forEach(follow);
});
