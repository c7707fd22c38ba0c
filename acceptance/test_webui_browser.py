"""The web UI in a real browser: real engine and web UI processes, Debian's Chromium (issue 17).

Each test logs in like a person, does one household task through the pages
and checks the engine's API says it happened (or, for live updates, that the
page changed without a reload).  Every page visited is checked for console
errors and axe-core accessibility violations, and photographed into
``$RPYMOSTAT_ARTIFACTS/screenshots`` (default ``build/artifacts``), which the
CI keeps.  Skipped when ``/usr/bin/chromium`` or Playwright is missing.
"""

import os
import re
from pathlib import Path

import pytest

from acceptance.engine_process import EngineProcess
from acceptance.webui_process import WebuiProcess

pytestmark = pytest.mark.acceptance

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
WAIT_MS = 15_000
PHONE = {"width": 375, "height": 667}
KIOSK = {"width": 800, "height": 480}
DESKTOP = {"width": 1280, "height": 800}
SENSOR = "28-webui-1"


def screenshots_dir() -> Path:
    folder = Path(os.environ.get("RPYMOSTAT_ARTIFACTS") or REPO / "build" / "artifacts") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def playwright_api():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright; the browser is Debian's)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def chromium(playwright_api):
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    browser = playwright_api.chromium.launch(executable_path=str(CHROMIUM), args=args)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def house(tmp_path_factory):
    """A real engine with one zone fed by one sensor at 19 °C, and a web UI using its admin token."""
    data = tmp_path_factory.mktemp("house")
    # Decide every second, so a reading shows on a page within a second or two.
    engine = EngineProcess(data / "engine", extra_env={"RPYMOSTAT_DECISION_INTERVAL": "1"}).start()
    update = {"host_id": "webui-host", "sensors": {SENSOR: {"type": "DS18B20", "value": 19.0}}}
    assert engine.request("PUT", "/v1/sensors/update", update)[0] == 201
    zone = {"mode": "heat", "sensors": {SENSOR: 1.0}, "default_heat_setpoint": 20.0}
    assert engine.request("PUT", "/v1/zones/default", zone)[0] == 200
    webui = WebuiProcess(data / "webui", engine.url, token=engine.admin_token).start()
    yield engine, webui
    assert webui.stop() == 0, webui.log()
    assert engine.stop() == 0, engine.log()


class Visit:
    """A logged-in page that collects console errors; ``check(name)`` runs axe and saves a screenshot."""

    def __init__(self, page, base):
        self.page, self.base = page, base
        self.errors = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def go(self, path):
        self.page.goto(self.base + path)
        return self.page

    def login(self, password):
        self.go("/login")
        self.page.get_by_label("Household password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(re.compile(r".*/$"))

    def check(self, name):
        """No console errors, no axe-core violations; a screenshot as ``name.png``."""
        from axe_playwright_python.sync_playwright import Axe

        self.page.screenshot(path=str(screenshots_dir() / f"{name}.png"), full_page=True)
        results = Axe().run(self.page)
        violations = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
        ]
        assert violations == [], f"{name}: axe-core found\n" + "\n".join(violations)
        assert self.errors == [], f"{name}: console errors {self.errors}"


@pytest.fixture
def visit(chromium, house):
    engine, webui = house
    context = chromium.new_context(viewport=DESKTOP, locale="en-GB")
    visit = Visit(context.new_page(), webui.url)
    visit.login(webui.password)
    yield visit
    context.close()


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_set_a_hold_from_the_home_page_and_the_engine_s_target_changes(visit, house):
    engine, _ = house
    page = visit.go("/")
    card = page.locator("[data-live-zone='default']")
    assert "19.0" in card.locator(".temperature").inner_text()
    card.get_by_role("button", name="Raise the heating target by 0.5 °C").click()
    page.wait_for_load_state()
    assert "Held at 20.5" in page.locator(".flashes").inner_text()
    status, hold = engine.request("GET", "/v1/zones/default/hold")
    assert status == 200 and hold["heat_setpoint"] == 20.5
    status, target = engine.request("GET", "/v1/zones/default/target")
    assert target["now"]["heat_setpoint"] == 20.5 and target["now"]["source"]["type"] == "hold"
    visit.check("home-after-hold")
    page = visit.go("/adjust/default")
    assert "until the next schedule change" in page.locator("main").inner_text()
    page.get_by_role("button", name="Resume schedule").click()
    page.wait_for_load_state()
    assert engine.request("GET", "/v1/zones/default/hold")[0] == 404


