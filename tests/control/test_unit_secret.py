"""The relay unit obeys only the engine it registered with (docs/security.rst, "Trusted peers").

Every request must carry ``Authorization: Bearer`` and the secret of the
unit's latest registration; anything else is a 401 before routing, changes
nothing, renews no lease and is logged without what was presented.
"""

import hmac
import re
import tempfile

import pytest
import pytest_twisted
import treq
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from treq.testing import StubTreq
from twisted.logger import LogLevel, formatEvent, globalLogPublisher

from rpymostat_control.api import RelayApi
from rpymostat_control.unit_secret import UnitSecret
from tests.control.test_control_api import AUTHORIZATION, LEASE, SECRET, Unit, bodies, methods, paths
from tests.control.test_control_service import Running, config, engine  # noqa: F401 (fixtures)

CHALLENGE = ['Bearer realm="rpymostat-control"']


@pytest.fixture
def events():
    seen = []
    globalLogPublisher.addObserver(seen.append)
    yield seen
    globalLogPublisher.removeObserver(seen.append)


@pytest.fixture
def unit(tmp_path):
    return Unit(tmp_path, min_on=0, min_off=0)


def assert_refused(answer, reason):
    """A 401 in the API's error shape, with the challenge that says how to authenticate."""
    code, document, response = answer
    assert code == 401, document
    assert response.headers.getRawHeaders(b"www-authenticate") == [c.encode() for c in CHALLENGE]
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    if document is not None:  # HEAD has no body
        assert set(document) == {"status", "error"} and document["status"] == "error"
        assert document["error"].startswith(reason), document["error"]
        assert "Authorization: Bearer" in document["error"]


REQUESTS = [
    ("GET", "/v1/relays", None),
    ("HEAD", "/v1/relays", None),
    ("GET", "/v1/relays/sim-1", None),
    ("HEAD", "/v1/relays/sim-1", None),
    ("POST", "/v1/relays/sim-1", {"state": True}),
    ("POST", "/v1/relays/sim-3", {"state": False, "safety": "overheat"}),
    ("PUT", "/v1/relays/sim-1", {"state": True}),  # 405 once authorized
    ("GET", "/no/such/path", None),  # 404 once authorized
    ("POST", "/v1/relays/sim-1", "not JSON"),  # 400 once authorized
]


@pytest.mark.parametrize("method, path, body", REQUESTS)
def test_without_the_secret_every_request_is_401_before_routing_and_changes_nothing(unit, method, path, body):
    unit.clock.advance(10)
    before = unit.states()
    raw = body.encode() if isinstance(body, str) else None
    answer = unit.call(method, path, None if raw else body, raw=raw, authorization=None)
    assert_refused(answer, "no Authorization header")
    assert unit.states() == before and unit.states()["sim-1"] is False
    assert unit.lease.expires_in() == LEASE - 10  # a refused command does not renew the lease


WRONG = {
    "another secret": "Bearer " + "x" * len(SECRET),
    "the secret and more": AUTHORIZATION + "x",
    "a prefix of the secret": AUTHORIZATION[:-1],
    "no scheme": SECRET,
    "another scheme": f"Basic {SECRET}",
    "the scheme alone": "Bearer",
    "empty": "",
    "not ASCII": "Bearer " + "é" * 10,
}


@pytest.mark.parametrize("authorization", list(WRONG.values()), ids=list(WRONG))
def test_a_wrong_secret_is_401_and_a_command_switches_nothing(unit, authorization):
    answer = unit.call("POST", "/v1/relays/sim-1", {"state": True}, authorization=authorization)
    assert_refused(answer, "not the secret of this unit's latest registration")
    code, document, _ = unit.call("GET", "/v1/relays/sim-1")  # read with the right secret
    assert (code, document["state"]) == (200, False)
    assert unit.relays.get("sim-1") is False


