"""A browser follows a zone live over ``GET /v1/events`` and catches up after a reconnect (issue 16).

A real ``rpymostat-engine`` process (SQLite, tokens on, no mDNS) and Debian's
Chromium driven by Playwright: the page is the engine's own home page, so
the stream is same-origin, and its ``EventSource`` authenticates with a
ticket the test asks for with the admin token, as a web UI would.  A reading
and a zone change make the decision loop announce ``zone.decided``, which
the page sees live; the page then closes its stream, the zone changes again,
and a new ``EventSource`` opened with the last id it saw gets the decision it
missed.  A Python client holding the stream with the admin token all along
says which id that decision had.

Skipped when ``/usr/bin/chromium`` or Playwright is missing (``apt-get
install chromium``; ``pip install playwright``, never ``playwright install``:
the browser is the distribution's).
"""

import json
import os
import queue
import threading
import urllib.request
from pathlib import Path

import pytest

from acceptance.engine_process import EngineProcess

pytestmark = pytest.mark.acceptance

CHROMIUM = Path("/usr/bin/chromium")
SENSOR = "28-browser-1"
WAIT_MS = 15_000


def chromium_or_skip():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright; the browser is Debian's)")
    return sync_playwright


class StreamWatcher(threading.Thread):
    """Reads ``GET /v1/events`` with a bearer token in the background; ``decided`` gets each zone.decided."""

    def __init__(self, url, token):
        super().__init__(daemon=True)
        self.decided = queue.Queue()
        request = urllib.request.Request(url + "/v1/events?topics=zone.decided")
        request.add_header("Authorization", f"Bearer {token}")
        self.response = urllib.request.urlopen(request, timeout=30)
        assert self.response.headers["Content-Type"] == "text/event-stream"

    def run(self):
        fields = {}
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if not line:
                    if fields.get("event") == "zone.decided":
                        self.decided.put((fields["id"], json.loads(fields["data"])))
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    fields[name] = value
        except (OSError, ValueError):
            pass  # the engine stopped

    def next_decision(self, reason_part):
        while True:
            event_id, data = self.decided.get(timeout=WAIT_MS / 1000)
            if reason_part in data["reason"]:
                return event_id, data


PAGE_SCRIPT = """
([url, topic]) => new Promise((resolve, reject) => {
    window.seen = window.seen || [];
    const source = new EventSource(url);
    window.source = source;
    source.addEventListener(topic, (event) => {
        window.seen.push({id: event.lastEventId, data: JSON.parse(event.data)});
    });
    source.addEventListener("reset", () => window.seen.push({id: "reset", data: {}}));
    source.onopen = () => resolve(true);
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) reject(new Error("stream refused")); };
})
"""


def wait_seen(page, reason_part):
    """The page's first seen zone.decided whose reason holds ``reason_part``."""
    page.wait_for_function(
        "(part) => window.seen.some((e) => e.data.reason && e.data.reason.includes(part))",
        arg=reason_part,
        timeout=WAIT_MS,
    )
    seen = page.evaluate("window.seen")
    return next(e for e in seen if e["data"].get("reason") and reason_part in e["data"]["reason"])


def test_a_browser_sees_a_decision_live_and_catches_up_after_reconnecting(tmp_path):
    sync_playwright = chromium_or_skip()
    engine = EngineProcess(tmp_path / "data", advertise=False)
    engine.start()
    watcher = None
    try:
        watcher = StreamWatcher(engine.url, engine.admin_token)
        watcher.start()
        code, answer = engine.request("POST", "/v1/events/ticket")
        assert code == 201, answer
        ticket = answer["ticket"]
        stream_url = f"/v1/events?ticket={ticket}&topics=zone.decided"
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
            try:
                page = browser.new_page()
                page.goto(engine.url + "/")
                assert page.evaluate(PAGE_SCRIPT, [stream_url, "zone.decided"]) is True

                update = {"host_id": "browser-host", "sensors": {SENSOR: {"type": "DS18B20", "value": 19.0}}}
                assert engine.request("PUT", "/v1/sensors/update", update)[0] == 201
                zone = {"sensors": {SENSOR: 1.0}, "default_heat_setpoint": 23.0}
                assert engine.request("PUT", "/v1/zones/default", zone)[0] == 200
                live = wait_seen(page, "heat target 23 C")
                assert live["data"]["zone"] == "default"
                assert live["data"]["temperature"] == 19.0 and live["data"]["heat_setpoint"] == 23.0
                assert live["id"] == watcher.next_decision("heat target 23 C")[0]

                last_id = page.evaluate("() => { window.source.close(); return window.seen.at(-1).id; }")
                assert engine.request("PUT", "/v1/zones/default", {**zone, "default_heat_setpoint": 17.0})[0] == 200
                missed_id, _ = watcher.next_decision("heat target 17 C")  # decided while the page was away
                assert missed_id != last_id

                page.evaluate("window.seen = []")
                resumed = f"{stream_url}&last_event_id={last_id}"
                assert page.evaluate(PAGE_SCRIPT, [resumed, "zone.decided"]) is True
                caught_up = wait_seen(page, "heat target 17 C")
                assert caught_up["id"] == missed_id
                assert [e["id"] for e in page.evaluate("window.seen")][0] == missed_id  # no reset, nothing older
            finally:
                browser.close()
    finally:
        assert engine.stop() == 0, engine.log()
    assert ticket not in engine.log()
