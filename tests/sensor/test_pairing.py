"""The sensor daemon pairs, delivers with its token, pairs again when refused, and loses no reading.

The whole service tree against :class:`tests.sensor.fake_engine.FakeEngine`
over real HTTP on loopback; the reading loop, retries and pairing polls run
on an injected Clock the test advances, the HTTP on the real reactor.
"""

import os
import stat

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import maybeDeferred
from twisted.logger import LogLevel, capturedLogs, formatEvent

from rpymostat.protocol.client import JsonClient
from rpymostat.protocol.credentials import CREDENTIALS_FILE, Credentials, load, save
from rpymostat.protocol.times import iso_utc
from rpymostat.protocol.tokens import token_hash
from rpymostat_sensor import __main__ as cli
from rpymostat_sensor.buffer import ReadingBuffer
from rpymostat_sensor.config import SensorConfig, from_environ
from rpymostat_sensor.pusher import Pusher
from rpymostat_sensor.service import SensorService
from tests.conftest import NOW
from tests.sensor.fake_engine import FakeEngine, until
from tests.sensor.test_pusher import ScriptedReader

INTERVAL = 30.0
SENSORS = ("28-a", "28-b")


@pytest_twisted.async_yield_fixture
async def engine(clock):
    fake = await FakeEngine(clock).listen(reactor)
    yield fake
    await fake.close()


class Daemon:
    """A SensorService on ``config`` reading two sensors, its time on ``clock``."""

    def __init__(self, config, clock):
        self.service = SensorService(
            config, reactor, readers=[ScriptedReader(dict.fromkeys(SENSORS, 20.0))], clock=clock
        )
        self.clock = clock
        self.iterations = 0
        take_readings = self.service.pusher.take_readings
        self.service.timer.call = (lambda: take_readings().addBoth(self._iterated), (), {})

    def _iterated(self, result):
        self.iterations += 1
        return result

    def start(self):
        self.service.startService()
        return self

    async def stop(self):
        if self.service.running:
            await self.service.stopService()
        assert self.clock.getDelayedCalls() == []

    @property
    def buffered(self):
        return len(self.service.buffer)

    def next_other_call(self) -> float | None:
        """Seconds to the next delayed call other than a reading (pairing polls, retries), or None."""
        ticks = [c.getTime() for c in self.clock.getDelayedCalls() if (c.getTime() - NOW) % INTERVAL]
        return min(ticks) - self.clock.seconds() if ticks else None

    async def tick(self):
        """Run the clock to the next reading time and wait for that iteration to end."""
        done = self.iterations
        self.clock.advance(INTERVAL - (self.clock.seconds() - NOW) % INTERVAL)
        await until(lambda: self.iterations > done)


@pytest_twisted.async_yield_fixture
async def daemons():
    """Makes Daemons; stops every one still running after the test, failed or not."""
    made = []

    def make(config, clock):
        made.append(Daemon(config, clock))
        return made[-1]

    yield make
    for sensor in made:
        if sensor.service.running:
            await sensor.service.stopService()


@pytest.fixture
def daemon(daemons, engine, clock, tmp_path):
    def make(**settings):
        config = SensorConfig(engine_url=engine.origin, interval=INTERVAL, data_dir=tmp_path / "data", **settings)
        return daemons(config, clock)

    return make


def taken(*ticks):
    """The (sensor, timestamp) pairs of readings taken at ``ticks`` (multiples of the interval)."""
    return sorted((sensor, iso_utc(NOW + tick * INTERVAL)) for tick in ticks for sensor in SENSORS)


async def pair(engine, sensor):
    """Wait for the daemon's request, approve it and poll until the daemon has its token."""
    link = sensor.service.link
    await until(lambda: link.pairing is not None and link.pairing.code in engine.codes())
    engine.approve(link.pairing.code)
    while True:  # runs the polls (not the reading loop) until the approval is seen
        await until(lambda: link.paired or sensor.next_other_call() is not None)
        if link.paired:
            return link.credentials
        sensor.clock.advance(sensor.next_other_call())


