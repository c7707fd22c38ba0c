/* The wall kiosk: − / + / Resume without a page reload, and a dim screen when nobody is there.

   Forms marked data-kiosk-post are sent with fetch and the header "X-Fragment: kiosk"; the answer
   is the zone's fresh card (also when the engine refused: the card then carries the error), which
   replaces the card the form was in; its message ("Held at 21.5 °C ...") or error moves to #kiosk-note
   for a few seconds, so a live update replacing the card meanwhile does not hide it. Should fetch
   fail, the form is submitted the plain way.

   Dimming (attributes on .kiosk-screen): data-dim-after (seconds untouched, default 60) and
   data-night-start / data-night-end ("22:00" / "06:30", the browser's local time). At night the
   screen dims after a quarter of that time. #kiosk-dim covers the whole screen while dimmed, so
   the tap that wakes it lands on the overlay and never presses a button behind it. */
(function () {
  "use strict";
  var screen = document.querySelector(".kiosk-screen"), dim = document.getElementById("kiosk-dim");
  if (!screen || !dim) return;
  var dimAfter = (parseInt(screen.getAttribute("data-dim-after"), 10) || 60) * 1000;
  var nightStart = minutes(screen.getAttribute("data-night-start") || "22:00");
  var nightEnd = minutes(screen.getAttribute("data-night-end") || "06:30");
  var lastTouch = Date.now(), note = document.getElementById("kiosk-note"), noteTimer = null;

  function minutes(text) {
    var parts = text.split(":");
    return parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10);
  }

  function isNight(date) {
    var now = date.getHours() * 60 + date.getMinutes();
    return nightStart > nightEnd ? (now >= nightStart || now < nightEnd) : (now >= nightStart && now < nightEnd);
  }

  function dimmed() { return !dim.hidden; }

  function check() {
    var now = new Date(), limit = isNight(now) ? dimAfter / 4 : dimAfter;
    if (!dimmed() && now.getTime() - lastTouch >= limit) dim.hidden = false;
  }

  function touched() { lastTouch = Date.now(); }

  // The overlay eats the whole waking tap (down, up, click); it hides on the click that ends it.
  function swallow(event) { event.preventDefault(); event.stopPropagation(); }
  ["pointerdown", "pointerup", "touchstart", "touchend", "mousedown", "mouseup"].forEach(function (name) {
    dim.addEventListener(name, function (event) { swallow(event); touched(); }, { passive: false });
  });
  dim.addEventListener("click", function (event) { swallow(event); touched(); dim.hidden = true; });
  document.addEventListener("keydown", function (event) {
    if (dimmed()) { swallow(event); dim.hidden = true; }
    touched();
  }, true);
  ["pointerdown", "touchstart", "input"].forEach(function (name) {
    document.addEventListener(name, touched, { passive: true });
  });
  setInterval(check, 1000);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-kiosk-post") || !window.fetch) return;
    event.preventDefault();
    var body = new FormData(form);
    if (event.submitter && event.submitter.name) body.append(event.submitter.name, event.submitter.value);
    var card = form.closest("[data-live-zone]");
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin", headers: { "X-Fragment": "kiosk" } })
      .then(function (answer) {
        if (answer.status !== 200 && answer.status !== 422) throw new Error("HTTP " + answer.status);
        return answer.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var fresh = holder.firstElementChild;
        if (!card || !fresh) return;
        var said = fresh.querySelector(".flash, .error");
        if (said && note) {
          note.textContent = said.textContent;
          note.classList.toggle("error", said.classList.contains("error"));
          said.remove();
          clearTimeout(noteTimer);
          noteTimer = setTimeout(function () { note.textContent = ""; }, 6000);
        }
        card.replaceWith(fresh);
      })
      .catch(function () { form.submit(); });
  });
})();
