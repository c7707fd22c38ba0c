"""The home page, status, and JSON errors for unknown paths and wrong methods."""

from zoneinfo import ZoneInfo

import pytest
import pytest_twisted
from twisted.logger import globalLogPublisher

from rpymostat.testing import FakeStorage
from rpymostat.version import __version__
from tests.api_client import ApiClient


@pytest_twisted.ensureDeferred
async def test_home_page_links_docs_source_status_and_openapi(api):
    code, page, response = await api.get("/")
    assert code == 200
    assert response.headers.getRawHeaders(b"content-type") == [b"text/html; charset=utf-8"]
    assert f"Version {__version__}" in page
    for link in (
        'href="/v1/status"',
        'href="/v1/openapi.json"',
        'href="https://rpymostat.readthedocs.io/"',
        'href="https://github.com/jantman/RPyMostat"',
    ):
        assert link in page


@pytest_twisted.ensureDeferred
async def test_status_ok(api):
    assert (await api.get("/v1/status"))[:2] == (
        200,
        {"status": True, "dependencies": {"database": True}, "timezone": "UTC"},
    )


@pytest_twisted.ensureDeferred
async def test_status_503_when_database_down(api, store):
    store.available = False
    assert (await api.get("/v1/status"))[:2] == (
        503,
        {"status": False, "dependencies": {"database": False}, "timezone": "UTC"},
    )


@pytest_twisted.ensureDeferred
async def test_status_names_the_engines_time_zone_for_clients_to_show_times_in(store, clock):
    api = ApiClient(store, clock, zone_info=ZoneInfo("Europe/Berlin"))
    assert (await api.get("/v1/status"))[1]["timezone"] == "Europe/Berlin"
    store.available = False
    assert (await api.get("/v1/status"))[:2] == (
        503,
        {"status": False, "dependencies": {"database": False}, "timezone": "Europe/Berlin"},
    )


@pytest.mark.parametrize("path", ["/nope", "/v1", "/v1/", "/v1/nope", "/v2/status", "/v1/sensors/a/b"])
@pytest_twisted.ensureDeferred
async def test_unknown_path_is_json_404(api, path):
    code, body, _ = await api.get(path)
    assert code == 404
    assert body == {"status": "error", "error": f"no such resource: {path}"}


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("POST", "/v1/status", "GET, HEAD"),
        ("POST", "/v1/sensors", "GET, HEAD"),
        ("POST", "/v1/sensors/28-a", "DELETE, GET, HEAD, PATCH"),
        ("PUT", "/", "GET, HEAD"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_wrong_method_is_json_405_with_allow(api, method, path, allowed):
    code, body, response = await api.request(method, path)
    assert code == 405
    assert body["status"] == "error"
    assert body["error"] == f"method {method} not allowed here; allowed: {allowed}"
    assert response.headers.getRawHeaders(b"allow") == [allowed.encode()]


class ExplodingStorage(FakeStorage):
    """A storage whose listing raises a programming error, to see the last-resort handler."""

    def sensors(self):
        raise RuntimeError("boom")


@pytest_twisted.ensureDeferred
async def test_unexpected_error_is_json_500_logged_not_leaked(clock):
    logged = []
    globalLogPublisher.addObserver(logged.append)
    try:
        api = ApiClient(ExplodingStorage(), clock)
        code, body, _ = await api.get("/v1/sensors")
    finally:
        globalLogPublisher.removeObserver(logged.append)
    assert code == 500
    assert body == {"status": "error", "error": "internal error; the engine log has the details"}
    [event] = [e for e in logged if "log_failure" in e]
    assert event["log_failure"].check(RuntimeError)
    assert event["uri"] == b"/v1/sensors"


@pytest.mark.parametrize("path", ["/%ff", "/v1/sensors/%C3%28"])
@pytest_twisted.ensureDeferred
async def test_non_utf8_path_is_json_400(api, path):
    assert (await api.get(path))[:2] == (
        400,
        {"status": "error", "error": "the URL path is not valid UTF-8"},
    )


@pytest_twisted.ensureDeferred
async def test_query_string_is_ignored_and_utf8_ids_work(api):
    assert (await api.get("/v1/status?verbose=1"))[0] == 200
    code, body, _ = await api.get("/v1/sensors/%C3%A9t%C3%A9")
    assert (code, body["error"]) == (404, "no sensor with id 'été'")


@pytest.mark.parametrize(
    "method, path",
    [
        ("PUT", "/v1/zones/%2F0"),  # a zone name holding an encoded slash: never a redirect elsewhere
        ("GET", "/v1/zones//state"),
        ("DELETE", "/v1/sensors//x"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_doubled_or_encoded_slashes_are_a_json_404_not_a_redirect(api, method, path):
    code, body, _ = await api.request(method, path, {} if method == "PUT" else None)
    assert code == 404 and body["status"] == "error"


@pytest_twisted.ensureDeferred
async def test_a_collection_answers_with_or_without_its_trailing_slash(api):
    assert (await api.get("/v1/schedules"))[:2] == (await api.get("/v1/schedules/"))[:2] == (200, {"schedules": []})