def test_create_a_schedule_in_the_week_view_and_find_it_in_the_api_and_the_page(visit, house):
    engine, _ = house
    page = visit.go("/schedule/")
    visit.check("schedule-week")
    page.get_by_role("link", name="Add a schedule").click()
    page.get_by_label("Name").fill("Weekday mornings")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        page.get_by_label(day, exact=True).check()
    page.get_by_label("From").fill("06:30")
    page.get_by_label("Until").fill("08:00")
    page.get_by_label("Heat to (keep above)").fill("21")
    visit.check("schedule-new")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    rules = engine.request("GET", "/v1/schedules")[1]["schedules"]
    (rule,) = [rule for rule in rules if rule["name"] == "Weekday mornings"]
    assert (rule["start"], rule["end"], rule["heat_setpoint"]) == ("30 6 * * 1-5", "0 8 * * *", 21)
    week = page.locator("main").text_content()  # the day names are for screen readers; the row says it
    assert "Mon 06:30–08:00" in week and "Fri 06:30–08:00" in week and "Sat 06:30" not in week
    visit.check("schedule-week-with-rule")


def test_set_an_away_period(visit, house):
    engine, _ = house
    page = visit.go("/away/")
    page.get_by_role("link", name="Add an override").click()
    page.get_by_label("Name").fill("Ski week")
    page.get_by_label("From").fill("2026-12-20T08:00")
    page.get_by_label("Until").fill("2026-12-27T18:00")
    page.get_by_label("Keep above (heat to)").fill("12")
    visit.check("away-new")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    overrides = engine.request("GET", "/v1/overrides")[1]["overrides"]
    (away,) = [rule for rule in overrides if rule["name"] == "Ski week"]
    # Typed on the house's clock (Europe/Berlin, UTC+1 in December).
    assert (away["start"], away["end"], away["heat_setpoint"]) == (
        "2026-12-20T07:00:00+00:00",
        "2026-12-27T17:00:00+00:00",
        12,
    )
    assert "Ski week" in page.locator("main").inner_text()
    visit.check("away-list")


def test_a_new_reading_arrives_on_the_home_page_without_a_reload(visit, house):
    engine, _ = house
    page = visit.go("/")
    page.evaluate("window.notReloaded = true")
    card = page.locator("[data-live-zone='default'] .temperature")
    update = {"host_id": "webui-host", "sensors": {SENSOR: {"type": "DS18B20", "value": 18.2}}}
    assert engine.request("PUT", "/v1/sensors/update", update)[0] == 201
    page.wait_for_function(
        "() => document.querySelector(\"[data-live-zone='default'] .temperature\").textContent.includes('18.2')",
        timeout=WAIT_MS,
    )
    assert page.evaluate("window.notReloaded") is True
    assert "18.2" in card.inner_text()
    assert page.locator("#banner").is_hidden()
    update = {"host_id": "webui-host", "sensors": {SENSOR: {"type": "DS18B20", "value": 19.0}}}
    assert engine.request("PUT", "/v1/sensors/update", update)[0] == 201


PAGES = [
    ("home", "/"),
    ("adjust", "/adjust/default"),
    ("schedule", "/schedule/"),
    ("away", "/away/"),
    ("history", "/history/?zone=default&period=day"),
    ("devices", "/devices/"),
    ("devices-zone", "/devices/zones/default"),
    ("settings", "/settings/"),
]


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_every_page_is_accessible_and_fits(chromium, house, size, viewport):
    _, webui = house
    context = chromium.new_context(
        viewport=viewport, locale="en-GB", is_mobile=size == "phone", has_touch=size == "phone"
    )
    try:
        visit = Visit(context.new_page(), webui.url)
        visit.go("/login")
        visit.check(f"login-{size}")
        visit.login(webui.password)
        for name, path in PAGES:
            page = visit.go(path)
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").count() >= 1, name
            assert no_horizontal_scroll(page), f"{name} scrolls sideways at {viewport['width']} px"
            visit.check(f"{name}-{size}")
    finally:
        context.close()


def test_the_kiosk_at_800_by_480(chromium, house):
    engine, webui = house
    context = chromium.new_context(viewport=KIOSK, locale="en-GB", has_touch=True)
    try:
        visit = Visit(context.new_page(), webui.url)
        visit.login(webui.password)
        page = visit.go("/kiosk/")
        page.wait_for_load_state("networkidle")
        assert page.locator("nav").count() == 0
        assert page.evaluate("document.documentElement.scrollHeight <= 480"), "the kiosk must fit the screen"
        assert no_horizontal_scroll(page)
        for button in page.get_by_role("button").all():
            box = button.bounding_box()
            if box is not None:
                assert box["width"] >= 48 and box["height"] >= 48, button.inner_text()
        visit.check("kiosk-800x480")
    finally:
        context.close()
