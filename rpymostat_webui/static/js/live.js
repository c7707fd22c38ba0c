/* RPyMostat live updates, shared by every page that shows live values.

   Pages work without this file; it only keeps what they show current.
   It asks the web UI for a stream ticket (POST /live/ticket, header
   X-CSRF-Token from <body data-csrf>), opens an EventSource on
   /live/events, and on errors shows #banner, then reconnects with a
   growing delay (1 s doubling to 30 s) and a fresh ticket, passing the
   last event's id so no event is lost. The delay starts again at 1 s only
   once a stream has delivered an event or stayed open 30 s: a stream that
   opens and drops at once is retried ever more slowly, not every second.
   Cards are fetched with the header "X-Fragment: card"; an answer that is
   not that zone's card (an error, a redirect) is never swapped in, and a
   401 (the session ended) stops all updates with a banner saying to reload.

   Data attributes it reads (document them here when adding one):
     <body data-csrf="...">         the session's CSRF token (base.html sets it).
     [data-live-zone="<zone id>"]   an element showing one zone. On the zone's zone.*, hold.*,
                                    output.* events (and sensor.* events of its sensors) it is
                                    replaced by a fresh copy fetched from its data-live-src.
       data-live-src="<url>"        where that fresh HTML comes from (GET; its outer element
                                    should carry the same data-live-* attributes).
       data-live-sensors="a b c"    the zone's sensor ids, space separated.
     [data-updated-at="<ISO time>"] its text becomes "updated 12 s ago", re-rendered every second
                                    (data-updated-prefix replaces "updated "). When older than
                                    2 minutes, its closest [data-live-zone] (or itself) gets the
                                    class "stale" (greyed); a zone older than 1 minute is
                                    re-fetched while the stream is up, so a quiet engine does not
                                    look stale.
     #banner                        shown with "Live updates are down; retrying…" while the
                                    stream is down, hidden again once it is back (only if this
                                    file showed it); "You were logged out; reload the page to log
                                    in again" for good once the web UI answers 401.
   Every event is also dispatched on document as a "live:event" CustomEvent with
   detail {topic, data}, for page scripts (charts) that want more than cards. */
