"""The roles table read from the document, and the failure throttle, on their own."""

import pytest
from twisted.internet.task import Clock

from rpymostat.api.validation import load_openapi
from rpymostat.auth.roles import GRANTS, HOST_ROLES, PAIRING_ROLES, ROLES, UNNAMED, OperationRoles
from rpymostat.auth.throttle import FailureThrottle


@pytest.fixture(scope="module")
def roles():
    return OperationRoles(load_openapi())


@pytest.mark.parametrize(
    "method, path, expected",
    [
        (b"PUT", b"/v1/sensors/update", ("admin", "sensor")),  # not the template /v1/sensors/{sensor_id}
        (b"GET", b"/v1/sensors/update", ("admin", "user", "read")),  # a sensor named "update"
        (b"HEAD", b"/v1/zones/default/state", ("admin", "user", "read")),
        (b"GET", b"/v1/zones/default/", ("admin", "user", "read")),  # one trailing slash
        (b"DELETE", b"/v1/zones/up%2Fstairs", ("admin",)),
        (b"POST", b"/v1/pairings/K7M2QX/approve", ("admin",)),
    ],
)
def test_each_request_gets_the_roles_its_operation_names(roles, method, path, expected):
    rule = roles.rule(method, path)
    assert (rule.exempt, rule.roles) == (False, expected)


def test_the_document_names_the_roles_the_engine_knows_and_those_a_daemon_pairs_as():
    schemas = load_openapi()["components"]["schemas"]
    assert tuple(schemas["Role"]["enum"]) == ROLES
    assert tuple(schemas["PairRequest"]["properties"]["role"]["enum"]) == PAIRING_ROLES
    assert tuple(schemas["Pairing"]["properties"]["role"]["enum"]) == PAIRING_ROLES
    assert set(HOST_ROLES) < set(PAIRING_ROLES) < set(ROLES) and "read" not in PAIRING_ROLES
    assert set(GRANTS) == set(PAIRING_ROLES) and "FULL CONTROL" in GRANTS["admin"]


def test_the_open_operations_are_exempt_and_the_unknown_need_any_token(roles):
    assert roles.rule(b"GET", b"/v1/status").exempt
    assert roles.rule(b"POST", b"/v1/pair/proof").exempt
    assert UNNAMED.roles == ("admin",)
    assert roles.rule(b"POST", b"/v1/status") == UNNAMED  # a 405 to come, for an admin only
    assert roles.rule(b"GET", b"/v1/zones/a/b/c") == UNNAMED
    assert roles.rule(b"GET", b"/v2/anything") == UNNAMED


@pytest.mark.parametrize(
    "method, path, expected",
    [
        (b"POST", b"/v1/%74okens", ("admin",)),  # found by review: a read token made an admin token
        (b"PUT", b"/v1/sensors/%75pdate", ("admin", "sensor")),
        (b"GET", b"/v1/tokens%2F", ("admin",)),
        (b"GET", b"/v1/%7Aones", ("admin", "user", "read")),
    ],
)
def test_a_path_is_read_decoded_as_the_router_reads_it(roles, method, path, expected):
    assert roles.rule(method, path).roles == expected


def test_an_operation_without_roles_in_the_document_stops_the_engine_from_starting():
    document = {"paths": {"/v1/new": {"post": {"responses": {}}}}}
    with pytest.raises(ValueError, match="POST /v1/new names no roles"):
        OperationRoles(document)
    document = {"paths": {"/v1/new": {"post": {"x-roles": ["owner"], "responses": {}}}}}
    with pytest.raises(ValueError, match="unknown ones"):
        OperationRoles(document)


def test_the_throttle_counts_failures_per_address_within_its_window():
    clock = Clock()
    throttle = FailureThrottle(clock.seconds, limit=3, window=60)
    for _ in range(2):
        throttle.failed("10.0.0.66")
    assert throttle.retry_after("10.0.0.66") is None
    clock.advance(10)
    throttle.failed("10.0.0.66")
    assert throttle.retry_after("10.0.0.66") == 50  # the first failure leaves the window in 50 s
    assert throttle.retry_after("10.0.0.7") is None  # another address is not affected
    clock.advance(50)
    assert throttle.retry_after("10.0.0.66") is None
    clock.advance(10)
    assert throttle.retry_after("10.0.0.66") is None
    assert throttle.tracked() == 0  # everything aged out is forgotten


def test_the_throttle_forgets_the_quietest_addresses_beyond_its_size():
    clock = Clock()
    throttle = FailureThrottle(clock.seconds, limit=1, window=60, max_addresses=3)
    for n in range(5):
        throttle.failed(f"10.0.0.{n}")
        clock.advance(1)
    assert throttle.tracked() == 3
    assert throttle.retry_after("10.0.0.0") is None  # forgotten
    assert throttle.retry_after("10.0.0.4") is not None
