"""The wall kiosk: one zone, no navigation, − / + with and without JavaScript, a small download."""

import gzip
import re
from pathlib import Path

import pytest

from acceptance.webui_process import WebuiProcess
from tests.webui.conftest import PASSWORD, hold_of, text_of

FRAGMENT = {"X-Fragment": "kiosk"}
CHROMIUM = Path("/usr/bin/chromium")


def make_zone(engine_process, zone, **fields):
    body = {"name": zone.title(), "mode": "heat", "default_heat_setpoint": 21, **fields}
    status, answer = engine_process.request("PUT", f"/v1/zones/{zone}", body)
    assert status == 201, answer


def test_the_kiosk_shows_the_first_zone_without_navigation(browser):
    page = browser.get("/kiosk/")
    assert page.status_code == 200
    assert "<nav" not in page.text
    assert "Log out" not in page.text
    assert '<body class="kiosk"' in page.text
    assert "<h1" in page.text and 'id="zone-default-name">default</h1>' in page.text
    assert 'data-dim-after="60" data-night-start="22:00" data-night-end="06:30"' in page.text
    assert 'id="kiosk-dim"' in page.text
    assert "Resume schedule" not in page.text  # no hold to end
    for asset in ("css/kiosk.css", "js/live.js", "js/kiosk.js"):
        assert f"/static/{asset}" in page.text
    assert "uPlot" not in page.text and "htmx" not in page.text


def test_the_zone_and_the_dimming_come_from_the_url(browser, engine_process):
    make_zone(engine_process, "hallway")
    page = browser.get("/kiosk/?zone=hallway&dim=30&night=23:15-07:00")
    assert 'id="zone-hallway-name">Hallway</h1>' in page.text
    assert 'data-dim-after="30" data-night-start="23:15" data-night-end="07:00"' in page.text
    odd = browser.get("/kiosk/?zone=hallway&dim=soon&night=late")
    assert 'data-dim-after="60" data-night-start="22:00" data-night-end="06:30"' in odd.text
    assert 'data-dim-after="60"' in browser.get("/kiosk/?zone=hallway&dim=5").text


def test_plus_without_javascript_redirects_back_to_the_kiosk(browser, engine_process):
    make_zone(engine_process, "landing")
    answer = browser.post("/adjust/landing/nudge", {"steps": "1", "which": "heat", "back": "kiosk"})
    assert answer.status_code == 302
    assert answer.location == "/kiosk/?zone=landing"
    assert hold_of(engine_process, "landing")[1]["heat_setpoint"] == 21.5
    page = browser.get(answer.location)
    text = text_of(page.text)
    assert "Held at 21.5 °C until the next schedule change" in text
    assert "Target 21.5 °C · Hold until the next schedule change" in text
    assert "Resume schedule" in text


def test_plus_with_javascript_answers_the_fresh_card(browser, engine_process):
    make_zone(engine_process, "foyer")
    answer = browser.post("/adjust/foyer/nudge", {"steps": "1", "back": "kiosk"}, headers=FRAGMENT)
    assert answer.status_code == 200
    assert not answer.text.lstrip().startswith("<!doctype")
    assert 'data-live-zone="foyer"' in answer.text
    text = text_of(answer.text)
    assert "Held at 21.5 °C until the next schedule change" in text
    assert "− 21.5 °C +" in text
    assert hold_of(engine_process, "foyer")[1]["heat_setpoint"] == 21.5


def test_resume_with_javascript_ends_the_hold(browser, engine_process):
    make_zone(engine_process, "stairs")
    browser.post("/adjust/stairs/nudge", {"steps": "-1", "back": "kiosk"})
    assert hold_of(engine_process, "stairs")[1]["heat_setpoint"] == 20.5
    answer = browser.post("/adjust/stairs/resume", {"back": "kiosk"}, headers=FRAGMENT)
    assert answer.status_code == 200
    text = text_of(answer.text)
    assert "Resumed the schedule" in text
    assert "Target 21.0 °C · Zone default" in text
    assert "Resume schedule" not in text
    assert hold_of(engine_process, "stairs")[0] == 404


