"""The UI's blocking client of the engine, against a real engine on loopback."""

import socket

import pytest

from rpymostat_webui.context import field_errors
from rpymostat_webui.engine import EngineClient, EngineError, EngineUnavailable, Location


@pytest.fixture
def client(engine_process):
    return EngineClient(lambda: Location(engine_process.url + "/v1", engine_process.admin_token))


def test_answers_arrive_decoded(client):
    zones = client.get("/zones")
    assert [zone["name"] for zone in zones["zones"]] == ["default"]


def test_a_write_goes_through_and_an_empty_answer_is_none(client, engine_process):
    client.put("/zones/client-test", {"mode": "off"})
    assert engine_process.request("GET", "/v1/zones/client-test")[1]["mode"] == "off"
    assert client.delete("/zones/client-test") is None
    assert engine_process.request("GET", "/v1/zones/client-test")[0] == 404


def test_query_values_are_encoded_so_a_plus_stays_a_plus(client):
    answer = client.get(
        "/history",
        {"zone": "default", "start": "2026-12-01T00:00:00+01:00", "end": "2026-12-02T00:00:00+01:00", "step": "PT1H"},
    )
    assert answer["start"].startswith("2026-11-30T23:00:00")


def test_a_422_names_its_field_for_the_form(client):
    with pytest.raises(EngineError) as raised:
        client.put("/zones/client-test", {"mode": "warm"})
    error = raised.value
    assert error.status == 422
    assert error.field == "mode"
    assert "warm" in error.detail and not error.detail.startswith("mode")
    assert field_errors(error) == {"mode": error.detail}


def test_an_error_about_the_whole_body_is_the_form_s_error(client):
    with pytest.raises(EngineError) as raised:
        client.put("/zones/client-test", {"colour": "red"})
    assert raised.value.field == "body"
    assert field_errors(raised.value) == {"": raised.value.message}


def test_other_errors_keep_the_engine_s_words_and_name_no_field(client):
    with pytest.raises(EngineError) as raised:
        client.get("/zones/nowhere")
    assert raised.value.status == 404
    assert raised.value.field is None
    assert "nowhere" in raised.value.message


def test_a_refused_token_is_reported_so_the_service_can_pair_again(engine_process):
    refusals = []
    client = EngineClient(
        lambda: Location(engine_process.url + "/v1", "rpy_not_a_token"), on_refused=lambda: refusals.append(1)
    )
    with pytest.raises(EngineError) as raised:
        client.get("/zones")
    assert raised.value.status == 401
    assert refusals == [1]


def test_no_engine_yet_says_why(engine_process):
    client = EngineClient(lambda: Location(None, reason="looking for the engine on the network"))
    with pytest.raises(EngineUnavailable, match="looking for the engine on the network"):
        client.get("/zones")


def test_a_closed_port_is_unavailable_in_plain_words():
    client = EngineClient(lambda: Location("http://127.0.0.1:9/v1", "token"))
    with pytest.raises(EngineUnavailable) as raised:
        client.get("/zones")
    assert raised.value.reason == "cannot reach the engine at http://127.0.0.1:9/v1: connection refused"
    assert not raised.value.timed_out  # refused: nothing reached the engine


def test_a_pinned_https_engine_that_is_not_there_is_unavailable():
    client = EngineClient(lambda: Location("https://127.0.0.1:9/v1", "token", fingerprint="ab" * 32))
    with pytest.raises(EngineUnavailable, match="connection refused"):
        client.get("/zones")


def test_an_engine_that_never_answers_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        client = EngineClient(lambda: Location(f"http://127.0.0.1:{port}/v1"), timeout=0.3)
        with pytest.raises(EngineUnavailable, match="no answer in time") as raised:
            client.get("/zones")
        assert raised.value.timed_out  # it may have been applied: a kiosk must not say "not changed"


@pytest.fixture
def not_an_engine(fake_peer):
    return fake_peer(
        lambda path: (500 if path.startswith("/v1/broken") else 200, "text/html", b"<html>not json</html>")
    )


def test_something_that_is_not_the_engine_is_unavailable_not_a_crash(not_an_engine):
    client = EngineClient(lambda: Location(not_an_engine))
    with pytest.raises(EngineUnavailable, match="not JSON"):
        client.get("/zones")
    with pytest.raises(EngineError) as raised:
        client.get("/broken")
    assert raised.value.message == "the engine answered HTTP 500"


def test_a_download_passes_the_engine_s_bytes_and_headers_on(client):
    answer = client.download("/history", {"zone": "default", "format": "csv"}, "text/csv")
    assert answer.content_type.startswith("text/csv")
    assert answer.body.splitlines()[0] == b"record,name,at,end,count,min,mean,max,heat,cool,mode"
    assert answer.disposition is None or "attachment" in answer.disposition


def test_patch_and_the_location_it_uses(client, engine_process):
    assert client.location().url == engine_process.url + "/v1"
    with pytest.raises(EngineError) as raised:
        client.patch("/sensors/no-such-sensor", {"name": "Attic"})
    assert raised.value.status == 404


def test_a_name_that_does_not_resolve_is_unavailable_with_the_resolver_s_reason():
    client = EngineClient(lambda: Location("http://engine.invalid/v1"))
    with pytest.raises(EngineUnavailable) as raised:
        client.get("/zones")
    assert raised.value.reason.startswith("cannot reach the engine at http://engine.invalid/v1: ")
    assert "connection refused" not in raised.value.reason


def test_paths_escape_each_segment_so_an_id_cannot_reach_another_resource():
    from rpymostat_webui.engine import path

    assert path("zones", "spare?", "hold") == "/zones/spare%3F/hold"
    assert path("sensors", "28-0000075565ad") == "/sensors/28-0000075565ad"
    assert path("overrides", "Kids' room #2") == "/overrides/Kids%27%20room%20%232"


@pytest.mark.parametrize("segment", [".", "..", "", "spare/hold"])
def test_a_segment_that_would_address_something_else_is_refused_before_sending(segment):
    from rpymostat_webui.engine import path

    with pytest.raises(EngineError) as raised:
        path("zones", segment, "hold")
    assert raised.value.status == 404
