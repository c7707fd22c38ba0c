"""A relay unit without a token pairs with the real engine, registers once approved, and pairs again after a 401."""

import dataclasses
import stat
import time

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.task import Clock, deferLater

from rpymostat.api.site import build_site
from rpymostat.api.validation import load_openapi
from rpymostat.auth import admin
from rpymostat.auth.policy import CACHE_S, TokenAccess
from rpymostat.storage.sqlite import SQLiteStorage
from rpymostat.testing import engine_parts
from rpymostat_control.service import CREDENTIALS_FILE
from tests.control.test_control_service import Running, config, engine, logged  # noqa: F401 - fixtures


class RealEngine:
    """The engine's own site with token access, over a real SQLite file, on loopback."""

    async def start(self, data_dir):
        self.storage = SQLiteStorage(data_dir / "engine.sqlite3", reactor)
        await self.storage.open()
        self.monotonic = Clock()  # the token cache's clock, turned by the test
        access = TokenAccess(self.storage, load_openapi(), self.monotonic.seconds)
        site = build_site(**engine_parts(self.storage, reactor, access=access))
        self.port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(site)
        self.base = f"http://127.0.0.1:{self.port.getHost().port}"
        return self

    async def stop(self):
        await self.port.stopListening()
        await self.storage.close()


async def eventually(condition, clock, turns=400):
    """Until ``condition()`` is true: the real reactor carries the HTTP, ``clock`` (the unit's) turns on."""
    for _ in range(turns):
        if await condition():
            return
        await deferLater(reactor, 0.01, lambda: None)
        clock.advance(0.25)
    raise AssertionError("not within the time given")


async def one_pending(storage):
    return len(await admin.pending(storage, time.time())) == 1


@pytest_twisted.ensureDeferred
async def test_a_unit_without_a_token_registers_only_after_an_admin_approves_its_pairing(config, tmp_path):  # noqa: F811
    real = await RealEngine().start(tmp_path)
    unit = Running(dataclasses.replace(config, engine_url=real.base, token=None))
    try:
        await unit.start()
        await eventually(lambda: one_pending(real.storage), unit.clock)
        assert await real.storage.relay_units() == []  # nothing before the approval
        [request] = await admin.pending(real.storage, time.time())
        assert (request.host_id, request.role) == (unit.service.host_id, "control")
        assert request.code == unit.service.link.pairing.code
        await admin.approve_pairing(real.storage, time.time(), request.code)

        async def registered():
            return bool(await real.storage.relay_units())

        await eventually(registered, unit.clock)
        [stored] = await real.storage.relay_units()
        assert stored.registration["secret"] == unit.service.secret.value
        token = await real.storage.token(f"control-{unit.service.host_id}")
        assert token.host_id == unit.service.host_id and token.peer_secret is not None
        credentials = config.data_dir / CREDENTIALS_FILE
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        assert not (config.data_dir / "engine-credentials.json").exists()  # the sensor daemon's, not ours

        # Revoked: the next registration is refused, the unit forgets its token and asks again.
        await admin.create_token(real.storage, time.time(), "spare-admin", "admin")
        await admin.revoke_token(real.storage, token.name)  # as `rpymostat-engine token revoke` does
        real.monotonic.advance(CACHE_S)  # past the engine's token cache
        unit.service.registrar.register()  # as a lease expiry or a new engine address would
        await eventually(lambda: one_pending(real.storage), unit.clock)
        assert (config.data_dir / (CREDENTIALS_FILE + ".revoked")).exists()
    finally:
        await unit.stop()
        await real.stop()