def test_a_refused_nudge_on_the_kiosk(browser, engine_process):
    make_zone(engine_process, "veranda", default_heat_setpoint=5)
    answer = browser.post("/adjust/veranda/nudge", {"steps": "-1", "back": "kiosk"}, headers=FRAGMENT)
    assert answer.status_code == 422
    assert "4.5 °C is below the lowest setpoint, 5.0 °C" in text_of(answer.text)
    plain = browser.post("/adjust/veranda/nudge", {"steps": "-1", "back": "kiosk"}, follow_redirects=True)
    assert "Veranda: 4.5 °C is below the lowest setpoint, 5.0 °C" in text_of(plain.text)
    assert hold_of(engine_process, "veranda")[0] == 404


def test_the_kiosk_refuses_a_forged_tap(browser, engine_process):
    make_zone(engine_process, "gate")
    answer = browser.client.post("/adjust/gate/nudge", data={"steps": "1", "back": "kiosk"}, headers=FRAGMENT)
    assert answer.status_code == 400
    assert hold_of(engine_process, "gate")[0] == 404


def test_the_kiosks_javascript_and_css_stay_small(browser):
    page = browser.get("/kiosk/")
    assets = re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', page.text)
    expected = ["/static/css/kiosk.css", "/static/css/site.css", "/static/js/kiosk.js", "/static/js/live.js"]
    assert sorted(assets) == expected
    total = 0
    for asset in assets:
        answer = browser.get(asset)
        assert answer.status_code == 200, asset
        total += len(gzip.compress(answer.data))
        answer.close()
    assert total < 20 * 1024  # the budget is 100 KB gzipped; this keeps well under it


def test_the_kiosk_without_an_engine_is_the_503_page(offline_browser):
    page = offline_browser.get("/kiosk/?zone=default")
    assert page.status_code == 503
    assert 'id="banner"' in page.text


@pytest.fixture(scope="module")
def webui_daemon(tmp_path_factory, engine_process):
    """The real ``rpymostat-webui`` (Twisted, with the live relay), for a browser; one per module, as the
    engine: each test has its own zone and its own browser."""
    data = tmp_path_factory.mktemp("daemon")
    webui = WebuiProcess(data, engine_process.url, engine_process.admin_token, PASSWORD).start()
    yield webui.url
    webui.stop()