def test_two_authorization_headers_are_refused_even_if_one_is_right(unit):
    answer = unit.call(
        "POST",
        "/v1/relays/sim-1",
        {"state": True},
        headers={"Content-Type": "application/json", "Authorization": [AUTHORIZATION, "Bearer other"]},
        authorization=None,
    )
    assert_refused(answer, "more than one Authorization header")
    assert unit.relays.get("sim-1") is False


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_scheme_is_case_insensitive_and_the_right_secret_switches(unit, scheme):
    code, document, _ = unit.call("POST", "/v1/relays/sim-1", {"state": True}, authorization=f"{scheme} {SECRET}")
    assert (code, document["changed"]) == (200, True)
    assert unit.relays.get("sim-1") is True


def test_before_any_registration_even_the_right_secret_is_refused(tmp_path):
    """Until a registration carried the secret no engine can hold it: nothing may command the unit."""
    unit = Unit(tmp_path, min_on=0, min_off=0)
    fresh = UnitSecret(SECRET)  # not yet sent in a registration
    unit.treq = StubTreq(RelayApi(unit.switchboard, unit.lease, "pi-0000abcd", fresh))
    answer = unit.call("POST", "/v1/relays/sim-1", {"state": True})
    assert_refused(answer, "this unit has not registered with an engine yet")
    assert unit.relays.get("sim-1") is False
    assert fresh.for_registration() == SECRET
    assert unit.call("POST", "/v1/relays/sim-1", {"state": True})[0] == 200


def test_a_refusal_is_logged_as_a_warning_with_the_client_and_path_never_the_presented_value(unit, events):
    presented = "Bearer stolen-" + "z" * 40
    unit.call("POST", "/v1/relays/sim-1", {"state": True}, authorization=presented)
    unit.call("GET", "/v1/relays", authorization=None)
    refusals = [event for event in events if "refused" in formatEvent(event)]
    assert [event["log_level"] for event in refusals] == [LogLevel.warn] * 2
    texts = [formatEvent(event) for event in refusals]
    assert re.fullmatch(
        r"refused POST /v1/relays/sim-1 from \S+: not the secret of this unit's latest registration", texts[0]
    ), texts[0]
    assert texts[1].startswith("refused GET /v1/relays from ") and texts[1].endswith(": no Authorization header")
    everything = "\n".join(formatEvent(event) + repr(event) for event in events)
    assert "stolen" not in everything and SECRET not in everything


def test_a_huge_refused_path_is_logged_cut_short(unit, events):
    unit.call("GET", "/v1/relays/" + "a" * 5000, authorization=None)
    (text,) = [formatEvent(event) for event in events if "refused" in formatEvent(event)]
    assert len(text) < 300


def test_the_secret_is_compared_in_constant_time(unit, monkeypatch):
    compared = []
    compare_digest = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr("rpymostat_control.unit_secret.hmac.compare_digest", spy)
    assert unit.call("GET", "/v1/relays")[0] == 200
    assert unit.call("GET", "/v1/relays", authorization="Bearer wrong")[0] == 401
    assert compared == [(SECRET.encode(), SECRET.encode()), (b"wrong", SECRET.encode())]


def test_a_fresh_secret_is_43_url_safe_characters_and_never_the_same():
    values = {UnitSecret().value for _ in range(50)}
    assert len(values) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", value) for value in values)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    methods,
    paths,
    bodies,
    st.one_of(
        st.none(),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
        st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60).map(
            lambda text: AUTHORIZATION + text
        ),
        st.just(AUTHORIZATION[:-1]),
    ),
)
def test_no_request_without_the_secret_changes_anything(method, path, body, authorization):
    scheme, _, token = (authorization or "").strip().partition(" ")
    assume(scheme.lower() != "bearer" or token.strip() != SECRET)  # Hypothesis finds the secret in this file
    with tempfile.TemporaryDirectory() as data_dir:
        unit = Unit(data_dir, min_on=0, min_off=0)
        unit.clock.advance(10)
        before = unit.states()
        code, document, _ = unit.call(method, path, raw=body, authorization=authorization)
        assert code == 401, (code, authorization, document)
        assert unit.states() == before and unit.lease.expires_in() == LEASE - 10


