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
