/* The wall kiosk: − / + / Resume without a page reload, and a dim screen when nobody is there.

   Forms marked data-kiosk-post are sent with fetch and the header "X-Fragment: kiosk"; the answer
   is the zone's fresh card (also when the engine refused: 422, the card then carries the error), which
   replaces the card the form was in; its message ("Held at 21.5 °C ...") or error moves to #kiosk-note
   for a few seconds, so a live update replacing the card meanwhile does not hide it. A 202 or any
   error answer is a sentence for #kiosk-note (text/plain from the server, else one chosen here by
   its status); the card stays and live updates refresh it. A form is NEVER sent again by itself:
   a resubmission would lose the pressed button, and a step the engine made could be made twice.
   Only a browser without fetch posts the plain way (the server then redirects back here).

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

  var SAID = {
    400: "Not changed: this screen is out of date; reload it",
    401: "You were logged out; reload the page to log in again",
    503: "Not changed: the engine did not answer; try again"
  };

  function say(text, isError) {
    if (!note) return;
    note.textContent = text;
    note.classList.toggle("error", !!isError);
    clearTimeout(noteTimer);
    noteTimer = setTimeout(function () { note.textContent = ""; }, 6000);
  }

  function cardIn(html, zone) {
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    return fresh && fresh.getAttribute("data-live-zone") === zone ? fresh : null;
  }

  // The button that sent a form: event.submitter where the browser has it (not Safari before
  // 15.4, as on older wall tablets), else the last button clicked in that form.
  var pressed = null;
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[name]");
    pressed = button && button.form ? button : null;
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-kiosk-post") || !window.fetch) return;
    event.preventDefault();
    var body = new FormData(form);
    var sender = event.submitter || (pressed && pressed.form === form ? pressed : null);
    if (sender && sender.name) body.append(sender.name, sender.value);
    pressed = null;
    var card = form.closest("[data-live-zone]");
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin", headers: { "X-Fragment": "kiosk" } })
      .then(function (answer) {
        return answer.text().then(function (text) {
          var status = answer.redirected ? 401 : answer.status;  // only the login page redirects a fetch
          var plain = (answer.headers.get("Content-Type") || "").indexOf("text/plain") === 0;
          var fresh = (status === 200 || status === 422) && card ?
            cardIn(text, card.getAttribute("data-live-zone")) : null;
          if (!fresh) {
            var ok = status === 200 || status === 202;
            // A 5xx that is not the web UI's own sentence (a proxy's, or a failure after the engine
            // stored the step) may have changed it: never tell the household to tap again blindly.
            var unknown = status >= 500 ? "Maybe not changed: see the target before you tap again" : null;
            say(plain && text ? text : ok ? "Done; the view will refresh" :
              SAID[status] || unknown || "Not changed: the web UI answered HTTP " + status, !ok);
            return;
          }
          var said = fresh.querySelector(".flash, .error");
          if (said) { say(said.textContent, said.classList.contains("error")); said.remove(); }
          card.replaceWith(fresh);
        });
      })
      .catch(function () { say("No answer from the web UI; the screen shows whether it changed", true); });
  });
})();