@pytest_twisted.ensureDeferred
async def test_a_new_host_pairs_and_then_delivers_everything_it_read_meanwhile(daemon, engine, clock, tmp_path):
    sensor = daemon()
    with capturedLogs() as events:
        sensor.start()
        await until(lambda: engine.codes() and sensor.buffered == 2)
        await sensor.tick()  # the admin has not approved yet: readings are taken and kept
        assert sensor.buffered == 4 and engine.updates == []
        assert sensor.service.pusher.failures == 0  # waiting to be paired is no failure
        [code] = engine.codes()
        credentials = await pair(engine, sensor)
        await sensor.tick()
        await until(lambda: sensor.buffered == 0)
        await sensor.stop()
    assert sorted(engine.readings()) == taken(0, 1, 2)
    assert {authorization for authorization, _, _ in engine.updates} == {f"Bearer {credentials.token}"}
    path = tmp_path / "data" / CREDENTIALS_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and load(tmp_path / "data") == credentials
    host = sensor.service.host_id
    expected = (
        f"pairing requested as {host} (sensor): approve it on the engine with: rpymostat-engine pair approve {code}"
    )
    assert expected in [formatEvent(e) for e in events if e["log_level"] == LogLevel.info]
    assert not any(credentials.token in formatEvent(e) for e in events)


@pytest_twisted.ensureDeferred
async def test_a_restart_uses_the_stored_credentials_and_checks_the_engine_first(daemon, engine, clock, tmp_path):
    first = daemon().start()
    credentials = await pair(engine, first)
    await first.stop()
    engine.requests.clear()
    engine.updates.clear()
    second = daemon().start()
    # The first tick races the proof (real HTTP): wait for both, and if the tick came first, the
    # pusher found no vetted engine and backed off on the injected clock, so run that retry.
    await until(lambda: second.iterations >= 1 and second.service.engine.current() is not None)
    retry = second.service.pusher._retry
    if second.buffered and retry is not None and retry.active():
        clock.advance(retry.getTime() - clock.seconds())
    await until(lambda: second.buffered == 0 and engine.updates)
    await second.stop()
    assert second.service.link.credentials == credentials
    assert engine.pair_requests() == []
    assert engine.requests[0] == ("POST", "/v1/pair/proof")  # proven before anything is sent
    assert engine.updates[-1][0] == f"Bearer {credentials.token}"


@pytest_twisted.ensureDeferred
async def test_a_refused_token_makes_the_host_pair_again_and_keeps_every_reading(daemon, engine, clock, tmp_path):
    sensor = daemon().start()
    old = await pair(engine, sensor)
    await sensor.tick()
    await until(lambda: sensor.buffered == 0)
    engine.revoke_all()  # the admin revoked it (or the engine's database was replaced)
    with capturedLogs() as events:
        await sensor.tick()
        await until(lambda: engine.codes())
        assert sensor.buffered == 2 and not sensor.service.link.paired
        assert (tmp_path / "data" / (CREDENTIALS_FILE + ".revoked")).exists()
        new = await pair(engine, sensor)
        await sensor.tick()
        await until(lambda: sensor.buffered == 0)
    await sensor.stop()
    assert new.token != old.token
    assert sorted(engine.readings()) == taken(0, 1, 2, 3)  # none lost, none twice
    assert any("refused this host's token" in formatEvent(e) for e in events if e["log_level"] == LogLevel.error)


@pytest_twisted.ensureDeferred
async def test_a_fixed_engine_that_cannot_prove_gets_nothing(daemon, engine, clock, tmp_path):
    save(tmp_path / "data", Credentials("rpy_paired", "sensor-pi", "the-secret"))  # paired with another engine
    with capturedLogs() as events:
        sensor = daemon().start()
        await until(lambda: engine.proofs_asked() and sensor.buffered == 2)
        await sensor.tick()
        assert sensor.buffered == 4
        await sensor.stop()
    assert engine.updates == [] and engine.pair_requests() == []
    warnings = [formatEvent(e) for e in events if e["log_level"] == LogLevel.warn]
    assert any(f"ignoring the engine at {engine.url}: it cannot prove" in line for line in warnings)


@pytest_twisted.ensureDeferred
async def test_a_corrupt_credentials_file_is_logged_and_the_host_pairs(daemon, engine, clock, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / CREDENTIALS_FILE).write_text("{truncated")
    with capturedLogs() as events:
        sensor = daemon().start()
        credentials = await pair(engine, sensor)
        await sensor.stop()
    assert load(tmp_path / "data") == credentials
    assert any("ignoring the stored engine credentials" in e["log_format"] for e in events)