# The daemon: its registration carries the secret, and its API over real HTTP wants it.


@pytest_twisted.ensureDeferred
async def test_every_registration_carries_a_new_secret_and_only_the_newest_opens_the_api(config, engine):  # noqa: F811
    unit = await Running(config).start()
    try:
        first = await unit.registered(engine, 1)
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", first["secret"])
        assert unit.service.secret.value == first["secret"]
        response = await treq.get(unit.url + "/v1/relays", headers={"Authorization": f"Bearer {first['secret']}"})
        assert response.code == 200
        await response.content()
        unit.service.registrar.register()  # registers again, e.g. the lease ran out or another engine took over
        again = await unit.registered(engine, 2)
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", again["secret"]) and again["secret"] != first["secret"]
        assert unit.service.secret.value == again["secret"]
        # The engine of the earlier registration has lost command at once.
        response = await treq.post(
            unit.url + "/v1/relays/sim-1",
            b'{"state": true}',
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {first['secret']}"},
        )
        assert response.code == 401 and unit.relays.get("sim-1") is False
        assert (await response.json())["error"].startswith("not the secret of this unit's latest registration")
        assert (await unit.post("sim-1", True))[0] == 200  # the newest secret commands
    finally:
        await unit.stop()
    restarted = await Running(config).start()
    try:
        assert (await restarted.registered(engine, 3))["secret"] not in (first["secret"], again["secret"])
    finally:
        await restarted.stop()


def test_each_confirmed_registration_brings_a_new_secret_and_then_only_it_opens_the_unit(unit):
    """The unit's SECRET went in its first registration; the next one replaces it once confirmed."""
    unit.secret.confirm(SECRET)
    assert unit.call("GET", "/v1/relays")[0] == 200
    newer = unit.secret.for_registration()
    assert newer != SECRET and re.fullmatch(r"[A-Za-z0-9_-]{43}", newer) and unit.secret.value == newer
    assert unit.secret.for_registration() == newer  # a retry while the engine is away: the same one
    # On its way, it opens the unit beside the confirmed one: the engine may command before the 201 is read.
    assert unit.call("GET", "/v1/relays")[0] == 200
    assert unit.call("GET", "/v1/relays", authorization=f"Bearer {newer}")[0] == 200
    unit.secret.confirm(newer)
    assert_refused(unit.call("GET", "/v1/relays"), "not the secret of this unit's latest registration")
    newest = unit.secret.for_registration()
    unit.secret.confirm("not-the-one-sent")  # an answer to another registration changes nothing
    unit.secret.confirm(newest)
    assert len({SECRET, newer, newest}) == 3
    answer = unit.call("POST", "/v1/relays/sim-1", {"state": True}, authorization=f"Bearer {newer}")
    assert_refused(answer, "not the secret of this unit's latest registration")
    assert unit.relays.get("sim-1") is False
    assert unit.call("POST", "/v1/relays/sim-1", {"state": True}, authorization=f"Bearer {newest}")[0] == 200


@pytest_twisted.ensureDeferred
async def test_the_daemon_answers_only_with_the_secret_it_registered(config, engine):  # noqa: F811
    unit = await Running(config).start()
    try:
        secret = (await unit.registered(engine, 1))["secret"]
        response = await treq.get(unit.url + "/v1/relays")
        assert response.code == 401 and response.headers.getRawHeaders("www-authenticate") == CHALLENGE
        assert (await response.json())["status"] == "error"
        response = await treq.post(
            unit.url + "/v1/relays/sim-1",
            b'{"state": true}',
            headers={"Content-Type": "application/json", "Authorization": "Bearer " + "x" * 43},
        )
        assert response.code == 401 and unit.relays.get("sim-1") is False
        response = await treq.get(unit.url + "/v1/relays", headers={"Authorization": f"Bearer {secret}"})
        assert response.code == 200 and sorted((await response.json())["relays"]) == ["sim-1", "sim-2"]
    finally:
        await unit.stop()