@pytest.mark.acceptance
def test_the_kiosk_in_chromium(engine_process, webui_daemon):
    """Taps post without reloading, the screen dims, the waking tap presses nothing, events update the card."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    playwright = pytest.importorskip("playwright.sync_api")
    make_zone(engine_process, "wall")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 800, "height": 480})
            page.goto(webui_daemon + "/login")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.goto(webui_daemon + "/kiosk/?zone=wall&night=00:00-23:59&dim=10")  # night all day: dims after 2.5 s
            page.evaluate("window.notReloaded = true")
            page.click("button[name=steps][value='1']")
            page.wait_for_function("document.getElementById('kiosk-note').textContent.includes('Held at')")
            assert page.inner_text("#kiosk-note") == "Held at 21.5\u202f°C until the next schedule change"
            assert page.evaluate("window.notReloaded") is True
            assert page.inner_text(".zone-card .target") == "21.5\u202f°C"
            assert hold_of(engine_process, "wall")[1]["heat_setpoint"] == 21.5

            page.wait_for_selector("#kiosk-dim", state="visible", timeout=25_000)
            plus = page.locator("button[name=steps][value='1']").bounding_box()
            page.mouse.click(plus["x"] + plus["width"] / 2, plus["y"] + plus["height"] / 2)
            page.wait_for_selector("#kiosk-dim", state="hidden")
            page.wait_for_timeout(500)
            assert hold_of(engine_process, "wall")[1]["heat_setpoint"] == 21.5  # the waking tap pressed nothing

            assert engine_process.request("POST", "/v1/zones/wall/hold", {"heat_setpoint": 23})[0] == 201
            page.wait_for_function(
                "document.querySelector('.zone-card .target').textContent.startsWith('23.0')", timeout=15_000
            )
            assert page.is_hidden("#banner")
        finally:
            browser.close()


def chromium_page(driver, webui_url, viewport):
    """A logged-in Chromium page (closed with its browser by the caller)."""
    browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    page = browser.new_page(viewport=viewport)
    page.goto(webui_url + "/login")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(webui_url + "/")
    return browser, page


@pytest.mark.acceptance
def test_the_kiosk_in_auto_with_an_override_fits_and_never_resends_a_tap(engine_process, webui_daemon):
    """Two steppers and "End “Ski week” now" fit 800×480 with 48 px targets; an error answer is a note."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    playwright = pytest.importorskip("playwright.sync_api")
    make_zone(engine_process, "chalet", mode="auto", default_cool_setpoint=26)
    body = {"name": "Ski week", "zone": "chalet", "duration": "PT3H", "heat_setpoint": 12, "cool_setpoint": 28}
    status, override = engine_process.request("POST", "/v1/overrides", body)
    assert status == 201
    with playwright.sync_playwright() as driver:
        browser, page = chromium_page(driver, webui_daemon, {"width": 800, "height": 480})
        try:
            page.goto(webui_daemon + "/kiosk/?zone=chalet")
            assert page.evaluate("document.documentElement.scrollHeight <= 480"), "the kiosk must fit the screen"
            assert page.evaluate("document.documentElement.scrollWidth <= 800")
            buttons = page.locator("button").all()
            assert len(buttons) == 5  # − + for heating, − + for cooling, End the override
            for button in buttons:
                box = button.bounding_box()
                assert box["width"] >= 48 and box["height"] >= 48, button.inner_text()
                assert box["y"] + box["height"] <= 480, button.inner_text()
            page.evaluate("window.notReloaded = true")

            sent = []
            page.route("**/nudge", lambda route: (sent.append(route.request.post_data), route.fulfill(status=503)))
            page.click("button[aria-label^='Lower the heating']")
            page.wait_for_function("document.getElementById('kiosk-note').textContent !== ''")
            assert page.inner_text("#kiosk-note") == "Not changed: the engine did not answer; try again"
            page.wait_for_timeout(500)
            assert len(sent) == 1 and "steps" in sent[0]  # sent once, with its button; never resubmitted
            assert page.evaluate("window.notReloaded") is True
            assert hold_of(engine_process, "chalet")[0] == 404
            page.unroute("**/nudge")

            stored = "Held at 20.5\u202f°C until the next schedule change; the view will refresh"
            page.route("**/nudge", lambda route: route.fulfill(status=202, content_type="text/plain", body=stored))
            page.click("button[aria-label^='Lower the heating']")
            page.wait_for_function("document.getElementById('kiosk-note').textContent.includes('refresh')")
            assert page.inner_text("#kiosk-note") == stored
            assert page.evaluate("document.getElementById('kiosk-note').classList.contains('error')") is False
            page.unroute("**/nudge")
            page.route("**/nudge", lambda route: route.fulfill(status=302, headers={"Location": "/login"}))
            page.click("button[aria-label^='Lower the heating']")
            page.wait_for_function("document.getElementById('kiosk-note').textContent.includes('logged out')")
            assert page.inner_text("#kiosk-note") == "You were logged out; reload the page to log in again"
            assert page.locator("[data-live-zone=chalet]").count() == 1  # the login page was not swapped in
            page.unroute("**/nudge")

            page.click("text=End \u201cSki week\u201d now")
            page.wait_for_function("document.getElementById('kiosk-note').textContent.includes('Ended')")
            assert page.inner_text("#kiosk-note") == "Ended \u201cSki week\u201d: the schedule is in force"
            assert engine_process.request("GET", f"/v1/overrides/{override['id']}")[0] == 404

            page.click("button[aria-label^='Raise the cooling']")
            page.wait_for_function("document.getElementById('kiosk-note').textContent.includes('Held')")
            hold = hold_of(engine_process, "chalet")[1]
            assert (hold["heat_setpoint"], hold["cool_setpoint"]) == (21, 26.5)
            assert page.evaluate("window.notReloaded") is True
            assert page.evaluate("document.documentElement.scrollHeight <= 480")
        finally:
            browser.close()