@pytest.mark.parametrize("source", ["RPYMOSTAT_TOKEN", "RPYMOSTAT_TOKEN_FILE"])
@pytest_twisted.ensureDeferred
async def test_a_token_given_by_hand_is_used_instead_of_pairing(daemons, engine, clock, tmp_path, source):
    engine.add_token("rpy_given-by-hand")
    (tmp_path / "token").write_text("rpy_given-by-hand\n")
    value = "rpy_given-by-hand" if source == "RPYMOSTAT_TOKEN" else str(tmp_path / "token")
    save(tmp_path / "data", Credentials("rpy_stored", "sensor-pi", "s"))  # the hand-given one wins
    config = from_environ(
        {
            "HOME": str(tmp_path),
            "RPYMOSTAT_DATA_DIR": str(tmp_path / "data"),
            "RPYMOSTAT_ENGINE_URL": engine.origin,
            source: value,
        }
    )
    with capturedLogs() as events:
        sensor = daemons(config, clock).start()
        await until(lambda: sensor.buffered == 0 and engine.updates)
        await sensor.stop()
    assert [authorization for authorization, _, _ in engine.updates] == ["Bearer rpy_given-by-hand"]
    assert engine.pair_requests() == engine.proofs_asked() == []
    assert any("identity is not checked" in e["log_format"] for e in events if e["log_level"] == LogLevel.warn)


def test_show_config_never_prints_the_token(tmp_path, capsys):
    environ = {"HOME": str(tmp_path), "RPYMOSTAT_TOKEN": "rpy_very-secret"}
    assert cli.main(["--show-config"], environ) == 0
    out = capsys.readouterr().out
    [line] = [row for row in out.splitlines() if row.startswith("RPYMOSTAT_TOKEN ")]
    assert "(hidden)" in line and "rpy_very-secret" not in out
    assert cli.main([], {"HOME": str(tmp_path), "RPYMOSTAT_TOKEN_FILE": str(tmp_path / "none")}) == 2
    assert "RPYMOSTAT_TOKEN_FILE=" in capsys.readouterr().err
    config = from_environ(environ)
    assert "rpy_very-secret" not in repr(config)


def test_a_token_file_gone_by_start_up_stops_the_daemon(tmp_path, capsys):
    token = tmp_path / "token"
    token.write_text("rpy_x")
    config = from_environ({"HOME": str(tmp_path), "RPYMOSTAT_TOKEN_FILE": str(token)})
    token.unlink()
    with pytest.raises(ValueError, match="cannot read the token file"):
        SensorService(config, reactor, readers=[])


@pytest_twisted.ensureDeferred
async def test_a_forbidden_update_is_logged_and_kept_and_a_401_without_a_link_too(engine, clock, tmp_path):
    engine.add_token("rpy_other-host")
    engine.forbidden = True
    client = JsonClient(reactor, timeout=2)

    class Link:
        paired, refusals = True, 0

        def headers(self):
            return {"Authorization": "Bearer rpy_other-host"}

        def refused(self):
            self.refusals += 1

    buffer = ReadingBuffer(tmp_path, limit=100)
    run = lambda f, *a: maybeDeferred(f, *a)  # noqa: E731
    reader = ScriptedReader({"28-a": 20.0})
    link = Link()
    forbidden = Pusher(clock, [reader], buffer, client, "pi", lambda: engine.url, run, link=link)
    anonymous = Pusher(clock, [reader], buffer, client, "pi", lambda: engine.url, run)
    try:
        with capturedLogs() as events:
            await forbidden.take_readings()
            engine.forbidden = False
            engine.tokens.clear()
            await anonymous.take_readings()
    finally:
        forbidden.stop()
        anonymous.stop()
        await client.close()
    assert len(buffer) == 2 and engine.readings() == []
    assert forbidden.failures == anonymous.failures == 1 and link.refusals == 0
    errors = [formatEvent(e) for e in events if e["log_level"] == LogLevel.error]
    assert errors == [
        "engine refused this host's update (403): this token may not send readings for this host;"
        " readings stay buffered",
        "engine refused this host's update (401): unknown token; readings stay buffered",
    ]
    assert token_hash("rpy_other-host") not in str(errors)


def test_without_an_engine_url_the_finder_vets_with_the_link(tmp_path):
    config = SensorConfig(data_dir=tmp_path, readers=("sim",), sim_sensors=1, mdns_interfaces=("127.0.0.1",))
    service = SensorService(config, reactor)
    assert service.engine is service.finder and service.finder._vetting._vet == service.link.vet
    assert service.link.role == "sensor" and service.pusher._link is service.link
