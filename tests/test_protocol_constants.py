"""The protocol constants and the OpenAPI document say the same thing.

``openapi.json`` cannot import Python, so it spells the paths and the
reading range by hand; these tests are what keeps the two from drifting.
"""

import json
from importlib.resources import files

import pytest

from rpymostat.protocol import (
    API_BASE_PATH,
    CONTROLS_REGISTER_PATH,
    READING_MAX_C,
    READING_MIN_C,
    RELAYS_PATH,
    SENSORS_UPDATE_PATH,
    below_api_base,
)
from rpymostat.protocol.endpoints import WILDCARD_HOSTS


@pytest.fixture(scope="module")
def document():
    return json.loads((files("rpymostat.api") / "openapi.json").read_text(encoding="utf-8"))


def test_a_reading_value_is_bounded_by_the_protocol_range(document):
    value = document["components"]["schemas"]["SensorReading"]["properties"]["value"]
    assert (value["minimum"], value["maximum"]) == (READING_MIN_C, READING_MAX_C)


@pytest.mark.parametrize("path, method", [(SENSORS_UPDATE_PATH, "put"), (CONTROLS_REGISTER_PATH, "post")])
def test_the_daemons_paths_are_operations_of_the_document(document, path, method):
    assert method in document["paths"][path]


def test_every_engine_path_but_the_root_is_below_the_api_base(document):
    assert all(path == "/" or path.startswith(API_BASE_PATH + "/") for path in document["paths"])


def test_a_path_below_the_api_base_is_what_a_daemon_appends_to_its_engine_url():
    assert below_api_base(SENSORS_UPDATE_PATH) == "/sensors/update"
    assert below_api_base(CONTROLS_REGISTER_PATH) == "/controls/register"
    assert "http://engine:8088" + API_BASE_PATH + below_api_base(RELAYS_PATH) == "http://engine:8088/v1/relays"


@pytest.mark.parametrize("path", ["/sensors/update", "/v10/sensors", API_BASE_PATH])
def test_a_path_outside_the_api_base_is_refused(path):
    with pytest.raises(ValueError, match="is not below the API base path '/v1'"):
        below_api_base(path)


@pytest.mark.parametrize(
    "host, wildcard",
    [("", True), ("0.0.0.0", True), ("::", True), ("127.0.0.1", False), ("::1", False), ("192.168.1.20", False)],
)
def test_wildcard_hosts_are_the_addresses_meaning_every_address(host, wildcard):
    assert (host in WILDCARD_HOSTS) is wildcard