@pytest.mark.acceptance
def test_live_updates_swap_only_cards_stop_when_logged_out_and_back_off(engine_process, webui_daemon):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    playwright = pytest.importorskip("playwright.sync_api")
    make_zone(engine_process, "parlour")
    with playwright.sync_playwright() as driver:
        browser, page = chromium_page(driver, webui_daemon, {"width": 1024, "height": 768})
        try:
            page.goto(webui_daemon + "/adjust/parlour")
            page.wait_for_load_state("networkidle")
            page.evaluate("document.querySelector('[data-live-zone=parlour]').marked = true")
            headers = []

            def not_a_card(route):
                headers.append(route.request.headers.get("x-fragment"))
                route.fulfill(status=200, content_type="text/html", body="<main><h1>Log in</h1></main>")

            page.route("**/zones/parlour/card*", not_a_card)
            assert engine_process.request("POST", "/v1/zones/parlour/hold", {"heat_setpoint": 22})[0] == 201
            page.wait_for_function(
                "window.performance.getEntriesByType('resource').some(e => e.name.includes('/zones/parlour/card'))",
                timeout=15_000,
            )
            page.wait_for_timeout(500)
            assert headers and set(headers) == {"card"}
            assert page.evaluate("document.querySelector('[data-live-zone=parlour]').marked") is True
            page.unroute("**/zones/parlour/card*")

            page.route("**/zones/parlour/card*", lambda route: route.fulfill(status=401, body="log in"))
            assert engine_process.request("DELETE", "/v1/zones/parlour/hold")[0] == 204
            page.wait_for_function(
                "document.getElementById('banner').textContent.includes('logged out')", timeout=15_000
            )
            assert page.inner_text("#banner") == "You were logged out; reload the page to log in again"
            assert page.evaluate("document.querySelector('[data-live-zone=parlour]').marked") is True

            # A stream that opens and drops at once: tickets at 0, 1, 3, 7 s, not every second.
            page.unroute("**/zones/parlour/card*")  # cards answer again: only the stream is broken
            tickets = []
            page.route("**/live/ticket", lambda route: (tickets.append(1), route.continue_()))
            page.route(
                "**/live/events*",
                lambda route: route.fulfill(status=200, content_type="text/event-stream", body=": hello\n\n"),
            )
            page.goto(webui_daemon + "/adjust/parlour")
            page.wait_for_timeout(5_000)
            assert len(tickets) == 3, tickets  # every second would be 6
            assert page.inner_text("#banner") == "Live updates are down; retrying\u2026"

            # A login in another tab changed the session's CSRF token: the ticket is refused (400)
            # for good, so the page says to reload instead of retrying for ever.
            page.unroute("**/live/ticket")
            page.unroute("**/live/events*")
            refused = []
            page.route("**/live/ticket", lambda route: (refused.append(1), route.fulfill(status=400, body="no")))
            page.goto(webui_daemon + "/adjust/parlour")
            page.wait_for_function("document.getElementById('banner').textContent.includes('out of date')")
            page.wait_for_timeout(2_500)
            assert len(refused) == 1
            assert page.inner_text("#banner") == (
                "This page is out of date (someone logged in again in this browser); reload it"
            )
        finally:
            browser.close()


NO_SUBMITTER = "Object.defineProperty(SubmitEvent.prototype, 'submitter', {get() { return undefined; }});"


@pytest.mark.acceptance
def test_an_old_browser_without_the_submitter_still_sends_the_pressed_button(engine_process, webui_daemon):
    """Safari before 15.4 (older wall tablets) has no ``event.submitter``: − must still lower the target."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    playwright = pytest.importorskip("playwright.sync_api")
    make_zone(engine_process, "tablet")
    with playwright.sync_playwright() as driver:
        browser, page = chromium_page(driver, webui_daemon, {"width": 800, "height": 480})
        try:
            page.add_init_script(NO_SUBMITTER)
            page.goto(webui_daemon + "/kiosk/?zone=tablet")
            assert page.evaluate("new SubmitEvent('submit').submitter") is None
            page.click("button[name=steps][value='-1']")
            page.wait_for_function("document.getElementById('kiosk-note').textContent.includes('Held at')")
            assert hold_of(engine_process, "tablet")[1]["heat_setpoint"] == 20.5  # 21 − 0.5, never +

            # A proxy's 502 page may hide a step the engine stored: the note must not say "not changed".
            page.route(
                "**/nudge", lambda route: route.fulfill(status=502, content_type="text/html", body="<h1>Bad</h1>")
            )
            page.click("button[name=steps][value='-1']")
            page.wait_for_function("document.getElementById('kiosk-note').textContent.startsWith('Maybe')")
            assert page.inner_text("#kiosk-note") == "Maybe not changed: see the target before you tap again"
        finally:
            browser.close()