(function () {
  "use strict";
  var TOPICS = ["zone.decided", "zone.changed", "hold.started", "hold.ended", "output.switched",
    "sensor.readings", "sensor.stale", "sensor.back", "sensor.changed", "sensor.deleted", "reset"];
  var STALE_MS = 120000, REFRESH_MS = 60000, MAX_DELAY_MS = 30000, STEADY_MS = 30000;
  var source = null, lastId = null, delay = 1000, connected = false, bannerOurs = false;
  var openedAt = 0, loggedOut = false;
  var pending = {}, fetchedAt = {};

  function csrf() { return document.body.getAttribute("data-csrf") || ""; }

  function banner(down) {
    var box = document.getElementById("banner");
    if (!box) return;
    if (down && box.hidden) {
      box.textContent = "Live updates are down; retrying\u2026";
      box.hidden = false;
      bannerOurs = true;
    } else if (!down && bannerOurs) {
      box.hidden = true;
      bannerOurs = false;
    }
  }

  function logOut(why) {
    loggedOut = true;
    connected = false;
    if (source) { source.close(); source = null; }
    var box = document.getElementById("banner");
    if (box) {
      box.textContent = why || "You were logged out; reload the page to log in again";
      box.hidden = false;
      bannerOurs = false;  // stays: coming back needs a reload
    }
  }

  function zonesFor(topic, data) {
    var all = document.querySelectorAll("[data-live-zone]"), hit = [];
    var sensors = [];
    if (topic === "sensor.readings") {
      (data.readings || []).forEach(function (r) { sensors.push(r.id); });
    } else if (data.sensor_id) {
      sensors.push(data.sensor_id);
    }
    for (var i = 0; i < all.length; i++) {
      var el = all[i], zone = el.getAttribute("data-live-zone");
      var own = (el.getAttribute("data-live-sensors") || "").split(" ");
      if (topic === "reset" || (data.zone && data.zone === zone) ||
          sensors.some(function (s) { return own.indexOf(s) >= 0; })) {
        hit.push(zone);
      }
    }
    return hit;
  }

  function refresh(zone) {
    if (pending[zone] || loggedOut) return;
    pending[zone] = setTimeout(function () {
      var el = document.querySelector('[data-live-zone="' + zone.replace(/"/g, "") + '"]');
      var url = el && el.getAttribute("data-live-src");
      if (!url) { delete pending[zone]; return; }
      fetchedAt[zone] = Date.now();
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html", "X-Fragment": "card" } })
        .then(function (answer) {
          if (answer.status === 401) { logOut(); return null; }
          return answer.status === 200 && !answer.redirected ? answer.text() : null;
        })
        .then(function (html) {
          var now = document.querySelector('[data-live-zone="' + zone.replace(/"/g, "") + '"]');
          if (html && now && !loggedOut) {
            var holder = document.createElement("div");
            holder.innerHTML = html.trim();
            var fresh = holder.firstElementChild;
            if (fresh && fresh.getAttribute("data-live-zone") === zone) { now.replaceWith(fresh); tick(); }
          }
        })
        .catch(function () { /* the next event or tick tries again */ })
        .then(function () { delete pending[zone]; });
    }, 250);
  }

  function onEvent(topic, message) {
    delay = 1000;  // the stream works: a later drop is retried quickly again
    if (message.lastEventId) lastId = message.lastEventId;
    var data = {};
    try { data = JSON.parse(message.data || "{}"); } catch (e) { data = {}; }
    zonesFor(topic, data).forEach(refresh);
    document.dispatchEvent(new CustomEvent("live:event", { detail: { topic: topic, data: data } }));
  }

  function retry() {
    if (loggedOut) return;
    if (openedAt && Date.now() - openedAt >= STEADY_MS) delay = 1000;
    openedAt = 0;
    connected = false;
    if (source) { source.close(); source = null; }
    banner(true);
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }

  function connect() {
    fetch("/live/ticket", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf() } })
      .then(function (answer) {
        if (answer.status === 401) { logOut(); return null; }
        if (answer.status === 400) {  // the session's CSRF token changed (a login in another tab)
          logOut("This page is out of date (someone logged in again in this browser); reload it");
          return null;
        }
        if (!answer.ok) throw new Error("ticket " + answer.status);
        return answer.json();
      })
      .then(function (ticket) {
        if (!ticket) return;
        var url = "/live/events?ticket=" + encodeURIComponent(ticket.ticket) +
          "&topics=zone.,sensor.,hold.,output." + (lastId ? "&last_event_id=" + encodeURIComponent(lastId) : "");
        source = new EventSource(url);
        source.onopen = function () {
          var wasDown = bannerOurs;
          connected = true;
          openedAt = Date.now();
          banner(false);
          if (wasDown) zonesFor("reset", {}).forEach(refresh);  // catch up on what the gap hid
        };
        source.onerror = retry;  // a closed stream or an expired ticket: new ticket, new stream
        TOPICS.forEach(function (topic) {
          source.addEventListener(topic, function (message) { onEvent(topic, message); });
        });
      })
      .catch(retry);
  }

  function ago(seconds) {
    if (seconds < 90) return seconds + " s ago";
    if (seconds < 5400) return Math.floor(seconds / 60) + " min ago";
    if (seconds < 129600) return Math.floor(seconds / 3600) + " h ago";
    return Math.floor(seconds / 86400) + " days ago";
  }

  function tick() {
    var now = Date.now(), stamps = document.querySelectorAll("[data-updated-at]");
    for (var i = 0; i < stamps.length; i++) {
      var el = stamps[i], at = Date.parse(el.getAttribute("data-updated-at"));
      if (isNaN(at)) continue;
      var age = Math.max(0, now - at), prefix = el.getAttribute("data-updated-prefix");
      el.textContent = (prefix === null ? "updated " : prefix) + ago(Math.floor(age / 1000));
      var holder = el.closest("[data-live-zone]") || el;
      holder.classList.toggle("stale", age > STALE_MS);
      var zone = holder.getAttribute("data-live-zone");
      if (zone && connected && age > REFRESH_MS && now - (fetchedAt[zone] || 0) > REFRESH_MS / 2) refresh(zone);
    }
  }

  tick();
  setInterval(tick, 1000);
  if (csrf() && window.EventSource && window.fetch) connect();
})();
