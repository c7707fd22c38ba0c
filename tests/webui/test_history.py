"""The history page against a real engine: readings fed through the engine's API, then shown, charted, downloaded."""

import html
from urllib.parse import quote

import pytest

from tests.webui.conftest import text_of

NOV_9_2300Z = 1794265200.0  # 2026-11-10 00:00 in Berlin
NOV_10_2300Z = 1794351600.0  # 2026-11-11 00:00 in Berlin


def feed(engine_process, sensor, readings, alias=None):
    """Readings ``[(ISO time, °C)]`` of ``sensor`` as its daemon would send them."""
    sent = [{"type": "DS18B20", "value": value, "timestamp": when} for when, value in readings]
    for reading in sent if alias else ():
        reading["alias"] = alias
    status, body = engine_process.request(
        "PUT", "/v1/sensors/update", {"host_id": "pi-hist", "sensors": {sensor: sent}}
    )
    assert status in (200, 201), body


def make_zone(engine_process, name, sensors=()):
    status, body = engine_process.request(
        "PUT", f"/v1/zones/{quote(name, safe='')}", {"sensors": dict.fromkeys(sensors, 1)}
    )
    assert status in (200, 201), body


@pytest.fixture
def november(engine_process):
    """Zone ``hist-nov`` with sensor ``28-hnov`` ("Sofa"): three readings on 10 November, one on the 11th."""
    feed(
        engine_process,
        "28-hnov",
        [
            ("2026-11-10T10:00:00Z", 20.0),
            ("2026-11-10T10:30:00Z", 22.0),
            ("2026-11-10T14:00:00Z", 21.0),
            ("2026-11-11T08:00:00Z", 23.0),
        ],
        alias="Sofa",
    )
    make_zone(engine_process, "hist-nov", ["28-hnov"])
    return "hist-nov"


def test_a_day_shows_its_readings_in_the_summary(browser, november):
    response = browser.get("/history/?zone=hist-nov&period=day&end=2026-11-10")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "Tue 10 Nov 2026 · hist-nov" in text
    assert "Sofa 20.0 °C 21.0 °C 22.0 °C 3" in text
    assert "No readings in this period" not in text
    assert 'id="history-chart"' in response.text
    assert 'data-src="/history/data?zone=hist-nov&amp;period=day&amp;end=2026-11-10"' in response.text
    assert 'href="/history/?zone=hist-nov&amp;period=day&amp;end=2026-11-09" rel="prev"' in response.text
    assert 'href="/history/?zone=hist-nov&amp;period=day&amp;end=2026-11-11" rel="next"' in response.text
    assert 'href="/history/?zone=hist-nov&amp;period=week&amp;end=2026-11-10"' in response.text
    assert 'href="/history/csv?zone=hist-nov&amp;period=day&amp;end=2026-11-10"' in response.text
    assert 'href="/history/?zone=hist-nov&amp;period=day"' in response.text  # "Until now"


def test_a_week_includes_the_next_day_and_the_mean_of_all_readings(browser, november):
    text = text_of(browser.get("/history/?zone=hist-nov&period=week&end=2026-11-11").text)
    assert "5 Nov – 11 Nov 2026" in text
    assert "Sofa 20.0 °C 21.5 °C 23.0 °C 4" in text
    assert "Next week" in text  # 12 - 18 November is over


def test_the_summary_in_fahrenheit_is_whole_degrees(browser, november):
    browser.client.set_cookie("unit", "F")
    text = text_of(browser.get("/history/?zone=hist-nov&period=day&end=2026-11-10").text)
    assert "Sofa 68 °F 70 °F 72 °F 3" in text


def test_one_sensor_alone(browser, november):
    response = browser.get("/history/?zone=hist-nov&sensor=28-hnov&period=day&end=2026-11-10")
    text = text_of(response.text)
    assert "Tue 10 Nov 2026 · 28-hnov" in text
    assert "Sofa 20.0 °C 21.0 °C 22.0 °C 3" in text
    assert '<option value="28-hnov" selected>' in response.text


def test_the_chart_data_in_fahrenheit(browser, november):
    browser.client.set_cookie("unit", "F")
    response = browser.get("/history/data?zone=hist-nov&period=day&end=2026-11-10")
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["unit"] == {"code": "F", "symbol": "°F", "step": 1.0, "decimals": 0}
    assert answer["timezone"] == "Europe/Berlin"
    assert answer["title"] == "Tue 10 Nov 2026"
    assert (answer["start"], answer["end"]) == (NOV_9_2300Z, NOV_10_2300Z)
    assert len(answer["x"]) == 97  # 96 quarter hours and the end
    assert answer["x"][0] == NOV_9_2300Z and answer["x"][-1] == NOV_10_2300Z
    assert [one["label"] for one in answer["series"]] == ["hist-nov (zone)", "Sofa"]
    assert answer["series"][0]["values"] == [None] * 97
    sensor = answer["series"][1]["values"]
    assert {index: value for index, value in enumerate(sensor) if value is not None} == {
        44: 68.0,  # 10:00 UTC is 11 hours after the day began
        46: 71.6,
        60: 69.8,
    }
    assert answer["empty"] is False


