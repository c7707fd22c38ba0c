"""The dispatcher sends each command with the secret of the unit's registration, and survives without one."""

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import Clock

from rpymostat.control_loop.dispatch import RelayDispatcher
from rpymostat.protocol.client import JsonClient
from rpymostat.testing import FakeStorage
from tests.control_loop.relay_unit import start_unit

NOW = 1795608000.0


@pytest_twisted.async_yield_fixture
async def setup():
    """A fake unit on loopback, an empty storage, and a dispatcher with a real HTTP client."""
    clock = Clock()
    clock.advance(NOW)
    unit, port, url = await start_unit(reactor, clock, ["r1", "r2"])
    storage = FakeStorage()
    client = JsonClient(reactor, timeout=5)
    yield unit, url, storage, RelayDispatcher(storage, client)
    await client.close()
    await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_a_command_carries_the_secret_the_unit_registered_with(setup):
    unit, url, storage, dispatcher = setup
    await storage.put_relay_unit("unit1", unit.registration(url, "unit1"), NOW)
    delivery = await dispatcher.send("unit1/r1", True)
    assert (delivery.on, delivery.note) == (True, None)
    assert unit.relays["r1"]["state"] is True and unit.unauthorized == 0


@pytest_twisted.ensureDeferred
async def test_a_unit_that_registered_again_gets_its_new_secret(setup):
    unit, url, storage, dispatcher = setup
    await storage.put_relay_unit("unit1", unit.registration(url, "unit1"), NOW)
    assert (await dispatcher.send("unit1/r1", True)).on is True
    unit.secret = "restarted-" + "n" * 40  # the unit restarted: a new secret, a new registration
    await storage.put_relay_unit("unit1", unit.registration(url, "unit1"), NOW + 60)
    dispatcher.begin_run()
    assert (await dispatcher.send("unit1/r1", False)).on is False
    assert unit.unauthorized == 0


@pytest_twisted.ensureDeferred
async def test_a_registration_stored_without_a_secret_is_a_refusal_noted_not_a_crash(setup):
    """Registrations stored before units had secrets: the command goes without one, and the
    unit's 401 becomes a note like any refusal, so the loop goes on with the other zones."""
    unit, url, storage, dispatcher = setup
    old = {key: value for key, value in unit.registration(url, "unit1").items() if key != "secret"}
    await storage.put_relay_unit("unit1", old, NOW)
    delivery = await dispatcher.send("unit1/r1", True)
    assert not delivery.reached
    assert delivery.note.startswith("relay unit 'unit1' answered 401: ")
    assert unit.relays["r1"]["state"] is False and unit.unauthorized == 1
    assert unit.commands == []


@pytest_twisted.ensureDeferred
async def test_a_wrong_secret_switches_nothing(setup):
    unit, url, storage, dispatcher = setup
    await storage.put_relay_unit("unit1", {**unit.registration(url, "unit1"), "secret": "x" * 43}, NOW)
    delivery = await dispatcher.send("unit1/r1", True)
    assert delivery.note.startswith("relay unit 'unit1' answered 401: ")
    assert unit.relays["r1"]["state"] is False and unit.commands == []


@pytest_twisted.ensureDeferred
async def test_while_the_database_is_down_the_remembered_secret_is_used(setup):
    unit, url, storage, dispatcher = setup
    await storage.put_relay_unit("unit1", unit.registration(url, "unit1"), NOW)
    assert (await dispatcher.send("unit1/r1", True)).on is True
    storage.available = False
    dispatcher.begin_run()
    delivery = await dispatcher.send("unit1/r2", True, None)
    assert (delivery.on, delivery.note) == (True, None)
    assert unit.unauthorized == 0