def test_the_csv_download(browser, november):
    response = browser.get("/history/csv?zone=hist-nov&period=day&end=2026-11-10")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="history-hist-nov-day-2026-11-10.csv"'
    lines = response.text.splitlines()
    assert lines[0] == "record,name,at,end,count,min,mean,max,heat,cool,mode"
    assert lines[1:] == [
        "reading,28-hnov,2026-11-10T10:00:00.000+00:00,,1,20.0,20.0,20.0,,,",
        "reading,28-hnov,2026-11-10T10:30:00.000+00:00,,1,22.0,22.0,22.0,,,",
        "reading,28-hnov,2026-11-10T14:00:00.000+00:00,,1,21.0,21.0,21.0,,,",
    ]


def test_a_new_zone_has_no_readings_and_no_chart(browser, engine_process):
    make_zone(engine_process, "hist-empty")
    response = browser.get("/history/?zone=hist-empty&period=week")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "No readings in this period." in text
    assert "Last 7 days · hist-empty" in text
    assert 'id="history-chart"' not in response.text
    assert 'rel="next"' not in response.text  # it ends now
    answer = browser.get("/history/data?zone=hist-empty&period=week").get_json()
    assert answer["empty"] is True
    assert answer["series"][0]["values"][:3] == [None, None, None]


def test_the_first_zone_and_the_last_day_without_a_choice(browser):
    response = browser.get("/history/")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "Last 24 hours · default" in text
    assert 'aria-current="page">Day<' in response.text


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/history/?zone=default&period=fortnight", 400, "period: must be day, week, month or year"),
        ("/history/?zone=default&end=yesterday", 400, "end: must be a date like 2026-12-01"),
        ("/history/?zone=nowhere", 404, "There is no zone 'nowhere'"),
        ("/history/?zone=default&sensor=28-never-seen", 404, "no sensor '28-never-seen'"),
        ("/history/csv?zone=nowhere", 404, "no zone 'nowhere'"),
        ("/history/csv?period=day", 400, "zone: choose a zone"),
    ],
)
def test_bad_questions_are_plain_error_pages(browser, url, status, words):
    response = browser.get(url)
    assert response.status_code == status
    assert words in html.unescape(text_of(response.text))
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("url", "status", "error"),
    [
        ("/history/data?zone=default&period=fortnight", 400, "period: must be day, week, month or year"),
        ("/history/data?zone=nowhere", 404, "no zone 'nowhere'"),
    ],
)
def test_bad_chart_questions_are_json_errors(browser, url, status, error):
    response = browser.get(url)
    assert response.status_code == status
    assert response.get_json() == {"error": error}


def test_engine_unreachable_is_503(offline_browser):
    page = offline_browser.get("/history/?zone=default&period=day")
    assert page.status_code == 503
    assert "Cannot reach the thermostat engine" in text_of(page.text)
    data = offline_browser.get("/history/data?zone=default&period=day")
    assert data.status_code == 503
    assert data.get_json()["error"].startswith("Cannot reach the thermostat engine: cannot reach the engine at")
    assert offline_browser.get("/history/csv?zone=default&period=day").status_code == 503


def test_the_pages_need_a_login(app):
    response = app.test_client().get("/history/data?zone=default")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    fetched = app.test_client().get("/history/data?zone=default", headers={"X-Fragment": "history"})
    assert fetched.status_code == 401  # the chart's fetch is told, not sent the login page


def test_the_chart_fetch_says_it_is_a_fragment():
    with open("rpymostat_webui/static/js/history.js", encoding="utf-8") as script:
        assert '"X-Fragment": "history"' in script.read()


def test_a_zone_id_is_one_path_segment(browser, november):
    """``hist-nov?x`` is no zone: asked unescaped, the engine would answer for ``hist-nov``."""
    for url in (
        "/history/data?zone=hist-nov%3Fx&sensor=28-hnov&period=day&end=2026-11-10",
        "/history/data?zone=hist-nov%23x&sensor=28-hnov&period=day&end=2026-11-10",
        "/history/csv?zone=hist-nov%3Fx&sensor=28-hnov&period=day&end=2026-11-10",
    ):
        assert browser.get(url).status_code == 404, url


def test_an_unknown_zone_is_404_even_when_a_sensor_is_charted(browser, november):
    data = browser.get("/history/data?zone=nowhere&sensor=28-hnov&period=day&end=2026-11-10")
    assert data.status_code == 404 and data.get_json() == {"error": "no zone 'nowhere'"}
    assert browser.get("/history/csv?zone=nowhere&sensor=28-hnov&period=day&end=2026-11-10").status_code == 404
    assert browser.get("/history/data?zone=hist-nov&sensor=28-hnov&period=day&end=2026-11-10").status_code == 200
